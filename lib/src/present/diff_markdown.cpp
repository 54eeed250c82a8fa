// DiffMarkdown: for pull-request comments and CI job summaries (GitHub-
// flavoured tables; site changes folded in <details> so the comment stays short).
#include <fmt/format.h>

#include <iterator>

#include "memtk/base/escape.h"
#include "memtk/base/event_name.h"
#include "memtk/base/format.h"
#include "memtk/present/diff.h"
#include "present/diff_common.h"

namespace memtk::present {

namespace {

using analysis::DeviceDiff;
using analysis::MetricRow;
using analysis::PairDiff;
using analysis::SiteChange;

// Table cells: a '|' would end the cell, a newline the row; backticks would
// end the code span the sites are shown in.
std::string Cell(std::string_view s) {
  std::string o;
  for (char c : s) {
    if (c == '|') {
      o += "\\|";
    } else if (c == '\n' || c == '\r') {
      o += ' ';
    } else if (c == '`') {
      o += '\'';
    } else {
      o += c;
    }
  }
  return o;
}

void MetricTable(std::string* o, const std::vector<MetricRow>& rows) {
  auto out = std::back_inserter(*o);
  fmt::format_to(out, "| metric | base | new | change | % |\n|---|--:|--:|--:|--:|\n");
  for (const MetricRow& r : rows) {
    analysis::Unit u = analysis::MetricUnit(r.metric);
    fmt::format_to(out, "| {} | {} | {} | {} | {} |\n", analysis::MetricName(r.metric), FormatValue(u, r.base),
                   FormatValue(u, r.next), FormatChange(u, r.change()), FormatPercent(r.percent()));
  }
}

void Sites(std::string* o, std::string_view label, const std::vector<SiteChange>& v) {
  for (const SiteChange& c : v)
    fmt::format_to(std::back_inserter(*o), "| {} | {} | {} ({}) | {} ({}) | `{}` |\n", label,
                   FormatChange(analysis::Unit::kBytes, c.change()), FormatBytes(c.base_bytes), c.base_count,
                   FormatBytes(c.next_bytes), c.next_count, Cell(c.site));
}

void Device(std::string* o, const DeviceDiff& d) {
  auto out = std::back_inserter(*o);
  fmt::format_to(out, "\n#### device {}{}\n\n", d.device,
                 !d.in_base   ? " (only in NEW)"
                 : !d.in_next ? " (only in BASE)"
                              : "");
  MetricTable(o, d.metrics);
  fmt::format_to(out, "\nPeak at: base {}, new {}.\n", PeakWhen(d.base_peak, d.base_first_time_us, d.device),
                 PeakWhen(d.next_peak, d.next_first_time_us, d.device));
  const analysis::SiteChanges& s = d.sites;
  if (s.grown_total + s.shrunk_total + s.added_total + s.gone_total > 0) {
    fmt::format_to(out,
                   "\n<details><summary>Call sites at peak: {} grown, {} shrunk, {} new, {} gone, {} "
                   "unchanged</summary>\n\n| | change | base (allocs) | new (allocs) | site |\n|---|--:|--:|--:|---|\n",
                   s.grown_total, s.shrunk_total, s.added_total, s.gone_total, s.unchanged);
    Sites(o, "grown", s.grown);
    Sites(o, "shrunk", s.shrunk);
    Sites(o, "new", s.added);
    Sites(o, "gone", s.gone);
    fmt::format_to(out, "\n</details>\n");
  }
  if (d.only_in_next_total) {
    fmt::format_to(out,
                   "\n<details><summary>Allocations only in NEW: {} (site, size) pairs</summary>\n\n| size | allocs | "
                   "first event | site |\n|--:|--:|--:|---|\n",
                   d.only_in_next_total);
    for (const analysis::NewAllocation& a : d.only_in_next)
      fmt::format_to(out, "| {} | {} | {} | `{}` |\n", FormatBytes(a.size), a.count,
                     DeviceEventName(d.device, a.event_idx), Cell(a.site));
    fmt::format_to(out, "\n</details>\n");
  }
}

void Pair(std::string* o, const PairDiff& p) {
  auto out = std::back_inserter(*o);
  if (p.memlog) {
    MetricTable(o, p.memlog->metrics);
    fmt::format_to(out, "\nPeak at: base {}, new {} (column: base `{}`, new `{}`).\n",
                   FormatDuration(p.memlog->base_peak_s), FormatDuration(p.memlog->next_peak_s),
                   Cell(p.memlog->base_column), Cell(p.memlog->next_column));
    return;
  }
  for (const DeviceDiff& d : p.devices) Device(o, d);
}

std::string Headline(const PairDiff& p) {
  if (p.memlog) return MemlogHeadline(*p.memlog);
  return p.devices.empty() ? "no device data" : PeakHeadline(*ByPeakChange(p).front());
}

}  // namespace

std::string DiffMarkdown(const analysis::DiffReport& r) {
  std::string o;
  auto out = std::back_inserter(o);
  fmt::format_to(out, "### memtk diff: `{}` → `{}`\n\n", Cell(r.base), Cell(r.next));
  if (!r.directories) {
    const PairDiff& p = r.pairs.front();
    if (p.memlog || p.devices.empty()) {
      fmt::format_to(out, "**{}**\n", Headline(p));
    } else {
      for (const DeviceDiff* d : ByPeakChange(p)) fmt::format_to(out, "**{}**  \n", PeakHeadline(*d));
    }
  } else {
    fmt::format_to(out, "| file | largest peak change |\n|---|---|\n");
    for (const PairDiff& p : r.pairs) fmt::format_to(out, "| `{}` | {} |\n", Cell(p.name), Headline(p));
    for (const std::string& n : r.only_in_base) fmt::format_to(out, "| `{}` | only in BASE |\n", Cell(n));
    for (const std::string& n : r.only_in_next) fmt::format_to(out, "| `{}` | only in NEW |\n", Cell(n));
  }
  if (!r.gates.empty()) {
    if (r.gate.failed()) {
      fmt::format_to(out, "\n:x: **Memory gate failed**\n\n");
      for (const std::string& n : r.gate.missing_in_next) fmt::format_to(out, "- {}\n", Cell(MissingGateLine(n)));
      for (const analysis::GateCheck& c : r.gate.checks)
        if (c.failed) fmt::format_to(out, "- {}\n", Cell(GateLine(c)));
    } else {
      fmt::format_to(out, "\n:white_check_mark: **Memory gate passed** ({} checks: ", r.gate.checks.size());
      for (size_t i = 0; i < r.gates.size(); ++i) fmt::format_to(out, "{}`{}`", i ? ", " : "", Cell(r.gates[i].text));
      fmt::format_to(out, ")\n");
    }
  }
  for (const PairDiff& p : r.pairs) {
    if (r.directories) fmt::format_to(out, "\n### `{}`\n", Cell(p.name));
    if (p.memlog) o += '\n';
    Pair(&o, p);
  }
  // Names of files, sites and columns are input text: escaped once here.
  return EscapeControlLines(o);
}

}  // namespace memtk::present
