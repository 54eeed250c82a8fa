// A memtk database opened for read-only questions (memtk query).
#include "store/query_db.h"

#include <fmt/format.h>

#include <cstdlib>
#include <regex>

#include "store/replay.h"
#include "store/snapshot_db.h"

namespace memtk::store {

namespace {

void StackMatchFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const auto* m = static_cast<const FrameMatch*>(sqlite3_user_data(ctx));
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_int(ctx, 0);
    return;
  }
  int64_t id = sqlite3_value_int64(argv[0]);
  sqlite3_result_int(ctx, id >= 0 && static_cast<uint64_t>(id) < m->stacks.size() && m->stacks[id]);
}

StatusOr<std::string> MetaValue(const Db& d, std::string_view key) {
  auto st = Prepare(d, "SELECT value FROM meta WHERE key = ?1");
  if (!st.ok()) return InvalidInput(fmt::format("{}: not a memtk database (no meta table)", d.path));
  sqlite3_bind_text(st->get(), 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
  if (sqlite3_step(st->get()) != SQLITE_ROW) return std::string();
  const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(st->get(), 0));
  return std::string(t ? t : "");
}

void SiteFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto* f = static_cast<SiteFunctions*>(sqlite3_user_data(ctx));
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  int64_t id = sqlite3_value_int64(argv[0]);
  if (id < 0 || static_cast<uint64_t>(id) >= f->labels.size()) {
    sqlite3_result_null(ctx);
    return;
  }
  if (!f->known[id]) {
    // An empty stack has no site: NULL, as before (a LEFT JOIN on no frame).
    const snapshot::Site& site = f->frames.SiteOf(StackId{static_cast<uint32_t>(id)});
    f->labels[id] = site.frame ? f->frames.SiteFrameLabel(site) : std::string();
    f->known[id] = site.frame ? 1 : 2;
  }
  if (f->known[id] == 2) {
    sqlite3_result_null(ctx);
    return;
  }
  const std::string& s = f->labels[id];
  sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
}

void FrameKindFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto* f = static_cast<SiteFunctions*>(sqlite3_user_data(ctx));
  int64_t id = sqlite3_value_type(argv[0]) == SQLITE_NULL ? -1 : sqlite3_value_int64(argv[0]);
  if (id < 0 || static_cast<uint64_t>(id) >= f->tables.num_frames()) {
    sqlite3_result_null(ctx);
    return;
  }
  std::string_view k = snapshot::FrameKindName(f->frames.Kind(FrameId{static_cast<uint32_t>(id)}));
  sqlite3_result_text(ctx, k.data(), static_cast<int>(k.size()), SQLITE_STATIC);
}

}  // namespace

Status RegisterSiteFunctions(const Db& d, SiteFunctions* f) {
  snapshot::Tables& t = f->tables;
  ASSIGN_OR_RETURN(ScopedStmt frames, Prepare(d, "SELECT id, filename, line, name FROM frames ORDER BY id"));
  while (sqlite3_step(frames.get()) == SQLITE_ROW) {
    if (sqlite3_column_int64(frames.get(), 0) != static_cast<int64_t>(t.frames.size()))
      return InvalidInput(fmt::format("{}: frames ids are not dense", d.path));
    snapshot::Frame fr;
    fr.filename = t.strings.Intern(ColumnText(frames.get(), 1));
    fr.line = sqlite3_column_int64(frames.get(), 2);
    fr.name = t.strings.Intern(ColumnText(frames.get(), 3));
    fr.extra = snapshot::kNoString;
    t.frames.push_back(fr);
  }
  ASSIGN_OR_RETURN(auto count, Ints(d, "SELECT count(*) FROM stacks"));
  const int64_t num_stacks = count.empty() ? 0 : count[0];
  ASSIGN_OR_RETURN(ScopedStmt sf,
                   Prepare(d, "SELECT stack_id, frame_id FROM stack_frames ORDER BY stack_id, position"));
  // Rebuilds every stack in one ordered scan, as the replay does; stacks
  // without frames get their empty entry.
  int64_t open = 0;
  while (sqlite3_step(sf.get()) == SQLITE_ROW) {
    int64_t s = sqlite3_column_int64(sf.get(), 0), fr = sqlite3_column_int64(sf.get(), 1);
    if (s < open - 1 || s >= num_stacks || fr < 0 || fr >= static_cast<int64_t>(t.frames.size()))
      return InvalidInput(fmt::format("{}: stack_frames refers to a missing row", d.path));
    while (open <= s) {
      t.stack_offsets.push_back(t.stack_frames.size());
      ++open;
    }
    t.stack_frames.push_back(FrameId{static_cast<uint32_t>(fr)});
  }
  while (open < num_stacks) {
    t.stack_offsets.push_back(t.stack_frames.size());
    ++open;
  }
  f->frames.Reset(&t);
  f->labels.assign(static_cast<size_t>(num_stacks), std::string());
  f->known.assign(static_cast<size_t>(num_stacks), 0);
  for (auto [name, fn] : {std::pair{"memtk_site", &SiteFn}, std::pair{"memtk_frame_kind", &FrameKindFn}})
    if (sqlite3_create_function_v2(d.db.get(), name, 1, SQLITE_UTF8, f, fn, nullptr, nullptr, nullptr) != SQLITE_OK)
      return IoError(fmt::format("SQLite: {}", sqlite3_errmsg(d.db.get())));
  return OkStatus();
}

