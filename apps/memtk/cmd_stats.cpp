// memtk stats: flags in, commands::BuildSnapshotReport, text or JSON out.
#include "cmd_stats.h"

#include <fmt/core.h>

#include <cstdio>
#include <memory>

#include "cli_common.h"
#include "memtk/commands/stats.h"

namespace memtk::cli {

namespace {

struct StatsFlags {
  std::string input;
  int64_t device = -1;
  size_t top = 10;
  bool json = false;
};

int Run(const StatsFlags& f) {
  commands::StatsOptions o;
  if (f.device >= 0) o.device = static_cast<uint32_t>(f.device);
  o.top = f.top;
  auto report = commands::BuildSnapshotReport(f.input, o);
  if (!report.ok()) return Fail("stats", report.status());
  PrintStatsWarnings("stats", f.input, report->stats);
  std::string text = f.json ? commands::SnapshotReportJson(*report) : commands::FormatSnapshotReport(*report);
  return WriteStdout("stats", text);
}

}  // namespace

void RegisterStats(CLI::App& app) {
  auto flags = std::make_shared<StatsFlags>();
  CLI::App* sub = app.add_subcommand("stats", "Peak memory, who held it, allocation counts, segments and OOMs");
  sub->add_option("input", flags->input, "Snapshot (pickle or JSON, gzip'd or not; '-' = stdin) or memtk database")
      ->required();
  sub->add_option("--device", flags->device, "Only this CUDA device")->check(CLI::Range(0, 1 << 20));
  sub->add_option("--top", flags->top, "How many call sites, stacks, allocations and segments to list")
      ->check(CLI::Range(0, 1000000));
  sub->add_flag("--json", flags->json, "One JSON object (keys documented in docs/STATS_JSON.md)");
  sub->footer(R"(For each device: the peak of allocated memory exactly as PyTorch's memory viewer
(Active Memory Timeline) computes it - allocations in the trace, plus blocks freed
in the trace that were allocated before recording began, plus active blocks of
`segments` not allocated in the trace - with the event and time it happens; the
trace-only peak beside it; bytes live at the end; the call sites and stacks holding
the most bytes at the peak; the largest allocations; a power-of-two size histogram;
OOM events with the requested size and free device memory; snapshot events and
annotations; segment totals, block states and fragmentation by stream, segment
type and pool. A pickle is streamed (no database needed); memory stays flat.

Examples:
  memtk stats snapshot.pickle
  memtk stats snapshot.pickle --device 1 --top 20
  memtk stats snapshot.db --json | jq '.devices[0].peak.bytes'
  memtk stats snapshot.pickle.gz --json > stats.json    # in CI, after every run

Exit status: 0 ok, 1 unreadable input or no data for --device, 2 usage error.)");
  sub->callback([flags] { throw CLI::RuntimeError(Run(*flags)); });
}

}  // namespace memtk::cli
