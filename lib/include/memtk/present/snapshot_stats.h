// Presenters of a snapshot's statistics (analysis/snapshot_stats.h): what
// `memtk stats` prints.
#pragma once

#include <string>

#include "memtk/analysis/snapshot_stats.h"

namespace memtk::present {

/// Aligned text for people, most important line first. The layout may change
/// between versions; scripts use the JSON.
std::string FormatSnapshotReport(const analysis::SnapshotReport& r);
/// One JSON object and a newline; keys in docs/STATS_JSON.md (a contract).
std::string SnapshotReportJson(const analysis::SnapshotReport& r);

}  // namespace memtk::present
