// PeakTracker: the peak of PyTorch's "Active Memory Timeline", streamed.
//
// Follows process_alloc_data() in torch/utils/viz/MemoryViz.js (the viewer
// behind torch.cuda.memory._dump_snapshot files), per device:
//   - an `alloc` makes an element live; `free_completed` (or the legacy
//     `free`) of a live address ends it; `free_requested` alone changes
//     nothing (the viewer folds it into the free_completed right after it);
//   - a free of an address with no recorded alloc is an element live from
//     the start of the trace until that free ("allocated before recording");
//   - every `active_allocated` block of `segments` whose address is not
//     allocated-and-live at the end of the trace is live for the whole trace,
//     at its requested_size;
//   - the peak is the largest total at any instant: after any action (alloc
//     or free), or before the first one. The viewer's y-axis maximum
//     (max_size) is taken after actions only, so it misses a peak held at
//     the start (a trace that opens with frees of memory allocated before
//     recording); memtk counts the initial state too, as the viewer's own
//     drawing (max_at_time) does. Ties keep the earliest instant.
// The last two are only known at the end of the stream, yet neither moves
// the peak's position: the block total is a constant, and an element
// freed-before-recorded adds the same to every instant before its free. So
// the tracker follows U(t) = recorded live bytes - bytes of such frees so
// far (0 at the start), and adds the constants at the end. Memory: one entry per live allocation
// plus the allocations of the current peak that were freed since.
//
// Example:
//   PeakTracker peaks;
//   ... for each event: peaks.OnEvent(e); for each block: peaks.OnBlock(b);
//   for (const DevicePeak& d : peaks.Finish()) use(d.peak_bytes, d.live_at_peak);
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "memtk/snapshot/snapshot.h"

namespace memtk::timeline {

/// Where a curve reaches its maximum: the trace event after which it does,
/// or none when the maximum is the state before the first action (the
/// start of the trace, or a snapshot without actions).
struct PeakPoint {
  int64_t bytes = 0;
  std::optional<uint64_t> event_id;   ///< events.id; none: the start
  std::optional<uint64_t> event_idx;  ///< index in the device trace
  std::optional<int64_t> time_us;
};

/// One allocation live at the peak.
struct LiveElement {
  enum class Kind : uint8_t {
    kAlloc,        ///< allocated in the trace
    kPreRecorded,  ///< freed in the trace, allocated before recording began
    kBlock,        ///< active_allocated block in `segments`, not in the trace
  };
  Kind kind = Kind::kAlloc;
  uint64_t id = 0;  ///< allocations.id (the allocation's first event), or blocks.id
  uint64_t addr = 0;
  int64_t size = 0;
  std::optional<StackId> stack;
};

struct DevicePeak {
  uint32_t device = 0;
  /// The true peak over every instant, the start included: trace +
  /// before-recording + segment blocks.
  PeakPoint peak;
  /// Allocations recorded in the trace only (no memory from before recording).
  PeakPoint trace_peak;
  int64_t end_bytes = 0;                  ///< live at the end, same accounting as `peak`
  int64_t before_recording_bytes = 0;     ///< elements freed but never allocated in the trace
  int64_t segment_block_bytes = 0;        ///< untraced active_allocated blocks
  uint64_t actions = 0;                   ///< allocs + frees the timeline steps through
  std::vector<LiveElement> live_at_peak;  ///< unordered
};

class PeakTracker {
 public:
  PeakTracker();
  ~PeakTracker();
  PeakTracker(PeakTracker&&) noexcept;
  PeakTracker& operator=(PeakTracker&&) noexcept;

  /// Every trace event in file order; host_traces events are ignored (the
  /// viewer plots device_traces only).
  void OnEvent(const snapshot::TraceEvent& e);
  /// Every block of `segments`, in any order relative to the events; blocks
  /// of `host_segments` are ignored.
  void OnBlock(const snapshot::Block& b);
  /// Results for every device with a trace event or an active block, by device.
  std::vector<DevicePeak> Finish();

  /// What is live on `device` now, after the events so far: the trace's
  /// allocations not yet freed, and those an alloc at the same address
  /// replaced (live to the end, as in the viewer). Not included, since they
  /// are known only later: memory from before recording that a later event
  /// frees (live from the start), and untraced blocks of `segments` (in
  /// Finish's live_at_peak as kBlock). For instants other than the peak
  /// (the OOMs of analysis/oom_live.h); O(live allocations) per call.
  void ForEachLive(uint32_t device, const std::function<void(const LiveElement&)>& fn);
  /// Whether `addr` holds a live allocation of the trace on `device` now: a
  /// free of an address that does not is memory from before recording.
  bool IsLive(uint32_t device, uint64_t addr);

 private:
  struct Device;
  Device& Get(uint32_t device);
  std::map<uint32_t, std::unique_ptr<Device>> devices_;
  Device* last_ = nullptr;
  uint32_t last_device_ = 0;
};

}  // namespace memtk::timeline
