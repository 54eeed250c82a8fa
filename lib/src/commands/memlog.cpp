// `memtk memlog`: flags checked, then a recording or a mark.
#include "memtk/commands/memlog.h"

#include <fmt/core.h>

#include "memtk/commands/render.h"
#include "memtk/io/output_file.h"

namespace memtk::commands {

StatusOr<MemlogOutcome> RunMemlog(const MemlogOptions& f, const memlog::NoticeFn& notice) {
  if (!f.mark.empty() || !f.into.empty()) {
    if (f.into.empty()) return UsageError("--mark needs --into CSV (the recording to mark)");
    if (!f.output.empty() || !f.command.empty() || f.pid != 0 || f.machine || !f.plot.empty())
      return UsageError("--mark only appends a marker; it takes no -o, --pid, --machine, --plot or command");
    if (!f.log.empty() && io::SameFile(f.log, f.into)) return UsageError("--log and --into name the same file");
    RETURN_IF_ERROR(memlog::AppendMark(f.into, f.log, f.mark));
    return MemlogOutcome{};
  }
  memlog::RecordOptions o;
  if (f.output.empty()) return UsageError("-o OUT.csv is required");
  // The CSV is a file by design: rows are appended as they are sampled,
  // --mark and --plot read it back, and on stdout it would interleave with
  // the command's own output.
  if (f.output == "-")
    return UsageError("-o - (stdout) is not supported: the recording is a file that --mark, --plot and `memtk "
                      "stats` read back; give a file name (then `tail -f OUT.csv` to watch it)");
  if (io::NamesDirectory(f.output)) return UsageError(fmt::format("-o {}: is a directory; give a CSV file name", f.output));
  if (!f.command.empty() && f.pid != 0) return UsageError("give either --pid or a command, not both");
  if (f.machine && (!f.command.empty() || f.pid != 0))
    return UsageError("--machine records the whole machine; it takes no --pid or command");
  if (f.command.empty() && f.pid == 0 && !f.machine)
    return UsageError(
        "nothing to record: give a command (memtk memlog -o OUT.csv -- CMD ...), --pid PID, or --machine for the "
        "whole machine");
  // Three files, each written as it goes (samples, log lines) or at the end
  // (the picture): sharing one would mix them into a corrupt CSV or replace
  // the recording. Compared as files, so "./run.csv" and links count.
  const std::string log = f.log.empty() ? memlog::DefaultLogPath(f.output) : f.log;
  const std::string log_flag = f.log.empty() ? fmt::format("the log CSV {}", log) : "--log";
  if (!f.plot.empty() && io::SameFile(f.plot, f.output)) return UsageError("--plot and -o name the same file");
  if (io::SameFile(log, f.output)) return UsageError(fmt::format("{} and -o name the same file", log_flag));
  if (!f.plot.empty() && io::SameFile(log, f.plot))
    return UsageError(fmt::format("{} and --plot name the same file", log_flag));
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
  MemlogOutcome out;
  ASSIGN_OR_RETURN(out.record, memlog::Record(o, notice));
  if (!f.plot.empty() && out.record.spawn_error.empty() && out.record.samples > 0) {
    RenderOptions ro;
    ro.input = f.output;
    ro.output = f.plot;
    ro.width = f.plot_width;
    ro.height = f.plot_height;
    ro.columns = f.plot_columns;
    ro.log_path = f.log;
    RenderSummary summary;
    out.plot_error = RenderPng(ro, &summary);
    out.plot_samples = summary.steps;
    out.plot_peak = summary.peak_label;
  }
  return out;
}

}  // namespace memtk::commands
