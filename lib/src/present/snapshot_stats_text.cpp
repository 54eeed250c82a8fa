// `memtk stats` of a snapshot as aligned text, most important line first.
#include <fmt/format.h>

#include <iterator>

#include "memtk/base/escape.h"
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

std::string Rel(const DeviceReport& r, const std::optional<int64_t>& t) {
  if (!t || !r.first_time_us) return "";
  return fmt::format(" (+{:.6f} s)", static_cast<double>(WrapSub(*t, *r.first_time_us)) / 1e6);
}

std::string At(const DeviceReport& r, const timeline::PeakPoint& p) {
  if (!p.event_idx)
    return r.peak.actions == 0 ? "(no alloc or free events: active blocks of segments only)"
                               : "at the start, before the first alloc or free";
  return fmt::format("at event {}{}", *p.event_idx, Rel(r, p.time_us));
}

std::string HistLabel(int k) {
  if (k < 0) return "<= 0 B";
  if (k >= 62) return fmt::format("[{}, ...)", FormatBytes(int64_t{1} << k));
  return fmt::format("[{}, {})", FormatBytes(int64_t{1} << k), FormatBytes(int64_t{1} << (k + 1)));
}

void GroupTable(std::string* o, std::string_view title, const std::vector<SegmentGroup>& groups) {
  if (groups.size() < 2) return;  // one group repeats the device totals
  // alloc(rnd): rounded block sizes; alloc(req): requested sizes;
  // free(rnd): reserved - rounded (see SegmentGroup).
  fmt::format_to(std::back_inserter(*o),
                 "  segments by {}:\n    {:<24} {:>6} {:>11} {:>11} {:>11} {:>11} {:>12}\n", title, "group", "count",
                 "reserved", "alloc(rnd)", "alloc(req)", "free(rnd)", "max free blk");
  for (const SegmentGroup& g : groups)
    fmt::format_to(std::back_inserter(*o), "    {:<24} {:>6} {:>11} {:>11} {:>11} {:>11} {:>12}\n", E(g.key),
                   g.segments, FormatBytes(g.reserved), FormatBytes(g.allocated), FormatBytes(g.requested),
                   FormatBytes(g.free()), FormatBytes(g.largest_free_block));
}

}  // namespace

std::string FormatSnapshotReport(const SnapshotReport& rep) {
  std::string o;
  auto out = std::back_inserter(o);
  fmt::format_to(out, "{}: {}{}, {} events, {} segments, {} blocks\n", E(rep.source), rep.format,
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
      for (const auto& [name, n] : r.unknown_actions) fmt::format_to(out, ", {} {} (unknown)", E(name), n);
      fmt::format_to(out, "\n  allocations: {} allocs ({}), {} frees\n", r.allocs, FormatBytes(r.alloc_bytes), r.frees);
    }
    for (const EventRef& e : r.ooms)
      fmt::format_to(out, "  OOM at event {}{}: requested {}, device free {}\n", e.event_idx, Rel(r, e.time_us),
                     FormatBytes(e.size), e.device_free ? FormatBytes(*e.device_free) : "unknown");
    if (!r.peak_by_site.empty()) {
      fmt::format_to(out, "  top call sites at peak:\n    {:>11} {:>7}  {}\n", "bytes", "allocs", "site");
      for (const SiteUsage& u : r.peak_by_site)
        fmt::format_to(out, "    {:>11} {:>7}  {}\n", FormatBytes(u.bytes), u.count, E(u.site));
    }
    if (!r.peak_by_stack.empty()) {
      fmt::format_to(out, "  top stacks at peak:\n    {:>11} {:>7} {:>8}  {}\n", "bytes", "allocs", "stack", "site");
      for (const SiteUsage& u : r.peak_by_stack)
        fmt::format_to(out, "    {:>11} {:>7} {:>8}  {}\n", FormatBytes(u.bytes), u.count,
                       u.stack_id ? fmt::format("{}", *u.stack_id) : "-", E(u.site));
    }
    if (!r.largest.empty()) {
      fmt::format_to(out, "  largest allocations:\n    {:>11} {:>8} {:>18}  {}\n", "bytes", "event", "addr", "site");
      for (const AllocationRef& a : r.largest)
        fmt::format_to(out, "    {:>11} {:>8} {:>18}  {}{}\n", FormatBytes(a.size), a.event_idx,
                       fmt::format("{:#x}", a.addr), E(a.site), Rel(r, a.time_us));
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
        fmt::format_to(out, "    {}{}\n", E(text), t ? fmt::format(" at time_us {}", *t) : "");
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
      GroupTable(&o, "stream", r.by_stream);
      GroupTable(&o, "segment type", r.by_type);
      GroupTable(&o, "pool", r.by_pool);
      if (!r.most_free.empty()) {
        fmt::format_to(out,
                       "  segments with most free memory:\n    {:>18} {:>11} {:>11} {:>11} {:>11} {:>12}  {}\n",
                       "address", "reserved", "alloc(rnd)", "alloc(req)", "free(rnd)", "max free blk", "type");
        for (const SegmentRef& g : r.most_free)
          fmt::format_to(out, "    {:>18} {:>11} {:>11} {:>11} {:>11} {:>12}  {}\n", fmt::format("{:#x}", g.address),
                         FormatBytes(g.total), FormatBytes(g.allocated), FormatBytes(g.requested),
                         FormatBytes(WrapSub(g.total, g.allocated)), FormatBytes(g.largest_free_block),
                         E(g.segment_type));
      }
    }
  }
  return o;
}

}  // namespace memtk::present