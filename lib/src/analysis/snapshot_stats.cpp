// SnapshotStats: one pass over a snapshot (or a database replay),
// aggregates only.
#include "memtk/analysis/snapshot_stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <map>
#include <unordered_map>

#include "analysis/group_by_site.h"
#include "analysis/oom_live.h"
#include "memtk/base/wrap.h"
#include "snapshot/call_site.h"  // FormatFrame
#include "store/replay.h"

namespace memtk::analysis {

using namespace memtk::snapshot;  // NOLINT: record types only

namespace {

// The K largest of a stream, kept in a min-heap of K entries.
template <class T, class Less>
class TopK {
 public:
  TopK(size_t k, Less less) : k_(k), less_(less) {}
  void Offer(const T& v) {
    if (k_ == 0) return;
    auto greater = [this](const T& a, const T& b) { return less_(b, a); };
    if (heap_.size() < k_) {
      heap_.push_back(v);
      std::push_heap(heap_.begin(), heap_.end(), greater);
    } else if (less_(heap_.front(), v)) {
      std::pop_heap(heap_.begin(), heap_.end(), greater);
      heap_.back() = v;
      std::push_heap(heap_.begin(), heap_.end(), greater);
    }
  }
  /// Largest first.
  std::vector<T> Sorted() const {
    std::vector<T> out = heap_;
    std::sort(out.begin(), out.end(), [this](const T& a, const T& b) { return less_(b, a); });
    return out;
  }

 private:
  size_t k_;
  Less less_;
  std::vector<T> heap_;
};

struct LargestAlloc {
  uint64_t event_id, event_idx, addr;
  int64_t size;
  std::optional<int64_t> time_us;
  std::optional<StackId> stack;
};
struct BySize {
  // Ties: the earlier event ranks higher, so the order is deterministic.
  bool operator()(const LargestAlloc& a, const LargestAlloc& b) const {
    return a.size != b.size ? a.size < b.size : a.event_id > b.event_id;
  }
};

struct SegAcc {
  SegmentGroup total;
  std::map<std::string, SegmentGroup> by_stream, by_type, by_pool;
  std::array<uint64_t, 4> states{};
  uint64_t blocks = 0, expandable = 0;
  std::vector<SegmentRef> segs;  // one per segment; segments are few (thousands)
  // The stream, type and pool group of segs[i] (std::map nodes do not move):
  // an inactive block updates their largest free block as it arrives.
  std::vector<std::array<SegmentGroup*, 3>> groups;
};

struct DeviceAcc {
  DeviceReport r;
  // Bucket k + 1 counts sizes in [2^k, 2^(k+1)), bucket 0 sizes <= 0: an
  // array, not a map, as it is bumped once per alloc event.
  std::array<std::pair<uint64_t, int64_t>, 65> hist{};
  std::map<std::string, uint64_t, std::less<>> unknown;
  TopK<LargestAlloc, BySize> largest{10, BySize{}};
  SegAcc seg;
  bool has_data = false;
};

void AddToGroup(SegmentGroup* g, const Segment& s) {
  ++g->segments;
  WrapAddTo(&g->reserved, s.total_size);
  WrapAddTo(&g->allocated, s.allocated_size);
  WrapAddTo(&g->active, s.active_size);
  WrapAddTo(&g->requested, s.requested_size);
}

class ReportSink : public SnapshotSink {
 public:
  explicit ReportSink(const SnapshotStatsOptions& o) : options_(o), frames_(o.frames), oom_live_(o.top) {}

  Status OnBegin(const Tables& t) override {
    tables_ = &t;
    frames_.Reset(&t);
    return OkStatus();
  }

  Status OnSegment(const Segment& s) override {
    if (s.host || s.device < 0 || s.device > UINT32_MAX) return OkStatus();
    DeviceAcc& d = Dev(static_cast<uint32_t>(s.device));
    d.has_data = true;
    AddToGroup(&d.seg.total, s);
    std::string stream = fmt::format("{}", s.stream);
    std::string type(s.segment_type == kNoString ? std::string_view("unknown") : tables_->String(s.segment_type));
    std::string pool(s.pool_id.empty() ? std::string_view("default") : s.pool_id);
    std::array<SegmentGroup*, 3> groups = {&d.seg.by_stream[stream], &d.seg.by_type[type], &d.seg.by_pool[pool]};
    groups[0]->key = "stream " + stream;
    groups[1]->key = type;
    groups[2]->key = pool;
    for (SegmentGroup* g : groups) AddToGroup(g, s);
    if (s.is_expandable.value_or(false)) ++d.seg.expandable;
    segment_of_[s.id] = {static_cast<uint32_t>(s.device), d.seg.segs.size()};
    d.seg.segs.push_back(SegmentRef{s.id, s.address, s.total_size, s.allocated_size, 0, s.requested_size, type, s.stream});
    d.seg.groups.push_back(groups);
    return OkStatus();
  }

