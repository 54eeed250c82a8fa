// memtk convert: flags in, commands::RunConvert, one line per input out.
#include "cmd_convert.h"

#include <fmt/core.h>

#include <memory>
#include <mutex>

#include "cli_common.h"
#include "memtk/base/escape.h"
#include "memtk/commands/convert.h"

namespace memtk::cli {

namespace {

struct ConvertFlags {
  commands::ConvertOptions opts;
  std::string to = "db";
  int64_t device = -1;
  bool quiet = false;
  bool zip_level_given = false;  // set from the parsed flag (its default is 1)
};

int Run(const ConvertFlags& f) {
  io::InstallInterruptCleanup();  // before any worker thread starts
  IgnoreSigpipe();                // -o - | head, or the report lines | head: ends quietly
  commands::ConvertOptions opts = f.opts;
  opts.to = *commands::OutputFormatFromName(f.to);  // CLI11 checked the name
  if (f.device >= 0) {
    if (opts.to != commands::OutputFormat::kSnapViewer && opts.to != commands::OutputFormat::kChromeTrace &&
        opts.to != commands::OutputFormat::kPprof)
      return Fail("convert", UsageError("--device works with --to snapviewer, chrome-trace and pprof"));
    opts.device = f.device;
  }
  if (opts.all_frames && opts.to != commands::OutputFormat::kPprof)
    return Fail("convert", UsageError("--all-frames works with --to pprof"));
  if (opts.with_stacks && opts.to != commands::OutputFormat::kChromeTrace)
    return Fail("convert", UsageError("--with-stacks works with --to chrome-trace"));
  if (f.zip_level_given && opts.to != commands::OutputFormat::kSnapViewer)
    return Fail("convert", UsageError("--zip-level works with --to snapviewer"));
  std::mutex mu;
  if (!f.quiet && StderrIsTty()) {
    opts.progress = [&mu](const std::string& in, uint64_t done, uint64_t total) {
      std::lock_guard<std::mutex> lock(mu);
      if (total)
        fmt::print(stderr, "\r\033[K{}: {:.0f}% ({} of {} MB)", EscapeControl(in), 100.0 * done / total, done >> 20,
                   total >> 20);
    };
  }
  auto results = commands::RunConvert(opts);
  if (!results.ok()) return Fail("convert", results.status());
  if (opts.progress) fmt::print(stderr, "\r\033[K");
  int rc = 0;
  bool quiet = f.quiet;
  for (const auto& r : *results) {
    if (!r.status.ok()) {
      rc = std::max(rc, Fail("convert", r.status));
      continue;
    }
    PrintStatsWarnings("convert", r.input, r.stats);
    if (quiet) continue;
    std::string line =
        !r.detail.empty()
            ? fmt::format("{} -> {}: {} events; {} ({}) in {:.2f} s\n", EscapeControl(r.input), EscapeControl(r.output),
                          r.summary.events, r.detail, r.summary.format, r.seconds)
            : fmt::format("{} -> {}: {} events, {} allocations, {} segments, {} blocks ({}) in {:.2f} s\n",
                          EscapeControl(r.input), EscapeControl(r.output), r.summary.events, r.allocations,
                          r.summary.segments, r.summary.blocks, r.summary.format, r.seconds);
    // With -o - the output is on stdout: the report must not end up inside it.
    if (r.output == "-") {
      fmt::print(stderr, "{}", line);
    } else if (Status s = WriteToStdout(line); !s.ok()) {
      rc = std::max(rc, Fail("convert", s));  // a closed pipe: 0, and no more lines
      quiet = true;
    }
  }
  return rc;
}

}  // namespace

void RegisterConvert(CLI::App& app) {
  auto flags = std::make_shared<ConvertFlags>();
  CLI::App* sub = app.add_subcommand(
      "convert",
      "Convert PyTorch CUDA memory snapshots into SQLite databases, SnapViewer bundles, JSON, Chrome traces or pprof "
      "profiles");
  sub->add_option("inputs", flags->opts.inputs, "Snapshot files: pickle or JSON, optionally gzip'd ('-' = stdin)")
      ->required();
  sub->add_option(
      "-o,--output", flags->opts.output,
      "Output file (one input) or directory (DIR/ is created with its parents; several inputs); default: beside each "
      "input with the format's extension; '-' = stdout for json, chrome-trace and pprof");
  sub->add_option("--to", flags->to, "Output format: db (default), snapviewer, json, chrome-trace, pprof")
      ->check(CLI::IsMember({"db", "snapviewer", "json", "chrome-trace", "pprof"}));
  sub->add_option("--device", flags->device,
                  "snapviewer: device_traces index to lay out (default 0); chrome-trace, pprof: only this device")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  CLI::Option* zip_level = sub->add_option("--zip-level", flags->opts.zip_level,
                  "snapviewer .zip: deflate level 1-9 (default 1), 0 = store uncompressed (fastest)")
      ->check(CLI::Range(0, 9));
  sub->add_flag("--with-stacks", flags->opts.with_stacks,
                "chrome-trace: each alloc/free's call site as a 'site' arg of its counter event");
  sub->add_flag("--all-frames", flags->opts.all_frames, "pprof: keep the frames PyTorch's viewer hides");
  sub->add_option("-j,--jobs", flags->opts.jobs, "Convert this many inputs in parallel")->check(CLI::Range(1, 256));
  sub->add_flag("--strict", flags->opts.strict, "Fail an input if any record had to be skipped");
  sub->add_flag("-q,--quiet", flags->quiet, "Print nothing but errors");
  sub->footer(R"(The input format (pickle protocol 0-5, JSON, gzip'd or not) is detected from the
content, not the file name. Nothing in a pickle is ever executed: code-carrying
opcodes are an error. Output goes to temporary files renamed into place on success.

Output formats (--to):
  db            memtk's SQLite database (schema in the README)           NAME.db
  snapviewer    SnapViewer's bundle: allocations.json + elements.db, as  NAME.zip
                a .zip or, for any other -o, a directory; --device N
                picks the device_traces index (default 0)
  json          the snapshot's structure as JSON (gzip'd if -o ends in   NAME.snapshot.json.gz
                .gz), readable by jq and by memtk convert
  chrome-trace  Perfetto UI / chrome://tracing: allocated and reserved   NAME.trace.json
                counters per device, oom/snapshot instants, annotation
                slices; --with-stacks adds call sites (reads the input twice)
  pprof         gzip'd pprof profile for go tool pprof, Pyroscope,       NAME.pb.gz
                Perfetto UI and speedscope: inuse_space/inuse_objects
                (live at each device's peak, label device=cuda:N) and
                alloc_space/alloc_objects (every allocation); frames
                PyTorch's viewer hides left out unless --all-frames

Examples:
  memtk convert snapshot.pickle                  # writes snapshot.db next to it
  memtk convert snapshot.pickle -o /tmp/run1.db
  memtk convert rank*.pickle -o dbs/ -j 4        # one database per rank
  memtk convert rank*.pickle                     # rank0.db, rank1.db, ... beside them
  sqlite3 snapshot.db 'SELECT action, count(*) FROM events GROUP BY action'
  memtk convert snapshot.pickle --to snapviewer -o snap.zip   # then: SnapViewer snap.zip
  memtk convert snapshot.pickle --to snapviewer --device 1 -o bundle/
  memtk convert snapshot.pickle --to json -o - | jq '.device_traces[0] | length'
  memtk convert snapshot.pickle --to chrome-trace -o trace.json.gz  # open in ui.perfetto.dev
  memtk convert snapshot.pickle --to pprof -o mem.pb.gz
  go tool pprof -top -sample_index=inuse_space mem.pb.gz     # or: go tool pprof -http=: mem.pb.gz

Exit status: 0 all converted, 1 an input could not be converted (or the output
directory not created), 2 usage error (also an -o that is an input, or two inputs
that would be written to one file).)");
  sub->callback([flags, zip_level] {
    flags->zip_level_given = zip_level->count() > 0;
    throw CLI::RuntimeError(Run(*flags));
  });
}

}  // namespace memtk::cli
