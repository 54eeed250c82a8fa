// memtk memlog: flags in, memlog::Record (or AppendMark), the command's exit
// status out.
#include "cmd_memlog.h"

#include <fmt/core.h>

#include <cstdio>
#include <memory>

#include "cli_common.h"
#include "memtk/memlog/recorder.h"

namespace memtk::cli {

namespace {

struct MemlogFlags {
  std::string output;
  std::string log;
  std::vector<std::string> command;
  int64_t pid = 0;
  std::string interval = "100ms";
  std::string duration;
  bool children = false;
  bool no_children = false;
  bool detail = false;
  bool no_gpu = false;
  std::string mark;
  std::string into;
  bool quiet = false;
};

int Run(const MemlogFlags& f) {
  IgnoreSigpipe();
  if (!f.mark.empty() || !f.into.empty()) {
    if (f.into.empty()) return Fail("memlog", UsageError("--mark needs --into CSV (the recording to mark)"));
    if (!f.output.empty() || !f.command.empty() || f.pid != 0)
      return Fail("memlog", UsageError("--mark only appends a marker; it takes no -o, --pid or command"));
    return Fail("memlog", memlog::AppendMark(f.into, f.log, f.mark));
  }
  memlog::RecordOptions o;
  if (f.output.empty()) return Fail("memlog", UsageError("-o OUT.csv is required"));
  if (!f.command.empty() && f.pid != 0) return Fail("memlog", UsageError("give either --pid or a command, not both"));
  if (!memlog::ParseDuration(f.interval, &o.interval_ns) || o.interval_ns < 1'000'000)
    return Fail("memlog", UsageError(fmt::format("--interval {}: expected a duration of at least 1ms (10ms, 0.5s, 2m)",
                                                 f.interval)));
  if (!f.duration.empty()) {
    if (!memlog::ParseDuration(f.duration, &o.duration_ns) || o.duration_ns <= 0)
      return Fail("memlog", UsageError(fmt::format("--duration {}: expected a duration (30s, 10m, 2h)", f.duration)));
    if (!f.command.empty())
      return Fail("memlog", UsageError("--duration is for --pid and the machine; a command is watched until it exits"));
  }
  o.csv_path = f.output;
  o.log_path = f.log;
  o.command = f.command;
  o.pid = static_cast<pid_t>(f.pid);
  // Descendants count by default for a command, on request for --pid.
  o.children = f.command.empty() ? f.children : !f.no_children;
  o.detail = f.detail;
  o.gpu = !f.no_gpu;
  const bool quiet = f.quiet;
  auto result = memlog::Record(o, [quiet](std::string_view notice) {
    if (!quiet) fmt::print(stderr, "memtk memlog: {}\n", notice);
  });
  if (!result.ok()) return Fail("memlog", result.status());
  if (!result->spawn_error.empty()) {
    fmt::print(stderr, "memtk memlog: {}\n", result->spawn_error);
    return result->exit_status;
  }
  if (!result->write_error.ok())
    fmt::print(stderr, "memtk memlog: {} (recording stopped; the command ran on)\n", result->write_error.message());
  return result->exit_status;
}

}  // namespace

void RegisterMemlog(CLI::App& app) {
  auto flags = std::make_shared<MemlogFlags>();
  CLI::App* sub = app.add_subcommand("memlog", "Record memory over time to CSV, beside the program's own log lines");
  sub->add_option("-o,--output", flags->output, "CSV to write (rows appear as they are sampled)");
  sub->add_option("command", flags->command, "Command to launch and watch (after --)");
  sub->add_option("--pid", flags->pid, "Watch this running process (and its descendants)")
      ->check(CLI::Range(1, 1 << 30));
  sub->add_option("--interval", flags->interval, "Time between samples: 10ms, 0.5s, ... (at least 1ms)")
      ->capture_default_str();
  sub->add_option("--duration", flags->duration, "Stop after this long (--pid and machine only)");
  sub->add_flag("--children", flags->children, "With --pid: add its descendants (found afresh at each sample)");
  sub->add_flag("--no-children", flags->no_children, "With a command: only the command itself, not its children");
  sub->add_flag("--detail", flags->detail, "Add PSS, USS and anon/file/shmem columns (smaps_rollup; costs more)");
  sub->add_flag("--no-gpu", flags->no_gpu, "Do not load NVML for GPU columns");
  sub->add_option("--log", flags->log, "Log CSV of the command's output lines (default: OUT.log.csv)");
  sub->add_option("--mark", flags->mark, "Append a marker line to a recording (with --into)");
  sub->add_option("--into", flags->into, "The recording's CSV that --mark marks");
  sub->add_flag("-q,--quiet", flags->quiet, "No notices");
  sub->footer(R"(Targets: a command (launched, its stdin/stdout/stderr passed through unchanged; memtk
exits with its exit status, or 128+signal), --pid PID, or nothing: the whole machine.
A command's whole process tree is sampled (--no-children: the command alone), found
afresh at each sample, so short-lived children count; --pid samples that process alone
unless --children is given.

Columns (units in the names): time_utc (ISO 8601, ms), unix_s, elapsed_s (monotonic),
then for a process tree rss_bytes, hwm_bytes (VmHWM: spikes between samples),
swap_bytes, [pss_bytes uss_bytes pss_anon_bytes pss_file_bytes pss_shmem_bytes with
--detail], procs, [gpu_bytes], mem_available_bytes, [cgroup_bytes]; for the machine
used_bytes, mem_free_bytes, buff_cache_bytes, swap_used_bytes, [gpu_used_bytes],
mem_available_bytes, [cgroup_bytes]. Bracketed columns appear when their source
exists (NVML's libnvidia-ml.so.1, a readable cgroup). An unreadable value is empty.

A launched command's output lines go to OUT.log.csv (time_utc,unix_s,elapsed_s,
stream,line), so `memtk stats OUT.csv` can show what was logged before each jump.
PYTHONUNBUFFERED=1 is set for it (unless set) so Python's prints are not held back.
SIGINT/SIGTERM/SIGHUP sent to memtk are forwarded to the command; memtk stops when
it exits. For --pid and the machine they stop the recording (exit 0).

Examples:
  memtk memlog -o train.csv -- python3 train.py --epochs 3
  memtk memlog -o train.csv --interval 10ms --detail -- ./import.sh big.json
  memtk memlog --mark "epoch 2" --into train.csv        # from another shell
  memtk memlog -o server.csv --pid 4242 --children --duration 10m
  memtk memlog -o machine.csv --interval 1s             # the machine, until Ctrl-C
  memtk stats train.csv

Exit status: the command's; 126/127 if it cannot be run; otherwise 0 ok, 1 error,
2 usage error.)");
  sub->callback([flags] { throw CLI::RuntimeError(Run(*flags)); });
}

}  // namespace memtk::cli
