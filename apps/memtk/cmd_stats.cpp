// memtk stats: flags in, commands::RunStats, its text out.
#include "cmd_stats.h"

#include <fmt/core.h>

#include <cstdio>
#include <memory>

#include "cli_common.h"
#include "frame_flags.h"
#include "memtk/commands/multi_stats.h"
#include "memtk/commands/stats.h"

namespace memtk::cli {

namespace {

struct StatsFlags {
  commands::StatsOptions options;
  std::vector<std::string> inputs;
  int64_t device = -1;
  unsigned jobs = 1;
  std::string output;
  std::string format;
};

// Several inputs (or a directory): one table, commands::RunMultiStats.
int RunMulti(const StatsFlags& f) {
  if (!f.options.column.empty() || !f.options.log_path.empty() || f.options.top)
    return Fail("stats", UsageError("--column, --log and --top are for one input"));
  commands::MultiStatsOptions o;
  o.inputs = f.inputs;
  if (f.device >= 0) o.device = static_cast<uint32_t>(f.device);
  o.jobs = f.jobs;
  o.json = f.options.json;
  o.frames = f.options.frames;
  o.output = f.output;
  auto out = commands::RunMultiStats(o);
  if (!out.ok()) return Fail("stats", out.status());
  for (const auto& [input, stats] : out->warnings) PrintStatsWarnings("stats", input, stats);
  int code =
      out->output.empty() ? 0 : WriteReport("stats", f.output, "stats", commands::StatsExtension(o.json), out->output);
  // The table of the inputs that were read stands; each input that was not
  // is an error line, and the first sets the exit status.
  for (const Status& s : out->failed) {
    const int c = Fail("stats", s);
    if (code == 0) code = c;
  }
  return code;
}

int Run(StatsFlags f) {
  if (f.options.json && f.format == "text")
    return Fail("stats", UsageError("--json and --format text contradict each other"));
  if (f.format == "json") f.options.json = true;
  io::InstallInterruptCleanup();  // -o FILE: no temp file left behind
  if (commands::IsMultiStats(f.inputs)) return RunMulti(f);
  f.options.input = f.inputs.front();
  if (f.device >= 0) f.options.device = static_cast<uint32_t>(f.device);
  f.options.output = f.output;
  auto out = commands::RunStats(f.options);
  if (!out.ok()) return Fail("stats", out.status());
  PrintStatsWarnings("stats", f.options.input, out->problems);
  return WriteReport("stats", f.output, f.options.input, commands::StatsExtension(f.options.json), out->text);
}

}  // namespace

void RegisterStats(CLI::App& app) {
  auto flags = std::make_shared<StatsFlags>();
  CLI::App* sub = app.add_subcommand("stats", "Peak memory, who held it, allocation counts, segments and OOMs");
  sub->add_option("input", flags->inputs,
                  "Snapshot (pickle or JSON, gzip'd or not; '-' = stdin) or memtk database; several (or a directory) "
                  "give one table")
      ->required();
  sub->add_option("-j,--jobs", flags->jobs, "Several inputs: how many to read at once")->check(CLI::Range(1, 256));
  sub->add_option("--device", flags->device, "Only this CUDA device")->check(CLI::Range(0, 1 << 20));
  sub->add_option(
         "--top", flags->options.top,
         "How many entries every list shows (OOMs, call sites, stacks, allocations, snapshot events, annotations, "
         "segments); default 10")
      ->check(CLI::Range(0, 1000000));
  AddFrameFlags(sub, &flags->options.frames);
  sub->add_flag("--json", flags->options.json,
                "One JSON object (keys in docs/STATS_JSON.md, docs/MEMLOG.md); same as --format json");
  sub->add_option("--format", flags->format, "text (default) or json")->check(CLI::IsMember({"text", "json"}));
  sub->add_option("-o,--output", flags->output,
                  "Write the report to this file ('-' = stdout, the default; DIR/ = DIR/INPUT.stats.txt or .json, DIR "
                  "created with its parents); never one of the inputs");
  sub->add_option("--column", flags->options.column,
                  "memlog CSV: the column to analyse (default rss_bytes or used_bytes)");
  sub->add_option("--columns", flags->options.column)->group("");  // render-png's old spelling
  sub->add_option("--log", flags->options.log_path,
                  "memlog CSV: its log CSV (default OUT.log.csv beside it, if present)");
  sub->footer(std::string(R"(OOMs first, when there are any: device, event, time, requested bytes, free device
memory, the bytes live at that instant and the call sites holding them (`memtk
query IN --at-oom K` lists them). Events are named by their index in the device's
trace and their id: d1:421 (id 6866); `memtk query` takes either.

For each device: the peak of allocated memory exactly as PyTorch's memory viewer
(Active Memory Timeline) computes it - allocations in the trace, plus blocks freed
in the trace that were allocated before recording began, plus active blocks of
`segments` not allocated in the trace - with the event and time it happens; the
trace-only peak beside it; bytes live at the end; the call sites and stacks holding
the most bytes at the peak (stack ids: `memtk query IN --stack N`); the largest
allocations; a power-of-two size histogram; snapshot events and annotations;
segment totals, block states and fragmentation by stream, segment type and pool.
Every list shows at most --top entries, then "... N more". A pickle is streamed
(no database needed); memory stays flat.

For a memlog CSV (from `memtk memlog`): the peak and when, the start-up rise until the
first plateau, steady growth with its fit quality (R²) in MiB/s, MiB/min or MiB/hour
by the run's length (or why it is not reported: too few samples, too short, flat
within noise, poor fit), the final drop, the --top largest jumps (default 5) each
with the log lines written just before it, marks, and min/max/first/last of every
column (cpu_percent in %). Streamed: memory stays flat for any length.

Several inputs (or a directory): one table with a row per input and device - peak,
when, reserved, OOMs, top site - after the summary: the worst input and device, the
max/mean imbalance of the peaks, and whether every rank peaks at the same site.

)") + FrameFlagsHelp() +
              R"(

Examples:
  memtk stats snapshot.pickle
  memtk stats rank*.pickle -j 2                         # one table over the ranks
  memtk stats snapshot.pickle --device 1 --top 20
  memtk stats snapshot.pickle --user-code 'my_ext|/vendor/mylib/'   # these frames are yours too
  memtk stats snapshot.pickle --site innermost          # the innermost Python frame, as before
  memtk stats snapshot.db --json | jq '.devices[0].peak.bytes'
  memtk stats snapshot.pickle.gz --json > stats.json    # in CI, after every run
  memtk stats train.csv                                 # a memlog recording
  memtk stats train.csv --column pss_bytes --json | jq .steady
  memtk stats snapshot.pickle --json -o reports/        # writes reports/snapshot.stats.json

Exit status: 0 ok, 1 unreadable input or no data for --device, 2 usage error
(also a --user-code/--library regex that does not compile, or an -o that is an
input or a memlog CSV's log CSV).)");
  sub->callback([flags] { throw CLI::RuntimeError(Run(*flags)); });
}

}  // namespace memtk::cli
