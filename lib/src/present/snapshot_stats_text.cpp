// `memtk stats` of a snapshot as aligned text, most important line first.
#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "memtk/base/escape.h"
#include "memtk/base/event_name.h"
#include "memtk/base/format.h"
#include "memtk/base/wrap.h"
#include "memtk/present/snapshot_stats.h"

namespace memtk::present {

using namespace memtk::analysis;  // NOLINT: report types only
using namespace memtk::snapshot;  // NOLINT: ActionName, kNumActions

namespace {

// Strings from the snapshot (frame names, annotation text, pool ids) may
// hold terminal control characters: shown escaped, never raw.
std::string E(std::string_view text) { return EscapeControl(text); }

// A user site with the library function it called:
// "models.py:181:forward → torch/nn/functional.py:1701:relu", and how many
// other calls its other stacks made ("(+1 other call)"): the arrow names the
// heaviest stack's call, not every byte's.
std::string SiteCalls(const std::string& site, const std::string& called, uint32_t others = 0) {
  std::string s = called.empty() ? site : site + " \u2192 " + called;
  if (others > 0) s += fmt::format(" (+{} other call{})", others, others == 1 ? "" : "s");
  return s;
}

std::string Rel(const DeviceReport& r, const std::optional<int64_t>& t) {
  if (!t || !r.first_time_us) return "";
  return fmt::format(" (+{:.6f} s)", static_cast<double>(WrapSub(*t, *r.first_time_us)) / 1e6);
}

// "event d1:421 (id 6866, +1.451426 s)": both numbers `query` accepts
// (memtk/base/event_name.h), and the time from the trace's start.
std::string Event(const DeviceReport& r, uint64_t idx, uint64_t id, const std::optional<int64_t>& t) {
  std::string rel = Rel(r, t);  // " (+x s)"
  return fmt::format("event {} (id {}{})", DeviceEventName(r.device, idx), id,
                     rel.empty() ? "" : ", " + rel.substr(2, rel.size() - 3));
}

std::string At(const DeviceReport& r, const timeline::PeakPoint& p) {
  if (!p.event_idx)
    return r.peak.actions == 0 ? "(no alloc or free events: active blocks of segments only)"
                               : "at the start, before the first alloc or free";
  return "at " + Event(r, *p.event_idx, p.event_id.value_or(0), p.time_us);
}

// Every list shows at most K entries, then how many it left out.
void More(std::string* o, std::string_view indent, uint64_t shown, uint64_t total) {
  if (total > shown) fmt::format_to(std::back_inserter(*o), "{}\u2026 {} more\n", indent, total - shown);
}

void SiteTable(std::string* o, std::string_view indent, const std::vector<SiteUsage>& sites) {
  fmt::format_to(std::back_inserter(*o), "{}{:>11} {:>7}  {}\n", indent, "bytes", "allocs", "site");
  for (const SiteUsage& u : sites)
    fmt::format_to(std::back_inserter(*o), "{}{:>11} {:>7}  {}\n", indent, FormatBytes(u.bytes), u.count,
                   E(SiteCalls(u.site, u.called_short, u.called_others)));
}

// The OOMs open the report: which device ran out, when, asking for how
// much, with how much free, and who held the memory at that instant.
void OomSection(std::string* o, const SnapshotReport& rep) {
  uint64_t total = 0;
  std::string per_device, on_device;
  int devices = 0;
  for (const DeviceReport& r : rep.devices)
    if (r.oom_total) {
      total += r.oom_total;
      per_device += fmt::format("{}device {}: {}", per_device.empty() ? "" : ", ", r.device, r.oom_total);
      on_device = fmt::format("on device {}", r.device);
      ++devices;
    }
  if (total == 0) return;
  auto out = std::back_inserter(*o);
  fmt::format_to(out, "OOM: {} out-of-memory event{} ({})\n", total, total == 1 ? "" : "s",
                 devices == 1 ? on_device : per_device);
  std::vector<const OomRef*> ooms = OomsInOrder(rep.devices);
  if (ooms.size() > rep.top) ooms.resize(rep.top);
  std::vector<uint32_t> sites_shown;  // the first OOM of each device gets its sites
  for (size_t i = 0; i < ooms.size(); ++i) {
    const OomRef& m = *ooms[i];
    const DeviceReport* r = nullptr;
    for (const DeviceReport& d : rep.devices)
      if (d.device == m.device) r = &d;
    fmt::format_to(out, "  OOM {} on device {} at {}: requested {}, device free {}; {} live in {} allocation{}\n",
                   i + 1, m.device, Event(*r, m.event.event_idx, m.event.event_id, m.event.time_us),
                   FormatBytes(m.event.size), m.event.device_free ? FormatBytes(*m.event.device_free) : "unknown",
                   FormatBytes(m.live_bytes), m.live_count, m.live_count == 1 ? "" : "s");
    if (m.request_site)
      fmt::format_to(out, "    requested at {}\n", E(SiteCalls(m.request_site->site, m.request_site->called_short)));
    if (m.live_by_site.empty() || std::find(sites_shown.begin(), sites_shown.end(), m.device) != sites_shown.end())
      continue;
    sites_shown.push_back(m.device);
    // The K that `query --at-oom` counts the same way (per device with --device).
    fmt::format_to(out, "    live at OOM {} by call site (memtk query IN --at-oom {}{}):\n", i + 1, i + 1,
                   rep.only_device ? fmt::format(" --device {}", *rep.only_device) : "");
    SiteTable(o, "      ", m.live_by_site);
  }
  More(o, "  ", ooms.size(), total);
}

std::string HistLabel(int k) {
  if (k < 0) return "<= 0 B";
  if (k >= 62) return fmt::format("[{}, ...)", FormatBytes(int64_t{1} << k));
  return fmt::format("[{}, {})", FormatBytes(int64_t{1} << k), FormatBytes(int64_t{1} << (k + 1)));
}

void GroupTable(std::string* o, std::string_view title, std::vector<SegmentGroup> groups, size_t top) {
  if (groups.size() < 2) return;  // one group repeats the device totals
  const size_t total = groups.size();
  if (total > top) {
    // Too many to list (a pool per CUDA graph): the K largest, then a count.
    std::stable_sort(groups.begin(), groups.end(),
                     [](const SegmentGroup& a, const SegmentGroup& b) { return a.reserved > b.reserved; });
    groups.resize(top);
  }
  // alloc(rnd): rounded block sizes; alloc(req): requested sizes;
  // free(rnd): reserved - rounded (see SegmentGroup).
  fmt::format_to(std::back_inserter(*o),
                 "  segments by {}:\n    {:<24} {:>6} {:>11} {:>11} {:>11} {:>11} {:>12}\n", title, "group", "count",
                 "reserved", "alloc(rnd)", "alloc(req)", "free(rnd)", "max free blk");
  for (const SegmentGroup& g : groups)
    fmt::format_to(std::back_inserter(*o), "    {:<24} {:>6} {:>11} {:>11} {:>11} {:>11} {:>12}\n", E(g.key),
                   g.segments, FormatBytes(g.reserved), FormatBytes(g.allocated), FormatBytes(g.requested),
                   FormatBytes(g.free()), FormatBytes(g.largest_free_block));
  More(o, "    ", groups.size(), total);
}

}  // namespace

std::string FormatSnapshotReport(const SnapshotReport& rep) {
  std::string o;
  auto out = std::back_inserter(o);
  fmt::format_to(out, "{}: {}{}, {} events, {} segments, {} blocks\n", E(rep.source), rep.format,
                 rep.bare_segment_list ? " (bare list of segments)" : "", rep.events, rep.segments, rep.blocks);
  if (rep.devices.empty()) fmt::format_to(out, "no device data (empty snapshot)\n");
  OomSection(&o, rep);
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
      for (const auto& [name, n] : r.unknown_actions) fmt::format_to(out, ", {} {} (unknown)", E(name), n);
      fmt::format_to(out, "\n  allocations: {} allocs ({}), {} frees\n", r.allocs, FormatBytes(r.alloc_bytes), r.frees);
    }
    if (r.oom_total) fmt::format_to(out, "  OOM events: {} (see the top of the report)\n", r.oom_total);
    if (!r.peak_by_site.empty()) {
      fmt::format_to(out, "  top call sites at peak:\n");
      SiteTable(&o, "    ", r.peak_by_site);
    }
    if (!r.peak_by_stack.empty()) {
      fmt::format_to(out, "  top stacks at peak (memtk query IN --stack N):\n    {:>11} {:>7} {:>8}  {}\n", "bytes",
                     "allocs", "stack", "site");
      for (const SiteUsage& u : r.peak_by_stack)
        fmt::format_to(out, "    {:>11} {:>7} {:>8}  {}\n", FormatBytes(u.bytes), u.count,
                       u.stack_id ? fmt::format("{}", *u.stack_id) : "-", E(SiteCalls(u.site, u.called_short)));
    }
    if (!r.largest.empty()) {
      // `id` is what `query --alloc` takes; `event` the index in this trace.
      fmt::format_to(out, "  largest allocations:\n    {:>11} {:>10} {:>8} {:>18}  {}\n", "bytes", "event", "id",
                     "addr", "site");
      for (const AllocationRef& a : r.largest)
        fmt::format_to(out, "    {:>11} {:>10} {:>8} {:>18}  {}{}\n", FormatBytes(a.size),
                       DeviceEventName(r.device, a.event_idx), a.event_id, fmt::format("{:#x}", a.addr), E(SiteCalls(a.site, a.called_short)),
                       Rel(r, a.time_us));
    }
    if (!r.size_histogram.empty()) {
      fmt::format_to(out, "  allocation sizes:\n    {:<22} {:>8} {:>11}\n", "size", "allocs", "bytes");
      for (const auto& [k, v] : r.size_histogram)
        fmt::format_to(out, "    {:<22} {:>8} {:>11}\n", HistLabel(k), v.first, FormatBytes(v.second));
    }
    if (r.snapshot_total) {
      fmt::format_to(out, "  snapshot events: {}\n", r.snapshot_total);
      for (const EventRef& e : r.snapshots)
        fmt::format_to(out, "    {}\n", Event(r, e.event_idx, e.event_id, e.time_us));
      More(&o, "    ", r.snapshots.size(), r.snapshot_total);
    }
    if (r.annotate_events) fmt::format_to(out, "  annotate events: {}\n", r.annotate_events);
    if (r.annotations_total) {
      fmt::format_to(out, "  annotations: {}\n", r.annotations_total);
      for (const auto& [text, t] : r.annotations)
        fmt::format_to(out, "    {}{}\n", E(text), t ? fmt::format(" at time_us {}", *t) : "");
      More(&o, "    ", r.annotations.size(), r.annotations_total);
    }
    const SegmentGroup& s = r.segments;
    if (s.segments) {
      // Both meanings of "allocated" (see SegmentGroup), each with its free.
      fmt::format_to(out,
                     "  segments: {}, reserved {}; allocated: rounded {}, requested {}; free: reserved - rounded {}, "
                     "reserved - requested {} (largest free block {}); active {}; {} expandable\n",
                     s.segments, FormatBytes(s.reserved), FormatBytes(s.allocated), FormatBytes(s.requested),
                     FormatBytes(s.free()), FormatBytes(s.free_requested()), FormatBytes(s.largest_free_block),
                     FormatBytes(s.active), r.expandable_segments);
      fmt::format_to(out, "  blocks: {}: {} active_allocated, {} active_pending_free, {} inactive", r.blocks,
                     r.block_states[0], r.block_states[1], r.block_states[2]);
      if (r.block_states[3]) fmt::format_to(out, ", {} other", r.block_states[3]);
      o += '\n';
      GroupTable(&o, "stream", r.by_stream, rep.top);
      GroupTable(&o, "segment type", r.by_type, rep.top);
      GroupTable(&o, "pool", r.by_pool, rep.top);
      if (!r.most_free.empty()) {
        fmt::format_to(out,
                       "  segments with most free memory:\n    {:>18} {:>11} {:>11} {:>11} {:>11} {:>12}  {}\n",
                       "address", "reserved", "alloc(rnd)", "alloc(req)", "free(rnd)", "max free blk", "type");
        for (const SegmentRef& g : r.most_free)
          fmt::format_to(out, "    {:>18} {:>11} {:>11} {:>11} {:>11} {:>12}  {}\n", fmt::format("{:#x}", g.address),
                         FormatBytes(g.total), FormatBytes(g.allocated), FormatBytes(g.requested),
                         FormatBytes(WrapSub(g.total, g.allocated)), FormatBytes(g.largest_free_block),
                         E(g.segment_type));
        More(&o, "    ", r.most_free.size(), r.segments_with_free);
      }
    }
  }
  return o;
}

}  // namespace memtk::present