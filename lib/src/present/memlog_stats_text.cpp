// `memtk stats` of a memlog CSV as text: phases, jumps with their log lines.
#include <fmt/core.h>

#include <cmath>
#include <iterator>

#include "memlog/time_format.h"
#include "memtk/base/escape.h"
#include "memtk/base/format.h"
#include "memtk/present/memlog_stats.h"

namespace memtk::present {

using namespace memtk::memlog;  // NOLINT: report types only

namespace {

// The command's output lines (progress bars, colours) and names from the CSV
// reach the terminal escaped, never raw.
std::string E(std::string_view text) { return EscapeControl(text); }

std::string At(const MemlogReport& r, double elapsed) { return FormatDuration(elapsed - r.start_elapsed_s); }

std::string Line(const LogLine& l, const MemlogReport& r) {
  std::string text = l.text.size() > 100 ? l.text.substr(0, 100) + "…" : l.text;
  return fmt::format("{:>10} {:<6} {}", At(r, l.elapsed_s), E(l.stream), E(text));
}

}  // namespace

std::string FormatMemlogReport(const MemlogReport& r) {
  std::string o;
  auto out = std::back_inserter(o);
  // The analysed column's unit: bytes, or percent for cpu_percent.
  const bool pct = r.column.ends_with("_percent");
  auto V = [pct](int64_t v) { return pct ? std::to_string(v) + "%" : FormatBytes(v); };
  auto SignedV = [&](int64_t v) { return (v >= 0 ? "+" : "-") + V(v >= 0 ? v : -v); };
  fmt::format_to(out, "memlog {}: {} samples over {} (every {} on average, longest gap {})\n", E(r.path), r.samples,
                 FormatDuration(r.duration_s), FormatDuration(r.mean_interval_s), FormatDuration(r.max_gap_s));
  fmt::format_to(out, "  from {} to {}; analysed column: {}\n", E(r.start_utc), E(r.end_utc), E(r.column));
  if (!r.log_path.empty())
    fmt::format_to(out, "  log {}: {} lines, {} mark{}\n", E(r.log_path), r.log_lines, r.mark_count,
                   r.mark_count == 1 ? "" : "s");
  if (r.truncated_rows > 0)
    fmt::format_to(out, "  {} last row cut short (recording killed mid-write), skipped\n", r.truncated_rows);
  fmt::format_to(out, "peak: {} at {} ({}); start {}, end {}, lowest {}\n", V(r.peak_bytes), At(r, r.peak_s),
                 E(r.peak_utc), V(r.start_bytes), V(r.end_bytes), V(r.min_bytes));
  if (r.hwm_max && *r.hwm_max > r.peak_bytes && r.column == "rss_bytes")
    fmt::format_to(out, "  high-water mark (VmHWM): {}, {} above the sampled peak (a spike between samples)\n",
                   V(*r.hwm_max), V(*r.hwm_max - r.peak_bytes));
  if (r.before_peak) fmt::format_to(out, "  last log line before the peak: {}\n", Line(*r.before_peak, r));
  if (!r.plateau) {
    fmt::format_to(out, "start-up: no plateau found (memory still rising, or the run is too short)\n");
  } else if (r.startup_s == 0) {
    fmt::format_to(out, "start-up: none (flat from the first sample)\n");
  } else {
    fmt::format_to(out, "start-up: {} over {} (then a plateau at {})\n", SignedV(r.startup_bytes),
                   FormatDuration(r.startup_s), V(r.start_bytes + r.startup_bytes));
  }
  if (r.steady && r.growth_meaningful) {
    const GrowthRate g = GrowthInFittingUnit(r);
    fmt::format_to(out, "steady growth: {:+.{}f} {} from {} to {} (R² {:.2f}, residual RMS {})\n", g.value,
                   std::fabs(g.value) < 0.1 ? 3 : 1, g.unit, At(r, r.steady_from_s), At(r, r.steady_to_s), r.r_squared,
                   V(static_cast<int64_t>(r.residual_rms_bytes)));
  } else if (r.steady) {
    fmt::format_to(out, "steady growth: not reported from {} to {}: {}\n", At(r, r.steady_from_s),
                   At(r, r.steady_to_s), r.growth_why_not);
  }
  if (r.drop) {
    fmt::format_to(out, "final drop: {} over {} (from {} to {}, ending at {})\n",
                   SignedV(r.drop_to_bytes - r.drop_from_bytes), FormatDuration(r.drop_to_s - r.drop_from_s),
                   V(r.drop_from_bytes), V(r.drop_to_bytes), At(r, r.drop_to_s));
  } else {
    fmt::format_to(out, "final drop: none (ends at {})\n", V(r.end_bytes));
  }
  if (!r.jumps.empty()) {
    fmt::format_to(out, "largest jumps:\n");
    for (size_t i = 0; i < r.jumps.size(); ++i) {
      const Jump& j = r.jumps[i];
      fmt::format_to(out, "  {}. {} over {}, {} -> {} (from {} to {})\n", i + 1, SignedV(j.rise()),
                     FormatDuration(j.to_s - j.from_s), At(r, j.from_s), At(r, j.to_s), V(j.from_bytes),
                     V(j.to_bytes));
      for (const LogLine& l : j.lines) fmt::format_to(out, "     {}\n", Line(l, r));
      if (j.lines.empty() && j.before) fmt::format_to(out, "     (before) {}\n", Line(*j.before, r));
    }
  }
  if (!r.marks.empty()) {
    fmt::format_to(out, "marks:\n");
    for (const LogLine& m : r.marks) fmt::format_to(out, "  {:>10}  {}\n", At(r, m.elapsed_s), E(m.text));
    if (r.mark_count > r.marks.size()) fmt::format_to(out, "  ... {} more\n", r.mark_count - r.marks.size());
  }
  fmt::format_to(out, "columns:\n  {:<20} {:>11} {:>11} {:>10} {:>11} {:>11}\n", "column", "min", "max", "max at",
                 "first", "last");
  for (const ColumnSummary& c : r.columns) {
    if (c.present == 0) {
      fmt::format_to(out, "  {:<20} (no values)\n", E(c.name));
      continue;
    }
    auto v = [&](int64_t x) {
      return c.name.ends_with("_bytes")     ? FormatBytes(x)
             : c.name.ends_with("_percent") ? std::to_string(x) + "%"
                                            : std::to_string(x);
    };
    fmt::format_to(out, "  {:<20} {:>11} {:>11} {:>10} {:>11} {:>11}\n", E(c.name), v(c.min), v(c.max), At(r, c.max_s),
                   v(c.first), v(c.last));
  }
  return o;
}

}  // namespace memtk::present
