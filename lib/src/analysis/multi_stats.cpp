// SummariseReports: rows and summary over many `stats` reports.
#include "memtk/analysis/multi_stats.h"

#include <set>

namespace memtk::analysis {

MultiStats SummariseReports(const std::vector<SnapshotReport>& reports) {
  MultiStats m;
  for (const SnapshotReport& r : reports) {
    if (r.devices.empty()) m.no_data.push_back(r.source);
    for (const DeviceReport& d : r.devices) {
      StatsRow row;
      row.source = r.source;
      row.device = d.device;
      row.peak = d.peak.peak;
      row.first_time_us = d.first_time_us;
      row.reserved = d.segments.reserved;
      row.ooms = d.oom_total;
      if (!d.peak_by_site.empty()) {
        row.top_site = d.peak_by_site.front().site;
        row.top_site_bytes = d.peak_by_site.front().bytes;
      }
      m.rows.push_back(std::move(row));
    }
  }
  if (m.rows.empty()) return m;
  double sum = 0;
  std::set<std::string> sites;
  m.min_peak = m.max_peak = m.rows.front().peak.bytes;
  for (size_t i = 0; i < m.rows.size(); ++i) {
    const StatsRow& row = m.rows[i];
    sum += static_cast<double>(row.peak.bytes);
    if (!m.worst || row.peak.bytes > m.rows[*m.worst].peak.bytes) m.worst = i;
    m.max_peak = std::max(m.max_peak, row.peak.bytes);
    m.min_peak = std::min(m.min_peak, row.peak.bytes);
    if (!row.top_site.empty()) sites.insert(row.top_site);
  }
  m.mean_peak = sum / static_cast<double>(m.rows.size());
  m.imbalance = m.mean_peak > 0 ? static_cast<double>(m.max_peak) / m.mean_peak : 0;
  m.distinct_top_sites = sites.size();
  m.same_top_site = sites.size() == 1;
  return m;
}

}  // namespace memtk::analysis
