// Thin RAII over SQLite: one owner per sqlite3* and sqlite3_stmt*, errors as
// Status. Statements are prepared once and reset per row.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "memtk/base/scoped.h"
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

/// A prepared INSERT bound column by column: `row.Int(1, x).Text(2, s).Step()`.
class Row {
 public:
  Row(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  Row& Int(int col, int64_t v) {
    sqlite3_bind_int64(s_, col, v);
    return *this;
  }
  Row& Int(int col, std::optional<int64_t> v) {
    v ? sqlite3_bind_int64(s_, col, *v) : sqlite3_bind_null(s_, col);
    return *this;
  }
  Row& UInt(int col, std::optional<uint64_t> v) {
    v ? sqlite3_bind_int64(s_, col, static_cast<int64_t>(*v)) : sqlite3_bind_null(s_, col);
    return *this;
  }
  /// Empty text binds NULL when `null_if_empty`.
  Row& Text(int col, std::string_view v, bool null_if_empty = true) {
    if (v.empty() && null_if_empty) {
      sqlite3_bind_null(s_, col);
    } else {
      sqlite3_bind_text(s_, col, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    }
    return *this;
  }
  Status Step();

 private:
  sqlite3* db_;
  sqlite3_stmt* s_;
};

}  // namespace memtk::store
