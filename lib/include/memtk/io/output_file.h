// Where a command's output goes, one rule for every subcommand (issue #17):
//   -o FILE   that file, written through a temp file renamed into place
//             (nothing half-written is ever left under FILE's name); a
//             symbolic link's file is written (the link stays), a device,
//             FIFO or socket in place (io/atomic_output.h);
//   -o -      standard output;
//   -o DIR/   (trailing slash, or an existing directory) DIR/<input stem><ext>,
//             DIR and its missing parents created (and removed again if
//             nothing lands in them);
//   no -o     the command's default: stdout for reports, or beside the input
//             (<input dir>/<input stem><ext>) for files such as PNGs.
// Whatever the form, an output is never one of the files the run reads, and
// two inputs never share one output: both are usage errors found before
// anything is read (CheckNotAnInput, PlanOutputs).
//
// Example:
//   ASSIGN_OR_RETURN(OutputFile out, OutputFile::Open("reports/", "run1.pickle", ".stats.txt"));
//   RETURN_IF_ERROR(out.Write(text));   // reports/run1.stats.txt
//   RETURN_IF_ERROR(out.Commit());
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "memtk/base/status.h"

namespace memtk::io {

/// The input's base name without its directory and its known extensions
/// (.gz .pickle .pkl .pt .json .csv .db); "-" gives "stdin".
std::string OutputStem(const std::string& input);

/// True if `output` names a directory: it ends in '/' or is an existing one.
bool NamesDirectory(const std::string& output);

/// The file `output` means for `input`: "" = beside the input, a directory =
/// inside it, both as <stem><ext>; anything else (a file, "-") as given.
std::string OutputPathFor(const std::string& input, const std::string& output, std::string_view ext);

/// True if `a` and `b` are one file: the same device and inode when both
/// exist (so a hard link, or a symbolic link, to a file is that file); when
/// neither exists yet, the same path once made absolute, with the links of
/// its existing part resolved ("./x" and "x"). "-" is standard input.
bool SameFile(const std::string& a, const std::string& b);

/// The checks that keep a run's outputs apart from each other and from what
/// it reads, made before anything is read or written, as UsageErrors:
///   "two inputs would both be written to <path>"  two `outputs` are SameFile;
///   "<path>: the output would overwrite the input"  an output is SameFile as
///     one of `reads` (the inputs and the files read with them, such as a
///     memlog CSV's log CSV).
/// Outputs "" and "-" (standard output) pass.
Status CheckOutputs(const std::vector<std::string>& outputs, const std::vector<std::string>& reads);

/// CheckOutputs for one output.
Status CheckNotAnInput(const std::string& output, const std::vector<std::string>& reads);

/// The -o rule for a run that writes one file per input: each input's
/// OutputPathFor(input, output, ext), in order, refused by CheckOutputs.
///
/// Example (render-png a/run.pickle b/run.pickle -o pngs/):
///   ASSIGN_OR_RETURN(auto paths, PlanOutputs("pngs/", inputs, ".png", inputs));
///   // UsageError: two inputs would both be written to pngs/run.png
StatusOr<std::vector<std::string>> PlanOutputs(const std::string& output, const std::vector<std::string>& inputs,
                                               std::string_view ext, const std::vector<std::string>& reads);

class OutputFile {
 public:
  /// Opens OutputPathFor(input, output, ext), creating a named directory
  /// (and its missing parents) first. "-" writes to stdout as Write is
  /// called. A path that is one of `reads` is refused first
  /// (CheckNotAnInput): a command that opens its output before reading
  /// passes its inputs here; one that writes after reading checks them up
  /// front itself.
  static StatusOr<OutputFile> Open(const std::string& output, const std::string& input, std::string_view ext,
                                   const std::vector<std::string>& reads = {});
  OutputFile(OutputFile&&) noexcept;
  OutputFile& operator=(OutputFile&&) = delete;
  /// An uncommitted file (and a directory made for it) is removed.
  ~OutputFile();

  /// The resolved path ("-" for stdout).
  const std::string& path() const;
  bool is_stdout() const;
  /// Appends `data`. On stdout a reader that went away gives
  /// store::ClosedPipe() (SIGPIPE must be ignored).
  Status Write(std::string_view data);
  /// Renames the temp file into place (flushes stdout).
  Status Commit();

 private:
  struct Impl;
  explicit OutputFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Open + Write + Commit of a whole output.
Status WriteOutputFile(const std::string& output, const std::string& input, std::string_view ext,
                       std::string_view data);

}  // namespace memtk::io
