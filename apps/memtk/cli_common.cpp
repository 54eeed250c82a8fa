#include "cli_common.h"

#include <unistd.h>

#include <fmt/core.h>

namespace memtk::cli {

int ExitCode(const Status& s) {
  if (s.ok()) return 0;
  return s.code() == StatusCode::kUsage ? 2 : 1;
}

int Fail(const std::string& cmd, const Status& s) {
  fmt::print(stderr, "memtk {}: {}\n", cmd, s.message());
  return ExitCode(s);
}

void PrintStatsWarnings(const std::string& cmd, const std::string& input, const Stats& stats) {
  for (size_t i = 0; i < static_cast<size_t>(Stat::kCount); ++i) {
    const StatInfo& info = GetStatInfo(static_cast<Stat>(i));
    uint64_t v = stats.Get(static_cast<Stat>(i));
    if (v == 0 || info.severity == Severity::kInfo) continue;
    fmt::print(stderr, "memtk {}: {}: {}: {} × {}: {}\n", cmd, input, SeverityName(info.severity), v, info.name,
               info.description);
  }
}

bool StderrIsTty() { return ::isatty(2) == 1; }

}  // namespace memtk::cli
