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

TEST_CASE("top K stacks and sites are the first K of the full ranking, ties included", "[stats]") {
  // sample.pickle has 171 and 149 stacks live at the peak, most of them tied
  // in bytes and count with another: only the stacks that can make the K are
  // named (TopStacks), and the cut must fall where the full order puts it.
  const std::string in = std::string(MEMTK_DATA_DIR) + "/sample.pickle";
  analysis::SnapshotStatsOptions all;
  all.top = 100000;
  auto full = analysis::BuildSnapshotReport(in, all);
  REQUIRE(full.ok());
  REQUIRE(full->devices.size() == 2);
  REQUIRE(full->devices[0].peak_by_stack.size() == 171);
  auto same = [](const analysis::SiteUsage& a, const analysis::SiteUsage& b) {
    return a.site == b.site && a.called == b.called && a.stack_id == b.stack_id && a.frame_id == b.frame_id &&
           a.bytes == b.bytes && a.count == b.count;
  };
  for (size_t k : {size_t{0}, size_t{1}, size_t{2}, size_t{5}, size_t{10}, size_t{17}, size_t{50}, size_t{170}}) {
    analysis::SnapshotStatsOptions o;
    o.top = k;
    auto r = analysis::BuildSnapshotReport(in, o);
    REQUIRE(r.ok());
    for (size_t d = 0; d < 2; ++d) {
      INFO("K " << k << ", device " << d);
      const auto& want = full->devices[d];
      const auto& got = r->devices[d];
      REQUIRE(got.peak_by_stack.size() == std::min(k, want.peak_by_stack.size()));
      for (size_t i = 0; i < got.peak_by_stack.size(); ++i) CHECK(same(got.peak_by_stack[i], want.peak_by_stack[i]));
      REQUIRE(got.peak_by_site.size() == std::min(k, want.peak_by_site.size()));
      for (size_t i = 0; i < got.peak_by_site.size(); ++i) CHECK(same(got.peak_by_site[i], want.peak_by_site[i]));
    }
  }
  // Ties in bytes and count are ordered by site, then stack id: every run alike.
  const auto& s = full->devices[0].peak_by_stack;
  for (size_t i = 1; i < s.size(); ++i) {
    INFO(i);
    if (s[i - 1].bytes != s[i].bytes || s[i - 1].count != s[i].count) continue;
    CHECK(std::tie(s[i - 1].site, s[i - 1].called, s[i - 1].stack_id) <
          std::tie(s[i].site, s[i].called, s[i].stack_id));
  }
}
