// Stats from a database equal stats from the snapshot; a damaged database is
// an error naming the row, never an out-of-bounds read.
#include <fmt/format.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "memtk/analysis/snapshot_stats.h"
#include "memtk/commands/convert.h"
#include "memtk/present/snapshot_stats.h"
#include "store/sqlite.h"

using namespace memtk;

namespace {
std::string TempDb(const char* name) { return fmt::format("/tmp/memtk-unit-{}-{}.db", ::getpid(), name); }
}  // namespace

TEST_CASE("stats of a converted database equal stats of the snapshot", "[stats]") {
  const std::string in = std::string(MEMTK_DATA_DIR) + "/sample.pickle";
  const std::string db = TempDb("same");
  REQUIRE(commands::ConvertOne(in, db, {}).status.ok());
  auto a = analysis::BuildSnapshotReport(in, {});
  auto b = analysis::BuildSnapshotReport(db, {});
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  a->source = b->source = "x";
  a->format = b->format = "x";
  a->stats = b->stats = Stats{};
  CHECK(present::SnapshotReportJson(*a) == present::SnapshotReportJson(*b));
  REQUIRE(a->devices.size() == 2);
  CHECK(a->devices[0].peak.peak.bytes == 16240750080);
  ::unlink(db.c_str());
}

TEST_CASE("a database row naming a missing stack is an error", "[stats]") {
  const std::string db = TempDb("damaged");
  REQUIRE(commands::ConvertOne(std::string(MEMTK_DATA_DIR) + "/small.pickle", db, {}).status.ok());
  {
    auto h = store::OpenDb(db, false, false);
    REQUIRE(h.ok());
    REQUIRE(store::Exec(h->get(), "UPDATE events SET stack_id = 999999 WHERE id = 5").ok());
  }
  auto r = analysis::BuildSnapshotReport(db, {});
  REQUIRE(!r.ok());
  CHECK(r.status().message() == db + ": events row 5 refers to stack 999999, which does not exist");
  ::unlink(db.c_str());
}
