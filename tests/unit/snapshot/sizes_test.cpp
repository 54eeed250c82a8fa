// Issue #16: sizes no allocator hands out (negative, or past 2^50 bytes) are
// refused by the reader with one line naming the record, so no total built
// on them overflows; and the timeline layout refuses live totals it cannot
// draw without overflow, whatever feeds it (a database row, say).
#include <catch2/catch.hpp>
#include <string>
#include <string_view>

#include "memtk/snapshot/snapshot.h"
#include "timeline/layout.h"

using namespace memtk;

namespace {

Status Read(std::string_view json) {
  snapshot::SnapshotSink sink;
  return snapshot::ReadSnapshotBytes("x.json", {reinterpret_cast<const uint8_t*>(json.data()), json.size()}, &sink,
                                     {});
}

snapshot::TraceEvent Alloc(uint64_t idx, uint64_t addr, int64_t size) {
  snapshot::TraceEvent e;
  e.index = e.id = idx;
  e.action = snapshot::Action::kAlloc;
  e.addr = addr;
  e.has_addr = true;
  e.size = size;
  return e;
}

}  // namespace

TEST_CASE("sizes that cannot be real are refused, naming the record", "[sizes]") {
  CHECK(Read(R"({"segments": [], "device_traces": [[{"action": "alloc", "addr": 1, "size": 1125899906842624}]]})")
            .ok());  // exactly 2^50
  CHECK(Read(R"({"segments": [], "device_traces": [[{"action": "alloc", "addr": 1, "size": 16},
                 {"action": "free_completed", "addr": 1, "size": -16}]]})")
            .message() == "x.json: device_traces[0][1]: size -16 cannot be real (sizes run from 0 to 2^50 bytes = 1 PiB)");
  CHECK(Read(R"({"segments": [], "device_traces": [[{"action": "segment_map", "addr": 1,
                 "size": 9223372036854775807}]]})")
            .message() ==
        "x.json: device_traces[0][0]: size 9223372036854775807 cannot be real (sizes run from 0 to 2^50 bytes = 1 "
        "PiB)");
  // An OOM's size is a request that failed: anything goes.
  CHECK(Read(R"({"segments": [], "device_traces": [[{"action": "oom", "size": 9223372036854775807}]]})").ok());
  CHECK(Read(R"({"segments": [{"device": 0, "address": 0, "total_size": 4096, "blocks": []},
                 {"device": 0, "address": 8192, "total_size": -1, "blocks": []}]})")
            .message() == "x.json: segments[1]: total_size -1 cannot be real (sizes run from 0 to 2^50 bytes = 1 PiB)");
  CHECK(Read(R"({"segments": [{"device": 0, "address": 0, "total_size": 4096, "blocks": [
                 {"address": 0, "size": 4096, "requested_size": 4096, "state": "inactive"},
                 {"address": 4096, "size": 8, "requested_size": 1125899906842625, "state": "active_allocated"}]}]})")
            .message() == "x.json: segments[0].blocks[1]: requested_size 1125899906842625 cannot be real (sizes run "
                          "from 0 to 2^50 bytes = 1 PiB)");
}

TEST_CASE("the layout refuses live totals it cannot draw", "[sizes]") {
  // 40 allocations of 1 PiB at one address: each size passes the reader,
  // but the older ones are never freed and the 33rd takes the total past
  // 2^55 (32 PiB), more than the colour sums hold; a size of -1 (a damaged
  // database row) cannot be drawn either.
  timeline::TimelineBuilder b(timeline::View::kActive, 0);
  for (uint64_t i = 0; i < 40; ++i) REQUIRE(b.OnEvent(Alloc(i, 4096, snapshot::kMaxSize)).ok());
  auto t = b.Finish(0);
  REQUIRE(t.ok());
  auto r = timeline::Rasterize(*t, {.width = 40, .height = 100});
  CHECK(r.status().message() == "device 0: more than 2^55 bytes (32 PiB) live at event 32: sizes that cannot be real");
  timeline::TimelineBuilder n(timeline::View::kActive, 0);
  REQUIRE(n.OnEvent(Alloc(0, 4096, -1)).ok());
  auto u = n.Finish(0);
  REQUIRE(u.ok());
  CHECK(timeline::Rasterize(*u, {.width = 40, .height = 100}).status().message() ==
        "device 0: size -1 at event 0: sizes that cannot be real");
}
