#include "store/read_only_sql.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <string>

namespace memtk::store {

namespace {

// PRAGMAs that only report. A PRAGMA with a value is an assignment unless it
// is one of the few that take a table or index name as an argument.
constexpr std::array<std::string_view, 18> kReadPragmas = {
    "table_info",       "table_xinfo",   "table_list",     "index_list",     "index_info",  "index_xinfo",
    "foreign_key_list", "database_list", "collation_list", "function_list",  "module_list", "pragma_list",
    "compile_options",  "page_count",    "page_size",      "freelist_count", "encoding",    "integrity_check"};
constexpr std::array<std::string_view, 7> kPragmasWithArgument = {
    "table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list", "integrity_check"};

// Functions a read-only statement has no business calling: fts3_tokenizer
// with one argument returns the address of a C struct (a pointer leak);
// load_extension runs native code.
constexpr std::array<std::string_view, 2> kRefusedFunctions = {"fts3_tokenizer", "load_extension"};

bool Contains(auto& list, const char* name) {
  if (name == nullptr) return false;
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::find(list.begin(), list.end(), lower) != list.end();
}

struct Refusal {
  std::string what;  // first action refused, for the message
};

const char* ActionName(int action) {
  switch (action) {
    case SQLITE_ATTACH:
      return "ATTACH";
    case SQLITE_DETACH:
      return "DETACH";
    case SQLITE_TRANSACTION:
      return "a transaction statement";
    case SQLITE_SAVEPOINT:
      return "SAVEPOINT";
    case SQLITE_INSERT:
      return "INSERT";
    case SQLITE_UPDATE:
      return "UPDATE";
    case SQLITE_DELETE:
      return "DELETE";
    case SQLITE_ANALYZE:
      return "ANALYZE";
    case SQLITE_REINDEX:
      return "REINDEX";
    case SQLITE_ALTER_TABLE:
      return "ALTER TABLE";
    default:
      return "a statement that writes";
  }
}

int Authorize(void* user, int action, const char* a1, const char* a2, const char*, const char*) {
  auto* refusal = static_cast<Refusal*>(user);
  auto deny = [&](std::string what) {
    if (refusal->what.empty()) refusal->what = std::move(what);
    return SQLITE_DENY;
  };
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_FUNCTION:
      // a2 is the function's name (a1 is unused for functions).
      if (Contains(kRefusedFunctions, a2)) return deny(fmt::format("{}()", a2));
      return SQLITE_OK;
    case SQLITE_UPDATE:
      // Reading a table-valued pragma (pragma_table_info(...)) registers an
      // eponymous virtual table, which SQLite authorizes as an UPDATE of
      // sqlite_master columns. A real UPDATE of sqlite_master is still
      // refused: sqlite3_stmt_readonly() is false for it.
      if (a1 != nullptr && std::strcmp(a1, "sqlite_master") == 0) return SQLITE_OK;
      return deny("UPDATE");
    case SQLITE_PRAGMA:
      if (Contains(kReadPragmas, a1) && (a2 == nullptr || Contains(kPragmasWithArgument, a1))) return SQLITE_OK;
      return deny(a2 ? fmt::format("PRAGMA {}={}", a1, a2) : fmt::format("PRAGMA {}", a1 ? a1 : "?"));
    default:
      return deny(ActionName(action));
  }
}

bool OnlyCommentsLeft(sqlite3* db, const char* tail) {
  // SQLite itself decides what a comment is: preparing the rest yields no
  // statement when only whitespace, ';' and comments remain.
  if (tail == nullptr || *tail == '\0') return true;
  sqlite3_stmt* next = nullptr;
  const char* rest = nullptr;
  int rc = sqlite3_prepare_v2(db, tail, -1, &next, &rest);
  ScopedStmt owned(next);
  return rc == SQLITE_OK && next == nullptr;
}

}  // namespace

Status HardenForUntrustedSql(sqlite3* db) {
  for (int op :
       {SQLITE_DBCONFIG_DEFENSIVE, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER,
        SQLITE_DBCONFIG_TRUSTED_SCHEMA, SQLITE_DBCONFIG_ENABLE_TRIGGER, SQLITE_DBCONFIG_ENABLE_VIEW}) {
    // Defensive on; everything else off (views and triggers: a foreign
    // database's schema must not run statements on our behalf).
    int on = op == SQLITE_DBCONFIG_DEFENSIVE ? 1 : 0;
    if (sqlite3_db_config(db, op, on, nullptr) != SQLITE_OK)
      return IoError(fmt::format("SQLite: cannot harden the connection: {}", sqlite3_errmsg(db)));
  }
  sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
  // No value memtk writes is longer than 64 KiB (pickle::kMaxJsonBytes);
  // 16 MiB bounds what a hostile schema or statement can build per value.
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 16 << 20);
  return OkStatus();
}

StatusOr<ScopedStmt> PrepareReadOnly(sqlite3* db, std::string_view sql) {
  Refusal refusal;
  sqlite3_set_authorizer(db, Authorize, &refusal);
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, &tail);
  ScopedStmt st(raw);
  const std::string refused = refusal.what;
  // The tail is checked under the authorizer too, then it goes: memtk's own
  // statements on this connection are not subject to it.
  std::string rest;
  if (rc == SQLITE_OK && tail != nullptr) rest.assign(tail, sql.data() + sql.size() - tail);
  const bool single = rc != SQLITE_OK || OnlyCommentsLeft(db, rest.c_str());
  sqlite3_set_authorizer(db, nullptr, nullptr);
  if (!refused.empty())
    return UsageError(fmt::format("--sql: only statements that read are allowed ({} refused)", refused));
  if (rc != SQLITE_OK) return InvalidInput(fmt::format("SQL error: {}", sqlite3_errmsg(db)));
  if (raw == nullptr) return UsageError("--sql: empty statement");
  if (!single) return UsageError("--sql: one statement at a time");
  if (!sqlite3_stmt_readonly(raw)) return UsageError("--sql: only statements that read are allowed");
  return st;
}

}  // namespace memtk::store
