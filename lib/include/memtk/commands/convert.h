// `memtk convert`: snapshot files to SQLite databases.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "memtk/base/stats.h"
#include "memtk/base/status.h"
#include "memtk/snapshot/snapshot.h"

namespace memtk::commands {

struct ConvertOptions {
  std::vector<std::string> inputs;
  /// One input: the database path (default: the input's name with `.db`,
  /// next to it). Several inputs: a directory, created if missing.
  std::string output;
  int jobs = 1;
  /// Fail an input whose reader counted any kError problem.
  bool strict = false;
  /// Called from worker threads with (input, raw bytes read, file size).
  std::function<void(const std::string&, uint64_t, uint64_t)> progress;
};

struct ConvertResult {
  std::string input;
  std::string output;
  Status status;
  snapshot::ReadSummary summary;
  Stats stats;
  uint64_t allocations = 0;
  uint64_t frames = 0, stacks = 0;
  double seconds = 0;
};

/// Where one input's database goes (see ConvertOptions::output).
std::string DefaultDbPath(const std::string& input);

/// Converts every input; a bad input fails alone. Returns a usage error
/// (nothing converted) when the options cannot work.
StatusOr<std::vector<ConvertResult>> RunConvert(const ConvertOptions& options);

/// Converts one snapshot into a database at `output`, via a temp file.
ConvertResult ConvertOne(const std::string& input, const std::string& output, const ConvertOptions& options);

}  // namespace memtk::commands
