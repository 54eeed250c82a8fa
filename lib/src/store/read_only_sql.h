// Untrusted SQL on a memtk database: `memtk query --sql`.
//
// A statement from the command line may only read. sqlite3_stmt_readonly()
// alone is not enough: it answers true for PRAGMA assignments
// (query_only=OFF, writable_schema=ON), SAVEPOINT/BEGIN/RELEASE and ATTACH,
// and a SELECT may call fts3_tokenizer(), which hands out a raw pointer.
// So the statement is prepared under an authorizer that allows an explicit
// list of actions (SELECT, reading columns, recursive CTEs, ordinary
// functions, and a few side-effect-free PRAGMAs), the connection is put in
// SQLITE_DBCONFIG_DEFENSIVE mode with untrusted schema, extension loading
// and the two-argument fts3_tokenizer off, and ATTACH is limited to zero
// databases. Anything refused is a usage error (exit 2) naming the action.
#pragma once

#include <string_view>

#include "memtk/base/status.h"
#include "store/sqlite.h"

namespace memtk::store {

/// Switches `db` (already opened read-only) into the hardened mode described
/// above. Call once, before preparing any untrusted statement.
Status HardenForUntrustedSql(sqlite3* db);

/// Prepares exactly one statement from `sql` that only reads. Whitespace,
/// semicolons and comments may follow it; a second statement may not.
/// Errors: "--sql: empty statement", "--sql: one statement at a time",
/// "--sql: only statements that read are allowed (<what> refused)" (all
/// usage errors), or "SQL error: <sqlite message>" for a statement SQLite
/// cannot compile.
StatusOr<ScopedStmt> PrepareReadOnly(sqlite3* db, std::string_view sql);

}  // namespace memtk::store
