#include "store/replay.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <optional>

#include "base/scoped.h"
#include "memtk/snapshot/frame_rules.h"
#include "store/row_ahead.h"
#include "store/snapshot_db.h"
#include "store/sqlite.h"

namespace memtk::store {

using namespace memtk::snapshot;  // NOLINT: record types only

namespace {

// A stack id column; ids outside the stacks table (a damaged or foreign
// database) are an error, not an out-of-bounds read later.
Status ReadStack(sqlite3_stmt* s, int col, int64_t num_stacks, const std::string& path, std::string_view table,
                 std::optional<StackId>* out) {
  auto v = ColumnOptInt(s, col);
  if (!v) {
    *out = std::nullopt;
    return OkStatus();
  }
  if (*v < 0 || *v >= num_stacks)
    return InvalidInput(fmt::format("{}: {} row {} refers to stack {}, which does not exist", path, table,
                                    sqlite3_column_int64(s, 0), *v));
  *out = StackId{static_cast<uint32_t>(*v)};
  return OkStatus();
}

// One `events` row as decoded, before its strings are interned (interning
// happens on the sink's thread: Tables is not shared between threads).
// Compact (about 120 bytes): read-ahead queues thousands of them, and
// copying them is part of the per-event cost.
struct EventRow {
  uint64_t id = 0, index = 0;
  int64_t size = 0, stream = 0, addr = 0, time_us = 0, device_free = 0;
  uint32_t device = 0;
  std::optional<StackId> stack, forward_stack;
  Action action = Action::kUnknown;
  bool host = false, has_addr = false, has_time = false, has_device_free = false, has_compile_context = false;
  // text = [action name, unknown actions only][compile_context][user_metadata]
  uint32_t action_len = 0, compile_context_len = 0;
  std::string text;
};

void SetOpt(sqlite3_stmt* s, int col, int64_t* value, bool* has) {
  *has = sqlite3_column_type(s, col) != SQLITE_NULL;
  *value = *has ? sqlite3_column_int64(s, col) : 0;
}

}  // namespace

bool IsSqliteFile(const std::string& path) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return false;
  char head[16] = {};
  ssize_t n = ::read(fd.get(), head, sizeof head);
  return n == 16 && std::memcmp(head, "SQLite format 3", 16) == 0;
}

namespace {

// "('meta', 'frames', ...)" of the schema's tables, for an SQL IN.
std::string TableNameList() {
  std::string s = "(";
  for (std::string_view t : kTableNames) s += fmt::format("{}'{}'", s.size() > 1 ? ", " : "", t);
  return s + ")";
}

}  // namespace

Status CheckMemtkDb(sqlite3* db, const std::string& path) {
  // Every table memtk reads must be a plain table, checked in the schema
  // before any of them is read: a view (or a virtual table) in its place
  // could compute rows without end (a recursive CTE) from a few bytes, and
  // a generated column a huge value per row (hex(zeroblob(N))), where a
  // table's rows and values are bounded by the file. Names compare as
  // SQLite resolves them, without case.
  const std::string names = TableNameList();
  std::string bad;
  RETURN_IF_ERROR(ForEachRow(
      db, path,
      fmt::format("SELECT name || ' is a ' || CASE WHEN type = 'table' THEN 'virtual table' ELSE type END || "
                  "', not a table' FROM sqlite_master WHERE name COLLATE NOCASE IN {0} AND (type != 'table' OR "
                  "sql LIKE 'CREATE VIRTUAL TABLE%') "
                  "UNION ALL SELECT m.name || '.' || x.name || ' is a generated column' FROM sqlite_master m, "
                  "pragma_table_xinfo(m.name) x WHERE m.type = 'table' AND m.name COLLATE NOCASE IN {0} AND "
                  "x.hidden IN (2, 3) LIMIT 1",
                  names),
      [&](sqlite3_stmt* s) {
        bad = std::string(ColumnText(s, 0));
        return OkStatus();
      }));
  if (!bad.empty()) return InvalidInput(fmt::format("{}: {}: not a database memtk wrote", path, bad));
  bool has_meta = false;
  Status meta = ForEachRow(db, path, "SELECT 1 FROM meta LIMIT 1", [&](sqlite3_stmt*) {
    has_meta = true;
    return OkStatus();
  });
  if (!meta.ok() || !has_meta) return InvalidInput(fmt::format("{}: not a memtk database (no meta table)", path));
  return OkStatus();
}

