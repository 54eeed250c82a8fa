// OomLive: what was live on a device at each of its first K OOM events,
// streamed beside the peak (analysis/snapshot_stats.cpp).
//
// At an OOM the PeakTracker's live set (trace allocations not yet freed,
// and those replaced at the same address) is summed by stack, O(live) once
// per kept OOM. Two kinds of memory join later, as for the peak: a free
// of an address with no live allocation is memory from before recording,
// live from the start and so at every earlier OOM of its device; untraced
// active blocks of `segments` are live all along and are added at the end.
// Memory: K maps of distinct live stacks per device; no event is kept.
//
// Example:
//   OomLive ooms(10);
//   for each device event e: ooms.OnEvent(e, peaks); peaks.OnEvent(e);
//   ... peaks.Finish() ...
//   report.ooms = ooms.Finish(device, device_peak.live_at_peak, classifier, 10);
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "memtk/analysis/snapshot_stats.h"
#include "memtk/snapshot/frame_rules.h"
#include "memtk/snapshot/snapshot.h"
#include "memtk/timeline/peak.h"

namespace memtk::analysis {

class OomLive {
 public:
  /// Keeps the first `keep` OOMs of each device.
  explicit OomLive(size_t keep) : keep_(keep) {}

  /// Every device trace event, in file order, before `peaks` sees it (a
  /// free is told apart from a free of pre-recorded memory by the live set
  /// as it was before the free).
  /// Inline: most events are neither an OOM nor a free after one.
  void OnEvent(const snapshot::TraceEvent& e, timeline::PeakTracker& peaks) {
    if (e.action == snapshot::Action::kOom) {
      Capture(e, peaks);
    } else if (!devices_.empty() &&
               (e.action == snapshot::Action::kFreeCompleted || e.action == snapshot::Action::kFree)) {
      Free(e, peaks);
    }
  }

  /// The kept OOMs of `device`, in trace order, each with the untraced
  /// blocks among `live_at_peak` (DevicePeak's, kind kBlock) added and its
  /// live bytes grouped by site (`top_sites` of them) by `frames`' rule
  /// (snapshot/frame_rules.h; it must point at the reader's tables).
  std::vector<OomRef> Finish(uint32_t device, const std::vector<timeline::LiveElement>& live_at_peak,
                             snapshot::FrameClassifier& frames, size_t top_sites);

 private:
  struct Usage {
    int64_t bytes = 0;
    uint64_t count = 0;
  };
  struct Kept {
    OomRef oom;
    std::unordered_map<int64_t, Usage> by_stack;  // stack id, -1 = none
    std::optional<StackId> request_stack;         // the OOM event's own
    void Add(const std::optional<StackId>& stack, int64_t size);
  };
  void Capture(const snapshot::TraceEvent& e, timeline::PeakTracker& peaks);
  void Free(const snapshot::TraceEvent& e, timeline::PeakTracker& peaks);

  size_t keep_;
  std::map<uint32_t, std::vector<Kept>> devices_;
};

}  // namespace memtk::analysis
