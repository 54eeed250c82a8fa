// Spelling shared by the diff presenters.
#include "present/diff_common.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "memtk/base/event_name.h"
#include "memtk/base/format.h"

namespace memtk::present {

using analysis::Unit;

std::string FormatValue(Unit unit, int64_t v) {
  switch (unit) {
    case Unit::kBytes:
      return FormatBytes(v);
    case Unit::kBytesPerHour:
      return FormatBytes(v) + "/h";
    case Unit::kMilliseconds:
      return FormatDuration(static_cast<double>(v) / 1000.0);
    case Unit::kCount:
      break;
  }
  return fmt::format("{}", v);
}

std::string FormatChange(Unit unit, int64_t v) {
  std::string s = FormatValue(unit, v);
  return v > 0 ? "+" + s : s;
}

std::string FormatPercent(const std::optional<double>& p) {
  if (!p) return "new";
  // Rounding never shows a change as "0.00%" or a tiny growth as "-0.00%".
  if (*p != 0 && std::fabs(*p) < 0.005) return *p > 0 ? "+<0.01%" : "-<0.01%";
  return *p == 0 ? "0.00%" : fmt::format("{:+.2f}%", *p);
}

std::string PeakHeadline(const analysis::DeviceDiff& d) {
  const analysis::MetricRow* r = d.Row(analysis::Metric::kPeak);
  std::string where = fmt::format("on device {}", d.device);
  if (!d.in_base) where += " (only in NEW)";
  if (!d.in_next) where += " (only in BASE)";
  if (r->change() == 0) return fmt::format("peak unchanged ({}) {}", FormatBytes(r->next), where);
  return fmt::format("peak {} ({}) {}", FormatChange(Unit::kBytes, r->change()), FormatPercent(r->percent()), where);
}

std::string MemlogHeadline(const analysis::MemlogDiff& d) {
  const analysis::MetricRow* r = d.Row(analysis::Metric::kPeak);
  std::string col = d.base_column == d.next_column ? d.next_column : d.base_column + " vs " + d.next_column;
  if (r->change() == 0) return fmt::format("peak unchanged ({}) ({})", FormatBytes(r->next), col);
  return fmt::format("peak {} ({}) ({})", FormatChange(Unit::kBytes, r->change()), FormatPercent(r->percent()), col);
}

std::vector<const analysis::DeviceDiff*> ByPeakChange(const analysis::PairDiff& p) {
  std::vector<const analysis::DeviceDiff*> v;
  for (const analysis::DeviceDiff& d : p.devices) v.push_back(&d);
  std::stable_sort(v.begin(), v.end(), [](const analysis::DeviceDiff* a, const analysis::DeviceDiff* b) {
    __int128 x = a->Row(analysis::Metric::kPeak)->change(), y = b->Row(analysis::Metric::kPeak)->change();
    if (x < 0) x = -x;
    if (y < 0) y = -y;
    return x > y;
  });
  return v;
}

std::string GateLine(const analysis::GateCheck& c) {
  analysis::MetricRow row{c.gate.metric, c.base, c.next};
  Unit unit = analysis::MetricUnit(c.gate.metric);
  std::string where = c.device ? fmt::format(" on device {}", *c.device) : "";
  return fmt::format("{}{} {}{}: base {}, new {} ({}, {})", c.pair.empty() ? "" : c.pair + ": ", c.gate.text,
                     c.failed ? "failed" : "passed", where, FormatValue(unit, c.base), FormatValue(unit, c.next),
                     FormatChange(unit, row.change()), FormatPercent(row.percent()));
}

std::string PeakWhen(const timeline::PeakPoint& p, const std::optional<int64_t>& first_time_us, uint32_t device) {
  if (!p.event_idx) return "-";
  // Both numbers `query` takes (memtk/base/event_name.h), as `stats` names events.
  std::string s = fmt::format("event {} (id {}", DeviceEventName(device, *p.event_idx), p.event_id.value_or(0));
  if (p.time_us && first_time_us)
    s += fmt::format(", +{:.3f} s", static_cast<double>(*p.time_us - *first_time_us) / 1e6);
  return s + ")";
}

std::string MissingGateLine(const std::string& name) {
  return fmt::format("{}: failed: only in BASE, NEW has no file to compare", name);
}

std::vector<std::string> GateFailureLines(const analysis::GateResult& g) {
  std::vector<std::string> out;
  for (const std::string& n : g.missing_in_next) out.push_back(MissingGateLine(n));
  for (const analysis::GateCheck& c : g.checks)
    if (c.failed) out.push_back(GateLine(c));
  return out;
}

}  // namespace memtk::present
