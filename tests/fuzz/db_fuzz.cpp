// libFuzzer target for a memtk database read back: the replay (every
// ReplayOptions variant), `stats` on it, `query`'s questions and
// `render-png`'s views. Built with -DMEMTK_FUZZ=ON and clang; without it,
// fuzz_replay.cpp replays the committed corpus under ctest.
//
// SQLite guards its own file format, so the input is not a file image but a
// list of edits to a real database that `memtk convert` wrote from
// data/small.pickle: a cell set to NULL, a small, huge or negative integer,
// text with control characters, a real (NaN too), a blob; a row deleted or
// copied; a table emptied or dropped, turned into a view of itself under
// another case, or given a generated column. Random bytes of a file image would
// almost never reach what memtk itself trusts in a database it reads (ids
// that point nowhere, counts that lie, kinds that are not theirs); edits
// reach every table and column on the first run.
//
// Checked beyond "no crash, no sanitizer report": a replay with rows read
// ahead on a second thread gives the same records (or the same error) as
// the plain replay, and every replay error is one line that names the file.
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "memtk/analysis/snapshot_stats.h"
#include "memtk/commands/convert.h"
#include "memtk/commands/query.h"
#include "memtk/commands/render.h"
#include "memtk/present/snapshot_stats.h"
#include "record_text.h"
#include "store/replay.h"

namespace {

// The edits' reader: past the end every value is 0, so any input is a
// whole list of edits.
class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  bool empty() const { return p_ == end_; }
  uint8_t U8() { return p_ == end_ ? 0 : *p_++; }
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | U8();
    return v;
  }
  std::string Take(size_t n) {
    n = std::min<size_t>(n, static_cast<size_t>(end_ - p_));
    std::string s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

struct Table {
  std::string name;
  std::vector<std::string> columns;
  std::string key;  // the row's key as an SQL expression: "rowid", or "(a, b)"
};

std::string TempDir() {
  const char* t = std::getenv("TMPDIR");
  return t != nullptr && *t != '\0' ? t : "/tmp";
}
std::string TemplatePath() { return fmt::format("{}/memtk-db-fuzz-{}.template.db", TempDir(), ::getpid()); }
std::string InputPath() { return fmt::format("{}/memtk-db-fuzz-{}.db", TempDir(), ::getpid()); }

// The database every input edits, written once per process.
const std::string& TemplateBytes() {
  static const std::string bytes = [] {
    const std::string path = TemplatePath();
    auto r = memtk::commands::ConvertOne(std::string(MEMTK_DATA_DIR) + "/small.pickle", path, {});
    if (!r.status.ok()) __builtin_trap();
    std::ifstream f(path, std::ios::binary);
    std::string b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    ::unlink(path.c_str());
    return b;
  }();
  return bytes;
}

void Exec(sqlite3* db, const std::string& sql) { sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr); }

std::vector<Table> Tables(sqlite3* db) {
  std::vector<Table> tables;
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name", -1, &s, nullptr);
  while (s != nullptr && sqlite3_step(s) == SQLITE_ROW) {
    Table t;
    t.name = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    const char* sql = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
    const bool rowid = sql == nullptr || std::strstr(sql, "WITHOUT ROWID") == nullptr;
    tables.push_back(std::move(t));
    tables.back().key = rowid ? "rowid" : "";
  }
  sqlite3_finalize(s);
  for (Table& t : tables) {
    std::vector<std::string> pk;
    sqlite3_stmt* c = nullptr;
    sqlite3_prepare_v2(db, fmt::format("PRAGMA table_info(\"{}\")", t.name).c_str(), -1, &c, nullptr);
    while (c != nullptr && sqlite3_step(c) == SQLITE_ROW) {
      t.columns.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(c, 1)));
      if (sqlite3_column_int(c, 5) > 0) pk.push_back(t.columns.back());
    }
    sqlite3_finalize(c);
    if (t.key.empty()) t.key = fmt::format("({})", fmt::join(pk, ", "));
  }
  return tables;
}

