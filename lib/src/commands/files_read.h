// What a command reads, so that its output can be checked against it before
// anything is read (io::CheckNotAnInput): the inputs, and with a memlog CSV
// its log CSV, which `stats`, `diff` and `render-png` read beside it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "memtk/base/status.h"
#include "memtk/io/output_file.h"
#include "memtk/memlog/report.h"

namespace memtk::commands {

/// Appends `input` to `*reads`, and for a memlog CSV the log CSV read with
/// it (`log_path`, or NAME.log.csv beside it if present).
inline void AddFilesRead(const std::string& input, const std::string& log_path, std::vector<std::string>* reads) {
  reads->push_back(input);
  if (input == "-" || !memlog::IsMemlogCsv(input)) return;
  std::string log = memlog::LogPathToRead(input, log_path);
  if (!log.empty()) reads->push_back(std::move(log));
}

/// For a command whose report goes to stdout unless -o says otherwise: the
/// file `output` names for `input` (io::OutputPathFor) must not be one of
/// `reads`. "" and "-" (stdout) pass.
inline Status CheckReportOutput(const std::string& output, const std::string& input, std::string_view ext,
                                const std::vector<std::string>& reads) {
  if (output.empty() || output == "-") return OkStatus();
  return io::CheckNotAnInput(io::OutputPathFor(input, output, ext), reads);
}

}  // namespace memtk::commands
