// TimelineSink: any snapshot input (pickle, JSON, a memtk database replay)
// into a TimelineBuilder.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "memtk/snapshot/snapshot.h"
#include "timeline/layout.h"

namespace memtk::timeline {

/// Feeds `builder` from a snapshot reader. Each stack's call site
/// (snapshot/call_site.h) is found once, when the stack is first seen, and
/// sites are interned per frame, so the builder's colours and legend group
/// by "file:line:function".
class TimelineSink : public snapshot::SnapshotSink {
 public:
  explicit TimelineSink(TimelineBuilder* builder) : b_(builder) {}
  Status OnBegin(const snapshot::Tables& t) override;
  Status OnStack(StackId id, std::span<const FrameId> frames) override;
  Status OnSegment(const snapshot::Segment& s) override;
  Status OnBlock(const snapshot::Block& b) override;
  Status OnEvent(const snapshot::TraceEvent& e) override;
  Status OnAnnotation(const snapshot::Annotation& a) override;

 private:
  TimelineBuilder* b_;
  const snapshot::Tables* tables_ = nullptr;
  std::vector<std::optional<uint32_t>> frame_site_;  // FrameId -> site, once interned
};

}  // namespace memtk::timeline
