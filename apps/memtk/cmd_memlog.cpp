// memtk memlog: flags in, commands::RunMemlog, the command's exit status out.
#include "cmd_memlog.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "cli_common.h"
#include "memtk/base/escape.h"
#include "memtk/commands/memlog.h"
#include "memtk/io/output_file.h"

namespace memtk::cli {

namespace {

struct MemlogFlags {
  commands::MemlogOptions options;
  bool quiet = false;
  std::string columns;
};

int Run(MemlogFlags& f) {
  IgnoreSigpipe();
  for (size_t start = 0; start < f.columns.size();) {
    size_t comma = std::min(f.columns.find(',', start), f.columns.size());
    if (comma > start) f.options.plot_columns.push_back(f.columns.substr(start, comma - start));
    start = comma + 1;
  }
  if (f.options.plot.empty() && (!f.columns.empty() || f.options.plot_width != 1600 || f.options.plot_height != 900))
    return Fail("memlog", UsageError("--column, --width and --height are for --plot"));
  const bool quiet = f.quiet;
  auto outcome = commands::RunMemlog(f.options, [quiet](std::string_view notice) {
    if (!quiet) fmt::print(stderr, "memtk memlog: {}\n", EscapeControl(notice));
  });
  if (!outcome.ok()) return Fail("memlog", outcome.status());
  const memlog::RecordResult* result = &outcome->record;
  if (!f.options.plot.empty() && !outcome->plot_error.ok()) {
    // The recording is complete; only the picture failed.
    fmt::print(stderr, "memtk memlog: --plot: {}\n", EscapeControl(outcome->plot_error.message()));
  } else if (!f.options.plot.empty() && !quiet && result->samples > 0) {
    // The PNG's own path: --plot DIR/ draws DIR/<recording's stem>.png.
    fmt::print(stderr, "memtk memlog: {}: {} sample{}, peak {}\n",
               EscapeControl(io::OutputPathFor(f.options.output, f.options.plot, ".png")), outcome->plot_samples,
               outcome->plot_samples == 1 ? "" : "s", outcome->plot_peak);
  }
  const bool plot_failed = !f.options.plot.empty() && !outcome->plot_error.ok();
  if (!result->spawn_error.empty()) {
    fmt::print(stderr, "memtk memlog: {}\n", EscapeControl(result->spawn_error));
    return result->exit_status;
  }
  if (!result->outlived.empty()) {
    std::string list;
    for (size_t i = 0; i < result->outlived.size() && i < 5; ++i) list += (i ? ", " : "") + result->outlived[i];
    if (result->outlived.size() > 5) list += fmt::format(", ... ({} more)", result->outlived.size() - 5);
    fmt::print(stderr,
               "memtk memlog: warning: {} processes started by the command outlived it and were not recorded after it "
               "exited: {}\n",
               result->outlived.size(), EscapeControl(list));
  }
  if (!result->write_error.ok()) {
    // After the command's end: the recording is incomplete, say so in the
    // exit status too (the command's own failure wins).
    fmt::print(stderr, "memtk memlog: error: {} (recording stopped; the command ran on)\n",
               EscapeControl(result->write_error.message()));
    return result->exit_status != 0 ? result->exit_status : 1;
  }
  return result->exit_status != 0 ? result->exit_status : plot_failed ? 1 : 0;
}

}  // namespace

void RegisterMemlog(CLI::App& app) {
  auto flags = std::make_shared<MemlogFlags>();
  CLI::App* sub = app.add_subcommand("memlog", "Record memory over time to CSV, beside the program's own log lines");
  sub->add_option("-o,--output", flags->options.output,
                  "CSV to write (rows appear as they are sampled; a file, not '-')");
  sub->add_option("command", flags->options.command, "Command to launch and watch (after --)");
  sub->add_option("--pid", flags->options.pid, "Watch this running process (and its descendants)")
      ->check(CLI::Range(1, 1 << 30));
  sub->add_flag("--machine", flags->options.machine, "Record the whole machine (no command, no --pid)");
  sub->add_option("--interval", flags->options.interval, "Time between samples: 10ms, 0.5s, ... (at least 1ms)")
      ->capture_default_str();
  sub->add_option("--duration", flags->options.duration, "Stop after this long (--pid and machine only)");
  sub->add_flag("--children", flags->options.children, "With --pid: add its descendants (found afresh at each sample)");
  sub->add_flag("--no-children", flags->options.no_children,
                "With a command: only the command itself, not its children");
  sub->add_flag("--detail", flags->options.detail,
                "Add PSS, USS and anon/file/shmem columns (smaps_rollup; costs more)");
  sub->add_flag("--no-gpu", flags->options.no_gpu, "Do not load NVML for GPU columns");
  sub->add_option("--log", flags->options.log,
                  "Log CSV of the command's output lines (default: OUT.log.csv; not -o's or --plot's file)");
  sub->add_option("--mark", flags->options.mark, "Append a marker line to a recording (with --into)");
  sub->add_option("--into", flags->options.into, "The recording's CSV that --mark marks");
  sub->add_option("--plot", flags->options.plot,
                  "After recording, draw the CSV into this PNG (as memtk render-png OUT.csv -o PNG)");
  sub->add_option("--width", flags->options.plot_width, "--plot: image width in pixels")->check(CLI::Range(200, 16384));
  sub->add_option("--height", flags->options.plot_height, "--plot: image height in pixels")
      ->check(CLI::Range(150, 16384));
  sub->add_option("--column", flags->columns,
                  "--plot: columns to draw, comma-separated (default rss_bytes or used_bytes; e.g. "
                  "rss_bytes,cpu_percent)");
  sub->add_option("--columns", flags->columns)->group("");  // render-png's old spelling
  sub->add_flag("-q,--quiet", flags->quiet, "No notices");
  sub->footer(R"(Targets: a command (launched, its stdin/stdout/stderr passed through unchanged; memtk
exits with its exit status, or 128+signal), --pid PID, or --machine: the whole machine.
A command's whole process tree is sampled (--no-children: the command alone), found
afresh at each sample, so short-lived children count; --pid samples that process alone
unless --children is given.

Columns (units in the names): time_utc (ISO 8601, ms), unix_s, elapsed_s (monotonic),
then for a process tree rss_bytes, hwm_bytes (VmHWM: spikes between samples),
swap_bytes, [pss_bytes uss_bytes pss_anon_bytes pss_file_bytes pss_shmem_bytes with
--detail], procs, [gpu_bytes], cpu_percent, mem_available_bytes, [cgroup_bytes]; for
the machine used_bytes, mem_free_bytes, buff_cache_bytes, swap_used_bytes,
[gpu_used_bytes], cpu_percent, mem_available_bytes, [cgroup_bytes]. Bracketed columns
appear when their source exists (NVML's libnvidia-ml.so.1, a readable cgroup). An
unreadable value is empty. cpu_percent is CPU time in % of one core (200 = two cores),
summed over the tree, as psrecord and prmon report it, averaged over at least 100 ms
(empty until then). After the command exits, a tree with no process left is not
written as a row.

--plot PNG draws the CSV when recording ends, as `memtk render-png OUT.csv -o PNG`
would, with --width, --height and --column (comma-separated). -o must be a file
(not '-'): --mark, --plot and `memtk stats` read it back.

A launched command's output lines go to OUT.log.csv (time_utc,unix_s,elapsed_s,
stream,line), so `memtk stats OUT.csv` can show what was logged before each jump.
PYTHONUNBUFFERED=1 is set for it (unless set) so Python's prints are not held back.
SIGINT/SIGTERM/SIGHUP sent to memtk are forwarded to the command; memtk stops when
it exits. For --pid and the machine they stop the recording (exit 0). If memtk
itself is killed, the command gets SIGTERM (its output has no reader any more).
Processes the command started that outlive it are named in a warning.

Examples:
  memtk memlog -o train.csv -- python3 train.py --epochs 3
  memtk memlog -o train.csv --plot train.png --column rss_bytes,cpu_percent -- python3 train.py
  memtk memlog -o train.csv --interval 10ms --detail -- ./import.sh big.json
  memtk memlog --mark "epoch 2" --into train.csv        # from another shell
  memtk memlog -o server.csv --pid 4242 --children --duration 10m
  memtk memlog -o machine.csv --machine --interval 1s   # the machine, until Ctrl-C
  memtk stats train.csv

Exit status: the command's; 126/127 if it cannot be run; 1 if it succeeded but the
recording could not be written to the end (a full disk: said after it exits);
otherwise 0 ok, 1 error, 2 usage error.)");
  sub->callback([flags] { throw CLI::RuntimeError(Run(*flags)); });
}

}  // namespace memtk::cli