  Status OnBlock(const Block& b) override {
    peaks_.OnBlock(b);
    auto it = segment_of_.find(b.segment_id);
    if (it == segment_of_.end()) return OkStatus();  // a host segment's block
    DeviceAcc& d = Dev(it->second.first);
    ++d.seg.blocks;
    ++d.seg.states[static_cast<size_t>(b.state)];
    if (b.state == BlockState::kInactive) {
      SegmentRef& s = d.seg.segs[it->second.second];
      s.largest_free_block = std::max(s.largest_free_block, b.size);
      d.seg.total.largest_free_block = std::max(d.seg.total.largest_free_block, b.size);
      for (SegmentGroup* g : d.seg.groups[it->second.second])
        g->largest_free_block = std::max(g->largest_free_block, b.size);
    }
    return OkStatus();
  }

  Status OnEvent(const TraceEvent& e) override {
    ++report_.events;
    if (e.host) {
      ++report_.host_events;
      return OkStatus();
    }
    oom_live_.OnEvent(e, peaks_);  // before the tracker: it needs the live set before a free
    peaks_.OnEvent(e);
    DeviceAcc& d = Dev(e.device);
    d.has_data = true;
    DeviceReport& r = d.r;
    ++r.events;
    ++r.by_action[static_cast<size_t>(e.action)];
    if (e.time_us) {
      if (!r.first_time_us) r.first_time_us = e.time_us;
      r.last_time_us = e.time_us;
    }
    switch (e.action) {
      case Action::kAlloc: {
        ++r.allocs;
        WrapAddTo(&r.alloc_bytes, e.size);
        int k = e.size <= 0 ? -1 : 63 - std::countl_zero(static_cast<uint64_t>(e.size));
        auto& h = d.hist[k + 1];
        ++h.first;
        WrapAddTo(&h.second, e.size);
        d.largest.Offer(LargestAlloc{e.id, e.index, e.addr, e.size, e.time_us, e.stack});
        break;
      }
      case Action::kFreeCompleted:
      case Action::kFree:
        ++r.frees;
        break;
      case Action::kOom:
        ++r.oom_total;  // the first K are kept, with what was live, by oom_live_
        break;
      case Action::kSnapshot:
        // Kept up to K per device, as every list (a long run may take thousands).
        if (r.snapshot_total++ < options_.top)
          r.snapshots.push_back(EventRef{e.id, e.index, e.time_us, e.size, std::nullopt});
        break;
      case Action::kAnnotate:
        ++r.annotate_events;
        break;
      case Action::kUnknown:
        ++d.unknown[std::string(tables_->String(e.action_name))];
        break;
      default:
        break;
    }
    return OkStatus();
  }

  Status OnAnnotation(const Annotation& a) override {
    if (!a.device || *a.device < 0 || *a.device > UINT32_MAX) return OkStatus();
    DeviceAcc& d = Dev(static_cast<uint32_t>(*a.device));
    ++d.r.annotations_total;
    // Kept up to K per device: annotations can number in the thousands.
    if (d.r.annotations.size() < options_.top)
      d.r.annotations.emplace_back(fmt::format("{} {}", tables_->String(a.stage), tables_->String(a.name)), a.time_us);
    return OkStatus();
  }

  Status OnEnd(const ReadSummary& s) override {
    report_.format = s.format;
    report_.bare_segment_list = s.bare_segment_list;
    report_.segments = s.segments;
    report_.blocks = s.blocks;
    report_.stats = s.stats;
    for (timeline::DevicePeak& p : peaks_.Finish()) Dev(p.device).r.peak = std::move(p);
    for (auto& [dev, dp] : devices_) Finalize(*dp);
    return OkStatus();
  }

  SnapshotReport Take() {
    report_.top = options_.top;
    report_.only_device = options_.device;
    for (auto& [dev, dp] : devices_) {
      all_devices_ += (all_devices_.empty() ? "" : ", ") + std::to_string(dev);
      if (options_.device && dev != *options_.device) continue;
      // Devices seen only through blocks of a missing segment (a damaged
      // database) are left out; annotations alone do count.
      if (dp->has_data || dp->r.annotations_total) report_.devices.push_back(std::move(dp->r));
    }
    return std::move(report_);
  }
  std::optional<uint32_t> device() const { return options_.device; }
  /// "0, 1": every device seen, after Take().
  const std::string& all_devices() const { return all_devices_; }

