// A memlog CSV binned into pixel columns, for drawing it as memory over time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "memtk/base/status.h"

namespace memtk::memlog {

/// One pixel column of one series: min, max and last sample, so a spike
/// between two columns is still drawn and lines join column to column.
struct Bin {
  int64_t lo = INT64_MAX, hi = INT64_MIN, last = 0;
  bool any = false;
};

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