// Binds the value the input spells at parameter 1.
void BindValue(sqlite3_stmt* s, Bytes* in) {
  static constexpr int64_t kEdges[] = {std::numeric_limits<int64_t>::min(),
                                       std::numeric_limits<int64_t>::max(),
                                       -1,
                                       0,
                                       1,
                                       int64_t{1} << 31,
                                       int64_t{1} << 32,
                                       std::numeric_limits<uint32_t>::max(),
                                       -(int64_t{1} << 40),
                                       int64_t{1} << 53};
  switch (in->U8() % 7) {
    case 0:
      sqlite3_bind_null(s, 1);
      break;
    case 1:
      sqlite3_bind_int64(s, 1, static_cast<int8_t>(in->U8()));
      break;
    case 2:
      sqlite3_bind_int64(s, 1, static_cast<int64_t>(in->U64()));
      break;
    case 3:
      sqlite3_bind_int64(s, 1, kEdges[in->U8() % std::size(kEdges)]);
      break;
    case 4: {
      std::string t = in->Take(in->U8() % 48);
      sqlite3_bind_text(s, 1, t.data(), static_cast<int>(t.size()), SQLITE_TRANSIENT);
      break;
    }
    case 5: {
      const uint64_t bits = in->U64();
      double d;
      std::memcpy(&d, &bits, sizeof d);
      sqlite3_bind_double(s, 1, d);
      break;
    }
    default: {
      std::string b = in->Take(in->U8() % 48);
      sqlite3_bind_blob(s, 1, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
      break;
    }
  }
}

// Applies the input's edits; SQL that SQLite refuses (a key taken twice,
// a row that is not there) is simply not applied.
void Edit(sqlite3* db, Bytes* in) {
  const std::vector<Table> tables = Tables(db);
  if (tables.empty()) return;
  Exec(db, "BEGIN");
  for (int edits = 0; edits < 64 && !in->empty(); ++edits) {
    const uint8_t op = in->U8();
    const Table& t = tables[in->U8() % tables.size()];
    const uint64_t row = in->U8() | uint64_t{in->U8()} << 8;
    const std::string pick = fmt::format("SELECT {} FROM \"{}\" LIMIT 1 OFFSET {}", t.key, t.name, row);
    switch (op % 8) {
      case 0: case 1: case 2: case 3: {  // set one cell (the most common edit)
        const std::string& col = t.columns[in->U8() % t.columns.size()];
        const std::string sql =
            fmt::format("UPDATE \"{}\" SET \"{}\" = ?1 WHERE {} IN ({})", t.name, col, t.key, pick);
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK) {
          BindValue(s, in);
          sqlite3_step(s);
        }
        sqlite3_finalize(s);
        break;
      }
      case 4:
        Exec(db, fmt::format("DELETE FROM \"{}\" WHERE {} IN ({})", t.name, t.key, pick));
        break;
      case 5: {
        // A copy of the row; a rowid table's copy takes a fresh rowid unless
        // the key is a column (then the copy is refused, as a duplicate).
        Exec(db, fmt::format("INSERT INTO \"{0}\" SELECT * FROM \"{0}\" LIMIT 1 OFFSET {1}", t.name, row));
        break;
      }
      case 6:
        Exec(db, fmt::format("DELETE FROM \"{}\"", t.name));
        break;
      default:
        switch (in->U8() % 4) {
          case 0:
            Exec(db, fmt::format("DROP TABLE \"{}\"", t.name));
            break;
          case 1: {
            // The table as a view of itself, under its name in capitals
            // (SQLite resolves names without case).
            std::string upper = t.name;
            for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            Exec(db, fmt::format("ALTER TABLE \"{0}\" RENAME TO \"{0}_old\"; CREATE VIEW \"{1}\" AS SELECT * FROM "
                                 "\"{0}_old\"",
                                 t.name, upper));
            break;
          }
          case 2:
            Exec(db, fmt::format("ALTER TABLE \"{}\" ADD COLUMN g TEXT GENERATED ALWAYS AS (hex(zeroblob(4096))) "
                                 "VIRTUAL",
                                 t.name));
            break;
          default:
            break;
        }
        break;
    }
  }
  Exec(db, "COMMIT");
}

// A replay error is one line naming the file.
void CheckError(const memtk::Status& s, const std::string& path) {
  if (s.ok()) return;
  const std::string m = s.message();
  if (m.find(path) == std::string::npos || m.find('\n') != std::string::npos) {
    std::fprintf(stderr, "replay error not one line naming %s: %s\n", path.c_str(), m.c_str());
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& bytes = TemplateBytes();
  const std::string path = InputPath();
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) __builtin_trap();
  }
  {
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) __builtin_trap();
    Bytes in(data, size);
    Edit(db, &in);
    sqlite3_close(db);
  }

  {
    // Rows read ahead on a second connection and thread arrive as the plain
    // replay's do, or end in the same error.
    memtk::fuzz::RecordText plain, ahead;
    memtk::store::ReplayOptions o;
    const memtk::Status a = memtk::store::ReplayDb(path, &plain, o);
    o.read_ahead = true;
    const memtk::Status b = memtk::store::ReplayDb(path, &ahead, o);
    CheckError(a, path);
    if (a.ok() != b.ok() || a.message() != b.message() || (a.ok() && plain.text != ahead.text)) __builtin_trap();
  }
  {
    memtk::fuzz::RecordText sink;
    memtk::store::ReplayOptions o;
    o.device = 0;
    o.segments = false;
    o.call_sites_only = true;
    o.event_details = false;
    CheckError(memtk::store::ReplayDb(path, &sink, o), path);
  }
  {
    auto report = memtk::analysis::BuildSnapshotReport(path, {});
    if (report.ok()) {
      (void)memtk::present::FormatSnapshotReport(*report);
      (void)memtk::present::SnapshotReportJson(*report);
    } else {
      CheckError(report.status(), path);
    }
  }

  // `query`'s questions; their answers go nowhere.
  auto discard = [](std::string_view) { return memtk::OkStatus(); };
  for (int q = 0; q < 8; ++q) {
    memtk::commands::QueryOptions o;
    o.input = path;
    o.no_cache = true;
    switch (q) {
      case 0: o.at_peak = true; break;
      case 1: o.at_peak = true; o.top = 3; break;
      case 2: o.at_oom = 1; break;
      case 3: o.top = 3; o.by_count = true; break;
      case 4: o.stack = 0; break;
      case 5: o.alloc = "d0:1"; break;
      case 6: o.frame_regex = "py"; break;
      default: o.live_at_us = 0; break;
    }
    (void)memtk::commands::RunQuery(o, discard);
  }

  // `render-png`'s views of the database, small.
  for (int v = 0; v < 4; ++v) {
    memtk::commands::RenderOptions o;
    o.input = path;
    o.width = 160;
    o.height = 100;
    if (v == 1) o.view = memtk::timeline::View::kSegments;
    if (v == 2) o.flame = memtk::commands::FlameView::kLive;
    if (v == 3) o.flame = memtk::commands::FlameView::kSegments;
    memtk::commands::RenderSummary summary;
    (void)memtk::commands::RenderImage(o, &summary);
  }
  ::unlink(path.c_str());
  return 0;
}
