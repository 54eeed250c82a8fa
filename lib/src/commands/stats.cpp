// BuildSnapshotReport: one pass over a snapshot (or a database replay),
// aggregates only.
#include "memtk/commands/stats.h"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <bit>
#include <map>
#include <unordered_map>

#include "base/json_put.h"
#include "memtk/base/wrap.h"
#include "memtk/snapshot/call_site.h"
#include "memtk/store/snapshot_db_reader.h"

namespace memtk::commands {

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
  std::map<int, std::pair<uint64_t, int64_t>> hist;
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
  explicit ReportSink(const StatsOptions& o) : options_(o) {}

  Status OnBegin(const Tables& t) override {
    tables_ = &t;
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
    d.seg.segs.push_back(SegmentRef{s.id, s.address, s.total_size, s.allocated_size, 0, type, s.stream});
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
        auto& h = d.hist[k];
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
        r.ooms.push_back(EventRef{e.id, e.index, e.time_us, e.size, e.device_free});
        break;
      case Action::kSnapshot:
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
    for (auto& [dev, dp] : devices_) {
      all_devices_ += (all_devices_.empty() ? "" : ", ") + std::to_string(dev);
      if (options_.device && dev != *options_.device) continue;
      // Devices seen only through blocks of a missing segment (a damaged
      // database) are left out; annotations alone do count.
      if (dp->has_data || dp->r.annotations_total) report_.devices.push_back(std::move(dp->r));
    }
    return std::move(report_);
  }
  /// "0, 1": every device seen, after Take().
  const std::string& all_devices() const { return all_devices_; }

 private:
  DeviceAcc& Dev(uint32_t device) {
    auto& slot = devices_[device];
    if (!slot) {
      slot = std::make_unique<DeviceAcc>();
      slot->r.device = device;
      slot->largest = TopK<LargestAlloc, BySize>(options_.top, BySize{});
    }
    return *slot;
  }

  std::string Site(std::optional<StackId> stack) const {
    if (!stack) return "<no frames>";
    auto f = CallSiteFrame(*tables_, *stack);
    return f ? FormatFrame(*tables_, *f) : "<no frames>";
  }

  // Groups the live-at-peak elements by stack and by call site, K each.
  void GroupPeak(DeviceReport& r) {
    std::unordered_map<int64_t, SiteUsage> by_stack;  // -1 = no stack
    std::unordered_map<int64_t, SiteUsage> by_site;
    for (const timeline::LiveElement& e : r.peak.live_at_peak) {
      int64_t sk = e.stack ? static_cast<int64_t>(e.stack->value) : -1;
      SiteUsage& u = by_stack[sk];
      WrapAddTo(&u.bytes, e.size);
      ++u.count;
    }
    auto rank = [](std::vector<SiteUsage>& v, size_t k) {
      std::sort(v.begin(), v.end(), [](const SiteUsage& a, const SiteUsage& b) {
        if (a.bytes != b.bytes) return a.bytes > b.bytes;
        if (a.count != b.count) return a.count > b.count;
        return a.site < b.site;
      });
      if (v.size() > k) v.resize(k);
    };
    std::vector<SiteUsage> stacks;
    for (auto& [sk, u] : by_stack) {
      std::optional<StackId> st;
      if (sk >= 0) st = StackId{static_cast<uint32_t>(sk)};
      std::optional<FrameId> site = st ? CallSiteFrame(*tables_, *st) : std::nullopt;
      int64_t site_key = site ? static_cast<int64_t>(site->value) : -1;
      SiteUsage& s = by_site[site_key];
      WrapAddTo(&s.bytes, u.bytes);
      s.count += u.count;
      if (site) s.frame_id = site->value;
      u.stack_id = st ? std::optional<uint64_t>(st->value) : std::nullopt;
      u.site = Site(st);
      stacks.push_back(u);
    }
    std::vector<SiteUsage> sites;
    for (auto& [fk, s] : by_site) {
      s.site = fk >= 0 ? FormatFrame(*tables_, FrameId{static_cast<uint32_t>(fk)}) : "<no frames>";
      sites.push_back(s);
    }
    rank(stacks, options_.top);
    rank(sites, options_.top);
    r.peak_by_stack = std::move(stacks);
    r.peak_by_site = std::move(sites);
  }

