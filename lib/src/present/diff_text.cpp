// DiffText: the diff for people, most important line first.
#include <fmt/format.h>

#include <iterator>

#include "memtk/base/escape.h"
#include "memtk/base/event_name.h"
#include "memtk/base/format.h"
#include "memtk/present/diff.h"
#include "present/diff_common.h"
#include "present/text_table.h"

namespace memtk::present {

namespace {

using analysis::DeviceDiff;
using analysis::Metric;
using analysis::MetricRow;
using analysis::PairDiff;
using analysis::SiteChange;

using Align = TextTable::Align;

// Widths from the data (present/text_table.h); the least ones are those the
// columns had when they were fixed.
void MetricTable(std::string* o, const std::vector<MetricRow>& rows) {
  TextTable t("  ", {{.header = "metric", .align = Align::kLeft, .min_width = 14},
                     {.header = "base", .min_width = 12},
                     {.header = "new", .min_width = 12},
                     {.header = "change", .min_width = 12},
                     {.header = "%", .min_width = 9}});
  for (const MetricRow& r : rows) {
    analysis::Unit u = analysis::MetricUnit(r.metric);
    t.AddRow({std::string(analysis::MetricName(r.metric)), FormatValue(u, r.base), FormatValue(u, r.next),
              FormatChange(u, r.change()), FormatPercent(r.percent())});
  }
  *o += t.Render();
}

void Sites(TextTable* t, std::string_view label, const std::vector<SiteChange>& v, uint64_t total) {
  for (const SiteChange& c : v)
    t->AddRow({std::string(label), FormatChange(analysis::Unit::kBytes, c.change()), FormatBytes(c.base_bytes),
               std::to_string(c.base_count), FormatBytes(c.next_bytes), std::to_string(c.next_count), c.site});
  if (total > v.size()) t->AddRow({std::string(label), fmt::format("... {} more", total - v.size())});
}

void Device(std::string* o, const DeviceDiff& d) {
  auto out = std::back_inserter(*o);
  fmt::format_to(out, "device {}:{}\n", d.device, !d.in_base ? " (only in NEW)" : !d.in_next ? " (only in BASE)" : "");
  MetricTable(o, d.metrics);
  fmt::format_to(out, "  peak at: base {}, new {}\n", PeakWhen(d.base_peak, d.base_first_time_us, d.device),
                 PeakWhen(d.next_peak, d.next_first_time_us, d.device));
  const analysis::SiteChanges& s = d.sites;
  if (s.grown_total + s.shrunk_total + s.added_total + s.gone_total > 0) {
    fmt::format_to(out, "  call sites at peak: {} grown, {} shrunk, {} new, {} gone, {} unchanged\n", s.grown_total,
                   s.shrunk_total, s.added_total, s.gone_total, s.unchanged);
    TextTable t("    ", {{.header = "", .align = Align::kLeft, .min_width = 7},
                         {.header = "change", .min_width = 11},
                         {.header = "base", .min_width = 11},
                         {.header = "allocs", .min_width = 7},
                         {.header = "new", .min_width = 11},
                         {.header = "allocs", .min_width = 7},
                         {.header = "site", .align = Align::kLeft, .gap = 2}});
    Sites(&t, "grown", s.grown, s.grown_total);
    Sites(&t, "shrunk", s.shrunk, s.shrunk_total);
    Sites(&t, "new", s.added, s.added_total);
    Sites(&t, "gone", s.gone, s.gone_total);
    *o += t.Render();
  } else if (s.unchanged) {
    fmt::format_to(out, "  call sites at peak: {} unchanged\n", s.unchanged);
  }
  if (d.only_in_next_total) {
    fmt::format_to(
        out, "  allocations only in NEW: {} (site, size) pairs{}\n", d.only_in_next_total,
        d.only_in_next_total > d.only_in_next.size() ? fmt::format(", largest {}", d.only_in_next.size()) : "");
    TextTable t("    ", {{.header = "size", .min_width = 11},
                         {.header = "allocs", .min_width = 7},
                         {.header = "first", .min_width = 8},
                         {.header = "site", .align = Align::kLeft, .gap = 2}});
    for (const analysis::NewAllocation& a : d.only_in_next)
      t.AddRow({FormatBytes(a.size), std::to_string(a.count), DeviceEventName(d.device, a.event_idx), a.site});
    *o += t.Render();
  }
}

void Pair(std::string* o, const PairDiff& p) {
  auto out = std::back_inserter(*o);
  if (p.memlog) {
    const analysis::MemlogDiff& m = *p.memlog;
    fmt::format_to(out, "{}\n", MemlogHeadline(m));
    fmt::format_to(out, "column: base {}, new {}\n", m.base_column, m.next_column);
    MetricTable(o, m.metrics);
    fmt::format_to(out, "  peak at: base {}, new {}\n", FormatDuration(m.base_peak_s), FormatDuration(m.next_peak_s));
    return;
  }
  if (p.devices.empty()) {
    fmt::format_to(out, "no device data on either side\n");
    return;
  }
  for (const DeviceDiff* d : ByPeakChange(p)) fmt::format_to(out, "{}\n", PeakHeadline(*d));
  for (const DeviceDiff& d : p.devices) Device(o, d);
}

}  // namespace

std::string DiffText(const analysis::DiffReport& r) {
  std::string o;
  auto out = std::back_inserter(o);
  if (!r.directories) {
    const PairDiff& p = r.pairs.front();
    Pair(&o, p);
    fmt::format_to(out, "base: {}\nnew:  {}\n", p.base_path, p.next_path);
  } else {
    // The largest peak change of each pair first: the rank that moved.
    for (const PairDiff& p : r.pairs) {
      std::string head = p.memlog            ? MemlogHeadline(*p.memlog)
                         : p.devices.empty() ? "no device data"
                                             : PeakHeadline(*ByPeakChange(p).front());
      fmt::format_to(out, "{}: {}\n", p.name, head);
    }
    for (const std::string& n : r.only_in_base) fmt::format_to(out, "{}: only in BASE ({})\n", n, r.base);
    for (const std::string& n : r.only_in_next) fmt::format_to(out, "{}: only in NEW ({})\n", n, r.next);
    for (const PairDiff& p : r.pairs) {
      fmt::format_to(out, "\n== {} ({} vs {})\n", p.name, p.base_path, p.next_path);
      Pair(&o, p);
    }
  }
  if (!r.gates.empty()) {
    fmt::format_to(out, "gate: {}\n", r.gate.failed() ? "FAILED" : "passed");
    for (const std::string& n : r.gate.missing_in_next) fmt::format_to(out, "  {}\n", MissingGateLine(n));
    for (const analysis::GateCheck& c : r.gate.checks) fmt::format_to(out, "  {}\n", GateLine(c));
  }
  // Names of files, sites and columns are input text: escaped once here.
  return EscapeControlLines(o);
}

}  // namespace memtk::present