 private:
  DeviceAcc& Dev(uint32_t device) {
    // Events of one device come in runs (a trace per device): the last one
    // answers most calls without a map lookup (or a call: this part inlines).
    if (last_dev_ && last_dev_->r.device == device) [[likely]]
      return *last_dev_;
    return DevSlow(device);
  }
  [[gnu::noinline]] DeviceAcc& DevSlow(uint32_t device) {
    auto& slot = devices_[device];
    if (!slot) {
      slot = std::make_unique<DeviceAcc>();
      slot->r.device = device;
      slot->largest = TopK<LargestAlloc, BySize>(options_.top, BySize{});
    }
    last_dev_ = slot.get();
    return *slot;
  }

  // The site of a stack (snapshot/frame_rules.h: computed once per stack),
  // with the library frame it called.
  struct SiteText {
    std::string site, called, called_short;
  };
  SiteText Site(std::optional<StackId> stack) {
    if (!stack) return {"<no frames>", "", ""};
    return Describe(frames_.SiteOf(*stack));
  }
  SiteText Describe(const snapshot::Site& s) {
    SiteText t{frames_.SiteFrameLabel(s), "", ""};
    if (s.called) {
      t.called = FormatFrame(*tables_, *s.called);
      t.called_short = ShortFrame(*tables_, *s.called);
    }
    return t;
  }

  // Groups the live-at-peak elements by stack and by call site, K each.
  void GroupPeak(DeviceReport& r) {
    std::unordered_map<int64_t, StackUsage> by_stack;  // -1 = no stack
    for (const timeline::LiveElement& e : r.peak.live_at_peak) {
      StackUsage& u = by_stack[e.stack ? static_cast<int64_t>(e.stack->value) : -1];
      u.stack = e.stack;
      WrapAddTo(&u.bytes, e.size);
      ++u.count;
    }
    std::vector<StackUsage> stacks;
    stacks.reserve(by_stack.size());
    for (const auto& [sk, u] : by_stack) stacks.push_back(u);
    std::vector<SiteUsage> sites = GroupBySite(stacks, frames_);
    RankUsage(sites, options_.top_sites.value_or(options_.top));
    r.peak_by_site = std::move(sites);
    r.peak_by_stack = TopStacks(stacks, options_.top);
  }

  // The K largest stacks, named. Naming formats frames, so only the stacks
  // that can rank in the first K are named: those with at least the bytes
  // and count of the K-th by figures alone (names only break ties). With
  // K = 0 (`diff`) none are. Reorders and cuts `stacks` (the caller's
  // scratch, not used after).
  std::vector<SiteUsage> TopStacks(std::vector<StackUsage>& stacks, size_t k) {
    if (k == 0) return {};
    auto larger = [](const StackUsage& a, const StackUsage& b) {
      return a.bytes != b.bytes ? a.bytes > b.bytes : a.count > b.count;
    };
    if (stacks.size() > k) {
      std::nth_element(stacks.begin(), stacks.begin() + static_cast<std::ptrdiff_t>(k - 1), stacks.end(), larger);
      const StackUsage kth = stacks[k - 1];
      stacks.erase(std::remove_if(stacks.begin(), stacks.end(), [&](const StackUsage& u) { return larger(kth, u); }),
                   stacks.end());
    }
    std::vector<SiteUsage> out;
    out.reserve(stacks.size());
    for (const StackUsage& u : stacks) {
      SiteText text = Site(u.stack);
      SiteUsage& s = out.emplace_back();
      s.site = std::move(text.site);
      s.called = std::move(text.called);
      s.called_short = std::move(text.called_short);
      if (u.stack) s.stack_id = u.stack->value;
      s.bytes = u.bytes;
      s.count = u.count;
    }
    RankUsage(out, k);
    return out;
  }

