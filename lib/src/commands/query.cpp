// RunQuery: canned call-stack questions as SQL over the memtk schema.
#include "memtk/commands/query.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/scoped.h"
#include "memtk/base/format.h"
#include "memtk/base/wrap.h"
#include "memtk/commands/convert.h"
#include "memtk/version.h"
#include "store/query_cache.h"
#include "store/query_db.h"
#include "store/read_only_sql.h"
#include "store/replay.h"
#include "store/snapshot_db.h"
#include "store/sqlite.h"

namespace memtk::commands {

namespace {

using store::Db;
using store::FrameMatch;
using store::Ints;
using store::Prepare;
using store::RowFormat;
using store::ScopedStmt;

// The columns every allocation listing shows.
constexpr std::string_view kAllocColumns =
    "a.id AS allocation, a.device, a.addr, a.size, a.alloc_event, a.free_event, a.alloc_time_us, "
    "a.free_time_us, a.stack_id, f.filename || ':' || f.line || ':' || f.name AS site";
constexpr std::string_view kSiteJoin =
    "LEFT JOIN stacks s ON s.id = a.stack_id LEFT JOIN frames f ON f.id = s.site_frame_id";

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

Status AtPeak(const Db& d, const QueryOptions& o, store::RowWriter& w) {
  RETURN_IF_ERROR(CheckDevice(d, o, "peaks"));
  if (o.format == RowFormat::kTable) {
    ASSIGN_OR_RETURN(ScopedStmt st, Prepare(d, fmt::format("SELECT device, peak_bytes, peak_idx, live_at_peak, "
                                                           "actions FROM peaks WHERE 1{} ORDER BY device",
                                                           DeviceFilter(o, "device"))));
    while (sqlite3_step(st.get()) == SQLITE_ROW) {
      // No event: the peak is the state before the first action.
      std::string at = sqlite3_column_type(st.get(), 2) != SQLITE_NULL
                           ? fmt::format("at event {}", sqlite3_column_int64(st.get(), 2))
                       : sqlite3_column_int64(st.get(), 4) == 0 ? std::string("(no alloc or free events)")
                                                                : std::string("at the start of the trace");
      RETURN_IF_ERROR(
          w.Text(fmt::format("device {}: peak {} {}, {} allocations live\n", sqlite3_column_int64(st.get(), 0),
                             FormatBytes(sqlite3_column_int64(st.get(), 1)), at, sqlite3_column_int64(st.get(), 3))));
    }
  }
  const std::string live = fmt::format(
      "SELECT a.device, a.kind, a.id AS allocation, a.addr, a.size, a.stack_id, "
      "f.filename || ':' || f.line || ':' || f.name AS site FROM peak_allocations a {} WHERE 1{}",
      kSiteJoin, DeviceFilter(o, "a.device"));
  if (o.top) {
    return Stream(d, w,
                  fmt::format("SELECT count(*) AS allocs, sum(size) AS bytes, site FROM ({}) GROUP BY site "
                              "ORDER BY {} DESC, site LIMIT {}",
                              live, o.by_count ? "allocs" : "bytes", *o.top),
                  o.limit);
  }
  return Stream(d, w, live + " ORDER BY a.size DESC, a.device, a.id", o.limit);
}

Status Alloc(const Db& d, const QueryOptions& o, store::RowWriter& w) {
  const std::string detail = fmt::format(
      "SELECT a.id AS allocation, a.device, a.host, a.addr, a.size, a.stream, a.alloc_event, "
      "a.free_requested_event, a.free_event, a.alloc_time_us, a.free_requested_time_us, a.free_time_us, "
      "a.stack_id FROM allocations a WHERE a.id = {}",
      *o.alloc);
  const std::string frames = fmt::format(
      "SELECT sf.position, f.filename, f.line, f.name FROM allocations a JOIN stack_frames sf ON sf.stack_id = "
      "a.stack_id JOIN frames f ON f.id = sf.frame_id WHERE a.id = {} ORDER BY sf.position",
      *o.alloc);
  ASSIGN_OR_RETURN(auto found, Ints(d, fmt::format("SELECT count(*) FROM allocations WHERE id = {}", *o.alloc)));
  if (found.empty() || found[0] == 0)
    return InvalidInput(
        fmt::format("{}: no allocation {} (an allocation's id is the id of its alloc event; see `--at-peak` or "
                    "`--sql 'SELECT id, size FROM allocations LIMIT 10'`)",
                    d.path, *o.alloc));
  if (o.format != RowFormat::kTable) {
    // One row per frame, with the allocation's columns repeated: tidy data
    // for CSV and JSON consumers.
    return Stream(d, w,
                  fmt::format("SELECT a.*, sf.position, f.filename, f.line, f.name FROM ({}) a LEFT JOIN "
                              "stack_frames sf ON sf.stack_id = a.stack_id LEFT JOIN frames f ON f.id = "
                              "sf.frame_id ORDER BY sf.position",
                              detail),
                  o.limit);
  }
  // People get the allocation as "key: value" lines, then its stack.
  ASSIGN_OR_RETURN(ScopedStmt st, Prepare(d, detail));
  if (sqlite3_step(st.get()) == SQLITE_ROW) {
    for (int i = 0; i < sqlite3_column_count(st.get()); ++i) {
      const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(st.get(), i));
      std::string name = sqlite3_column_name(st.get(), i);
      std::string value = t ? t : "-";
      if (name == "size") value = fmt::format("{} ({})", value, FormatBytes(sqlite3_column_int64(st.get(), i)));
      if (name == "addr") value = fmt::format("{:#x}", sqlite3_column_int64(st.get(), i));
      RETURN_IF_ERROR(w.Text(fmt::format("{:>23}: {}\n", name, value)));
    }
  }
  RETURN_IF_ERROR(w.Text("\n"));
  return Stream(d, w, frames, o.limit);
}

Status LiveAt(const Db& d, const QueryOptions& o, store::RowWriter& w) {
  std::string cond;
  if (o.live_at_event) {
    std::optional<uint32_t> device = o.device;
    ASSIGN_OR_RETURN(auto devices, Ints(d, "SELECT device FROM traces WHERE host = 0 ORDER BY device"));
    if (!device) {
      if (devices.size() != 1)
        return UsageError(fmt::format("--live-at-event: say which trace with --device (devices: {})", List(devices)));
      device = static_cast<uint32_t>(devices[0]);
    }
    ASSIGN_OR_RETURN(auto first,
                     Ints(d, fmt::format("SELECT first_event FROM traces WHERE host = 0 AND device = {}", *device)));
    if (first.empty())
      return InvalidInput(fmt::format("{}: no trace for device {} (devices: {})", d.path, *device, List(devices)));
    const int64_t e = WrapAdd(first[0], static_cast<int64_t>(*o.live_at_event));
    cond = fmt::format(
        "a.host = 0 AND a.device = {0} AND (a.alloc_event IS NOT NULL OR a.free_event IS NOT NULL) AND "
        "(a.alloc_event IS NULL OR a.alloc_event <= {1}) AND (a.free_event IS NULL OR a.free_event > {1})",
        *device, e);
  } else {
    RETURN_IF_ERROR(CheckDevice(d, o, "traces"));
    cond = fmt::format(
        "a.host = 0 AND (a.alloc_time_us IS NOT NULL OR a.free_time_us IS NOT NULL) AND "
        "(a.alloc_time_us IS NULL OR a.alloc_time_us <= {0}) AND (a.free_time_us IS NULL OR a.free_time_us > {0}){1}",
        *o.live_at_us, DeviceFilter(o, "a.device"));
  }
  return Stream(d, w,
                fmt::format("SELECT {} FROM allocations a {} WHERE {} ORDER BY a.size DESC, a.id", kAllocColumns,
                            kSiteJoin, cond),
                o.limit);
}

}  // namespace

