// Errors that name the file they are about (issue #16: a full disk gave
// "SQLite: database or disk is full", naming no file).
//
// An output writer's own failures (SQLite, write(2)) know nothing of the
// name the user gave; the code that owns both adds it with
// Status::WithContext, structurally, instead of searching message text.
#pragma once

#include <string>

#include "memtk/base/status.h"
#include "memtk/snapshot/snapshot.h"

namespace memtk::snapshot {

/// Passes every record on to `inner` and names `file` in its errors: wrap
/// an output sink in it so the reader's own errors (which name the input)
/// and the sink's (which concern the output) stay apart.
class FileContextSink : public SnapshotSink {
 public:
  FileContextSink(SnapshotSink* inner, std::string file) : inner_(inner), file_(std::move(file)) {}
  Status OnBegin(const Tables& t) override { return Ctx(inner_->OnBegin(t)); }
  Status OnFrame(FrameId id, const Frame& f) override { return Ctx(inner_->OnFrame(id, f)); }
  Status OnStack(StackId id, std::span<const FrameId> frames) override { return Ctx(inner_->OnStack(id, frames)); }
  Status OnSegment(const Segment& s) override { return Ctx(inner_->OnSegment(s)); }
  Status OnBlock(const Block& b) override { return Ctx(inner_->OnBlock(b)); }
  Status OnDeviceTrace(uint32_t device, bool host) override { return Ctx(inner_->OnDeviceTrace(device, host)); }
  Status OnEvent(const TraceEvent& e) override { return Ctx(inner_->OnEvent(e)); }
  Status OnAnnotation(const Annotation& a) override { return Ctx(inner_->OnAnnotation(a)); }
  Status OnTopLevel(std::string_view key, std::string_view json) override { return Ctx(inner_->OnTopLevel(key, json)); }
  Status OnEnd(const ReadSummary& summary) override { return Ctx(inner_->OnEnd(summary)); }

 private:
  Status Ctx(Status s) {
    if (s.ok()) [[likely]]
      return s;
    return std::move(s).WithContext(file_);
  }
  SnapshotSink* inner_;
  std::string file_;
};

}  // namespace memtk::snapshot
