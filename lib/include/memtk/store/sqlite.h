// Thin RAII over SQLite: one owner per sqlite3* and sqlite3_stmt*, errors as
// Status. Statements are prepared once and reset per row.
#pragma once

#include <sqlite3.h>

#include <cstdint>
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

}  // namespace memtk::store
