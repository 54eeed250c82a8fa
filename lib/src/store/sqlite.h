// Thin RAII over SQLite: one owner per sqlite3* and sqlite3_stmt*, errors as
// Status. Statements are prepared once and reset per row.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/scoped.h"
#include "memtk/base/status.h"

namespace memtk::store {

int CloseDb(sqlite3* db);
int FinalizeStmt(sqlite3_stmt* s);
using ScopedDb = ScopedResource<sqlite3*, CloseDb, nullptr>;
using ScopedStmt = ScopedResource<sqlite3_stmt*, FinalizeStmt, nullptr>;

/// Opens (creating if asked) a database; `read_only` opens with SQLITE_OPEN_READONLY.
StatusOr<ScopedDb> OpenDb(const std::string& path, bool create, bool read_only);
/// Runs one or more statements that return no rows.
Status Exec(sqlite3* db, std::string_view sql);
StatusOr<ScopedStmt> Prepare(sqlite3* db, std::string_view sql);

/// Column `col` of the current row as text (empty for NULL); valid until the
/// next step.
inline std::string_view ColumnText(sqlite3_stmt* s, int col) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
  return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(s, col))) : std::string_view();
}
/// Column `col` as an integer, or nullopt for NULL.
inline std::optional<int64_t> ColumnOptInt(sqlite3_stmt* s, int col) {
  if (sqlite3_column_type(s, col) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(s, col);
}

/// Runs `sql` and calls row(stmt) -> Status per row; stops at the first
/// error. A statement SQLite refuses (a table a damaged file lacks) reads
/// "<path>: SQL error: <sqlite message>", a failing step "<path>: reading
/// database: <sqlite message>".
template <class F>
Status ForEachRow(sqlite3* db, const std::string& path, std::string_view sql, F&& row) {
  auto prepared = Prepare(db, sql);
  if (!prepared.ok()) return prepared.status().WithContext(path);  // a table a damaged file lacks
  ScopedStmt st = std::move(*prepared);
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) RETURN_IF_ERROR(row(st.get()));
  if (rc != SQLITE_DONE) return InvalidInput(std::string(path) + ": reading database: " + sqlite3_errmsg(db));
  return OkStatus();
}

}  // namespace memtk::store
