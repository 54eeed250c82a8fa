// The one database replay: what ReplayOptions leave out, and read-ahead
// delivering exactly what the plain replay does.
#include "store/replay.h"
#include "store/snapshot_db.h"

#include <fmt/format.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <set>
#include <vector>

#include "memtk/commands/convert.h"
#include "memtk/snapshot/frame_rules.h"
#include "snapshot/call_site.h"

using namespace memtk;

namespace {

struct Seen : snapshot::SnapshotSink {
  std::vector<std::tuple<uint64_t, uint32_t, bool, int64_t, std::string>> events;
  std::set<int64_t> segment_devices;
  uint64_t stacks = 0, blocks = 0, annotations = 0;
  const snapshot::Tables* t = nullptr;
  Status OnBegin(const snapshot::Tables& tables) override {
    t = &tables;
    return OkStatus();
  }
  Status OnStack(StackId, std::span<const FrameId>) override {
    ++stacks;
    return OkStatus();
  }
  Status OnSegment(const snapshot::Segment& s) override {
    segment_devices.insert(s.host ? -1 : s.device);
    return OkStatus();
  }
  Status OnBlock(const snapshot::Block&) override {
    ++blocks;
    return OkStatus();
  }
  Status OnEvent(const snapshot::TraceEvent& e) override {
    events.emplace_back(e.id, e.device, e.host, e.size, std::string(t->String(e.action_name)));
    return OkStatus();
  }
  Status OnAnnotation(const snapshot::Annotation&) override {
    ++annotations;
    return OkStatus();
  }
};

std::string ConvertedSample() {
  const std::string db = fmt::format("/tmp/memtk-unit-{}-replay.db", ::getpid());
  REQUIRE(commands::ConvertOne(std::string(MEMTK_DATA_DIR) + "/sample.pickle", db, {}).status.ok());
  return db;
}

}  // namespace

TEST_CASE("a database replays the same records as its snapshot", "[replay]") {
  const std::string db = ConvertedSample();
  Seen from_db, from_pickle;
  REQUIRE(store::ReadInput(db, &from_db).ok());
  REQUIRE(store::ReadInput(std::string(MEMTK_DATA_DIR) + "/sample.pickle", &from_pickle).ok());
  CHECK(from_db.events == from_pickle.events);
  CHECK(from_db.stacks == from_pickle.stacks);
  CHECK(from_db.blocks == from_pickle.blocks);
  CHECK(from_db.segment_devices == from_pickle.segment_devices);
  ::unlink(db.c_str());
}

TEST_CASE("read-ahead replays exactly what the plain replay does", "[replay]") {
  const std::string db = ConvertedSample();
  Seen plain, ahead;
  REQUIRE(store::ReplayDb(db, &plain).ok());
  REQUIRE(store::ReplayDb(db, &ahead, {.read_ahead = true}).ok());
  REQUIRE_FALSE(plain.events.empty());
  CHECK(plain.events == ahead.events);
  ::unlink(db.c_str());
}

TEST_CASE("a device-only replay reads that device's rows and nothing else", "[replay]") {
  const std::string db = ConvertedSample();
  Seen all, one, no_segments;
  REQUIRE(store::ReplayDb(db, &all).ok());
  REQUIRE(store::ReplayDb(db, &one, {.device = 1}).ok());
  REQUIRE(store::ReplayDb(db, &no_segments, {.segments = false}).ok());
  size_t device1 = 0;
  for (const auto& e : all.events) device1 += std::get<1>(e) == 1 && !std::get<2>(e);
  REQUIRE(device1 > 0);
  CHECK(one.events.size() == device1);
  for (const auto& e : one.events) CHECK((std::get<1>(e) == 1 && !std::get<2>(e)));
  CHECK(one.segment_devices == std::set<int64_t>{1});
  CHECK(no_segments.segment_devices.empty());
  CHECK(no_segments.blocks == 0);
  CHECK(no_segments.events == all.events);
  ::unlink(db.c_str());
}

