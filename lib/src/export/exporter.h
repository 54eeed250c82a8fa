// Exporter: one `convert --to` format as sinks for its passes over the input
// plus a finishing step. The convert frame (commands/convert.cpp) does the
// rest once for every format: the temp file and its rename (AtomicOutput),
// the --strict check, progress, the summary of what was read.
//
//   frame:   AtomicOutput out(target) ─► MakeExporter(format, out.temp_path())
//            for each pass: ReadSnapshot(input, exporter->Pass(i))
//            CheckStrict(read) ─► exporter->Finish() ─► out.Commit()
//
// An exporter writes only into the path it was given ("-": stdout), and
// nothing it writes is visible before the frame commits; a failed or
// interrupted run leaves nothing. The one exception is a SnapViewer bundle
// written as a directory: a directory cannot be renamed over an existing
// one, so each member file is written and renamed on its own inside it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "memtk/base/stats.h"
#include "memtk/base/status.h"
#include "memtk/snapshot/snapshot.h"

namespace memtk::exports {

enum class Format { kDb, kSnapViewer, kJson, kChromeTrace, kPprof };

struct ExportOptions {
  /// snapviewer: the device_traces index (default 0); chrome-trace: only
  /// this device (default all).
  std::optional<int64_t> device;
  /// chrome-trace: each allocation's call site in its counter event's args.
  bool with_stacks = false;
  /// snapviewer .zip: deflate level of the members, 0 = stored.
  int zip_level = 1;
  /// pprof: keep the frames PyTorch's viewer hides (--all-frames).
  bool all_frames = false;
};

/// What an export wrote, for convert's one-line report.
struct ExportReport {
  std::string detail;        ///< e.g. "12 MiB of JSON, 1 MiB gzip'd"; empty for a database
  uint64_t allocations = 0;  ///< database: rows of `allocations`
};

class Exporter {
 public:
  virtual ~Exporter() = default;
  /// How many times the input is read (chrome-trace: twice, for absolute
  /// counters from the first event on).
  virtual int passes() const { return 1; }
  /// The sink of pass `pass` (0-based), asked for after the previous pass
  /// ended. Its OnEnd may fail (a device without events) but writes nothing
  /// visible.
  virtual StatusOr<snapshot::SnapshotSink*> Pass(int pass) = 0;
  /// After every pass and the frame's checks: writes what remains into the
  /// output path and closes it. The frame renames it into place after.
  virtual Status Finish(ExportReport* report) = 0;
  /// What the last pass read (its OnEnd's summary).
  virtual const snapshot::ReadSummary& read() const = 0;
  /// The data problems to report and check with --strict, when the exporter
  /// counts more than the reader did (the database's peak tracker); nullopt:
  /// the reader's.
  virtual std::optional<Stats> problems() const { return std::nullopt; }
};

/// An exporter of `input` writing `format` to `write_path` (a temp file the
/// frame renames, a directory for a SnapViewer bundle, or "-" for stdout);
/// `target` is the name messages and the output use. Usage errors for what
/// the format cannot do (chrome-trace from stdin).
StatusOr<std::unique_ptr<Exporter>> MakeExporter(Format format, const std::string& input, const std::string& write_path,
                                                 const std::string& target, const ExportOptions& options);

// The formats (export/*.cpp).
std::unique_ptr<Exporter> MakeDbExporter(const std::string& input, const std::string& write_path,
                                         const std::string& target);
std::unique_ptr<Exporter> MakeSnapshotJsonExporter(const std::string& input, const std::string& write_path,
                                                   const std::string& target);
std::unique_ptr<Exporter> MakeChromeTraceExporter(const std::string& input, const std::string& write_path,
                                                  const std::string& target, const ExportOptions& options);
StatusOr<std::unique_ptr<Exporter>> MakePprofExporter(const std::string& input, const std::string& write_path,
                                                      const std::string& target, const ExportOptions& options);
std::unique_ptr<Exporter> MakeSnapViewerExporter(const std::string& input, const std::string& write_path,
                                                 const std::string& target, const ExportOptions& options);

}  // namespace memtk::exports
