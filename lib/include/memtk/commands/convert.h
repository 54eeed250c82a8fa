// `memtk convert`: snapshot files to SQLite databases.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "memtk/base/stats.h"
#include "memtk/base/status.h"
#include "memtk/snapshot/snapshot.h"

namespace memtk::commands {

/// What `convert --to` writes.
enum class OutputFormat {
  kDb,           ///< memtk's SQLite database (default)
  kSnapViewer,   ///< SnapViewer bundle: a directory, or a .zip
  kJson,         ///< the snapshot's structure as JSON, gzip'd when the name ends in .gz
  kChromeTrace,  ///< Chrome Trace Event JSON (Perfetto UI, chrome://tracing)
  kPprof,        ///< gzip'd pprof profile (go tool pprof, Pyroscope, speedscope)
};
/// The format named `db`, `snapviewer`, `json`, `chrome-trace` or `pprof`.
std::optional<OutputFormat> OutputFormatFromName(std::string_view name);

struct ConvertOptions {
  OutputFormat to = OutputFormat::kDb;
  /// snapviewer: the device_traces index (default 0); chrome-trace and
  /// pprof: only this device (default all).
  std::optional<int64_t> device;
  /// pprof: keep the frames PyTorch's viewer hides.
  bool all_frames = false;
  /// chrome-trace: each allocation's call site in its counter event's args.
  bool with_stacks = false;
  /// snapviewer .zip: deflate level of the members, 0 = stored (fastest).
  int zip_level = 1;
  std::vector<std::string> inputs;
  /// One input: the output path (default: the input's name with the
  /// format's extension, next to it: .db, .zip, .json.gz, .trace.json).
  /// Several inputs: a directory, created if missing.
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
  /// What was written, for the one-line report (non-database formats).
  std::string detail;
  double seconds = 0;
};

/// Where one input's database goes (see ConvertOptions::output).
std::string DefaultDbPath(const std::string& input);
/// Where one input's output in `format` goes by default.
std::string DefaultOutputPath(const std::string& input, OutputFormat format);

/// Converts every input; a bad input fails alone. Returns a usage error
/// (nothing converted) when the options cannot work.
StatusOr<std::vector<ConvertResult>> RunConvert(const ConvertOptions& options);

/// Converts one snapshot into options.to at `output`, via temp files.
ConvertResult ConvertOne(const std::string& input, const std::string& output, const ConvertOptions& options);

}  // namespace memtk::commands
