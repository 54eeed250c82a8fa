// `memtk stats`: a summary of one input, a snapshot (or memtk database) or a
// memlog CSV, as text or JSON.
//
// Orchestration only: the input's kind picks the analysis
// (analysis/snapshot_stats.h or memlog/report.h), whose plain result goes to
// a presenter (present/snapshot_stats.h, present/memlog_stats.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "memtk/base/stats.h"
#include "memtk/base/status.h"
#include "memtk/snapshot/frame_rules.h"

namespace memtk::commands {

struct StatsOptions {
  std::string input;               ///< snapshot, memtk database or memlog CSV; "-" = stdin (snapshots)
  std::optional<uint32_t> device;  ///< snapshots: only this device
  /// Snapshots: call sites, stacks, allocations, segments listed (default
  /// 10); memlog: the largest jumps (default 5).
  std::optional<size_t> top;
  bool json = false;
  std::string column;    ///< memlog: the column to analyse
  std::string log_path;  ///< memlog: its log CSV
  /// Snapshots: --site, --user-code, --library (snapshot/frame_rules.h).
  snapshot::FrameRulesOptions frames;
  /// -o as given ("" or "-" = stdout). The caller writes the text there
  /// (io::WriteOutputFile with StatsExtension); RunStats only refuses, before
  /// reading, an output that would replace the input or its log CSV.
  std::string output;
};

/// The extension of a report written to -o DIR/: ".stats.txt" or ".stats.json".
std::string_view StatsExtension(bool json);

struct StatsOutput {
  std::string text;  ///< the report, text or JSON
  Stats problems;    ///< the reader's data-problem counters (snapshots)
};

/// Reads the input, analyses it and formats the report. Flags that do not fit
/// the input's kind are usage errors.
StatusOr<StatsOutput> RunStats(const StatsOptions& options);

}  // namespace memtk::commands
