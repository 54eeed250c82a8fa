// MultiStatsText / MultiStatsJson: the table and summary over many inputs.
#include "memtk/present/multi_stats.h"

#include <fmt/format.h>

#include <filesystem>
#include <iterator>
#include <set>

#include "base/json_put.h"
#include "memtk/base/escape.h"
#include "memtk/base/format.h"
#include "present/diff_common.h"
#include "present/text_table.h"

namespace memtk::present {

namespace {

std::string Summary(const analysis::MultiStats& m) {
  std::string o;
  auto out = std::back_inserter(o);
  const analysis::StatsRow& w = m.rows[*m.worst];
  fmt::format_to(out, "worst: {} device {}: peak {} {}\n", EscapeControl(w.source), w.device, FormatBytes(w.peak.bytes),
                 PeakWhen(w.peak, w.first_time_us, w.device));
  fmt::format_to(out, "imbalance: max/mean {:.3f} (max {}, mean {}, min {}) over {} rows\n", m.imbalance,
                 FormatBytes(m.max_peak), FormatBytes(static_cast<int64_t>(m.mean_peak)), FormatBytes(m.min_peak),
                 m.rows.size());
  if (m.same_top_site) {
    fmt::format_to(out, "top site at peak: the same everywhere: {}\n",
                   EscapeControl(w.top_site.empty() ? m.rows[0].top_site : w.top_site));
  } else if (m.distinct_top_sites == 0) {
    fmt::format_to(out, "top site at peak: none (no allocation live at any peak)\n");
  } else {
    fmt::format_to(out, "top site at peak: differs: {} distinct sites\n", m.distinct_top_sites);
  }
  return o;
}

}  // namespace

std::string MultiStatsText(const analysis::MultiStats& m) {
  std::string o;
  auto out = std::back_inserter(o);
  // The summary is the answer; the table is the evidence.
  if (!m.rows.empty()) o += Summary(m);
  for (const std::string& s : m.no_data) fmt::format_to(out, "{}: no device data (empty snapshot)\n", EscapeControl(s));
  for (const auto& [input, error] : m.not_read) fmt::format_to(out, "not read: {}\n", EscapeControl(error));
  if (m.rows.empty()) return o;
  // Rows name inputs by file name (rank0.pickle ...) when those are
  // distinct, else by the path as given.
  std::set<std::string> names, sources;
  for (const analysis::StatsRow& r : m.rows) {
    names.insert(std::filesystem::path(r.source).filename().string());
    sources.insert(r.source);
  }
  bool short_names = names.size() == sources.size();
  auto label = [&](const std::string& s) { return short_names ? std::filesystem::path(s).filename().string() : s; };
  using Align = TextTable::Align;
  // The widths the table had when they were fixed stay the least ones.
  TextTable table("", {{.header = "input", .align = Align::kLeft, .min_width = 5},
                       {.header = "device", .min_width = 6},
                       {.header = "peak", .min_width = 11},
                       {.header = "when", .align = Align::kLeft, .min_width = 32},
                       {.header = "reserved", .min_width = 11},
                       {.header = "ooms", .min_width = 5},
                       {.header = "top site at peak", .align = Align::kLeft, .gap = 2}});
  for (const analysis::StatsRow& r : m.rows)
    table.AddRow({label(r.source), std::to_string(r.device), FormatBytes(r.peak.bytes),
                  PeakWhen(r.peak, r.first_time_us, r.device), FormatBytes(r.reserved), std::to_string(r.ooms),
                  r.top_site.empty() ? "-" : fmt::format("{} ({})", r.top_site, FormatBytes(r.top_site_bytes))});
  o += table.Render();
  return o;
}

std::string MultiStatsJson(const analysis::MultiStats& m) {
  using json::Put;
  return json::ObjectText([&](json::Writer& w) {
    json::PutObjects(w, "rows", m.rows, [](json::Writer& o, const analysis::StatsRow& r) {
      Put(o, "source", r.source);
      Put(o, "device", r.device);
      Put(o, "peak_bytes", r.peak.bytes);
      Put(o, "peak_event_idx", r.peak.event_idx);
      Put(o, "peak_time_us", r.peak.time_us);
      Put(o, "first_time_us", r.first_time_us);
      Put(o, "reserved", r.reserved);
      Put(o, "ooms", r.ooms);
      Put(o, "top_site", r.top_site.empty() ? std::optional<std::string>() : r.top_site);
      Put(o, "top_site_bytes", r.top_site_bytes);
    });
    json::PutArray(w, "no_data", m.no_data, [](json::Writer& o, const std::string& s) { json::Value(o, s); });
    json::PutObjects(w, "not_read", m.not_read, [](json::Writer& o, const std::pair<std::string, std::string>& f) {
      Put(o, "source", f.first);
      Put(o, "error", f.second);
    });
    json::PutObject(w, "summary", [&](json::Writer& o) {
      json::PutObjectOrNull(o, "worst", m.worst.has_value(), [&](json::Writer& wo) {
        const analysis::StatsRow& worst = m.rows[*m.worst];
        Put(wo, "source", worst.source);
        Put(wo, "device", worst.device);
        Put(wo, "peak_bytes", worst.peak.bytes);
      });
      Put(o, "max_peak", m.max_peak);
      Put(o, "mean_peak", m.mean_peak);
      Put(o, "min_peak", m.min_peak);
      Put(o, "imbalance", m.imbalance);
      Put(o, "same_top_site", m.same_top_site);
      Put(o, "distinct_top_sites", m.distinct_top_sites);
    });
  });
}

}  // namespace memtk::present
