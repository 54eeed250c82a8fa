// One table over many snapshots: the analysis behind `memtk stats A B C...`.
//
// Each input is summarised by `stats`' own report (SnapshotReport);
// this folds the reports into a row per input and device and the summary a
// multi-GPU user asks for: the worst input and device, how unbalanced the
// peaks are (max / mean), and whether every rank peaks at the same call site.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "memtk/analysis/snapshot_stats.h"
#include "memtk/timeline/peak.h"

namespace memtk::analysis {

struct StatsRow {
  std::string source;  ///< the input as given
  uint32_t device = 0;
  timeline::PeakPoint peak;
  std::optional<int64_t> first_time_us;  ///< the device's first event time: `when` prints relative to it
  int64_t reserved = 0;
  uint64_t ooms = 0;
  std::string top_site;  ///< the call site holding the most bytes at the peak; "" if none
  int64_t top_site_bytes = 0;
};

struct MultiStats {
  std::vector<StatsRow> rows;          ///< input order, then device order
  std::vector<std::string> no_data;    ///< inputs with no device data
  /// Inputs that could not be read, in input order: (input, its error's
  /// one line, which names it). Set by the caller: a bad rank file leaves
  /// the others' table standing.
  std::vector<std::pair<std::string, std::string>> not_read;
  std::optional<size_t> worst;         ///< index in rows of the largest peak (first on ties)
  int64_t max_peak = 0, min_peak = 0;  ///< over rows
  double mean_peak = 0;
  /// max_peak / mean_peak (1 = perfectly balanced); 0 without rows.
  double imbalance = 0;
  /// True if every row with a top site has the same one (and there is one).
  bool same_top_site = false;
  uint64_t distinct_top_sites = 0;
};

/// Folds `reports` (one per input, in input order) into the table and summary.
MultiStats SummariseReports(const std::vector<SnapshotReport>& reports);

}  // namespace memtk::analysis
