// What changed between two runs: the analysis behind `memtk diff`.
//
// Each side is summarised by the analyses `memtk stats` already runs
// (SnapshotReport for snapshots and databases, memlog::MemlogReport
// for memlog CSVs), plus one aggregate of its own gathered on the same read:
// AllocationSites, the (call site, size) pairs allocated in the trace, so the
// allocations that appear only in NEW can be named. Nothing here reads files
// or formats text: DiffSnapshots/DiffMemlogs turn two summaries into plain
// structs, EvaluateGates checks them against the CI limits, and the
// presenters (memtk/present/diff.h) print them.
//
// Memory is flat in the number of events: the reports are aggregates, and
// AllocationSites grows with distinct (device, stack, size) triples only.
//
// Example:
//   SnapshotStats stats({.top_sites = SIZE_MAX});
//   AllocationSites sites;
//   snapshot::TeeSink tee(stats.sink(), &sites);
//   ... read BASE into &tee; base = stats.Take(path); the same for NEW
//   std::vector<DeviceDiff> d = DiffSnapshots({&base, &base_sites}, {&next, &next_sites}, {});
//   GateResult g = EvaluateGates({pair}, gates, std::nullopt);
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "memtk/analysis/snapshot_stats.h"
#include "memtk/base/flat_map.h"
#include "memtk/base/status.h"
#include "memtk/memlog/report.h"
#include "memtk/snapshot/snapshot.h"
#include "memtk/timeline/peak.h"

namespace memtk::analysis {

/// What a diff row (and a gate) measures.
enum class Metric : uint8_t {
  // Snapshots, per device.
  kPeak,           ///< the viewer's peak of allocated bytes (as `stats`)
  kReserved,       ///< bytes reserved by the segments
  kAllocated,      ///< bytes allocated in the segments' blocks
  kFragmentation,  ///< reserved - allocated: cached but unused
  kAllocs,         ///< alloc events in the trace
  kAllocBytes,     ///< bytes of those alloc events
  kOom,            ///< OOM events
  // memlog CSVs, of the analysed column.
  kStartup,   ///< start-up rise until the first plateau (bytes)
  kGrowth,    ///< steady growth (bytes per hour)
  kFinal,     ///< the last sample (bytes)
  kDuration,  ///< length of the recording (milliseconds)
};
enum class Unit : uint8_t { kBytes, kCount, kBytesPerHour, kMilliseconds };

/// "peak", "reserved", "allocated", "fragmentation", "allocs", "alloc_bytes",
/// "oom", "startup", "growth", "final", "duration" (JSON keys and gate names).
std::string_view MetricName(Metric m);
Unit MetricUnit(Metric m);
/// The metric named `name` (peak, ...), or nullopt.
std::optional<Metric> MetricFromName(std::string_view name);
/// The rows of each kind of input, in display order (memlog: peak first).
const std::vector<Metric>& SnapshotMetrics();
const std::vector<Metric>& MemlogMetrics();

/// One figure on both sides.
struct MetricRow {
  Metric metric = Metric::kPeak;
  int64_t base = 0;
  int64_t next = 0;        ///< NEW's value
  int64_t change() const;  ///< next - base, saturated
  /// 100 * change / base; nullopt when base is 0 (0 when both are).
  std::optional<double> percent() const;
};

/// One call site's bytes live at the peak, on both sides.
struct SiteChange {
  std::string site;  ///< as `stats` names sites ("file:line:function")
  int64_t base_bytes = 0, next_bytes = 0;
  uint64_t base_count = 0, next_count = 0;
  int64_t change() const;
};

/// Call sites at the peak ranked by the size of their change (largest
/// first; ties by site), cut to CompareOptions::top each.
struct SiteChanges {
  std::vector<SiteChange> grown, shrunk, added, gone;  ///< added = only in NEW, gone = only in BASE
  /// How many there were before the cut; `unchanged` sites are not listed.
  uint64_t grown_total = 0, shrunk_total = 0, added_total = 0, gone_total = 0, unchanged = 0;
};

/// An allocation of NEW's trace whose (call site, size) never occurs in
/// BASE's trace on that device.
struct NewAllocation {
  std::string site;
  int64_t size = 0;
  uint64_t count = 0;      ///< allocations of that site and size in NEW
  uint64_t event_idx = 0;  ///< the first of them
  std::optional<int64_t> time_us;
};

/// One device of a snapshot pair. A device missing on one side compares
/// against zeros.
struct DeviceDiff {
  uint32_t device = 0;
  bool in_base = false, in_next = false;
  std::vector<MetricRow> metrics;  ///< SnapshotMetrics() order
  timeline::PeakPoint base_peak, next_peak;
  /// First event time of each side: peak times print relative to it.
  std::optional<int64_t> base_first_time_us, next_first_time_us;
  SiteChanges sites;
  std::vector<NewAllocation> only_in_next;  ///< largest first, cut to CompareOptions::top
  uint64_t only_in_next_total = 0;          ///< distinct (site, size) pairs before the cut

