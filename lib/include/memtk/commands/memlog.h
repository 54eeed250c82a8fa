// `memtk memlog`: record memory over time (memlog/recorder.h), or append a
// mark to a recording. The flags' rules live here, not in the CLI, so they
// are tested without it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "memtk/base/status.h"
#include "memtk/memlog/recorder.h"

namespace memtk::commands {

struct MemlogOptions {
  std::string output;  ///< -o CSV (required to record)
  std::string log;     ///< --log CSV (default OUT.log.csv)
  std::vector<std::string> command;
  int64_t pid = 0;
  bool machine = false;  ///< --machine: record the whole machine (required when there is no command or --pid)
  std::string interval = "100ms";
  std::string duration;  ///< "" = until the target ends (or Ctrl-C)
  bool children = false, no_children = false;
  bool detail = false, no_gpu = false;
  std::string mark;  ///< with `into`: append this mark instead of recording
  std::string into;
  /// --plot PNG: after recording, draw the CSV as `memtk render-png` would,
  /// with these size and column options ("" = no picture).
  std::string plot;
  int plot_width = 1600, plot_height = 900;
  std::vector<std::string> plot_columns;
};

/// RunMemlog's outcome: the recording, and the picture when --plot asked.
struct MemlogOutcome {
  memlog::RecordResult record;
  /// --plot: why the picture could not be drawn (the recording stands).
  Status plot_error;
  uint64_t plot_samples = 0;
  std::string plot_peak;  ///< the drawn peak, in its unit
};

/// Checks the flags (usage errors name them), then records (and draws the
/// --plot PNG), or appends the mark (an empty outcome). Notices (what is
/// recorded, how to stop) go to `notice`.
StatusOr<MemlogOutcome> RunMemlog(const MemlogOptions& options, const memlog::NoticeFn& notice);

}  // namespace memtk::commands