std::string DefaultCacheDir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/memtk";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/memtk";
  return "";
}

Status RunQuery(const QueryOptions& o, const store::OutputFn& out) {
  const int questions = !o.sql.empty() + o.alloc.has_value() + o.at_peak + !o.frame_regex.empty() +
                        o.live_at_event.has_value() + o.live_at_us.has_value() + (o.top && !o.at_peak);
  if (questions != 1)
    return UsageError(
        "ask exactly one question: --sql, --alloc, --at-peak, --top, --frame, --live-at-event or --live-at-us "
        "(--top may go with --at-peak)");
  ASSIGN_OR_RETURN(store::QueryDatabase file, EnsureDatabase(o));
  ASSIGN_OR_RETURN(Db d, store::OpenQueryDb(file.path(), o.input));
  store::RowWriter w(o.format, out);
  Status s = [&]() -> Status {
    if (!o.sql.empty()) return Stream(d, w, o.sql, o.limit);
    if (o.alloc) return Alloc(d, o, w);
    if (o.at_peak) return AtPeak(d, o, w);
    if (o.live_at_event || o.live_at_us) return LiveAt(d, o, w);
    if (!o.frame_regex.empty()) {
      FrameMatch m;
      RETURN_IF_ERROR(store::BuildFrameMatch(d, o.frame_regex, &m));
      return Stream(d, w,
                    fmt::format("SELECT {} FROM allocations a {} WHERE memtk_stack_match(a.stack_id){} ORDER BY a.id",
                                kAllocColumns, kSiteJoin, DeviceFilter(o, "a.device")),
                    o.limit);
    }
    // --top over every allocation in the trace.
    RETURN_IF_ERROR(CheckDevice(d, o, "traces"));
    return Stream(d, w,
                  fmt::format("SELECT count(*) AS allocs, sum(a.size) AS bytes, "
                              "f.filename || ':' || f.line || ':' || f.name AS site FROM allocations a {} WHERE "
                              "a.alloc_event IS NOT NULL{} "
                              "GROUP BY s.site_frame_id ORDER BY {} DESC, site LIMIT {}",
                              kSiteJoin, DeviceFilter(o, "a.device"), o.by_count ? "allocs" : "bytes", *o.top),
                  o.limit);
  }();
  if (store::IsClosedPipe(s)) return OkStatus();
  return s;
}

}  // namespace memtk::commands
