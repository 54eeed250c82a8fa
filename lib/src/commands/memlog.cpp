// `memtk memlog`: flags checked, then a recording or a mark.
#include "memtk/commands/memlog.h"

#include <fmt/core.h>

namespace memtk::commands {

StatusOr<memlog::RecordResult> RunMemlog(const MemlogOptions& f, const memlog::NoticeFn& notice) {
  if (!f.mark.empty() || !f.into.empty()) {
    if (f.into.empty()) return UsageError("--mark needs --into CSV (the recording to mark)");
    if (!f.output.empty() || !f.command.empty() || f.pid != 0)
      return UsageError("--mark only appends a marker; it takes no -o, --pid or command");
    RETURN_IF_ERROR(memlog::AppendMark(f.into, f.log, f.mark));
    return memlog::RecordResult{};
  }
  memlog::RecordOptions o;
  if (f.output.empty()) return UsageError("-o OUT.csv is required");
  if (!f.command.empty() && f.pid != 0) return UsageError("give either --pid or a command, not both");
  if (!memlog::ParseDuration(f.interval, &o.interval_ns) || o.interval_ns < 1'000'000)
    return UsageError(fmt::format("--interval {}: expected a duration of at least 1ms (10ms, 0.5s, 2m)", f.interval));
  if (!f.duration.empty()) {
    if (!memlog::ParseDuration(f.duration, &o.duration_ns) || o.duration_ns <= 0)
      return UsageError(fmt::format("--duration {}: expected a duration (30s, 10m, 2h)", f.duration));
    if (!f.command.empty())
      return UsageError("--duration is for --pid and the machine; a command is watched until it exits");
  }
  o.csv_path = f.output;
  o.log_path = f.log;
  o.command = f.command;
  o.pid = static_cast<pid_t>(f.pid);
  // Descendants count by default for a command, on request for --pid.
  o.children = f.command.empty() ? f.children : !f.no_children;
  o.detail = f.detail;
  o.gpu = !f.no_gpu;
  return memlog::Record(o, notice);
}

}  // namespace memtk::commands
