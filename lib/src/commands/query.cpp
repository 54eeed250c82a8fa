// RunQuery: canned call-stack questions as SQL over the memtk schema.
#include "memtk/commands/query.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "base/scoped.h"
#include "memtk/base/escape.h"
#include "memtk/base/event_name.h"
#include "memtk/base/format.h"
#include "memtk/base/wrap.h"
#include "memtk/commands/convert.h"
#include "memtk/version.h"
#include "commands/query_folded.h"
#include "store/query_cache.h"
#include "store/query_db.h"
#include "store/read_only_sql.h"
#include "store/replay.h"
#include "store/snapshot_db.h"
#include "store/sqlite.h"
#include "store/table_units.h"

namespace memtk::commands {

namespace {

using store::Db;
using store::FrameMatch;
using store::Ints;
using store::Prepare;
using store::RowFormat;
using store::ScopedStmt;

// The columns every allocation listing shows.
// `site` is computed by the command line's rule (--site, --user-code,
// --library: store::SiteFunctions), as `stats` names sites.
constexpr std::string_view kAllocColumns =
    "a.id AS allocation, a.device, a.addr, a.size, a.alloc_event, a.free_event, a.alloc_time_us, "
    "a.free_time_us, a.stack_id, memtk_site(a.stack_id) AS site";

// A database to ask: the input itself, or its conversion (cached unless
// --no-cache).
StatusOr<store::QueryDatabase> EnsureDatabase(const QueryOptions& o) {
  if (o.input == "-") return UsageError("query reads a file, not stdin: convert first or pass a path");
  struct stat st {};
  if (::stat(o.input.c_str(), &st) != 0)
    return IoError(fmt::format("{}: cannot open: {}", o.input, std::strerror(errno)));
  if (store::IsSqliteFile(o.input)) return store::QueryDatabase::Existing(o.input);
  std::string db = DefaultDbPath(o.input);  // dir/stem.db
  std::string stem = db.substr(db.rfind('/') + 1);
  stem.resize(stem.size() - 3);
  return store::QueryDatabase::Open(
      o.input, stem, o.no_cache ? "" : o.cache_dir, o.cache_max_bytes,
      [](const std::string& in, const std::string& out) { return ConvertOne(in, out, ConvertOptions{}).status; });
}

std::string List(const std::vector<int64_t>& v) {
  std::string s;
  for (int64_t x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return s.empty() ? "none" : s;
}

// Runs `sql` through the writer; the statement must only read.
Status Stream(const Db& d, store::RowWriter& w, std::string_view sql, uint64_t limit) {
  auto st = store::PrepareReadOnly(d.db.get(), sql);
  // A statement SQLite cannot compile names the input; refusals are usage.
  if (!st.ok()) return st.status().code() == StatusCode::kUsage ? st.status() : st.status().WithContext(d.path);
  auto rows = w.Run(d.db.get(), st->get(), limit, d.path);
  return rows.ok() ? OkStatus() : rows.status();
}

std::string DeviceFilter(const QueryOptions& o, std::string_view column) {
  return o.device ? fmt::format(" AND {} = {}", column, *o.device) : "";
}

Status CheckDevice(const Db& d, const QueryOptions& o, std::string_view table) {
  if (!o.device) return OkStatus();
  ASSIGN_OR_RETURN(auto devices, Ints(d, fmt::format("SELECT DISTINCT device FROM {} ORDER BY device", table)));
  for (int64_t x : devices)
    if (x == *o.device) return OkStatus();
  return InvalidInput(fmt::format("{}: no data for device {} (devices: {})", d.path, *o.device, List(devices)));
}

// An event as the user named it (memtk/base/event_name.h), found.
struct FoundEvent {
  int64_t id = 0, device = 0, idx = 0;
};

StatusOr<FoundEvent> FindEvent(const Db& d, std::string_view text, std::string_view flag) {
  ASSIGN_OR_RETURN(EventName n, ParseEventName(text, flag));
  FoundEvent e;
  if (n.device) {
    ASSIGN_OR_RETURN(
        ScopedStmt st,
        Prepare(d, fmt::format("SELECT first_event, events FROM traces WHERE host = 0 AND device = {}", *n.device)));
    if (sqlite3_step(st.get()) != SQLITE_ROW) {
      ASSIGN_OR_RETURN(auto devices, Ints(d, "SELECT device FROM traces WHERE host = 0 ORDER BY device"));
      return InvalidInput(
          fmt::format("{}: {} {}: no trace for device {} (devices: {})", d.path, flag, text, *n.device, List(devices)));
    }
    const int64_t events = sqlite3_column_int64(st.get(), 1);
    if (n.number >= static_cast<uint64_t>(events))
      return InvalidInput(fmt::format("{}: {} {}: device {}'s trace has {} events (d{}:0 to d{}:{})", d.path, flag,
                                      text, *n.device, events, *n.device, *n.device, events - 1));
    e.device = *n.device;
    e.idx = static_cast<int64_t>(n.number);
    e.id = sqlite3_column_int64(st.get(), 0) + e.idx;
    return e;
  }
  ASSIGN_OR_RETURN(ScopedStmt st,
                   Prepare(d, fmt::format("SELECT device, idx, host FROM events WHERE id = {}", n.number)));
  if (sqlite3_step(st.get()) != SQLITE_ROW || sqlite3_column_int64(st.get(), 2) != 0)
    return InvalidInput(
        fmt::format("{}: {} {}: no event with id {} in a device trace (ids are events.id, as `stats` prints \"id N\"; "
                    "d1:421 names index 421 of device 1's trace)",
                    d.path, flag, text, n.number));
  e.id = static_cast<int64_t>(n.number);
  e.device = sqlite3_column_int64(st.get(), 0);
  e.idx = sqlite3_column_int64(st.get(), 1);
  return e;
}

// --top with --at-peak or --at-oom: the K sites holding most per device
// (peaks of different devices happen at different instants: never summed).
std::string TopSitesPerDevice(const QueryOptions& o, const std::string& live) {
  const char* rank = o.by_count ? "count(*)" : "sum(size)";
  return fmt::format(
      "SELECT device, allocs, bytes, site FROM (SELECT device, count(*) AS allocs, sum(size) AS bytes, site, "
      "row_number() OVER (PARTITION BY device ORDER BY {} DESC, site) AS rank FROM ({}) GROUP BY device, site) "
      "WHERE rank <= {} ORDER BY device, rank",
      rank, live, *o.top);
}

Status AtPeak(const Db& d, const QueryOptions& o, store::RowWriter& w) {
  RETURN_IF_ERROR(CheckDevice(d, o, "peaks"));
  if (o.format == RowFormat::kTable) {
    ASSIGN_OR_RETURN(ScopedStmt st, Prepare(d, fmt::format("SELECT device, peak_bytes, peak_idx, live_at_peak, "
                                                           "actions, peak_event FROM peaks WHERE 1{} ORDER BY device",
                                                           DeviceFilter(o, "device"))));
    while (sqlite3_step(st.get()) == SQLITE_ROW) {
      const int64_t device = sqlite3_column_int64(st.get(), 0);
      // No event: the peak is the state before the first action.
      std::string at = sqlite3_column_type(st.get(), 2) != SQLITE_NULL
                           ? fmt::format("at event {} (id {})",
                                         DeviceEventName(static_cast<uint64_t>(device),
                                                         static_cast<uint64_t>(sqlite3_column_int64(st.get(), 2))),
                                         sqlite3_column_int64(st.get(), 5))
                       : sqlite3_column_int64(st.get(), 4) == 0 ? std::string("(no alloc or free events)")
                                                                : std::string("at the start of the trace");
      RETURN_IF_ERROR(
          w.Text(fmt::format("device {}: peak {} {}, {} allocations live\n", device,
                             FormatBytes(sqlite3_column_int64(st.get(), 1)), at, sqlite3_column_int64(st.get(), 3))));
    }
  }
  const std::string live = fmt::format(
      "SELECT a.device, a.kind, a.id AS allocation, a.addr, a.size, a.stack_id, "
      "memtk_site(a.stack_id) AS site FROM peak_allocations a WHERE 1{}",
      DeviceFilter(o, "a.device"));
  if (o.top) return Stream(d, w, TopSitesPerDevice(o, live), o.limit);
  return Stream(d, w, live + " ORDER BY a.size DESC, a.device, a.id", o.limit);
}

Status Alloc(const Db& d, const QueryOptions& o, store::RowWriter& w, const store::TableUnits* units) {
  // "6866" is the allocation's id itself (the id of its first event, which
  // for memory from before recording is a free); "d1:421" names its alloc
  // event by place.
  ASSIGN_OR_RETURN(EventName wanted, ParseEventName(*o.alloc, "--alloc"));
  int64_t id = static_cast<int64_t>(wanted.number);
  if (wanted.device) {
    ASSIGN_OR_RETURN(FoundEvent e, FindEvent(d, *o.alloc, "--alloc"));
    id = e.id;
  }
  const std::string detail = fmt::format(
      "SELECT a.id AS allocation, a.device, a.host, a.addr, a.size, a.stream, a.alloc_event, "
      "a.free_requested_event, a.free_event, a.alloc_time_us, a.free_requested_time_us, a.free_time_us, "
      "a.stack_id FROM allocations a WHERE a.id = {}",
      id);
  // The stack as every command shows it: plumbing left out unless
  // --all-frames, each frame's kind beside it (snapshot/frame_rules.h).
  const std::string visible = o.frames.all_frames ? "" : " AND memtk_frame_kind(f.id) <> 'hidden'";
  const std::string frames = fmt::format(
      "SELECT sf.position, memtk_frame_kind(f.id) AS kind, f.filename, f.line, f.name FROM allocations a JOIN "
      "stack_frames sf ON sf.stack_id = a.stack_id JOIN frames f ON f.id = sf.frame_id WHERE a.id = {}{} ORDER BY "
      "sf.position",
      id, visible);
  ASSIGN_OR_RETURN(auto found, Ints(d, fmt::format("SELECT count(*) FROM allocations WHERE id = {}", id)));
  if (found.empty() || found[0] == 0)
    return InvalidInput(
        fmt::format("{}: no allocation {} (an allocation's id is the id of its alloc event, the `id` column of "
                    "`stats`' largest allocations; d1:421 names the alloc event by its index in device 1's trace; "
                    "see `--at-peak` or `--sql 'SELECT id, size FROM allocations LIMIT 10'`)",
                    d.path, *o.alloc));
  if (o.format != RowFormat::kTable) {
    // One row per frame, with the allocation's columns repeated: tidy data
    // for CSV and JSON consumers.
    return Stream(d, w,
                  fmt::format("SELECT a.*, sf.position, memtk_frame_kind(f.id) AS kind, f.filename, f.line, f.name "
                              "FROM ({}) a LEFT JOIN stack_frames sf ON sf.stack_id = a.stack_id{} LEFT JOIN frames "
                              "f ON f.id = sf.frame_id ORDER BY sf.position",
                              detail, o.frames.all_frames ? "" : " AND memtk_frame_kind(sf.frame_id) <> 'hidden'"),
                  o.limit);
  }
  // People get the allocation as "key: value" lines, then its stack; raw
  // numbers with stats' units beside them.
  ASSIGN_OR_RETURN(ScopedStmt st, Prepare(d, detail));
  if (sqlite3_step(st.get()) == SQLITE_ROW) {
    const int64_t device = sqlite3_column_int64(st.get(), 1);
    for (int i = 0; i < sqlite3_column_count(st.get()); ++i) {
      const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(st.get(), i));
      std::string name = sqlite3_column_name(st.get(), i);
      std::string value = t ? t : "-";
      const int64_t v = sqlite3_column_int64(st.get(), i);
      if (name == "size") value = fmt::format("{} ({})", value, FormatBytes(v));
      if (name == "addr") value = fmt::format("{:#x}", v);
      if (t && name.ends_with("_event")) value = units->EventText(v);
      if (t && name.ends_with("time_us")) value = fmt::format("{} ({})", value, units->TimeText(v, device));
      RETURN_IF_ERROR(w.Text(fmt::format("{:>23}: {}\n", name, value)));
    }
  }
  RETURN_IF_ERROR(w.Text("\n"));
  return Stream(d, w, frames, o.limit);
}

// What PeakTracker counts live at event `e` of `device` (an instant between
// actions): allocations of the trace made before it and freed after it (or
// never), memory from before recording freed after it, and the untraced
// active blocks of segments (live all along; peak_allocations has them).
std::string LiveAtEventSql(int64_t device, int64_t e) {
  return fmt::format(
      "SELECT a.device, a.kind, a.id AS allocation, a.addr, a.size, a.stack_id, "
      "memtk_site(a.stack_id) AS site FROM ("
      "SELECT device, CASE WHEN alloc_event IS NULL THEN 'before_recording' ELSE 'alloc' END AS kind, id, addr, "
      "size, stack_id FROM allocations WHERE host = 0 AND device = {0} AND (alloc_event IS NOT NULL OR free_event "
      "IS NOT NULL) AND (alloc_event IS NULL OR alloc_event < {1}) AND (free_event IS NULL OR free_event > {1}) "
      "UNION ALL SELECT device, kind, id, addr, size, stack_id FROM peak_allocations WHERE device = {0} AND kind = "
      "'block') a",
      device, e);
}

// --at-oom K: the K-th OOM in `stats`' order (by time, then id), over every
// device or --device's.
Status AtOom(const Db& d, const QueryOptions& o, store::RowWriter& w, const store::TableUnits* units) {
  RETURN_IF_ERROR(CheckDevice(d, o, "traces"));
  const std::string where = fmt::format("host = 0 AND action = 'oom'{}", DeviceFilter(o, "device"));
  ASSIGN_OR_RETURN(auto count, Ints(d, "SELECT count(*) FROM events WHERE " + where));
  const int64_t n = count.empty() ? 0 : count[0];
  // A K past the last OOM is the user's slip (exit 2); no OOM at all is what
  // the input holds (exit 1), whatever K asked for.
  if (*o.at_oom == 0 || static_cast<int64_t>(*o.at_oom) > n)
    return (n == 0 ? InvalidInput : UsageError)(
        fmt::format("{}: --at-oom {}: {} OOM event{}{} (counted from 1, in the order `stats` lists "
                    "them)",
                    d.path, *o.at_oom, n == 0 ? "no" : std::to_string(n), n == 1 ? "" : "s",
                    o.device ? fmt::format(" on device {}", *o.device) : ""));
  ASSIGN_OR_RETURN(ScopedStmt st,
                   Prepare(d, fmt::format("SELECT id, device, idx, time_us, size, device_free FROM events WHERE {} "
                                          "ORDER BY time_us IS NULL, time_us, id LIMIT 1 OFFSET {}",
                                          where, *o.at_oom - 1)));
  if (sqlite3_step(st.get()) != SQLITE_ROW)
    return InvalidInput(fmt::format("{}: cannot read OOM {}", d.path, *o.at_oom));
  const int64_t id = sqlite3_column_int64(st.get(), 0), device = sqlite3_column_int64(st.get(), 1);
  const std::string live = LiveAtEventSql(device, id);
  if (o.format == RowFormat::kTable) {
    ASSIGN_OR_RETURN(ScopedStmt sum, Prepare(d, fmt::format("SELECT count(*), total(size) FROM ({})", live)));
    sqlite3_step(sum.get());
    std::string when = sqlite3_column_type(st.get(), 3) == SQLITE_NULL
                           ? std::string()
                           : ", " + units->TimeText(sqlite3_column_int64(st.get(), 3), device);
    RETURN_IF_ERROR(w.Text(fmt::format(
        "device {}: OOM {} of {} at event {} (id {}{}): requested {}, device free {}; {} live in {} allocation{}\n",
        device, *o.at_oom, n,
        DeviceEventName(static_cast<uint64_t>(device), static_cast<uint64_t>(sqlite3_column_int64(st.get(), 2))), id,
        when, FormatBytes(sqlite3_column_int64(st.get(), 4)),
        sqlite3_column_type(st.get(), 5) == SQLITE_NULL ? std::string("unknown")
                                                        : FormatBytes(sqlite3_column_int64(st.get(), 5)),
        FormatBytes(static_cast<int64_t>(sqlite3_column_double(sum.get(), 1))), sqlite3_column_int64(sum.get(), 0),
        sqlite3_column_int64(sum.get(), 0) == 1 ? "" : "s")));
  }
  if (o.top) return Stream(d, w, TopSitesPerDevice(o, live), o.limit);
  return Stream(d, w, live + " ORDER BY a.size DESC, a.id", o.limit);
}

// --stack N: the frames of a stack id as `stats` prints them, innermost first.
Status Stack(const Db& d, const QueryOptions& o, store::RowWriter& w) {
  ASSIGN_OR_RETURN(ScopedStmt st,
                   Prepare(d, fmt::format("SELECT s.depth, memtk_site(s.id) FROM stacks s WHERE s.id = {}", *o.stack)));
  if (sqlite3_step(st.get()) != SQLITE_ROW) {
    ASSIGN_OR_RETURN(auto n, Ints(d, "SELECT count(*) FROM stacks"));
    return InvalidInput(
        fmt::format("{}: no stack {} (stack ids run from 0 to {}; `stats` prints them under \"top "
                    "stacks at peak\")",
                    d.path, *o.stack, n.empty() ? -1 : n[0] - 1));
  }
  if (o.format == RowFormat::kTable) {
    const auto* site = reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 1));
    RETURN_IF_ERROR(
        w.Text(fmt::format("stack {}: {} frames, call site {}\n", *o.stack, sqlite3_column_int64(st.get(), 0),
                           site ? EscapeControl(site) : std::string("<no frames>"))));
  }
  return Stream(d, w,
                fmt::format("SELECT sf.stack_id, sf.position, memtk_frame_kind(f.id) AS kind, f.filename, f.line, "
                            "f.name FROM stack_frames sf JOIN frames f ON f.id = sf.frame_id WHERE sf.stack_id = {}{} "
                            "ORDER BY sf.position",
                            *o.stack, o.frames.all_frames ? "" : " AND memtk_frame_kind(f.id) <> 'hidden'"),
                o.limit);
}

