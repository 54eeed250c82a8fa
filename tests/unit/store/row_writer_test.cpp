// RowWriter: exact CSV/JSON/table text, streaming, and stopping on a closed pipe.
#include "memtk/store/row_writer.h"

#include <catch2/catch.hpp>

#include "store/sqlite.h"

using namespace memtk;
using namespace memtk::store;

namespace {

struct Fixture {
  Fixture() {
    db = std::move(OpenDb(":memory:", true, false).value());
    REQUIRE(Exec(db.get(),
                 "CREATE TABLE t(i INTEGER, r REAL, s TEXT);"
                 "INSERT INTO t VALUES (1, 0.5, 'plain'), (-7, NULL, 'a,b \"q\"'), (NULL, 2.0, 'line\nbreak');")
                .ok());
  }
  std::string Run(RowFormat f, const char* sql = "SELECT * FROM t", uint64_t limit = UINT64_MAX) {
    std::string out;
    RowWriter w(f, [&](std::string_view s) {
      out.append(s);
      return OkStatus();
    });
    auto st = Prepare(db.get(), sql);
    REQUIRE(st.ok());
    auto rows = w.Run(db.get(), st->get(), limit);
    REQUIRE(rows.ok());
    return out;
  }
  ScopedDb db;
};

}  // namespace

TEST_CASE("CSV quotes what needs quoting, NULL is empty", "[row_writer]") {
  Fixture f;
  CHECK(f.Run(RowFormat::kCsv) == "i,r,s\n1,0.5,plain\n-7,,\"a,b \"\"q\"\"\"\n,2,\"line\nbreak\"\n");
}

TEST_CASE("JSON lines keep types", "[row_writer]") {
  Fixture f;
  CHECK(f.Run(RowFormat::kJson) ==
        "{\"i\":1,\"r\":0.5,\"s\":\"plain\"}\n"
        "{\"i\":-7,\"r\":null,\"s\":\"a,b \\\"q\\\"\"}\n"
        "{\"i\":null,\"r\":2,\"s\":\"line\\nbreak\"}\n");
}

TEST_CASE("table aligns numbers right and text left; limit stops early", "[row_writer]") {
  Fixture f;
  CHECK(f.Run(RowFormat::kTable, "SELECT i, s FROM t WHERE i IS NOT NULL", 1) ==
        "i  s\n"
        "-  -----\n"
        "1  plain\n");
}

TEST_CASE("an empty result still has a header", "[row_writer]") {
  Fixture f;
  CHECK(f.Run(RowFormat::kCsv, "SELECT i FROM t WHERE 0") == "i\n");
}

TEST_CASE("a closed pipe stops the statement", "[row_writer]") {
  Fixture f;
  REQUIRE(Exec(f.db.get(),
               "CREATE TABLE big AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
               "LIMIT 200000) SELECT x FROM c")
              .ok());
  int calls = 0;
  RowWriter w(RowFormat::kCsv, [&](std::string_view) {
    ++calls;
    return ClosedPipe();
  });
  auto st = Prepare(f.db.get(), "SELECT x FROM big");
  REQUIRE(st.ok());
  auto rows = w.Run(f.db.get(), st->get());
  REQUIRE(!rows.ok());
  CHECK(IsClosedPipe(rows.status()));
  CHECK(calls == 1);  // no further writes after the pipe closed
}

TEST_CASE("a long table cell is cut in the middle, but in the last column", "[row_writer]") {
  Fixture f;
  const std::string path = "/opt/conda/lib/python3.11/site-packages/torch/nn/modules/module.py";  // 66 chars
  const std::string sql = "SELECT '" + path + "' AS file, 1 AS line, '" + path + "' AS last";
  const std::string out = f.Run(RowFormat::kTable, sql.c_str());
  // 30 code points, "…", 29 code points: 60 columns.
  const std::string cut = path.substr(0, 30) + "\u2026" + path.substr(path.size() - 29);
  CHECK(out.find(cut + "     1  " + path + "\n") != std::string::npos);
  // CSV keeps every value whole.
  CHECK(f.Run(RowFormat::kCsv, sql.c_str()) == "file,line,last\n" + path + ",1," + path + "\n");
}

TEST_CASE("a TableCellFormat rewrites table cells only", "[row_writer]") {
  struct Kib : TableCellFormat {
    void Columns(const std::vector<std::string>& names) override { CHECK(names[0] == "i"); }
    void Row(sqlite3_stmt* stmt, std::vector<std::string>* cells, std::vector<bool>* right) override {
      if (sqlite3_column_type(stmt, 0) == SQLITE_INTEGER) (*cells)[0] = "#" + (*cells)[0];
      (*right)[1] = true;  // right-aligned from now on
    }
  } kib;
  Fixture f;
  std::string table, csv;
  for (auto [format, out] : {std::pair{RowFormat::kTable, &table}, std::pair{RowFormat::kCsv, &csv}}) {
    RowWriter w(format, [out](std::string_view s) {
      out->append(s);
      return OkStatus();
    });
    w.SetTableFormat(&kib);
    auto st = Prepare(f.db.get(), "SELECT i, s FROM t WHERE i IS NOT NULL");
    REQUIRE(st.ok());
    REQUIRE(w.Run(f.db.get(), st->get()).ok());
  }
  CHECK(table.find("#1") != std::string::npos);
  CHECK(table.find("#-7") != std::string::npos);
  CHECK(csv == "i,s\n1,plain\n-7,\"a,b \"\"q\"\"\"\n");
}
