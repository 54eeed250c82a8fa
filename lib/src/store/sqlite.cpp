#include "store/sqlite.h"

#include <fmt/format.h>

#include "store/read_only_sql.h"

namespace memtk::store {

int CloseDb(sqlite3* db) { return sqlite3_close_v2(db); }
int FinalizeStmt(sqlite3_stmt* s) { return sqlite3_finalize(s); }

StatusOr<ScopedDb> OpenDb(const std::string& path, bool create, bool read_only) {
  sqlite3* raw = nullptr;
  int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  ScopedDb db(raw);
  if (rc != SQLITE_OK)
    return IoError(fmt::format("{}: cannot open database: {}", path, raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  // A database opened to read is any file a user hands over: its schema
  // must not run anything (views, triggers, untrusted functions) for us.
  if (read_only) RETURN_IF_ERROR(HardenForUntrustedSql(db.get()).WithContext(path));
  return db;
}

Status Exec(sqlite3* db, std::string_view sql) {
  char* err = nullptr;
  std::string s(sql);
  if (sqlite3_exec(db, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    Status st = IoError(fmt::format("SQLite: {}", err ? err : "error"));
    sqlite3_free(err);
    return st;
  }
  return OkStatus();
}

StatusOr<ScopedStmt> Prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s, nullptr) !=
      SQLITE_OK)
    return InvalidInput(fmt::format("SQL error: {}", sqlite3_errmsg(db)));
  return ScopedStmt(s);
}

}  // namespace memtk::store
