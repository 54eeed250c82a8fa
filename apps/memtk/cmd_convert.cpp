// memtk convert: flags in, commands::RunConvert, one line per input out.
#include "cmd_convert.h"

#include <memory>
#include <mutex>

#include <fmt/core.h>

#include "cli_common.h"
#include "memtk/commands/convert.h"

namespace memtk::cli {

namespace {

struct ConvertFlags {
  commands::ConvertOptions opts;
  bool quiet = false;
};

int Run(const ConvertFlags& f) {
  commands::ConvertOptions opts = f.opts;
  std::mutex mu;
  if (!f.quiet && StderrIsTty()) {
    opts.progress = [&mu](const std::string& in, uint64_t done, uint64_t total) {
      std::lock_guard<std::mutex> lock(mu);
      if (total)
        fmt::print(stderr, "\r\033[K{}: {:.0f}% ({} of {} MB)", in, 100.0 * done / total, done >> 20, total >> 20);
    };
  }
  auto results = commands::RunConvert(opts);
  if (!results.ok()) return Fail("convert", results.status());
  if (opts.progress) fmt::print(stderr, "\r\033[K");
  int rc = 0;
  for (const auto& r : *results) {
    if (!r.status.ok()) {
      rc = std::max(rc, Fail("convert", r.status));
      continue;
    }
    PrintStatsWarnings("convert", r.input, r.stats);
    if (!f.quiet)
      fmt::print("{} -> {}: {} events, {} allocations, {} segments, {} blocks ({}) in {:.2f} s\n", r.input, r.output,
                 r.summary.events, r.allocations, r.summary.segments, r.summary.blocks, r.summary.format, r.seconds);
  }
  return rc;
}

}  // namespace

void RegisterConvert(CLI::App& app) {
  auto flags = std::make_shared<ConvertFlags>();
  CLI::App* sub = app.add_subcommand("convert", "Convert PyTorch CUDA memory snapshots into SQLite databases");
  sub->add_option("inputs", flags->opts.inputs, "Snapshot files: pickle or JSON, optionally gzip'd ('-' = stdin)")
      ->required();
  sub->add_option("-o,--output", flags->opts.output,
                  "Output database (one input; default: INPUT with .db) or directory (several inputs)");
  sub->add_option("-j,--jobs", flags->opts.jobs, "Convert this many inputs in parallel")->check(CLI::Range(1, 256));
  sub->add_flag("--strict", flags->opts.strict, "Fail an input if any record had to be skipped");
  sub->add_flag("-q,--quiet", flags->quiet, "Print nothing but errors");
  sub->footer(R"(The format (pickle protocol 2-5, JSON, gzip'd or not) is detected from the content,
not the file name. Nothing in a pickle is ever executed: code-carrying opcodes are
an error. Output goes to a temporary file renamed into place on success.

Examples:
  memtk convert snapshot.pickle                  # writes snapshot.db next to it
  memtk convert snapshot.pickle -o /tmp/run1.db
  memtk convert rank*.pickle -o dbs/ -j 4        # one database per rank
  sqlite3 snapshot.db 'SELECT action, count(*) FROM events GROUP BY action'

Exit status: 0 all converted, 1 an input could not be converted, 2 usage error.)");
  sub->callback([flags] { throw CLI::RuntimeError(Run(*flags)); });
}

}  // namespace memtk::cli
