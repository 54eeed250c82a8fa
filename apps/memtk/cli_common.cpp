#include "cli_common.h"

#include <fmt/core.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "memtk/base/escape.h"
#include "memtk/io/output_file.h"
#include "memtk/io/output_stream.h"

namespace memtk::cli {

int ExitCode(const Status& s) {
  if (s.ok() || io::IsClosedPipe(s)) return 0;
  return s.code() == StatusCode::kUsage ? 2 : 1;
}

int Fail(const std::string& cmd, const Status& s) {
  // The reader of stdout went away (`| head`): it has what it wanted.
  if (io::IsClosedPipe(s)) return 0;
  fmt::print(stderr, "memtk {}: {}\n", cmd, EscapeControl(s.message()));
  // Every usage error ends as CLI11's own do (cli_errors.cpp), once per run
  // even when several inputs fail alike.
  static std::atomic<bool> hinted{false};
  if (s.code() == StatusCode::kUsage && !hinted.exchange(true))
    fmt::print(stderr, "Run 'memtk {} --help' for usage.\n", cmd);
  return ExitCode(s);
}

void PrintStatsWarnings(const std::string& cmd, const std::string& input, const Stats& stats) {
  for (size_t i = 0; i < static_cast<size_t>(Stat::kCount); ++i) {
    const StatInfo& info = GetStatInfo(static_cast<Stat>(i));
    uint64_t v = stats.Get(static_cast<Stat>(i));
    if (v == 0 || info.severity == Severity::kInfo) continue;
    fmt::print(stderr, "memtk {}: {}: {}: {} × {}: {}\n", cmd, EscapeControl(input), SeverityName(info.severity), v,
               info.name, info.description);
  }
}

Status WriteToStdout(std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) == text.size() && std::fflush(stdout) == 0) return OkStatus();
  if (errno == EPIPE) return io::ClosedPipe();
  return IoError(fmt::format("writing output: {}", std::strerror(errno)));
}

int WriteStdout(const std::string& cmd, std::string_view text) {
  IgnoreSigpipe();
  Status s = WriteToStdout(text);
  return s.ok() ? 0 : Fail(cmd, s);
}

int WriteReport(const std::string& cmd, const std::string& output, const std::string& input, std::string_view ext,
                std::string_view text) {
  if (output.empty() || output == "-") return WriteStdout(cmd, text);
  Status s = io::WriteOutputFile(output, input, ext, text);
  return s.ok() ? 0 : Fail(cmd, s);
}

void IgnoreSigpipe() { ::signal(SIGPIPE, SIG_IGN); }

bool StderrIsTty() { return ::isatty(2) == 1; }

}  // namespace memtk::cli