StatusOr<ScopedStmt> Prepare(const Db& d, std::string_view sql) {
  auto st = store::Prepare(d.db.get(), sql);
  if (!st.ok()) return st.status().WithContext(d.path);
  return st;
}

StatusOr<Db> OpenQueryDb(const std::string& file, const std::string& path) {
  Db d;
  d.path = path;
  // OpenDb hardens every connection it opens to read (HardenForUntrustedSql).
  ASSIGN_OR_RETURN(d.db, store::OpenDb(file, false, true));
  // Belt and braces on top of SQLITE_OPEN_READONLY.
  RETURN_IF_ERROR(store::Exec(d.db.get(), "PRAGMA query_only=1"));
  RETURN_IF_ERROR(store::CheckMemtkDb(d.db.get(), path));
  ASSIGN_OR_RETURN(std::string version, MetaValue(d, "schema_version"));
  if (version.empty()) return InvalidInput(fmt::format("{}: not a memtk database (no schema_version in meta)", path));
  if (std::atoi(version.c_str()) < store::kSchemaVersion)
    return InvalidInput(fmt::format("{}: database schema {} is older than this memtk's {}: convert the snapshot again",
                                    path, version, store::kSchemaVersion));
  return d;
}

StatusOr<std::vector<int64_t>> Ints(const Db& d, std::string_view sql) {
  ASSIGN_OR_RETURN(ScopedStmt st, Prepare(d, sql));
  std::vector<int64_t> v;
  while (sqlite3_step(st.get()) == SQLITE_ROW) v.push_back(sqlite3_column_int64(st.get(), 0));
  return v;
}

Status BuildFrameMatch(const Db& d, const std::string& pattern, FrameMatch* m) {
  std::regex re;
  try {
    re = std::regex(pattern, std::regex::ECMAScript | std::regex::optimize);
  } catch (const std::regex_error& e) {
    return UsageError(fmt::format("--frame: invalid regular expression '{}': {}", pattern, e.what()));
  }
  ASSIGN_OR_RETURN(ScopedStmt frames, Prepare(d, "SELECT id, filename || ':' || line || ':' || name FROM frames"));
  std::vector<bool> frame_hit;
  while (sqlite3_step(frames.get()) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(frames.get(), 0);
    const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(frames.get(), 1));
    if (id < 0) continue;
    if (frame_hit.size() <= static_cast<size_t>(id)) frame_hit.resize(static_cast<size_t>(id) + 1);
    frame_hit[id] = t != nullptr && std::regex_search(t, re);
  }
  ASSIGN_OR_RETURN(ScopedStmt sf, Prepare(d, "SELECT stack_id, frame_id FROM stack_frames"));
  while (sqlite3_step(sf.get()) == SQLITE_ROW) {
    int64_t s = sqlite3_column_int64(sf.get(), 0), f = sqlite3_column_int64(sf.get(), 1);
    if (s < 0 || f < 0 || static_cast<size_t>(f) >= frame_hit.size() || !frame_hit[f]) continue;
    if (m->stacks.size() <= static_cast<size_t>(s)) m->stacks.resize(static_cast<size_t>(s) + 1);
    m->stacks[s] = true;
  }
  if (sqlite3_create_function_v2(d.db.get(), "memtk_stack_match", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, m,
                                 StackMatchFn, nullptr, nullptr, nullptr) != SQLITE_OK)
    return IoError(fmt::format("SQLite: {}", sqlite3_errmsg(d.db.get())));
  return OkStatus();
}

}  // namespace memtk::store
