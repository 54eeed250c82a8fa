// memtk query: flags in, commands::RunQuery, rows out to stdout.
#include "cmd_query.h"

#include <unistd.h>

#include <charconv>
#include <memory>

#include "cli_common.h"
#include "frame_flags.h"
#include "memtk/commands/query.h"
#include "memtk/io/output_file.h"

namespace memtk::cli {

namespace {

struct QueryFlags {
  commands::QueryOptions opts;
  int64_t device = -1;
  std::string by = "bytes";
  std::string format;
  std::string cache_dir;
  bool no_cache = false;
  std::string at_oom;  // "" = the first
  CLI::Option* at_oom_option = nullptr;
  bool json = false;
  std::string output;
};

int Run(QueryFlags& f) {
  commands::QueryOptions o = f.opts;
  const bool oom_took_input =
      o.input.empty() && f.at_oom_option->count() && !f.at_oom.empty() && (f.at_oom[0] < '0' || f.at_oom[0] > '9');
  if (oom_took_input) {
    o.input = f.at_oom;
    f.at_oom.clear();
  }
  if (o.input.empty()) throw CLI::RequiredError("input");
  io::InstallInterruptCleanup();  // a cache conversion may be cut short
  if (f.device >= 0) o.device = static_cast<uint32_t>(f.device);
  o.by_count = f.by == "count";
  if (f.json && !f.format.empty() && f.format != "json")
    return Fail("query", UsageError("--json and --format " + f.format + " contradict each other"));
  const bool to_stdout = f.output.empty() || f.output == "-";
  // Table for people, CSV for pipes and files, unless asked.
  std::string format = f.json ? "json" : !f.format.empty() ? f.format : to_stdout && ::isatty(1) ? "table" : "csv";
  o.folded = format == "folded";
  o.format = format == "json"  ? store::RowFormat::kJson
             : format == "csv" ? store::RowFormat::kCsv
                               : store::RowFormat::kTable;
  o.cache_dir = f.cache_dir.empty() ? commands::DefaultCacheDir() : f.cache_dir;
  o.no_cache = f.no_cache;
  if (f.at_oom_option->count()) {
    uint64_t k = 1;
    const char* end = f.at_oom.data() + f.at_oom.size();
    if (!f.at_oom.empty() &&
        (std::from_chars(f.at_oom.data(), end, k) != std::from_chars_result{end, std::errc()} || k == 0))
      return Fail("query", UsageError("--at-oom " + f.at_oom + ": expected the number of an OOM (1 = the first)"));
    o.at_oom = k;
  }
  IgnoreSigpipe();
  if (to_stdout) {
    Status s = commands::RunQuery(o, WriteToStdout);
    return s.ok() ? 0 : Fail("query", s);
  }
  const char* ext = format == "json" ? ".json" : format == "csv" ? ".csv" : ".txt";
  // Opened before the input is read: an -o that is the input is refused then.
  auto out = io::OutputFile::Open(f.output, o.input, ext, {o.input});
  if (!out.ok()) return Fail("query", out.status());
  Status s = commands::RunQuery(o, [&](std::string_view text) { return out->Write(text); });
  if (s.ok()) s = out->Commit();
  return s.ok() ? 0 : Fail("query", s);
}

}  // namespace

void RegisterQuery(CLI::App& app) {
  auto flags = std::make_shared<QueryFlags>();
  commands::QueryOptions& o = flags->opts;
  CLI::App* sub = app.add_subcommand("query", "Ask a snapshot or database about allocations and call stacks");
  // Not ->required(): `query --at-oom IN` hands IN to --at-oom (its K is
  // optional), and Run() takes it back.
  sub->add_option("input", o.input, "memtk database, or a snapshot (converted once, then cached)");
  sub->add_option("--sql", o.sql, "Run one read-only SQL statement (schema: README.md)");
  sub->add_option("--alloc", o.alloc,
                  "One allocation with its whole stack: its id (6866, the id of its alloc event: the `id` stats "
                  "prints) or its alloc event's index in a device trace (d1:421)")
      ->type_name("ID|dD:N");
  sub->add_flag("--at-peak", o.at_peak, "Everything live at the peak, largest first (see `memtk stats`)");
  flags->at_oom_option = sub->add_option("--at-oom", flags->at_oom,
                                         "Everything live at the K-th OOM (default 1: the first, as `stats` numbers "
                                         "them), largest first; with --device, its K-th")
                             ->expected(0, 1)
                             ->type_name("[K]");
  sub->add_option("--stack", o.stack, "The frames of stack N (the stack ids `stats` prints), innermost first");
  sub->add_option("--top", o.top,
                  "The N call sites with most bytes (or --by count); with --at-peak or --at-oom: at that instant, "
                  "N per device");
  sub->add_option("--by", flags->by, "Rank --top by bytes or count")->check(CLI::IsMember({"bytes", "count"}));
  sub->add_option("--frame", o.frame_regex, "Allocations with a frame matching this regex (file:line:function)");
  sub->add_option("--live-at-event", o.live_at_event,
                  "Allocations live after an event: its id (6866) or its index in a device trace (d1:421)")
      ->type_name("ID|dD:N");
  sub->add_option("--live-at-us", o.live_at_us, "Allocations live at time_us T");
  sub->add_option("--device", flags->device, "Only this CUDA device")->check(CLI::Range(0, 1 << 20));
  sub->add_option("--format", flags->format,
                  "table (default on a terminal), csv (default otherwise), json (lines), or folded (stacks and "
                  "bytes for flame graphs: with --at-peak, --live-at-event, --live-at-us or alone)")
      ->check(CLI::IsMember({"table", "csv", "json", "folded"}));
  sub->add_flag("--json", flags->json, "Same as --format json (one JSON object per line)");
  sub->add_option("-o,--output", flags->output,
                  "Write the rows to this file (through a temp file; '-' = stdout, the default; DIR/ = "
                  "DIR/INPUT.csv, DIR created with its parents); csv unless --format says otherwise; never the input");
  sub->add_option("--limit", o.limit, "Stop after N rows")
      ->check(CLI::Validator(
          [](std::string& v) { return v.starts_with('-') ? std::string("a row count is 0 or more") : std::string(); },
          ""));
  sub->add_option("--cache-dir", flags->cache_dir,
                  "Where converted snapshots are kept (default $XDG_CACHE_HOME/memtk or ~/.cache/memtk)");
  sub->add_flag("--no-cache", flags->no_cache, "Convert into a temp database and remove it afterwards");
  sub->add_option("--cache-max", o.cache_max_bytes,
                  "Bound on the cache's size; least recently used databases go first (default 4GiB)")
      ->transform(CLI::AsSizeValue(false))
      ->type_name("SIZE")
      ->envname("MEMTK_CACHE_MAX");
  AddFrameFlags(sub, &o.frames, /*all_frames=*/true);
  sub->footer(R"(A snapshot is converted once into a database keyed by a hash of its content and
memtk's version; later questions about the same file skip the conversion. The
cache holds at most --cache-max bytes (or $MEMTK_CACHE_MAX; 500M, 2G, ...):
least recently used databases are deleted first. Output
streams row by row (any number of rows, flat memory) and stops quietly when the
reader goes away (`| head`). --sql refuses anything that writes.

Events have two numbers and both are accepted: the id (events.id, "id 6866" in
`stats`) and the index in the device's trace ("d1:421"). Tables show sizes,
times (seconds from the trace's start) and events as `stats` does; CSV and JSON
carry the raw values. --at-peak --top and --at-oom --top rank call sites per
device (a device column): peaks of different devices are never added up.

`site` columns name code as `stats` does (--site, --user-code, --library), computed
from the frames at question time, so a database answers as its snapshot would.
--alloc prints the stack without plumbing, each frame's kind (user, library) beside
it; --all-frames prints every frame.

Examples:
  memtk query snapshot.pickle --at-peak | head            # what filled memory at the peak
  memtk query snapshot.db --at-peak --top 10              # ... grouped by call site
  memtk query snapshot.db --alloc 4211                    # one allocation and its stack, by id
  memtk query snapshot.db --alloc d1:421                  # ... by its alloc event's index in device 1's trace
  memtk query snapshot.pickle --at-oom --top 10           # who held memory at the first OOM, by call site
  memtk query snapshot.db --stack 12                      # a stack id from `memtk stats`
  memtk query snapshot.db --alloc 4211 --all-frames       # its stack with CPython/allocator/dispatcher frames
  memtk query snapshot.db --at-peak --top 10 --site innermost   # the innermost Python frame instead
  memtk query snapshot.db --top 20 --by count             # call sites that allocate most often
  memtk query snapshot.db --frame 'attention\.py:\d+:forward' --format json
  memtk query snapshot.db --live-at-event d0:150000 --limit 20
  memtk query snapshot.db --sql 'SELECT action, count(*) FROM events GROUP BY action'
  memtk query snapshot.pickle --at-peak --no-cache        # leave no database behind
  memtk query snapshot.db --at-peak --json -o peak.json   # JSON lines into a file
  MEMTK_CACHE_MAX=1G memtk query big.pickle --top 10      # keep the cache under 1 GiB
  memtk query snapshot.pickle --at-peak --format folded > peak.folded
  flamegraph.pl peak.folded > peak.svg                    # or open peak.folded in speedscope
  memtk query snapshot.pickle --format folded --device 0  # every allocation, weighted by its size
  memtk query snapshot.pickle --live-at-event d0:150000 --format folded

--format folded writes one line per call stack, "frame;frame;...;frame BYTES",
outermost frame first, frames as file:line:function (';' written \x3b, control
characters escaped), frames PyTorch's viewer hides left out (--all-frames keeps
them). It reads the input directly (no database) in one streaming pass. At the
peak, each device's weights add up to exactly its peak in `memtk stats`; with
several devices each line starts with a "device N" frame (--device N: one device,
no such frame). --live-at-event d1:421 is after index 421 of device 1's trace
(an id, 6866, names its device too); --live-at-us T is each device just before
its first event later than T. Both count memory from before recording and
untraced active blocks, as the peak does.

Exit status: 0 ok (also when the output pipe closes early), 1 bad input, database
or SQL, 2 usage error (no question, two questions, a statement that writes, a
--user-code/--library regex that does not compile, an -o that is the input).)");
  sub->callback([flags] { throw CLI::RuntimeError(Run(*flags)); });
}

}  // namespace memtk::cli