TEST_CASE("a call-sites-only replay gives each stack its call-site frame", "[replay]") {
  const std::string db = ConvertedSample();
  // The stored site is the built-in rule's user site (snapshot/frame_rules.h);
  // a one-frame stack's site is that frame under every mode.
  struct Sites : snapshot::SnapshotSink {
    snapshot::FrameClassifier frames;
    const snapshot::Tables* t = nullptr;
    std::vector<std::pair<uint32_t, std::string>> sites;
    bool full = true;
    size_t longest = 0;
    Status OnBegin(const snapshot::Tables& tables) override {
      t = &tables;
      frames.Reset(&tables);
      return OkStatus();
    }
    Status OnStack(StackId id, std::span<const FrameId> stack) override {
      longest = std::max(longest, stack.size());
      if (!full && stack.size() > 1) return InvalidInput("more than the call site");
      const snapshot::Site& site = frames.SiteOf(id);
      if (site.frame) sites.emplace_back(id.value, snapshot::FormatFrame(*t, *site.frame));
      return OkStatus();
    }
  } full, sites_only;
  sites_only.full = false;
  REQUIRE(store::ReplayDb(db, &full).ok());
  REQUIRE(store::ReplayDb(db, &sites_only, {.call_sites_only = true}).ok());
  REQUIRE_FALSE(full.sites.empty());
  CHECK(full.sites == sites_only.sites);
  // A database written by another rule (an older memtk) is not trusted for
  // its stored sites: whole stacks come back, and the same sites.
  {
    sqlite3* h = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
    REQUIRE(sqlite3_exec(h, "UPDATE meta SET value = 'innermost-0' WHERE key = 'site_rule'", nullptr, nullptr,
                         nullptr) == SQLITE_OK);
    sqlite3_close(h);
  }
  Sites old;
  REQUIRE(store::ReplayDb(db, &old, {.call_sites_only = true}).ok());
  CHECK(old.longest == full.longest);
  CHECK(old.longest > 1);
  CHECK(old.sites == full.sites);
  ::unlink(db.c_str());
}

TEST_CASE("a database without one of its tables is one error that names the file", "[replay]") {
  // Every table the replay reads, dropped in turn (the db fuzz target found
  // "SQL error: no such table: annotations" with no file name).
  for (const char* table : {"frames", "stacks", "stack_frames", "segments", "blocks", "events", "annotations",
                            "stats", "meta"}) {
    CAPTURE(table);
    const std::string db = ConvertedSample();
    {
      sqlite3* h = nullptr;
      REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
      REQUIRE(sqlite3_exec(h, fmt::format("DROP TABLE {}", table).c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
      sqlite3_close(h);
    }
    for (bool ahead : {false, true}) {
      Seen seen;
      const Status s = store::ReplayDb(db, &seen, {.read_ahead = ahead});
      REQUIRE_FALSE(s.ok());
      CHECK(s.message().rfind(db + ": ", 0) == 0);
      CHECK(s.message().find('\n') == std::string::npos);
      if (std::string_view(table) != "meta") CHECK(s.message().find(table) != std::string::npos);
    }
    ::unlink(db.c_str());
  }
}

TEST_CASE("the tables CheckMemtkDb requires are the ones convert writes", "[replay]") {
  const std::string db = ConvertedSample();
  std::set<std::string> written, named(store::kTableNames.begin(), store::kTableNames.end());
  {
    sqlite3* h = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(h, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &s, nullptr) ==
            SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW) written.insert(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
    sqlite3_finalize(s);
    sqlite3_close(h);
  }
  ::unlink(db.c_str());
  CHECK(written == named);
}

TEST_CASE("a view, however it is spelled, or a generated column is refused before any row is read",
          "[replay]") {
  // Each would run without end, or build a huge value per row, from a few
  // bytes; a view named meta is the first thing a check would have read.
  const std::string endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)";
  const std::pair<std::string, std::string> cases[] = {
      {"ALTER TABLE meta RENAME TO old_meta; CREATE VIEW meta AS " + endless +
           " SELECT o.* FROM c, old_meta o ORDER BY x DESC",
       "meta is a view, not a table"},
      {"ALTER TABLE events RENAME TO ev0; CREATE VIEW EVENTS AS SELECT * FROM ev0", "EVENTS is a view, not a table"},
      {"ALTER TABLE frames ADD COLUMN big TEXT GENERATED ALWAYS AS (hex(zeroblob(20000000))) VIRTUAL",
       "frames.big is a generated column"},
  };
  for (const auto& [sql, want] : cases) {
    CAPTURE(sql);
    const std::string db = ConvertedSample();
    {
      sqlite3* h = nullptr;
      REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
      REQUIRE(sqlite3_exec(h, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
      sqlite3_close(h);
    }
    Seen seen;
    const Status s = store::ReplayDb(db, &seen);
    CHECK(s.message() == fmt::format("{}: {}: not a database memtk wrote", db, want));
    CHECK(seen.events.empty());
    ::unlink(db.c_str());
  }
}

TEST_CASE("a view or virtual table in place of one of memtk's tables is refused", "[replay]") {
  // A view can compute rows without end from a few bytes (a recursive CTE);
  // a table's rows are bounded by the file.
  for (const char* table : {"events", "stack_frames", "allocations"}) {
    CAPTURE(table);
    const std::string db = ConvertedSample();
    {
      sqlite3* h = nullptr;
      REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
      const std::string sql = fmt::format(
          "ALTER TABLE {0} RENAME TO old_{0}; CREATE VIEW {0} AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
          "SELECT x + 1 FROM c) SELECT o.* FROM c, old_{0} o",
          table);
      REQUIRE(sqlite3_exec(h, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
      sqlite3_close(h);
    }
    Seen seen;
    const Status s = store::ReplayDb(db, &seen);
    CHECK(s.message() == fmt::format("{}: {} is a view, not a table: not a database memtk wrote", db, table));
    ::unlink(db.c_str());
  }
}