  void Finalize(DeviceAcc& d) {
    DeviceReport& r = d.r;
    r.live_at_peak = r.peak.live_at_peak.size();
    GroupPeak(r);
    r.peak.live_at_peak.clear();
    r.peak.live_at_peak.shrink_to_fit();
    for (auto& [k, v] : d.hist) r.size_histogram.push_back({k, v});
    for (auto& [name, n] : d.unknown) r.unknown_actions.emplace_back(name, n);
    for (const LargestAlloc& a : d.largest.Sorted())
      r.largest.push_back(AllocationRef{a.event_id, a.event_idx, a.addr, a.size, a.time_us, Site(a.stack)});
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
      if (r.most_free.size() >= options_.top || WrapSub(s.total, s.allocated) <= 0) break;
      r.most_free.push_back(s);
    }
  }

  const StatsOptions& options_;
  const Tables* tables_ = nullptr;
  timeline::PeakTracker peaks_;
  std::map<uint32_t, std::unique_ptr<DeviceAcc>> devices_;
  std::unordered_map<uint64_t, std::pair<uint32_t, size_t>> segment_of_;  // segment id -> device, index
  SnapshotReport report_;
  std::string all_devices_;
};

}  // namespace
}  // namespace memtk::commands

namespace memtk::commands {

namespace {

std::string Rel(const DeviceReport& r, const std::optional<int64_t>& t) {
  if (!t || !r.first_time_us) return "";
  return fmt::format(" (+{:.6f} s)", static_cast<double>(WrapSub(*t, *r.first_time_us)) / 1e6);
}

std::string At(const DeviceReport& r, const timeline::PeakPoint& p) {
  if (!p.event_idx) return "(no alloc or free events: active blocks of segments only)";
  return fmt::format("at event {}{}", *p.event_idx, Rel(r, p.time_us));
}

std::string HistLabel(int k) {
  if (k < 0) return "<= 0 B";
  if (k >= 62) return fmt::format("[{}, ...)", FormatBytes(int64_t{1} << k));
  return fmt::format("[{}, {})", FormatBytes(int64_t{1} << k), FormatBytes(int64_t{1} << (k + 1)));
}

void GroupTable(std::string* o, std::string_view title, const std::vector<SegmentGroup>& groups) {
  if (groups.size() < 2) return;  // one group repeats the device totals
  fmt::format_to(std::back_inserter(*o), "  segments by {}:\n    {:<24} {:>6} {:>11} {:>11} {:>11} {:>11}\n", title,
                 "group", "count", "reserved", "allocated", "free", "max free blk");
  for (const SegmentGroup& g : groups)
    fmt::format_to(std::back_inserter(*o), "    {:<24} {:>6} {:>11} {:>11} {:>11} {:>11}\n", g.key, g.segments,
                   FormatBytes(g.reserved), FormatBytes(g.allocated), FormatBytes(g.free()),
                   FormatBytes(g.largest_free_block));
}

}  // namespace

StatusOr<SnapshotReport> BuildSnapshotReport(const std::string& path, const StatsOptions& options) {
  ReportSink sink(options);
  if (path != "-" && store::IsSqliteFile(path)) {
    RETURN_IF_ERROR(store::ReplayDb(path, &sink));
  } else {
    RETURN_IF_ERROR(ReadSnapshot(path, &sink, {}));
  }
  SnapshotReport r = sink.Take();
  r.source = path;
  if (options.device && r.devices.empty())
    return InvalidInput(fmt::format("{}: no data for device {} (devices: {})", path, *options.device,
                                    sink.all_devices().empty() ? "none" : sink.all_devices()));
  return r;
}

StatusOr<SnapshotReport> BuildSnapshotReportBytes(std::string_view name, std::span<const uint8_t> bytes,
                                                  const StatsOptions& options) {
  ReportSink sink(options);
  ReadOptions ro;
  ro.chunk_size = 1 + bytes.size() % 61;  // odd chunk sizes exercise the carry path
  RETURN_IF_ERROR(ReadSnapshotBytes(name, bytes, &sink, ro));
  SnapshotReport r = sink.Take();
  r.source = std::string(name);
  return r;
}

std::string FormatSnapshotReport(const SnapshotReport& rep) {
  std::string o;
  auto out = std::back_inserter(o);
  fmt::format_to(out, "{}: {}{}, {} events, {} segments, {} blocks\n", rep.source, rep.format,
                 rep.bare_segment_list ? " (bare list of segments)" : "", rep.events, rep.segments, rep.blocks);
  if (rep.devices.empty()) fmt::format_to(out, "no device data (empty snapshot)\n");
  for (const DeviceReport& r : rep.devices) {
    const timeline::DevicePeak& p = r.peak;
    // The answer first: peak, when, and what is left at the end.
    fmt::format_to(out, "device {}: peak {} allocated {}; {} live at end\n", r.device, FormatBytes(p.peak.bytes),
                   At(r, p.peak), FormatBytes(p.end_bytes));
    if (p.actions)
      fmt::format_to(out, "  trace-only peak {} {} ({} allocations live at peak)\n", FormatBytes(p.trace_peak.bytes),
                     At(r, p.trace_peak), r.live_at_peak);
    if (p.before_recording_bytes || p.segment_block_bytes)
      fmt::format_to(out, "  counted from before recording: {} freed in the trace, {} in active blocks of segments\n",
                     FormatBytes(p.before_recording_bytes), FormatBytes(p.segment_block_bytes));
    if (r.events) {
      fmt::format_to(out, "  events: {}", r.events);
      for (int a = 0; a < kNumActions - 1; ++a)
        if (r.by_action[a]) fmt::format_to(out, ", {} {}", ActionName(static_cast<Action>(a)), r.by_action[a]);
      for (const auto& [name, n] : r.unknown_actions) fmt::format_to(out, ", {} {} (unknown)", name, n);
      fmt::format_to(out, "\n  allocations: {} allocs ({}), {} frees\n", r.allocs, FormatBytes(r.alloc_bytes), r.frees);
    }
    for (const EventRef& e : r.ooms)
      fmt::format_to(out, "  OOM at event {}{}: requested {}, device free {}\n", e.event_idx, Rel(r, e.time_us),
                     FormatBytes(e.size), e.device_free ? FormatBytes(*e.device_free) : "unknown");
    if (!r.peak_by_site.empty()) {
      fmt::format_to(out, "  top call sites at peak:\n    {:>11} {:>7}  {}\n", "bytes", "allocs", "site");
      for (const SiteUsage& u : r.peak_by_site)
        fmt::format_to(out, "    {:>11} {:>7}  {}\n", FormatBytes(u.bytes), u.count, u.site);
    }
    if (!r.peak_by_stack.empty()) {
      fmt::format_to(out, "  top stacks at peak:\n    {:>11} {:>7} {:>8}  {}\n", "bytes", "allocs", "stack", "site");
      for (const SiteUsage& u : r.peak_by_stack)
        fmt::format_to(out, "    {:>11} {:>7} {:>8}  {}\n", FormatBytes(u.bytes), u.count,
                       u.stack_id ? fmt::format("{}", *u.stack_id) : "-", u.site);
    }
    if (!r.largest.empty()) {
      fmt::format_to(out, "  largest allocations:\n    {:>11} {:>8} {:>18}  {}\n", "bytes", "event", "addr", "site");
      for (const AllocationRef& a : r.largest)
        fmt::format_to(out, "    {:>11} {:>8} {:>18}  {}{}\n", FormatBytes(a.size), a.event_idx,
                       fmt::format("{:#x}", a.addr), a.site, Rel(r, a.time_us));
    }
    if (!r.size_histogram.empty()) {
      fmt::format_to(out, "  allocation sizes:\n    {:<22} {:>8} {:>11}\n", "size", "allocs", "bytes");
      for (const auto& [k, v] : r.size_histogram)
        fmt::format_to(out, "    {:<22} {:>8} {:>11}\n", HistLabel(k), v.first, FormatBytes(v.second));
    }
    for (const EventRef& e : r.snapshots)
      fmt::format_to(out, "  snapshot event at {}{}\n", e.event_idx, Rel(r, e.time_us));
    if (r.annotate_events) fmt::format_to(out, "  annotate events: {}\n", r.annotate_events);
    if (r.annotations_total) {
      fmt::format_to(
          out, "  annotations: {}{}\n", r.annotations_total,
          r.annotations_total > r.annotations.size() ? fmt::format(" (first {})", r.annotations.size()) : "");
      for (const auto& [text, t] : r.annotations)
        fmt::format_to(out, "    {}{}\n", text, t ? fmt::format(" at time_us {}", *t) : "");
    }
    const SegmentGroup& s = r.segments;
    if (s.segments) {
      fmt::format_to(out,
                     "  segments: {}, reserved {}, allocated {}, active {}, requested {}; free {} (largest free "
                     "block {}); {} expandable\n",
                     s.segments, FormatBytes(s.reserved), FormatBytes(s.allocated), FormatBytes(s.active),
                     FormatBytes(s.requested), FormatBytes(s.free()), FormatBytes(s.largest_free_block),
                     r.expandable_segments);
      fmt::format_to(out, "  blocks: {}: {} active_allocated, {} active_pending_free, {} inactive", r.blocks,
                     r.block_states[0], r.block_states[1], r.block_states[2]);
      if (r.block_states[3]) fmt::format_to(out, ", {} other", r.block_states[3]);
      o += '\n';
      GroupTable(&o, "stream", r.by_stream);
      GroupTable(&o, "segment type", r.by_type);
      GroupTable(&o, "pool", r.by_pool);
      if (!r.most_free.empty()) {
        fmt::format_to(out, "  segments with most free memory:\n    {:>18} {:>11} {:>11} {:>11} {:>12}  {}\n",
                       "address", "reserved", "allocated", "free", "max free blk", "type");
        for (const SegmentRef& g : r.most_free)
          fmt::format_to(out, "    {:>18} {:>11} {:>11} {:>11} {:>12}  {}\n", fmt::format("{:#x}", g.address),
                         FormatBytes(g.total), FormatBytes(g.allocated), FormatBytes(WrapSub(g.total, g.allocated)),
                         FormatBytes(g.largest_free_block), g.segment_type);
      }
    }
  }
  return o;
}

}  // namespace memtk::commands

