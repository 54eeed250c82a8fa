// Shared CLI helpers: Status -> exit code, the one-line error format, and a
// progress line for terminals.
#pragma once

#include <string>
#include <string_view>

#include "memtk/base/escape.h"
#include "memtk/base/stats.h"
#include "memtk/base/status.h"
#include "memtk/io/cleanup.h"

namespace memtk::cli {

/// Exit codes: 0 success (a closed stdout pipe, io::ClosedPipe, included),
/// 1 input/processing error, 2 usage error.
int ExitCode(const Status& s);
/// Prints "memtk <cmd>: <message>" to stderr and returns the exit code
/// (nothing, 0, for a closed stdout pipe: `memtk ... | head` ends quietly); a
/// usage error (exit 2) adds "Run 'memtk <cmd> --help' for usage." (once
/// per run), as the errors CLI11 finds in argv do.
int Fail(const std::string& cmd, const Status& s);
/// Prints warning/error counters of `stats` to stderr, one line each.
void PrintStatsWarnings(const std::string& cmd, const std::string& input, const Stats& stats);
/// Writes `text` to stdout and flushes: io::ClosedPipe() when the reader
/// went away (`| head`; needs IgnoreSigpipe()), an IoError on other failures.
Status WriteToStdout(std::string_view text);
/// WriteToStdout for a whole output: a closed pipe is not an error (returns
/// 0 quietly); any other write error is reported (exit 1).
int WriteStdout(const std::string& cmd, std::string_view text);
/// A whole report to `output` (-o): "" or "-" = stdout as WriteStdout, a
/// file or directory as io::OutputFile (`input` and `ext` name the file in
/// a directory). Returns the exit code.
int WriteReport(const std::string& cmd, const std::string& output, const std::string& input, std::string_view ext,
                std::string_view text);
/// Makes a closed stdout pipe show up as EPIPE instead of killing the process.
/// Every command that writes to stdout calls it first (not main(): memlog's
/// command would inherit SIG_IGN across exec).
void IgnoreSigpipe();
/// True if stderr is a terminal (progress lines make sense).
bool StderrIsTty();

}  // namespace memtk::cli
