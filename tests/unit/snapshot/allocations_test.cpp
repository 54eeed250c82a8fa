#include <catch2/catch.hpp>

#include "snapshot/allocations.h"

using namespace memtk;
using namespace memtk::snapshot;

namespace {
TraceEvent Ev(uint64_t id, Action a, uint64_t addr, int64_t size, int64_t t) {
  TraceEvent e;
  e.id = id;
  e.action = a;
  e.addr = addr;
  e.has_addr = true;
  e.size = size;
  e.time_us = t;
  return e;
}
}  // namespace

TEST_CASE("alloc, free_requested, free_completed make one allocation", "[allocations]") {
  std::vector<Allocation> out;
  Stats stats;
  AllocationTracker t([&](const Allocation& a) { out.push_back(a); return OkStatus(); }, &stats);
  REQUIRE(t.OnEvent(Ev(0, Action::kAlloc, 100, 8, 10)).ok());
  REQUIRE(t.OnEvent(Ev(1, Action::kFreeRequested, 100, 8, 20)).ok());
  REQUIRE(t.OnEvent(Ev(2, Action::kFreeCompleted, 100, 8, 30)).ok());
  // Freed before recording began, then an allocation never freed.
  REQUIRE(t.OnEvent(Ev(3, Action::kFreeCompleted, 200, 16, 40)).ok());
  REQUIRE(t.OnEvent(Ev(4, Action::kAlloc, 300, 32, 50)).ok());
  REQUIRE(t.OnEvent(Ev(5, Action::kAlloc, 300, 64, 60)).ok());  // missed free
  REQUIRE(t.Finish().ok());
  REQUIRE(out.size() == 4);
  CHECK(*out[0].alloc_event == 0);
  CHECK(*out[0].free_requested_event == 1);
  CHECK(*out[0].free_event == 2);
  CHECK(*out[0].free_time_us == 30);
  CHECK(!out[1].alloc_event);
  CHECK(*out[1].free_event == 3);
  CHECK(out[1].size == 16);
  CHECK(*out[2].alloc_event == 4);
  CHECK(!out[2].free_event);
  CHECK(*out[3].alloc_event == 5);
  CHECK(out[3].size == 64);
  CHECK(stats.Get(Stat::k_free_without_alloc) == 1);
  CHECK(stats.Get(Stat::k_alloc_over_live) == 1);
  CHECK(stats.Get(Stat::k_never_freed) == 1);
}
