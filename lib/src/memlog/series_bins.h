// A memlog CSV binned into pixel columns, for drawing it as memory over time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "memtk/base/status.h"

namespace memtk::memlog {

/// One pixel column of one series: its first, last, min and max sample, so
/// the line through the samples joins column to column (last to next first)
/// and a column holding several samples spans their min..max (no spike is
/// lost). Values of `*_percent` columns are kept in tenths of a percent.
struct Bin {
  int64_t lo = INT64_MAX, hi = INT64_MIN, first = 0, last = 0;
  uint32_t count = 0;
  bool any = false;
};

/// True for a column drawn against the percent axis (`*_percent`).
inline bool IsPercentColumn(std::string_view name) { return name.ends_with("_percent"); }

struct SeriesBins {
  std::vector<std::vector<Bin>> series;  ///< per requested column, `width` bins each
  std::vector<uint32_t> log_lines;       ///< log lines per column; empty without a log CSV
  uint64_t samples = 0;                  ///< rows inside [x0, x1]
};

/// Streams `csv_path` once (and `log_path` once, unless empty) into `width`
/// columns over elapsed seconds [x0, x1]. A column missing from the header is
/// a usage error; a value that is not a number names file:line:col.
StatusOr<SeriesBins> BinSeries(const std::string& csv_path, const std::string& log_path,
                               const std::vector<std::string>& columns, double x0, double x1, int width);

}  // namespace memtk::memlog
