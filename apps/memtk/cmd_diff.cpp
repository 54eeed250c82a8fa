// memtk diff: flags in, commands::RunDiff, report out, exit 0/3 (1/2 on errors).
#include "cmd_diff.h"

#include <fmt/core.h>

#include <memory>

#include "cli_common.h"
#include "frame_flags.h"
#include "memtk/commands/diff.h"

namespace memtk::cli {

namespace {

struct DiffFlags {
  commands::DiffOptions options;
  int64_t device = -1;
  bool json = false;
  std::string format = "text";
  std::string output;
};

int Run(DiffFlags& f) {
  io::InstallInterruptCleanup();  // -o FILE: no temp file left behind
  commands::DiffOptions& o = f.options;
  if (f.device >= 0) o.device = static_cast<uint32_t>(f.device);
  if (f.json && f.format != "text" && f.format != "json")
    return Fail("diff", UsageError("--json and --format " + f.format + " contradict each other"));
  o.format = f.json || f.format == "json" ? commands::DiffFormat::kJson
             : f.format == "markdown"     ? commands::DiffFormat::kMarkdown
                                          : commands::DiffFormat::kText;
  o.output = f.output;
  auto outcome = commands::RunDiff(o);
  if (!outcome.ok()) return Fail("diff", outcome.status());
  for (const auto& [input, stats] : outcome->warnings) PrintStatsWarnings("diff", input, stats);
  if (int rc = WriteReport("diff", f.output, o.next, commands::DiffExtension(o.format), outcome->output); rc != 0)
    return rc;
  for (const std::string& line : outcome->gate_failures) fmt::print(stderr, "memtk diff: gate: {}\n", EscapeControl(line));
  return outcome->gate_failed ? 3 : 0;
}

}  // namespace

void RegisterDiff(CLI::App& app) {
  auto flags = std::make_shared<DiffFlags>();
  CLI::App* sub =
      app.add_subcommand("diff", "Compare two runs: what grew, where, on which device; a memory gate for CI");
  sub->add_option("base", flags->options.base,
                  "BASE: snapshot, memtk database, memlog CSV, or a directory of them (per-rank files)")
      ->required();
  sub->add_option("new", flags->options.next, "NEW: the same kind as BASE")->required();
  sub->add_option("--fail-on", flags->options.fail_on,
                  "Exit 3 if METRIC grew by more than LIMIT on any device: 'peak>5%', 'peak>256MiB', 'oom>0' "
                  "(repeatable)")
      ->allow_extra_args(false);
  sub->add_option("--device", flags->device, "Only this CUDA device")->check(CLI::Range(0, 1 << 20));
  sub->add_option("--top", flags->options.top, "Call sites listed per kind of change, and new allocations")
      ->check(CLI::Range(0, 1000000));
  sub->add_flag("--json", flags->json, "One JSON object (keys in docs/DIFF_JSON.md); same as --format json");
  sub->add_option("--format", flags->format, "text, json or markdown (for pull-request comments)")
      ->check(CLI::IsMember({"text", "json", "markdown"}));
  sub->add_option("--column", flags->options.column, "memlog CSVs: the column to compare (default as stats)");
  sub->add_option("--columns", flags->options.column)->group("");  // render-png's old spelling
  sub->add_option("-o,--output", flags->output,
                  "Write the report to this file ('-' = stdout, the default; DIR/ = DIR/NEW.diff.txt, .json or "
                  ".md, DIR created with its parents); never one of the files compared");
  AddFrameFlags(sub, &flags->options.frames);
  sub->footer(R"(Snapshots (pickle, JSON, gzip'd, or memtk databases, mixed freely), per device:
the peak as `stats` computes it with its time, reserved and allocated bytes of the
segments, fragmentation (reserved - allocated), allocations and allocated bytes in
the trace, OOMs - each as base, new, change and %; then the call sites at the peak
(by `stats`' site rule) ranked by change: grown, shrunk, new, gone; then the largest
allocations whose (site, size) never occurs in BASE. A device on one side only is
compared against zeros.
memlog CSVs: peak, start-up rise, steady growth per hour, final value and duration.
Two directories: files paired by name (rank0.pickle with rank0.pickle), unpaired
files listed. Both inputs are read once, side by side on two threads.

Gate metrics: peak reserved allocated fragmentation allocs alloc_bytes oom (snapshots),
peak startup growth final duration (memlog). A limit is a percentage of BASE or an
amount (bytes: B KiB MiB GiB TiB kB MB GB TB; counts: a number; duration: ms s min h).
A gate fails when the change is above the limit; the limit itself passes. Growth
from zero is above any percentage.

Examples:
  memtk diff main.pickle pr.pickle
  memtk diff main.pickle pr.pickle --fail-on 'peak>5%' --fail-on 'oom>0'
  memtk diff runs/main/ runs/pr/ --format markdown >> "$GITHUB_STEP_SUMMARY"
  memtk diff base.db new.db --json | jq '.pairs[0].devices[0].metrics.peak'
  memtk diff main.csv pr.csv --fail-on 'peak>256MiB'       # memlog recordings

Exit status: 0 ok, 3 a --fail-on limit was passed, 1 unreadable input or inputs
of different kinds, 2 usage error (also an -o that is one of the files compared).)");
  sub->callback([flags] { throw CLI::RuntimeError(Run(*flags)); });
}

}  // namespace memtk::cli
