// `memtk diff BASE NEW`: reads both sides (side by side, on two threads),
// compares them (analysis/diff.h), applies the --fail-on gates and formats
// the result (present/diff.h). BASE and NEW are two snapshots or memtk
// databases (mixed freely), two memlog CSVs, or two directories whose files
// are paired by name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "memtk/base/stats.h"
#include "memtk/base/status.h"
#include "memtk/snapshot/frame_rules.h"

namespace memtk::commands {

enum class DiffFormat : uint8_t { kText, kJson, kMarkdown };

struct DiffOptions {
  std::string base, next;            ///< files or directories
  std::vector<std::string> fail_on;  ///< gate expressions (analysis::ParseGate)
  std::optional<uint32_t> device;    ///< compare (and gate) this device only
  size_t top = 10;                   ///< rows per site category / new allocations
  std::string column;                ///< memlog CSVs: the column (default as `stats`)
  DiffFormat format = DiffFormat::kText;
  /// Snapshots: how sites are named (--site, --user-code, --library).
  snapshot::FrameRulesOptions frames;
  /// -o as given ("" or "-" = stdout). The caller writes the report there
  /// (named after NEW, DiffExtension); RunDiff refuses, before reading, an
  /// output that would replace a file it reads.
  std::string output;
};

/// The extension of a report written to -o DIR/: ".diff.txt", ".diff.json"
/// or ".diff.md".
std::string_view DiffExtension(DiffFormat format);

struct DiffOutcome {
  std::string output;                      ///< the whole report, in options.format
  bool gate_failed = false;                ///< exit 3
  std::vector<std::string> gate_failures;  ///< one line per failed check
  /// Data problems counted while reading each input (path, counters).
  std::vector<std::pair<std::string, Stats>> warnings;
};

/// Errors: a missing or unreadable input, BASE and NEW of different kinds,
/// no pairs in two directories (InvalidInput, exit 1); a bad --fail-on,
/// --device/--column that do not apply, or an -o that is one of the files
/// compared (UsageError, exit 2). A failed gate
/// is not an error: see DiffOutcome::gate_failed.
StatusOr<DiffOutcome> RunDiff(const DiffOptions& options);

}  // namespace memtk::commands