  const MetricRow* Row(Metric m) const;
};

/// A memlog pair: figures of each side's analysed column.
struct MemlogDiff {
  std::string base_column, next_column;
  std::vector<MetricRow> metrics;           ///< MemlogMetrics() order
  double base_peak_s = 0, next_peak_s = 0;  ///< seconds from each first sample to its peak

  const MetricRow* Row(Metric m) const;
};

enum class InputKind : uint8_t { kSnapshot, kMemlog };
std::string_view InputKindName(InputKind k);  ///< "snapshot", "memlog CSV"

/// One compared pair: two files, or two files of the same name in two
/// directories.
struct PairDiff {
  std::string name;  ///< the file name in directory mode, else ""
  std::string base_path, next_path;
  InputKind kind = InputKind::kSnapshot;
  std::vector<DeviceDiff> devices;  ///< snapshots: by device, union of both sides
  std::optional<MemlogDiff> memlog;
};

/// Gathers AllocationSites while a snapshot is read (pass as
/// a TeeSink beside SnapshotStats::sink()). Host events are ignored, like `stats`.
/// Per alloc event: one probe of a flat table, no heap allocation once the
/// table has grown to the distinct (device, stack, size) triples; other
/// events return at the inline check.
class AllocationSites final : public snapshot::SnapshotSink {
 public:
  struct Entry {
    uint64_t count = 0;
    uint64_t first_event_idx = 0;
    std::optional<int64_t> first_time_us;
  };
  /// (device, site, size) -> allocations; filled at the end of the read.
  using Map = std::map<std::tuple<uint32_t, std::string, int64_t>, Entry>;

  /// Sites by `rules` (snapshot/frame_rules.h), as `stats` names them.
  explicit AllocationSites(snapshot::FrameRules rules = {}) : frames_(std::move(rules)) {}

  Status OnBegin(const snapshot::Tables& t) override;
  Status OnEvent(const snapshot::TraceEvent& e) override {
    if (!e.host && e.action == snapshot::Action::kAlloc) Add(e);
    return OkStatus();
  }
  Status OnEnd(const snapshot::ReadSummary& s) override;
  const Map& sites() const { return sites_; }

 private:
  // Keyed by stack while reading (stacks are interned; a site string per
  // event would cost a lookup and a string each), folded to sites at the end.
  struct StackKey {
    int64_t size = 0;
    int64_t stack = 0;  // -1: no stack
    uint32_t device = 0;
    bool operator==(const StackKey&) const = default;
  };
  struct StackKeyHash {
    size_t operator()(const StackKey& k) const {
      // murmur3's finalizer over the three fields: sizes are multiples of
      // 512 and stack ids small, so the low bits need the high ones mixed in.
      uint64_t h =
          static_cast<uint64_t>(k.size) * 0x9E3779B97F4A7C15ull ^ (static_cast<uint64_t>(k.stack) << 20 | k.device);
      h ^= h >> 33;
      h *= 0xFF51AFD7ED558CCDull;
      h ^= h >> 33;
      return static_cast<size_t>(h);
    }
  };
  void Add(const snapshot::TraceEvent& e) {
    bool fresh = false;
    Entry& x =
        by_stack_.FindOrInsert(StackKey{e.size, e.stack ? static_cast<int64_t>(e.stack->value) : -1, e.device}, &fresh);
    if (fresh) {
      x.first_event_idx = e.index;
      x.first_time_us = e.time_us;
    }
    ++x.count;
  }