Status ReplayDb(const std::string& path, SnapshotSink* sink, const ReplayOptions& options) {
  ASSIGN_OR_RETURN(ScopedDb db, OpenDb(path, false, true));
  sqlite3* d = db.get();
  RETURN_IF_ERROR(CheckMemtkDb(d, path));
  ReadSummary summary;
  std::string site_rule;
  RETURN_IF_ERROR(ForEachRow(d, path, "SELECT key, value FROM meta", [&](sqlite3_stmt* s) {
    std::string_view k = ColumnText(s, 0), v = ColumnText(s, 1);
    if (k == "format") summary.format = std::string(v);
    if (k == "bare_segment_list") summary.bare_segment_list = v == "1" || v == "true";
    if (k == "bytes_decoded") summary.bytes = std::strtoull(std::string(v).c_str(), nullptr, 10);
    if (k == "site_rule") site_rule = std::string(v);
    return OkStatus();
  }));
  summary.format = fmt::format("memtk database ({})", summary.format);
  // The reader's data-problem counters, as convert counted them.
  RETURN_IF_ERROR(ForEachRow(d, path, "SELECT name, value FROM stats", [&](sqlite3_stmt* s) {
    for (size_t i = 0; i < static_cast<size_t>(Stat::kCount); ++i)
      if (GetStatInfo(static_cast<Stat>(i)).name == ColumnText(s, 0))
        summary.stats.Increment(static_cast<Stat>(i), static_cast<uint64_t>(sqlite3_column_int64(s, 1)));
    return OkStatus();
  }));

  Tables t;
  RETURN_IF_ERROR(sink->OnBegin(t));
  RETURN_IF_ERROR(ForEachRow(
      d, path, "SELECT id, filename, line, name, extra FROM frames ORDER BY id", [&](sqlite3_stmt* s) -> Status {
        if (sqlite3_column_int64(s, 0) != static_cast<int64_t>(t.frames.size()))
          return InvalidInput(fmt::format("{}: frames ids are not dense", path));
        Frame f;
        f.filename = t.strings.Intern(ColumnText(s, 1));
        f.line = sqlite3_column_int64(s, 2);
        f.name = t.strings.Intern(ColumnText(s, 3));
        f.extra = sqlite3_column_type(s, 4) == SQLITE_NULL ? kNoString : t.strings.Intern(ColumnText(s, 4));
        FrameId id{static_cast<uint32_t>(t.frames.size())};
        t.frames.push_back(f);
        return sink->OnFrame(id, f);
      }));
  // stack_frames is keyed (stack_id, position): one ordered scan rebuilds
  // every stack; stacks with no frames still get their (empty) entry.
  int64_t num_stacks = 0;
  RETURN_IF_ERROR(ForEachRow(d, path, "SELECT count(*) FROM stacks", [&](sqlite3_stmt* s) {
    num_stacks = sqlite3_column_int64(s, 0);
    return OkStatus();
  }));
  int64_t open = -1;  // the stack whose frames are being collected
  auto open_until = [&](int64_t stack) -> Status {
    while (open < stack) {
      if (open >= 0) {
        StackId id{static_cast<uint32_t>(open)};
        RETURN_IF_ERROR(sink->OnStack(id, t.GetStack(id)));
      }
      if (++open < num_stacks) t.stack_offsets.push_back(t.stack_frames.size());
    }
    return OkStatus();
  };
  // Call sites only: each stack is its stacks.site_frame_id (computed by the
  // same rule when the database was written), one row per stack instead of
  // one per frame of every stack.
  // Only when the stored sites were written by today's built-in rule: a
  // database from an older memtk replays whole stacks (slower, same answer).
  const bool sites_only = options.call_sites_only && site_rule == snapshot::kBuiltinSiteRule;
  const std::string stack_sql = sites_only
                                    ? "SELECT id, site_frame_id FROM stacks WHERE site_frame_id IS NOT NULL ORDER BY id"
                                    : "SELECT stack_id, frame_id FROM stack_frames ORDER BY stack_id, position";
  RETURN_IF_ERROR(ForEachRow(d, path, stack_sql, [&](sqlite3_stmt* s) -> Status {
    int64_t sid = sqlite3_column_int64(s, 0), fid = sqlite3_column_int64(s, 1);
    if (sid < open || sid >= num_stacks || fid < 0 || fid >= static_cast<int64_t>(t.frames.size()))
      return InvalidInput(fmt::format("{}: stack_frames refers to a missing row", path));
    RETURN_IF_ERROR(open_until(sid));
    t.stack_frames.push_back(FrameId{static_cast<uint32_t>(fid)});
    return OkStatus();
  }));
  RETURN_IF_ERROR(open_until(num_stacks));

  const std::string device_only =
      options.device ? fmt::format(" WHERE {{0}}device = {} AND {{0}}host = 0", *options.device) : std::string();
  if (options.segments) {
    RETURN_IF_ERROR(
        ForEachRow(d, path,
                   "SELECT id, device, host, address, total_size, allocated_size, active_size, requested_size, stream, "
                   "segment_type, pool_id, is_expandable, stack_id, num_blocks FROM segments" +
                       fmt::format(fmt::runtime(device_only), "") + " ORDER BY id",
                   [&](sqlite3_stmt* s) {
                     Segment g;
                     g.id = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
                     g.device = sqlite3_column_int64(s, 1);
                     g.host = sqlite3_column_int64(s, 2) != 0;
                     g.address = static_cast<uint64_t>(sqlite3_column_int64(s, 3));
                     g.total_size = sqlite3_column_int64(s, 4);
                     g.allocated_size = sqlite3_column_int64(s, 5);
                     g.active_size = sqlite3_column_int64(s, 6);
                     g.requested_size = sqlite3_column_int64(s, 7);
                     g.stream = sqlite3_column_int64(s, 8);
                     if (sqlite3_column_type(s, 9) != SQLITE_NULL) g.segment_type = t.strings.Intern(ColumnText(s, 9));
                     g.pool_id = ColumnText(s, 10);
                     if (auto e = ColumnOptInt(s, 11)) g.is_expandable = *e != 0;
                     RETURN_IF_ERROR(ReadStack(s, 12, num_stacks, path, "segments", &g.stack));
                     g.num_blocks = static_cast<uint32_t>(sqlite3_column_int64(s, 13));
                     ++summary.segments;
                     return sink->OnSegment(g);
                   }));
    RETURN_IF_ERROR(ForEachRow(d, path,
                               "SELECT b.id, b.segment_id, b.device, b.address, b.size, b.requested_size, b.state, "
                               "b.address_derived, b.stack_id, s.host FROM blocks b LEFT JOIN segments s ON s.id = "
                               "b.segment_id" +
                                   fmt::format(fmt::runtime(device_only), "s.") + " ORDER BY b.id",
                               [&](sqlite3_stmt* s) {
                                 Block b;
                                 b.id = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
                                 b.segment_id = static_cast<uint64_t>(sqlite3_column_int64(s, 1));
                                 b.device = sqlite3_column_int64(s, 2);
                                 b.address = static_cast<uint64_t>(sqlite3_column_int64(s, 3));
                                 b.size = sqlite3_column_int64(s, 4);
                                 b.requested_size = sqlite3_column_int64(s, 5);
                                 std::string_view state = ColumnText(s, 6);
                                 b.state = BlockStateFromName(state);
                                 b.state_name = t.strings.Intern(state);
                                 b.address_derived = sqlite3_column_int64(s, 7) != 0;
                                 RETURN_IF_ERROR(ReadStack(s, 8, num_stacks, path, "blocks", &b.stack));
                                 b.host = sqlite3_column_int64(s, 9) != 0;
                                 ++summary.blocks;
                                 return sink->OnBlock(b);
                               }));
  }
  // Events: decoded into an EventRow (on this thread, or on a second one
  // with read_ahead), then interned and sent from this thread.
  // The details (stream, forward stack, device_free, compile_context) come
  // last, so a replay without them reads and decodes fewer columns.
  const std::string events_sql =
      std::string("SELECT id, device, idx, host, action, addr, size, time_us, stack_id, user_metadata") +
      (options.event_details ? ", stream, forward_stack_id, device_free, compile_context" : "") + " FROM events" +
      (options.device ? fmt::format(" WHERE device = {} AND host = 0", *options.device) : std::string()) +
      " ORDER BY id";
  auto decode = [&](sqlite3_stmt* s, EventRow* r) -> Status {
    r->id = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
    r->device = static_cast<uint32_t>(sqlite3_column_int64(s, 1));
    r->index = static_cast<uint64_t>(sqlite3_column_int64(s, 2));
    r->host = sqlite3_column_int64(s, 3) != 0;
    std::string_view action = ColumnText(s, 4);
    r->action = ActionFromName(action);
    r->text.clear();
    if (r->action == Action::kUnknown) r->text = action;
    r->action_len = static_cast<uint32_t>(r->text.size());
    SetOpt(s, 5, &r->addr, &r->has_addr);
    r->size = sqlite3_column_int64(s, 6);
    SetOpt(s, 7, &r->time_us, &r->has_time);
    RETURN_IF_ERROR(ReadStack(s, 8, num_stacks, path, "events", &r->stack));
    r->has_compile_context = false;
    r->compile_context_len = 0;
    if (options.event_details) {
      r->stream = sqlite3_column_int64(s, 10);
      RETURN_IF_ERROR(ReadStack(s, 11, num_stacks, path, "events", &r->forward_stack));
      SetOpt(s, 12, &r->device_free, &r->has_device_free);
      r->has_compile_context = sqlite3_column_type(s, 13) != SQLITE_NULL;
      std::string_view cc = ColumnText(s, 13);
      r->text += cc;
      r->compile_context_len = static_cast<uint32_t>(cc.size());
    }
    r->text += ColumnText(s, 9);  // user_metadata
    return OkStatus();
  };
  // Known action names are interned once, not per row.
  std::array<std::optional<StringId>, kNumActions> action_ids{};
  TraceEvent e;
  auto emit = [&](const EventRow& r) -> Status {
    const std::string_view text(r.text);
    e.id = r.id;
    e.device = r.device;
    e.index = r.index;
    e.host = r.host;
    e.action = r.action;
    if (r.action == Action::kUnknown) {
      e.action_name = t.strings.Intern(text.substr(0, r.action_len));
    } else {
      auto& id = action_ids[static_cast<size_t>(r.action)];
      if (!id) id = t.strings.Intern(ActionName(r.action));
      e.action_name = *id;
    }
    e.addr = static_cast<uint64_t>(r.addr);
    e.has_addr = r.has_addr;
    e.size = r.size;
    e.stream = r.stream;
    e.time_us = r.has_time ? std::optional<int64_t>(r.time_us) : std::nullopt;
    e.stack = r.stack;
    e.forward_stack = r.forward_stack;
    e.device_free = r.has_device_free ? std::optional<int64_t>(r.device_free) : std::nullopt;
    e.compile_context =
        r.has_compile_context ? t.strings.Intern(text.substr(r.action_len, r.compile_context_len)) : kNoString;
    e.user_metadata = text.substr(r.action_len + r.compile_context_len);
    ++summary.events;
    return sink->OnEvent(e);
  };
  if (options.read_ahead) {
    RETURN_IF_ERROR(ForEachRowAhead<EventRow>(path, events_sql, decode, emit));
  } else {
    EventRow row;
    RETURN_IF_ERROR(ForEachRow(d, path, events_sql, [&](sqlite3_stmt* s) -> Status {
      RETURN_IF_ERROR(decode(s, &row));
      return emit(row);
    }));
  }
  RETURN_IF_ERROR(ForEachRow(
      d, path,
      "SELECT id, device, stage, name, time_us FROM annotations" +
          (options.device ? fmt::format(" WHERE device = {} OR device IS NULL", *options.device) : std::string()) +
          " ORDER BY id",
      [&](sqlite3_stmt* s) {
        Annotation a;
        a.id = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
        a.device = ColumnOptInt(s, 1);
        if (sqlite3_column_type(s, 2) != SQLITE_NULL) a.stage = t.strings.Intern(ColumnText(s, 2));
        if (sqlite3_column_type(s, 3) != SQLITE_NULL) a.name = t.strings.Intern(ColumnText(s, 3));
        a.time_us = ColumnOptInt(s, 4);
        ++summary.annotations;
        return sink->OnAnnotation(a);
      }));
  return sink->OnEnd(summary);
}

Status ReadInput(const std::string& path, SnapshotSink* sink, const ReadOptions& read, const ReplayOptions& replay) {
  if (path != "-" && IsSqliteFile(path)) return ReplayDb(path, sink, replay);
  return ReadSnapshot(path, sink, read);
}

}  // namespace memtk::store
