// `query --sql` must refuse every statement that is not a read (issue #16:
// PRAGMA query_only=OFF, PRAGMA writable_schema=ON, SAVEPOINT and ATTACH
// were accepted, and fts3_tokenizer() leaked a pointer), while comments
// after the statement are fine.
#include "store/read_only_sql.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "store/sqlite.h"

using namespace memtk;
using namespace memtk::store;

namespace {

struct ReadOnlyDb {
  std::string path;
  ScopedDb db;
  ReadOnlyDb() {
    char templ[] = "/tmp/memtk-ro-XXXXXX";
    int fd = ::mkstemp(templ);
    ::close(fd);
    path = templ;
    {
      auto w = OpenDb(path, true, false);
      REQUIRE(w.ok());
      REQUIRE(Exec(w->get(),
                   "CREATE TABLE events(id INTEGER PRIMARY KEY, size INTEGER);"
                   "INSERT INTO events VALUES (1, 10), (2, 20);"
                   "CREATE INDEX events_size ON events(size);")
                  .ok());
    }
    auto r = OpenDb(path, false, true);
    REQUIRE(r.ok());
    db = std::move(*r);
    REQUIRE(HardenForUntrustedSql(db.get()).ok());
  }
  ~ReadOnlyDb() { ::unlink(path.c_str()); }
};

}  // namespace

TEST_CASE("every statement that is not a read is refused with exit 2", "[read_only_sql]") {
  ReadOnlyDb d;
  const char* sql = GENERATE(
      "PRAGMA query_only=OFF", "PRAGMA writable_schema=ON", "PRAGMA writable_schema = 1", "SAVEPOINT x", "RELEASE x",
      "BEGIN", "COMMIT", "ATTACH '/tmp/memtk-attach.db' AS x", "DETACH x", "SELECT fts3_tokenizer('simple')",
      "SELECT load_extension('x')", "DELETE FROM events", "INSERT INTO events VALUES (3, 1)",
      "UPDATE events SET size = 0", "CREATE TABLE t(x)", "DROP TABLE events", "VACUUM", "ANALYZE", "REINDEX",
      "PRAGMA user_version=7", "PRAGMA journal_mode=WAL", "PRAGMA schema_version=1", "ALTER TABLE events ADD COLUMN y",
      "PRAGMA writable_schema=ON; UPDATE sqlite_master SET sql = ''");
  CAPTURE(sql);
  auto st = PrepareReadOnly(d.db.get(), sql);
  REQUIRE_FALSE(st.ok());
  CHECK(st.status().code() == StatusCode::kUsage);
  CHECK(st.status().message().rfind("--sql: only statements that read are allowed", 0) == 0);
  CHECK(::access("/tmp/memtk-attach.db", F_OK) != 0);
}

TEST_CASE("the schema cannot be written even through the table-valued pragma loophole", "[read_only_sql]") {
  ReadOnlyDb d;
  // SQLite itself refuses to compile this (exit 1, "SQL error: ...").
  CHECK_FALSE(PrepareReadOnly(d.db.get(), "UPDATE sqlite_master SET sql = ''").ok());
}

TEST_CASE("the refusal names what was refused", "[read_only_sql]") {
  ReadOnlyDb d;
  CHECK(PrepareReadOnly(d.db.get(), "PRAGMA query_only=OFF").status().message() ==
        "--sql: only statements that read are allowed (PRAGMA query_only=OFF refused)");
  CHECK(PrepareReadOnly(d.db.get(), "SELECT fts3_tokenizer('simple')").status().message() ==
        "--sql: only statements that read are allowed (fts3_tokenizer() refused)");
  CHECK(PrepareReadOnly(d.db.get(), "SAVEPOINT a").status().message() ==
        "--sql: only statements that read are allowed (SAVEPOINT refused)");
}

TEST_CASE("reads pass, with trailing semicolons and comments", "[read_only_sql]") {
  ReadOnlyDb d;
  const char* sql =
      GENERATE("SELECT sum(size) FROM events", "SELECT 1;", "SELECT 1; -- why", "SELECT 1 /* a */ ; /* b */ ;\n-- c\n",
               "PRAGMA table_info(events)", "PRAGMA page_count", "SELECT * FROM pragma_table_info('events')",
               "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3) "
               "SELECT count(*) FROM n");
  CAPTURE(sql);
  auto st = PrepareReadOnly(d.db.get(), sql);
  CAPTURE(st.status().message());
  REQUIRE(st.ok());
  CHECK(sqlite3_step(st->get()) == SQLITE_ROW);
}

TEST_CASE("one statement at a time; empty and broken statements", "[read_only_sql]") {
  ReadOnlyDb d;
  CHECK(PrepareReadOnly(d.db.get(), "SELECT 1; SELECT 2").status().message() == "--sql: one statement at a time");
  CHECK(PrepareReadOnly(d.db.get(), "SELECT 1; -- x\nSELECT 2").status().message() == "--sql: one statement at a time");
  CHECK(PrepareReadOnly(d.db.get(), " -- nothing").status().message() == "--sql: empty statement");
  auto bad = PrepareReadOnly(d.db.get(), "SELEKT 1");
  CHECK(bad.status().code() == StatusCode::kInvalidInput);
  CHECK(bad.status().message().rfind("SQL error: ", 0) == 0);
  // Memtk's own statements on the connection are not under the authorizer.
  CHECK(Exec(d.db.get(), "PRAGMA query_only=1").ok());
}
