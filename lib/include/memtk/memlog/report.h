// MemlogReport: what `memtk stats` says about a memlog CSV.
//
// The seed article behind memlog found that the memory went into start-up,
// not into the steady state two weeks had been spent on. So the report splits
// the run into those phases: the start-up rise until the first plateau, the
// steady growth after it (a least-squares slope in MiB per hour with its fit
// quality), and the final drop; then the largest jumps, each with the log
// lines the program wrote just before it.
//
// Memory stays flat whatever the length of the CSV: the series is streamed
// once into at most kBuckets summary buckets (count, time/value means and
// co-moments, min/max, first/last — merged pairwise when full, so a fit over
// any run of whole buckets is exact), the peak and the jumps are found on the
// raw samples as they stream by, and the log CSV is then streamed once to
// pick the lines near each jump. The phase rules are in docs/MEMLOG.md.
// Presenters: present/memlog_stats.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "memtk/base/status.h"

namespace memtk::memlog {

struct MemlogReportOptions {
  /// Column to analyse; "" = rss_bytes, else used_bytes, else the first *_bytes.
  std::string column;
  /// Log CSV; "" = DefaultLogPath(csv) if it exists.
  std::string log_path;
  size_t jumps = 5;
  /// Log lines shown per jump (the last ones before its top).
  size_t lines_per_jump = 3;
};

struct LogLine {
  double elapsed_s = 0;
  std::string time_utc;
  std::string stream;
  std::string text;
};

struct Jump {
  double from_s = 0, to_s = 0;  ///< elapsed: the sample before the rise, the top
  std::string to_utc;
  int64_t from_bytes = 0, to_bytes = 0;
  int64_t rise() const { return to_bytes - from_bytes; }
  /// Lines logged from one interval before the rise until its top.
  std::vector<LogLine> lines;
  /// When `lines` is empty: the last line logged before the rise.
  std::optional<LogLine> before;
};

struct ColumnSummary {
  std::string name;
  uint64_t present = 0;  ///< rows with a value
  int64_t min = 0, max = 0, first = 0, last = 0;
  double max_s = 0;  ///< elapsed at the (first) max
};

struct MemlogReport {
  std::string path;
  std::string log_path;  ///< "" when there is no log CSV
  std::string column;    ///< the analysed column
  uint64_t samples = 0;
  uint64_t truncated_rows = 0;  ///< a last row cut short (memtk killed mid-write)
  double duration_s = 0, mean_interval_s = 0, max_gap_s = 0;
  std::string start_utc, end_utc;
  double start_elapsed_s = 0;

  int64_t start_bytes = 0, end_bytes = 0, min_bytes = 0;
  int64_t peak_bytes = 0;
  double peak_s = 0;
  std::string peak_utc;
  std::optional<int64_t> hwm_max;  ///< max of hwm_bytes, when present
  std::optional<LogLine> before_peak;

  /// Start-up: from the first sample to the start of the first plateau.
  bool plateau = false;  ///< false: no plateau found (still rising / too short)
  double startup_s = 0;
  int64_t startup_bytes = 0;

  /// Steady phase: least squares of value over time between the plateau and
  /// the final drop.
  bool steady = false;
  double steady_from_s = 0, steady_to_s = 0;
  double growth_bytes_per_hour = 0;
  double r_squared = 0;  ///< 1 for a perfectly straight (or flat) line
  double residual_rms_bytes = 0;
  uint64_t steady_samples = 0;
  /// Whether the slope is worth a number (GrowthVerdict); when not,
  /// `growth_why_not` says why in a few words ("too few samples (6)").
  bool growth_meaningful = false;
  std::string growth_why_not;

  /// The final drop: the last decreasing run, when it frees ≥ 5% of the peak.
  bool drop = false;
  double drop_from_s = 0, drop_to_s = 0;
  int64_t drop_from_bytes = 0, drop_to_bytes = 0;

  std::vector<Jump> jumps;  ///< largest first
  std::vector<ColumnSummary> columns;
  uint64_t log_lines = 0;
  std::vector<LogLine> marks;  ///< the first kMaxMarks `mark` rows
  uint64_t mark_count = 0;
  static constexpr size_t kMaxMarks = 20;
};

/// A growth rate in the unit that fits the length of the steady phase:
/// MiB/s under 2 minutes, MiB/min under 3 hours, MiB/hour beyond.
struct GrowthRate {
  double value = 0;       ///< MiB per `unit`
  std::string_view unit;  ///< "MiB/s", "MiB/min" or "MiB/hour"
};
GrowthRate GrowthInFittingUnit(const MemlogReport& r);

/// True if the file starts with a memlog CSV header.
bool IsMemlogCsv(const std::string& path);

/// The log CSV read with `csv_path`: `log_path` if given, else
/// DefaultLogPath(csv_path) if it is a readable regular file, else "" (none:
/// a FIFO there would block). Commands add
/// it to the files their output must not replace.
std::string LogPathToRead(const std::string& csv_path, const std::string& log_path);

/// Streams the CSV (and its log CSV) once each. Errors name file:line:col.
StatusOr<MemlogReport> BuildMemlogReport(const std::string& csv_path, const MemlogReportOptions& options);

/// The same from memory (tests, fuzzing): inputs are named memlog.csv and
/// memlog.log.csv in errors; an empty `log` means no log CSV.
StatusOr<MemlogReport> BuildMemlogReportFromMemory(std::string_view csv, std::string_view log,
                                                   const MemlogReportOptions& options);

}  // namespace memtk::memlog