Status LiveAt(const Db& d, const QueryOptions& o, store::RowWriter& w) {
  std::string cond;
  if (o.live_at_event) {
    ASSIGN_OR_RETURN(EventName name, ParseEventName(*o.live_at_event, "--live-at-event"));
    // A plain number is an event id now; with --device it used to be an
    // index in that device's trace: refuse rather than guess (README changelog).
    if (o.device && !name.device)
      return UsageError(fmt::format(
          "--live-at-event {0} with --device {1}: write d{1}:{0} for index {0} in device {1}'s trace, or {0} "
          "without --device for the event with id {0}",
          *o.live_at_event, *o.device));
    ASSIGN_OR_RETURN(FoundEvent e, FindEvent(d, *o.live_at_event, "--live-at-event"));
    cond = fmt::format(
        "a.host = 0 AND a.device = {0} AND (a.alloc_event IS NOT NULL OR a.free_event IS NOT NULL) AND "
        "(a.alloc_event IS NULL OR a.alloc_event <= {1}) AND (a.free_event IS NULL OR a.free_event > {1})",
        e.device, e.id);
  } else {
    RETURN_IF_ERROR(CheckDevice(d, o, "traces"));
    cond = fmt::format(
        "a.host = 0 AND (a.alloc_time_us IS NOT NULL OR a.free_time_us IS NOT NULL) AND "
        "(a.alloc_time_us IS NULL OR a.alloc_time_us <= {0}) AND (a.free_time_us IS NULL OR a.free_time_us > {0}){1}",
        *o.live_at_us, DeviceFilter(o, "a.device"));
  }
  return Stream(d, w,
                fmt::format("SELECT {} FROM allocations a WHERE {} ORDER BY a.size DESC, a.id", kAllocColumns, cond),
                o.limit);
}

}  // namespace