// JSON rendering: the keys are a contract (docs/STATS_JSON.md), the text
// above is not.
namespace memtk::commands {

namespace {

using JsonWriter = json::Writer;
using json::Key;
using json::Put;
using json::PutArray;
using json::PutObjects;

void Point(JsonWriter& w, std::string_view key, const timeline::PeakPoint& p) {
  Key(w, key);
  w.StartObject();
  Put(w, "bytes", p.bytes);
  Put(w, "event_idx", p.event_idx);
  Put(w, "event_id", p.event_id);
  Put(w, "time_us", p.time_us);
  w.EndObject();
}

void Usage(JsonWriter& w, std::string_view key, const std::vector<SiteUsage>& v, bool stack) {
  PutObjects(w, key, v, [&](JsonWriter& o, const SiteUsage& u) {
    Put(o, "site", u.site);
    Put(o, stack ? "stack_id" : "frame_id", stack ? u.stack_id : u.frame_id);
    Put(o, "bytes", u.bytes);
    Put(o, "count", u.count);
  });
}

void Events(JsonWriter& w, std::string_view key, const std::vector<EventRef>& v, bool oom) {
  PutObjects(w, key, v, [&](JsonWriter& o, const EventRef& e) {
    Put(o, "event_idx", e.event_idx);
    Put(o, "event_id", e.event_id);
    Put(o, "time_us", e.time_us);
    if (oom) {
      Put(o, "requested_bytes", e.size);
      Put(o, "device_free", e.device_free);
    }
  });
}

void Group(JsonWriter& w, const SegmentGroup& g, bool with_key) {
  w.StartObject();
  if (with_key) {
    Put(w, "key", g.key);
  }
  Put(w, "count", g.segments);
  Put(w, "reserved", g.reserved);
  Put(w, "allocated", g.allocated);
  Put(w, "active", g.active);
  Put(w, "requested", g.requested);
  Put(w, "free", g.free());
  Put(w, "largest_free_block", g.largest_free_block);
  w.EndObject();
}

void Groups(JsonWriter& w, std::string_view key, const std::vector<SegmentGroup>& v) {
  PutArray(w, key, v, [](JsonWriter& o, const SegmentGroup& g) { Group(o, g, true); });
}

void Device(JsonWriter& w, const DeviceReport& r) {
  const timeline::DevicePeak& p = r.peak;
  w.StartObject();
  Put(w, "device", r.device);
  Point(w, "peak", p.peak);
  Point(w, "trace_peak", p.trace_peak);
  Put(w, "end_bytes", p.end_bytes);
  Put(w, "before_recording_bytes", p.before_recording_bytes);
  Put(w, "segment_block_bytes", p.segment_block_bytes);
  Put(w, "timeline_actions", p.actions);
  Put(w, "live_at_peak", r.live_at_peak);
  Put(w, "events", r.events);
  Key(w, "events_by_action");
  w.StartObject();
  for (int a = 0; a < kNumActions - 1; ++a)
    if (r.by_action[a]) {
      Put(w, ActionName(static_cast<Action>(a)), r.by_action[a]);
    }
  for (const auto& [name, n] : r.unknown_actions) {
    Put(w, name, n);
  }
  w.EndObject();
  Put(w, "allocs", r.allocs);
  Put(w, "frees", r.frees);
  Put(w, "alloc_bytes", r.alloc_bytes);
  Put(w, "first_time_us", r.first_time_us);
  Put(w, "last_time_us", r.last_time_us);
  Usage(w, "peak_by_site", r.peak_by_site, false);
  Usage(w, "peak_by_stack", r.peak_by_stack, true);
  PutObjects(w, "largest_allocations", r.largest, [](JsonWriter& o, const AllocationRef& a) {
    Put(o, "event_idx", a.event_idx);
    Put(o, "event_id", a.event_id);
    Put(o, "addr", a.addr);
    Put(o, "size", a.size);
    Put(o, "time_us", a.time_us);
    Put(o, "site", a.site);
  });
  PutObjects(w, "size_histogram", r.size_histogram, [](JsonWriter& o, const auto& bucket) {
    const auto& [k, v] = bucket;
    Put(o, "min_bytes", k < 0 ? 0 : int64_t{1} << k);
    Put(o, "count", v.first);
    Put(o, "bytes", v.second);
  });
  Events(w, "ooms", r.ooms, true);
  Events(w, "snapshots", r.snapshots, false);
  Put(w, "annotate_events", r.annotate_events);
  Key(w, "annotations");
  w.StartObject();
  Put(w, "total", r.annotations_total);
  PutObjects(w, "first", r.annotations, [](JsonWriter& o, const auto& annotation) {
    Put(o, "text", annotation.first);
    Put(o, "time_us", annotation.second);
  });
  w.EndObject();
  Key(w, "segments");
  Group(w, r.segments, false);
  Put(w, "expandable_segments", r.expandable_segments);
  Key(w, "blocks");
  w.StartObject();
  Put(w, "total", r.blocks);
  static constexpr const char* kStates[] = {"active_allocated", "active_pending_free", "inactive", "other"};
  for (int i = 0; i < 4; ++i) {
    Put(w, kStates[i], r.block_states[i]);
  }
  w.EndObject();
  Groups(w, "segments_by_stream", r.by_stream);
  Groups(w, "segments_by_type", r.by_type);
  Groups(w, "segments_by_pool", r.by_pool);
  PutObjects(w, "most_free_segments", r.most_free, [](JsonWriter& o, const SegmentRef& g) {
    Put(o, "segment_id", g.id);
    Put(o, "address", g.address);
    Put(o, "reserved", g.total);
    Put(o, "allocated", g.allocated);
    Put(o, "largest_free_block", g.largest_free_block);
    Put(o, "segment_type", g.segment_type);
    Put(o, "stream", g.stream);
  });
  w.EndObject();
}

}  // namespace

std::string SnapshotReportJson(const SnapshotReport& r) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Put(w, "source", r.source);
  Put(w, "format", r.format);
  Put(w, "bare_segment_list", r.bare_segment_list);
  Put(w, "events", r.events);
  Put(w, "host_events", r.host_events);
  Put(w, "segments", r.segments);
  Put(w, "blocks", r.blocks);
  PutArray(w, "devices", r.devices, Device);
  Key(w, "data_problems");
  w.StartObject();
  for (size_t i = 0; i < static_cast<size_t>(Stat::kCount); ++i) {
    uint64_t v = r.stats.Get(static_cast<Stat>(i));
    if (v == 0) continue;
    Put(w, GetStatInfo(static_cast<Stat>(i)).name, v);
  }
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

}  // namespace memtk::commands
