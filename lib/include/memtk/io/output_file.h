// Where a command's output goes, one rule for every subcommand (issue #17):
//   -o FILE   that file, written through a temp file renamed into place
//             (nothing half-written is ever left under FILE's name);
//   -o -      standard output;
//   -o DIR/   (trailing slash, or an existing directory) DIR/<input stem><ext>,
//             DIR created if missing (and removed again if nothing lands in it);
//   no -o     the command's default: stdout for reports, or beside the input
//             (<input dir>/<input stem><ext>) for files such as PNGs.
//
// Example:
//   ASSIGN_OR_RETURN(OutputFile out, OutputFile::Open("reports/", "run1.pickle", ".stats.txt"));
//   RETURN_IF_ERROR(out.Write(text));   // reports/run1.stats.txt
//   RETURN_IF_ERROR(out.Commit());
#pragma once

#include <memory>
#include <string>
#include <string_view>

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

class OutputFile {
 public:
  /// Opens OutputPathFor(input, output, ext), creating a named directory
  /// first. "-" writes to stdout as Write is called.
  static StatusOr<OutputFile> Open(const std::string& output, const std::string& input, std::string_view ext);
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