  void Finalize(DeviceAcc& d) {
    DeviceReport& r = d.r;
    r.live_at_peak = r.peak.live_at_peak.size();
    r.ooms = oom_live_.Finish(r.device, r.peak.live_at_peak, frames_, options_.top);
    GroupPeak(r);
    r.peak.live_at_peak.clear();
    r.peak.live_at_peak.shrink_to_fit();
    for (size_t i = 0; i < d.hist.size(); ++i)
      if (d.hist[i].first) r.size_histogram.push_back({static_cast<int>(i) - 1, d.hist[i]});
    for (auto& [name, n] : d.unknown) r.unknown_actions.emplace_back(name, n);
    for (const LargestAlloc& a : d.largest.Sorted()) {
      SiteText text = Site(a.stack);
      r.largest.push_back(AllocationRef{a.event_id, a.event_idx, a.addr, a.size, a.time_us, std::move(text.site),
                                        std::move(text.called), std::move(text.called_short)});
    }
    // Segments.
    r.segments = d.seg.total;
    r.segments.key = fmt::format("device {}", r.device);
    r.block_states = d.seg.states;
    r.blocks = d.seg.blocks;
    r.expandable_segments = d.seg.expandable;
    for (auto& [k, g] : d.seg.by_stream) r.by_stream.push_back(g);
    for (auto& [k, g] : d.seg.by_type) r.by_type.push_back(g);
    for (auto& [k, g] : d.seg.by_pool) r.by_pool.push_back(g);
    std::vector<SegmentRef> segs = d.seg.segs;
    std::sort(segs.begin(), segs.end(), [](const SegmentRef& a, const SegmentRef& b) {
      int64_t fa = WrapSub(a.total, a.allocated), fb = WrapSub(b.total, b.allocated);
      return fa != fb ? fa > fb : a.id < b.id;
    });
    for (const SegmentRef& s : segs) {
      if (WrapSub(s.total, s.allocated) <= 0) break;
      ++r.segments_with_free;
      if (r.most_free.size() < options_.top) r.most_free.push_back(s);
    }
  }

  const SnapshotStatsOptions options_;
  const Tables* tables_ = nullptr;
  snapshot::FrameClassifier frames_;
  timeline::PeakTracker peaks_;
  OomLive oom_live_;
  std::map<uint32_t, std::unique_ptr<DeviceAcc>> devices_;
  DeviceAcc* last_dev_ = nullptr;                                         // Dev()'s last answer (map nodes do not move)
  std::unordered_map<uint64_t, std::pair<uint32_t, size_t>> segment_of_;  // segment id -> device, index
  SnapshotReport report_;
  std::string all_devices_;
};

}  // namespace

std::vector<const OomRef*> OomsInOrder(const std::vector<DeviceReport>& devices) {
  std::vector<const OomRef*> out;
  for (const DeviceReport& d : devices)
    for (const OomRef& o : d.ooms) out.push_back(&o);
  // The same order as query's `ORDER BY time_us IS NULL, time_us, id`.
  std::stable_sort(out.begin(), out.end(), [](const OomRef* a, const OomRef* b) {
    const auto& ta = a->event.time_us;
    const auto& tb = b->event.time_us;
    if (ta.has_value() != tb.has_value()) return ta.has_value();
    if (ta && *ta != *tb) return *ta < *tb;
    return a->event.event_id < b->event.event_id;
  });
  return out;
}

class SnapshotStats::Sink : public ReportSink {
 public:
  using ReportSink::ReportSink;
};

SnapshotStats::SnapshotStats(const SnapshotStatsOptions& options) : sink_(std::make_unique<Sink>(options)) {}
SnapshotStats::~SnapshotStats() = default;

snapshot::SnapshotSink* SnapshotStats::sink() { return sink_.get(); }

StatusOr<SnapshotReport> SnapshotStats::Take(std::string source) {
  std::optional<uint32_t> device = sink_->device();
  SnapshotReport r = sink_->Take();
  if (device && r.devices.empty())
    return InvalidInput(fmt::format("{}: no data for device {} (devices: {})", source, *device,
                                    sink_->all_devices().empty() ? "none" : sink_->all_devices()));
  r.source = std::move(source);
  return r;
}

StatusOr<SnapshotReport> BuildSnapshotReport(const std::string& path, const SnapshotStatsOptions& options) {
  SnapshotStats stats(options);
  RETURN_IF_ERROR(store::ReadInput(path, stats.sink()));
  return stats.Take(path);
}

StatusOr<SnapshotReport> BuildSnapshotReportBytes(std::string_view name, std::span<const uint8_t> bytes,
                                                  const SnapshotStatsOptions& options) {
  SnapshotStats stats(options);
  ReadOptions ro;
  ro.chunk_size = 1 + bytes.size() % 61;  // odd chunk sizes exercise the carry path
  RETURN_IF_ERROR(ReadSnapshotBytes(name, bytes, stats.sink(), ro));
  return stats.Take(std::string(name));
}

}  // namespace memtk::analysis
