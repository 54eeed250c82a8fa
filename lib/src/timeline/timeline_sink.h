// TimelineSink: any snapshot input (pickle, JSON, a memtk database replay)
// into a TimelineBuilder.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "memtk/snapshot/frame_rules.h"
#include "memtk/snapshot/snapshot.h"
#include "timeline/layout.h"

namespace memtk::timeline {

/// Feeds `builder` from a snapshot reader. Each stack's site
/// (snapshot/frame_rules.h, by `rules`) is found once, when the stack is
/// first seen, and sites are interned per site key, so the builder's colours
/// and legend group by "file:line:function" (the whole stack with --site
/// stack).
class TimelineSink : public snapshot::SnapshotSink {
 public:
  explicit TimelineSink(TimelineBuilder* builder, snapshot::FrameRules rules = {})
      : b_(builder), frames_(std::move(rules)) {}
  Status OnBegin(const snapshot::Tables& t) override;
  Status OnStack(StackId id, std::span<const FrameId> frames) override;
  Status OnSegment(const snapshot::Segment& s) override;
  Status OnBlock(const snapshot::Block& b) override;
  Status OnEvent(const snapshot::TraceEvent& e) override;
  Status OnAnnotation(const snapshot::Annotation& a) override;

 private:
  TimelineBuilder* b_;
  const snapshot::Tables* tables_ = nullptr;
  snapshot::FrameClassifier frames_;
  std::unordered_map<int64_t, uint32_t> site_ids_;  // Site::Key() -> interned site
};

}  // namespace memtk::timeline