std::string DefaultCacheDir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/memtk";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/memtk";
  return "";
}

Status RunQuery(const QueryOptions& o, const store::OutputFn& out) {
  if (o.folded) return RunFoldedQuery(o, out);
  const bool live_at = o.at_peak || o.at_oom;
  const int questions = !o.sql.empty() + o.alloc.has_value() + o.at_peak + o.at_oom.has_value() + o.stack.has_value() +
                        !o.frame_regex.empty() + o.live_at_event.has_value() + o.live_at_us.has_value() +
                        (o.top && !live_at);
  if (questions != 1)
    return UsageError(
        "ask exactly one question: --sql, --alloc, --at-peak, --at-oom, --stack, --top, --frame, --live-at-event or "
        "--live-at-us (--top may go with --at-peak or --at-oom)");
  // A regex that does not compile is a usage error before any conversion.
  ASSIGN_OR_RETURN(snapshot::FrameRules rules, snapshot::FrameRules::Make(o.frames));
  ASSIGN_OR_RETURN(store::QueryDatabase file, EnsureDatabase(o));
  ASSIGN_OR_RETURN(Db d, store::OpenQueryDb(file.path(), o.input));
  store::SiteFunctions sites(std::move(rules));
  if (o.sql.empty()) RETURN_IF_ERROR(store::RegisterSiteFunctions(d, &sites));
  store::RowWriter w(o.format, out);
  // Canned questions' tables in stats' units; --sql shows what it selects.
  ASSIGN_OR_RETURN(std::unique_ptr<store::TableUnits> units, store::TableUnits::Load(d));
  if (o.sql.empty()) w.SetTableFormat(units.get());
  Status s = [&]() -> Status {
    if (!o.sql.empty()) return Stream(d, w, o.sql, o.limit);
    if (o.alloc) return Alloc(d, o, w, units.get());
    if (o.at_peak) return AtPeak(d, o, w);
    if (o.at_oom) return AtOom(d, o, w, units.get());
    if (o.stack) return Stack(d, o, w);
    if (o.live_at_event || o.live_at_us) return LiveAt(d, o, w);
    if (!o.frame_regex.empty()) {
      FrameMatch m;
      RETURN_IF_ERROR(store::BuildFrameMatch(d, o.frame_regex, &m));
      return Stream(d, w,
                    fmt::format("SELECT {} FROM allocations a WHERE memtk_stack_match(a.stack_id){} ORDER BY a.id",
                                kAllocColumns, DeviceFilter(o, "a.device")),
                    o.limit);
    }
    // --top over every allocation in the trace.
    RETURN_IF_ERROR(CheckDevice(d, o, "traces"));
    return Stream(d, w,
                  fmt::format("SELECT count(*) AS allocs, sum(a.size) AS bytes, "
                              "memtk_site(a.stack_id) AS site FROM allocations a WHERE "
                              "a.alloc_event IS NOT NULL{} "
                              "GROUP BY site ORDER BY {} DESC, site LIMIT {}",
                              DeviceFilter(o, "a.device"), o.by_count ? "allocs" : "bytes", *o.top),
                  o.limit);
  }();
  if (store::IsClosedPipe(s)) return OkStatus();
  return s;
}

}  // namespace memtk::commands
