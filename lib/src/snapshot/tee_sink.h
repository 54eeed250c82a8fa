// TeeSink: one read of a snapshot feeding two sinks, so an analysis can add
// its own aggregates to an existing one (`memtk diff` adds the allocations
// by site and size to `stats`' report) without reading the file twice.
#pragma once

#include "memtk/snapshot/snapshot.h"

namespace memtk::snapshot {

/// Forwards every record to `first`, then to `second` (which may be null);
/// the first error stops the read. `Second` is deduced from the argument:
/// when it is a final class its calls are direct (and inline where it
/// defines them in its header), so a per-event second sink costs no second
/// virtual call.
template <class Second = SnapshotSink>
class TeeSink : public SnapshotSink {
 public:
  TeeSink(SnapshotSink* first, Second* second) : a_(first), b_(second) {}

  Status OnBegin(const Tables& t) override {
    return Both([&](auto* s) { return s->OnBegin(t); });
  }
  Status OnFrame(FrameId id, const Frame& f) override {
    return Both([&](auto* s) { return s->OnFrame(id, f); });
  }
  Status OnStack(StackId id, std::span<const FrameId> frames) override {
    return Both([&](auto* s) { return s->OnStack(id, frames); });
  }
  Status OnSegment(const Segment& x) override {
    return Both([&](auto* s) { return s->OnSegment(x); });
  }
  Status OnBlock(const Block& x) override {
    return Both([&](auto* s) { return s->OnBlock(x); });
  }
  Status OnDeviceTrace(uint32_t device, bool host) override {
    return Both([&](auto* s) { return s->OnDeviceTrace(device, host); });
  }
  Status OnEvent(const TraceEvent& x) override {
    return Both([&](auto* s) { return s->OnEvent(x); });
  }
  Status OnAnnotation(const Annotation& x) override {
    return Both([&](auto* s) { return s->OnAnnotation(x); });
  }
  Status OnTopLevel(std::string_view key, std::string_view json) override {
    return Both([&](auto* s) { return s->OnTopLevel(key, json); });
  }
  Status OnEnd(const ReadSummary& x) override {
    return Both([&](auto* s) { return s->OnEnd(x); });
  }

 private:
  template <class F>
  Status Both(F&& f) {
    RETURN_IF_ERROR(f(a_));
    return b_ ? f(b_) : OkStatus();
  }
  SnapshotSink* a_;
  Second* b_;
};

}  // namespace memtk::snapshot
