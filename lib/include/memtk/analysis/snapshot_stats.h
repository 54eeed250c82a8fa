// Snapshot statistics: what was the peak, when, and which code held it.
//
// SnapshotStats is a SnapshotSink that keeps only aggregates: per-action
// counts, the PeakTracker (timeline/peak.h), a size histogram, the K largest
// allocations, and segment/block sums. Memory is flat in the number of
// events. The result, SnapshotReport, is plain data: `memtk stats` hands it
// to a presenter (present/snapshot_stats.h: aligned text, or JSON with the
// stable keys of docs/STATS_JSON.md); other commands (diff) compare two.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "memtk/base/stats.h"
#include "memtk/base/status.h"
#include "memtk/base/wrap.h"
#include "memtk/snapshot/frame_rules.h"
#include "memtk/snapshot/snapshot.h"
#include "memtk/timeline/peak.h"

namespace memtk::analysis {

struct SnapshotStatsOptions {
  std::optional<uint32_t> device;  ///< only this device (error if it has no data)
  size_t top = 10;                 ///< K for call sites, largest allocations, segments
  /// K for peak_by_site alone when set (`memtk diff` asks for every site).
  std::optional<size_t> top_sites;
  /// Which frames are user code, and the site rule (--site, --user-code, ...).
  snapshot::FrameRules frames;
};

/// Bytes and allocations attributed to one stack or one call-site frame.
struct SiteUsage {
  /// "file:line:function" of the site frame (snapshot/frame_rules.h), or the
  /// stack's visible frames with --site stack, or "<no frames>".
  std::string site;
  /// --site user, when the site is a user frame: the library frame it called,
  /// "file:line:function" (full path) and as printed (package path:
  /// "torch/nn/functional.py:1701:relu"); empty otherwise.
  std::string called, called_short;
  /// By-site groups: how many other calls (another library frame, or none)
  /// the site's other stacks made; `called` names the heaviest stack's, so
  /// a label "site -> called" is the whole story only when this is 0.
  uint32_t called_others = 0;
  std::optional<uint64_t> stack_id;  ///< for by-stack groups (and by-site ones with --site stack)
  std::optional<uint64_t> frame_id;  ///< for by-site groups
  int64_t bytes = 0;
  uint64_t count = 0;
};

struct AllocationRef {
  uint64_t event_id = 0, event_idx = 0;
  uint64_t addr = 0;
  int64_t size = 0;
  std::optional<int64_t> time_us;
  std::string site;
  std::string called, called_short;  ///< as in SiteUsage
};

struct EventRef {
  uint64_t event_id = 0, event_idx = 0;
  std::optional<int64_t> time_us;
  int64_t size = 0;
  std::optional<int64_t> device_free;  ///< oom
};

/// An OOM event and what was live on its device at that instant, with the
/// peak's accounting (PeakTracker: the trace's live allocations, memory
/// from before recording freed later, untraced active blocks of segments),
/// so `query --at-oom` lists the same allocations.
struct OomRef {
  uint32_t device = 0;
  EventRef event;  ///< size = the request that failed
  int64_t live_bytes = 0;
  uint64_t live_count = 0;
  std::vector<SiteUsage> live_by_site;  ///< K call sites, largest first
  /// Where the failed request was made: its stack's call site by the rule
  /// of live_by_site (bytes = the request, count 1); none when the OOM
  /// event carries no frames.
  std::optional<SiteUsage> request_site;
};

/// Segment totals of one group (device, stream, segment type or pool).
///
/// "Allocated" has two meanings in PyTorch's tools, both kept here:
/// `allocated` sums the segments' allocated_size, the sizes of allocated
/// blocks as the allocator rounded them up (memory_stats' allocated_bytes);
/// `requested` sums their requested_size, what callers asked for
/// (memory_stats' requested_bytes; what torch.cuda._memory_viz.segsum calls
/// "allocated", whose "free" is therefore free_requested()).
struct SegmentGroup {
  std::string key;
  uint64_t segments = 0;
  int64_t reserved = 0;
  int64_t allocated = 0;  ///< rounded block sizes
  int64_t active = 0;
  int64_t requested = 0;           ///< requested sizes
  int64_t largest_free_block = 0;  ///< largest inactive block in any segment of the group
  /// Reserved minus rounded blocks: gaps between blocks.
  int64_t free() const { return WrapSub(reserved, allocated); }
  /// Reserved minus requested: gaps plus the allocator's rounding (segsum's "free").
  int64_t free_requested() const { return WrapSub(reserved, requested); }
};

struct SegmentRef {
  uint64_t id = 0, address = 0;
  int64_t total = 0;
  int64_t allocated = 0;  ///< rounded block sizes (allocated_size)
  int64_t largest_free_block = 0;
  int64_t requested = 0;  ///< requested sizes (requested_size)
  std::string segment_type;
  int64_t stream = 0;
};

struct DeviceReport {
  uint32_t device = 0;
  // Trace.
  uint64_t events = 0;
  std::array<uint64_t, snapshot::kNumActions> by_action{};
  std::vector<std::pair<std::string, uint64_t>> unknown_actions;  ///< name, count
  uint64_t allocs = 0, frees = 0;                                 ///< alloc events; free_completed + legacy free events
  int64_t alloc_bytes = 0;
  std::optional<int64_t> first_time_us, last_time_us;
  timeline::DevicePeak peak;  ///< live_at_peak emptied; see below
  uint64_t live_at_peak = 0;
  std::vector<SiteUsage> peak_by_stack, peak_by_site;  ///< K each, largest first
  /// Powers of two: entry k counts alloc sizes in [2^k, 2^(k+1)); k = -1 for size <= 0.
  std::vector<std::pair<int, std::pair<uint64_t, int64_t>>> size_histogram;  ///< k -> (count, bytes)
  std::vector<AllocationRef> largest;                                        ///< K largest alloc events
  std::vector<OomRef> ooms;                                                  ///< the first K, in trace order
  std::vector<EventRef> snapshots;                                           ///< the first K, in trace order
  uint64_t oom_total = 0, snapshot_total = 0;
  uint64_t annotate_events = 0;
  std::vector<std::pair<std::string, std::optional<int64_t>>> annotations;  ///< "stage name", time_us
  uint64_t annotations_total = 0;
  // Segments.
  SegmentGroup segments;                   ///< key = "device N"
  std::array<uint64_t, 4> block_states{};  ///< by snapshot::BlockState
  uint64_t blocks = 0, expandable_segments = 0;
  std::vector<SegmentGroup> by_stream, by_type, by_pool;
  std::vector<SegmentRef> most_free;  ///< K segments with most free bytes
  uint64_t segments_with_free = 0;    ///< segments with any free bytes (most_free's K of them)
};

/// The OOMs of every device in the order `stats` numbers them and `query
/// --at-oom K` counts them: by time_us (events without it last), then by
/// events.id. Only the K kept per device are there, which include the K
/// first overall.
std::vector<const OomRef*> OomsInOrder(const std::vector<DeviceReport>& devices);

struct SnapshotReport {
  std::string source;
  std::string format;
  bool bare_segment_list = false;
  uint64_t events = 0, host_events = 0, segments = 0, blocks = 0;
  std::vector<DeviceReport> devices;
  Stats stats;
  size_t top = 10;                      ///< the K of the lists (options.top): presenters show at most K of every list
  std::optional<uint32_t> only_device;  ///< options.device: the report is of this device alone
};

/// The sink that builds a SnapshotReport; feed it any input
/// (store::ReadInput), then Take() the report.
///
/// Example:
///   SnapshotStats stats(options);
///   RETURN_IF_ERROR(store::ReadInput(path, stats.sink()));
///   ASSIGN_OR_RETURN(SnapshotReport r, stats.Take(path));
class SnapshotStats {
 public:
  explicit SnapshotStats(const SnapshotStatsOptions& options);
  ~SnapshotStats();
  SnapshotStats(const SnapshotStats&) = delete;
  SnapshotStats& operator=(const SnapshotStats&) = delete;

  snapshot::SnapshotSink* sink();
  /// The report, once the reader has finished; named `source`. An error if
  /// options.device was given and that device has no data.
  StatusOr<SnapshotReport> Take(std::string source);

 private:
  class Sink;
  std::unique_ptr<Sink> sink_;
};

/// Reads `path` (snapshot, or a database written by `memtk convert`) and
/// builds the report.
StatusOr<SnapshotReport> BuildSnapshotReport(const std::string& path, const SnapshotStatsOptions& options);

/// Same, for a snapshot in memory (fuzzing, tests); odd chunk sizes.
StatusOr<SnapshotReport> BuildSnapshotReportBytes(std::string_view name, std::span<const uint8_t> bytes,
                                                  const SnapshotStatsOptions& options);

}  // namespace memtk::analysis
