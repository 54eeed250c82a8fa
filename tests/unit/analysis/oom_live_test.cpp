// What was live at each OOM (issue #17): data/ooms.pickle, whose answers
// scripts/gen_fixtures.py states (ooms()), from the snapshot and from its
// database; the order stats numbers them; lists kept to K.
#include <fmt/format.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "memtk/analysis/snapshot_stats.h"
#include "memtk/base/event_name.h"
#include "memtk/commands/convert.h"
#include "memtk/present/snapshot_stats.h"

using namespace memtk;

namespace {

constexpr int64_t kMiB = int64_t{1} << 20;

void CheckOoms(const analysis::SnapshotReport& r) {
  REQUIRE(r.devices.size() == 2);
  CHECK(r.devices[0].oom_total == 3);
  CHECK(r.devices[1].oom_total == 2);
  std::vector<const analysis::OomRef*> ooms = analysis::OomsInOrder(r.devices);
  REQUIRE(ooms.size() == 5);
  struct Want {
    uint32_t device;
    uint64_t idx, id;
    int64_t live;
    uint64_t count;
  };
  const Want want[] = {{1, 1, 13, 32 * kMiB, 1},
                       {0, 2, 2, 15 * kMiB, 4},
                       {1, 3, 15, 40 * kMiB, 2},
                       {0, 7, 7, 21 * kMiB, 3},
                       {0, 9, 9, 21 * kMiB, 3}};
  for (size_t i = 0; i < 5; ++i) {
    INFO("OOM " << i + 1);
    CHECK(ooms[i]->device == want[i].device);
    CHECK(ooms[i]->event.event_idx == want[i].idx);
    CHECK(ooms[i]->event.event_id == want[i].id);
    CHECK(ooms[i]->live_bytes == want[i].live);
    CHECK(ooms[i]->live_count == want[i].count);
    int64_t by_site = 0;
    for (const auto& s : ooms[i]->live_by_site) by_site += s.bytes;
    CHECK(by_site == want[i].live);  // K = 10 is more than the sites there
  }
  // OOM 2: the memory from before recording (freed later) and the
  // untraced block count, as at the peak.
  REQUIRE(ooms[1]->live_by_site.size() == 4);
  CHECK(ooms[1]->live_by_site[0].site == "train.py:20:activations");
  CHECK(ooms[1]->live_by_site[2].site == "train.py:30:cache");
  CHECK(ooms[1]->live_by_site[3].site == "train.py:5:init");
  CHECK(ooms[0]->event.size == 48 * kMiB);
  CHECK(ooms[0]->event.device_free == 3 * kMiB);
  // Only OOM 3's event carries frames: the request's own site, by the
  // rule of the live sites, the request's bytes; the others have none.
  for (size_t i : {0, 1, 3, 4}) CHECK_FALSE(ooms[i]->request_site);
  REQUIRE(ooms[2]->request_site);
  CHECK(ooms[2]->request_site->site == "train.py:52:attention");
  CHECK(ooms[2]->request_site->bytes == 16 * kMiB);
  CHECK(ooms[2]->request_site->count == 1);
}

}  // namespace

TEST_CASE("live at each OOM, from the snapshot and from its database", "[stats][oom]") {
  const std::string in = std::string(MEMTK_DATA_DIR) + "/ooms.pickle";
  auto a = analysis::BuildSnapshotReport(in, {});
  REQUIRE(a.ok());
  CheckOoms(*a);
  const std::string db = fmt::format("/tmp/memtk-unit-{}-ooms.db", ::getpid());
  REQUIRE(commands::ConvertOne(in, db, {}).status.ok());
  auto b = analysis::BuildSnapshotReport(db, {});
  ::unlink(db.c_str());
  REQUIRE(b.ok());
  CheckOoms(*b);
}

TEST_CASE("OOMs, snapshot events and segments are kept to K per device", "[stats][oom]") {
  analysis::SnapshotStatsOptions o;
  o.top = 2;
  auto r = analysis::BuildSnapshotReport(std::string(MEMTK_DATA_DIR) + "/ooms.pickle", o);
  REQUIRE(r.ok());
  const analysis::DeviceReport& d = r->devices[0];
  CHECK(d.ooms.size() == 2);
  CHECK(d.oom_total == 3);
  CHECK(d.snapshots.size() == 2);
  CHECK(d.snapshot_total == 3);
  CHECK(d.most_free.size() == 2);
  CHECK(d.segments_with_free == 3);
  CHECK(d.ooms[0].live_by_site.size() == 2);
  // The text opens with the OOMs and ends each list with what it left out.
  const std::string text = present::FormatSnapshotReport(*r);
  CHECK(text.find("OOM: 5 out-of-memory events") < text.find("device 0: peak"));
  CHECK(text.find("\u2026 3 more") != std::string::npos);
  CHECK(text.find("\u2026 1 more") != std::string::npos);
}

TEST_CASE("event names: an id or a device and an index", "[event_name]") {
  auto id = ParseEventName("6602", "--alloc");
  REQUIRE(id.ok());
  CHECK(!id->device);
  CHECK(id->number == 6602);
  auto at = ParseEventName("d1:421", "--alloc");
  REQUIRE(at.ok());
  CHECK(at->device == 1u);
  CHECK(at->number == 421);
  CHECK(DeviceEventName(1, 421) == "d1:421");
  for (const char* bad : {"", "d1", "d:4", "d1:", "1:4", "d1:4x", "-3", "d99999999999:1", "x"}) {
    INFO(bad);
    auto r = ParseEventName(bad, "--alloc");
    REQUIRE(!r.ok());
    CHECK(r.status().code() == StatusCode::kUsage);
  }
}
