// Presenters for `memtk stats` over several inputs: aligned text (a row per
// input and device, then the summary) and JSON (keys in docs/STATS_JSON.md,
// "Several inputs").
#pragma once

#include <string>

#include "memtk/analysis/multi_stats.h"

namespace memtk::present {

std::string MultiStatsText(const analysis::MultiStats& m);
std::string MultiStatsJson(const analysis::MultiStats& m);

}  // namespace memtk::present
