// The row pipe: rows recorded on one thread, inserted on another, grouped by
// statement variant (short rows, SQLite-assigned ids). Whatever the grouping,
// the table must hold exactly the rows recorded.
#include "store/row_pipe.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "store/row_ahead.h"
#include "store/sqlite.h"

using memtk::store::RowPipe;

namespace {

std::string Dump(sqlite3* db, const char* sql) {
  std::string out;
  auto st = memtk::store::Prepare(db, sql);
  REQUIRE(st.ok());
  sqlite3_stmt* s = st.value().get();
  while (sqlite3_step(s) == SQLITE_ROW) {
    for (int c = 0; c < sqlite3_column_count(s); ++c) {
      if (c) out += '|';
      const unsigned char* t = sqlite3_column_text(s, c);
      out += t ? reinterpret_cast<const char*>(t) : "NULL";
    }
    out += '\n';
  }
  return out;
}

}  // namespace

TEST_CASE("row pipe inserts exactly the recorded rows, across batches and variants", "[store]") {
  auto db = memtk::store::OpenDb(":memory:", true, false);
  REQUIRE(db.ok());
  sqlite3* h = db.value().get();
  REQUIRE(memtk::store::Exec(h,
                             "CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER, b TEXT, c INTEGER, d TEXT);"
                             "CREATE TABLE u(k TEXT PRIMARY KEY, v TEXT);")
              .ok());
  std::string expect_t, expect_u;
  {
    RowPipe pipe;
    // t: dense ids with gaps, short rows (c, d NULL) mixed with full ones.
    REQUIRE(pipe.Start(h, {{.name = "t", .short_columns = 3, .dense_ids = true},
                           {.name = "u", .verb = "INSERT OR REPLACE"}})
                .ok());
    int64_t id = 0;
    for (int i = 0; i < 20000; ++i) {
      id += (i % 997 == 5) ? 3 : 1;  // occasional gaps: explicit ids again
      const bool full = i % 101 == 0;
      const std::string b = i % 7 ? "alloc" : "";
      pipe.Begin(0).Int(id).Int(i * 3).Text(b);
      if (full) {
        pipe.Int(int64_t{i}).Text("x" + std::to_string(i));
        expect_t += std::to_string(id) + "|" + std::to_string(i * 3) + "|" + (b.empty() ? "NULL" : b) + "|" +
                    std::to_string(i) + "|x" + std::to_string(i) + "\n";
      } else {
        pipe.Null().Null();
        expect_t += std::to_string(id) + "|" + std::to_string(i * 3) + "|" + (b.empty() ? "NULL" : b) + "|NULL|NULL\n";
      }
      REQUIRE(pipe.End().ok());
      if (i % 5000 == 0) {  // replaced keys: the last value wins
        REQUIRE(pipe.Begin(1).Text("k").Text(std::to_string(i)).End().ok());
      }
    }
    expect_u = "k|15000\n";
    REQUIRE(pipe.Finish().ok());
  }
  CHECK(Dump(h, "SELECT * FROM t ORDER BY id") == expect_t);
  CHECK(Dump(h, "SELECT * FROM u") == expect_u);
}

TEST_CASE("row pipe reports a failed insert and stops", "[store]") {
  auto db = memtk::store::OpenDb(":memory:", true, false);
  REQUIRE(db.ok());
  sqlite3* h = db.value().get();
  REQUIRE(memtk::store::Exec(h, "CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER)").ok());
  RowPipe pipe;
  REQUIRE(pipe.Start(h, {{.name = "t"}}).ok());
  for (int i = 0; i < 10; ++i) REQUIRE(pipe.Begin(0).Int(int64_t{1}).Int(int64_t{i}).End().ok());
  memtk::Status s = pipe.Finish();
  REQUIRE_FALSE(s.ok());
  CHECK(s.message() == "SQLite write failed: UNIQUE constraint failed: t.id");
}

// ForEachRowAhead: rows stepped on a second connection and thread, consumed
// here in order.
TEST_CASE("rows read ahead arrive in order, and errors from either side stop the query", "[store]") {
  const std::string path = "/tmp/memtk_row_ahead_test.db";
  ::unlink(path.c_str());
  {
    auto db = memtk::store::OpenDb(path, true, false);
    REQUIRE(db.ok());
    REQUIRE(memtk::store::Exec(db.value().get(),
                               "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
                               "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
                               "INSERT INTO t SELECT i, CASE WHEN i % 7 = 0 THEN 'x' || i END FROM n;")
                .ok());
  }
  struct Row {
    int64_t id = 0;
    std::string v;
  };
  auto decode = [](sqlite3_stmt* s, Row* r) {
    r->id = sqlite3_column_int64(s, 0);
    r->v = memtk::store::ColumnText(s, 1);
    return memtk::OkStatus();
  };
  // 20,001 rows: several full batches and a partial one.
  int64_t next = 0;
  memtk::Status s = memtk::store::ForEachRowAhead<Row>(path, "SELECT id, v FROM t ORDER BY id", decode,
                                                       [&](const Row& r) {
                                                         if (r.id != next) return memtk::InvalidInput("out of order");
                                                         if (r.v != (r.id % 7 ? "" : "x" + std::to_string(r.id)))
                                                           return memtk::InvalidInput("wrong text");
                                                         ++next;
                                                         return memtk::OkStatus();
                                                       });
  CHECK(s.ok());
  CHECK(next == 20001);

  // The consumer stops early: its error comes back, the reader is released.
  int seen = 0;
  s = memtk::store::ForEachRowAhead<Row>(path, "SELECT id, v FROM t ORDER BY id", decode, [&](const Row&) {
    return ++seen == 5000 ? memtk::InvalidInput("enough") : memtk::OkStatus();
  });
  CHECK(s.message() == "enough");
  CHECK(seen == 5000);

  // The reader fails: its error, naming the file, after the rows before it.
  s = memtk::store::ForEachRowAhead<Row>(path, "SELECT id, v FROM missing", decode,
                                         [&](const Row&) { return memtk::OkStatus(); });
  CHECK(!s.ok());
  CHECK(s.message().find("no such table: missing") != std::string::npos);
  ::unlink(path.c_str());
}
