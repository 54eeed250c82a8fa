// `memtk stats` over several inputs (or a directory): reads each with
// BuildSnapshotReport, `jobs` at a time, and folds them into one table
// (analysis/multi_stats.h) printed by present/multi_stats.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "memtk/base/stats.h"
#include "memtk/base/status.h"
#include "memtk/snapshot/frame_rules.h"

namespace memtk::commands {

struct MultiStatsOptions {
  std::vector<std::string> inputs;  ///< snapshots, databases, or directories of them
  std::optional<uint32_t> device;   ///< only this device (inputs without it have no row)
  unsigned jobs = 1;                ///< inputs read at once
  bool json = false;
  snapshot::FrameRulesOptions frames;  ///< the top site's rule (snapshot/frame_rules.h)
  /// -o as given ("" or "-" = stdout), written by the caller as a report
  /// named "stats" (DIR/stats.stats.txt); refused before reading if it is
  /// one of the inputs.
  std::string output;
};

struct MultiStatsOutcome {
  std::string output;  ///< empty when no input could be read
  std::vector<std::pair<std::string, Stats>> warnings;  ///< data problems per input
  std::vector<Status> failed;                           ///< inputs not read, in input order
};

/// True if `inputs` is more than one path or names a directory: the table
/// form of `stats` (one plain file keeps today's single report).
bool IsMultiStats(const std::vector<std::string>& inputs);

/// An input that cannot be read does not stop the others: it is listed in
/// the output ("not read: <its error>", JSON `not_read`) and in
/// MultiStatsOutcome::failed, for the caller's exit status; when no input
/// could be read, `output` is empty. An error is returned for a directory
/// that cannot be listed and (UsageError) for a memlog CSV among the inputs.
StatusOr<MultiStatsOutcome> RunMultiStats(const MultiStatsOptions& options);

}  // namespace memtk::commands