  const snapshot::Tables* tables_ = nullptr;
  snapshot::FrameClassifier frames_;
  FlatMap<Entry, StackKey, StackKeyHash> by_stack_;
  Map sites_;
};

/// The site of an allocation's stack, by `stats`' call-site rule
/// (FrameClassifier::SiteFrameLabel); the one place the rule is applied to
/// diff's own aggregates. `frames` must point at the stack's tables.
std::string SiteOf(snapshot::FrameClassifier& frames, std::optional<StackId> stack);

struct CompareOptions {
  size_t top = 10;                 ///< rows per site category and of only_in_next
  std::optional<uint32_t> device;  ///< only this device
};

/// One side of a snapshot pair: its `stats` report (built with
/// top_sites = SIZE_MAX so every site at the peak is there) and its sites.
struct SnapshotSide {
  const SnapshotReport* report = nullptr;
  const AllocationSites* sites = nullptr;
};

/// Per-device comparison, devices in order; with options.device only that one.
std::vector<DeviceDiff> DiffSnapshots(const SnapshotSide& base, const SnapshotSide& next,
                                      const CompareOptions& options);
MemlogDiff DiffMemlogs(const memlog::MemlogReport& base, const memlog::MemlogReport& next);

/// A CI limit: `METRIC>LIMIT`, LIMIT a percentage ("5%", "0.5%") or an
/// absolute amount: bytes with an optional B/KiB/MiB/GiB/TiB (or kB/MB/GB)
/// suffix for byte metrics, a count for allocs and oom.
struct Gate {
  std::string text;  ///< as given
  Metric metric = Metric::kPeak;
  bool percent = false;
  /// Percent limits in millionths of a percent ("5%" = 5000000), so the
  /// comparison is exact; absolute limits in the metric's unit.
  int64_t limit = 0;
  /// True if a change from `base` to `next` passes the limit (change > limit).
  bool Exceeded(int64_t base, int64_t next) const;
};

/// Parses one --fail-on expression; a UsageError names what is wrong.
StatusOr<Gate> ParseGate(std::string_view text);

/// One gate applied to one device (or to a memlog pair: no device).
struct GateCheck {
  Gate gate;
  std::string pair;  ///< PairDiff::name
  std::optional<uint32_t> device;
  int64_t base = 0, next = 0;
  bool failed = false;
};

struct GateResult {
  std::vector<GateCheck> checks;  ///< every check, in gate then pair then device order
  /// Directory mode with gates: BASE files that NEW has no file for. Each
  /// fails the gate: a rank whose new run left no snapshot has nothing to
  /// pass its limits with (a crash before the dump, a lost artifact).
  std::vector<std::string> missing_in_next;
  bool failed() const;
};

/// Applies every gate to every device of every pair (or to `device` only).
/// A gate whose metric does not apply to a pair's kind is a UsageError.
StatusOr<GateResult> EvaluateGates(const std::vector<PairDiff>& pairs, const std::vector<Gate>& gates,
                                   std::optional<uint32_t> device);

/// Everything `memtk diff` found: what the presenters print.
struct DiffReport {
  std::string base, next;  ///< the two arguments as given
  bool directories = false;
  std::vector<PairDiff> pairs;                          ///< by name in directory mode
  std::vector<std::string> only_in_base, only_in_next;  ///< unpaired file names (directory mode)
  std::vector<Gate> gates;
  GateResult gate;
};

}  // namespace memtk::analysis
