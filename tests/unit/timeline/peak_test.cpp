// PeakTracker against hand-computed Active Memory Timeline values, and a
// randomized comparison with a brute-force replay (live set per step).
#include "memtk/timeline/peak.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <optional>
#include <random>
#include <set>


using namespace memtk;
using namespace memtk::snapshot;
using namespace memtk::timeline;

namespace {

TraceEvent Ev(uint64_t id, Action a, uint64_t addr, int64_t size, uint32_t device = 0) {
  TraceEvent e;
  e.id = id;
  e.index = id;
  e.device = device;
  e.action = a;
  e.addr = addr;
  e.has_addr = true;
  e.size = size;
  e.time_us = static_cast<int64_t>(1000 + id);
  e.stack = StackId{static_cast<uint32_t>(size % 7)};
  return e;
}

Block Blk(uint64_t id, uint64_t addr, int64_t size, int64_t requested, BlockState st = BlockState::kActiveAllocated) {
  Block b;
  b.id = id;
  b.address = addr;
  b.size = size;
  b.requested_size = requested;
  b.state = st;
  return b;
}

int64_t Sum(const std::vector<LiveElement>& v) {
  int64_t s = 0;
  for (const auto& e : v) s += e.size;
  return s;
}

}  // namespace

TEST_CASE("peak of a plain trace, with the live set at the peak", "[peak]") {
  PeakTracker t;
  t.OnEvent(Ev(0, Action::kAlloc, 100, 10));
  t.OnEvent(Ev(1, Action::kAlloc, 200, 20));
  t.OnEvent(Ev(2, Action::kFreeRequested, 100, 10));
  t.OnEvent(Ev(3, Action::kFreeCompleted, 100, 10));
  t.OnEvent(Ev(4, Action::kAlloc, 300, 5));
  auto r = t.Finish();
  REQUIRE(r.size() == 1);
  CHECK(r[0].peak.bytes == 30);
  CHECK(*r[0].peak.event_id == 1);
  CHECK(*r[0].peak.time_us == 1001);
  CHECK(r[0].trace_peak.bytes == 30);
  CHECK(r[0].end_bytes == 25);
  CHECK(r[0].actions == 4);  // free_requested is not an action
  CHECK(Sum(r[0].live_at_peak) == 30);
  CHECK(r[0].live_at_peak.size() == 2);
}

TEST_CASE("frees without an alloc count from the start; blocks for the whole trace", "[peak]") {
  PeakTracker t;
  // Segments first, as in a snapshot: one block is also allocated in the
  // trace (so not counted), one is not (counted at requested_size), one is
  // inactive, one has requested_size 0 (counted at size, like the viewer).
  t.OnBlock(Blk(0, 500, 64, 60));
  t.OnBlock(Blk(1, 600, 128, 100));
  t.OnBlock(Blk(2, 700, 256, 256, BlockState::kInactive));
  t.OnBlock(Blk(3, 800, 32, 0));
  t.OnEvent(Ev(0, Action::kAlloc, 100, 10));
  t.OnEvent(Ev(1, Action::kFreeCompleted, 900, 50));  // allocated before recording
  t.OnEvent(Ev(2, Action::kAlloc, 500, 60));          // the block at 500
  t.OnEvent(Ev(3, Action::kAlloc, 110, 40));
  auto r = t.Finish();
  REQUIRE(r.size() == 1);
  const DevicePeak& d = r[0];
  // Blocks: 100 + 32; before recording: 50. Steps (U = recorded - freed):
  // 10, -40, 20, 60 -> peak U 60 at event 3.
  CHECK(d.segment_block_bytes == 132);
  CHECK(d.before_recording_bytes == 50);
  CHECK(d.peak.bytes == 132 + 50 + 60);
  CHECK(*d.peak.event_id == 3);
  CHECK(d.trace_peak.bytes == 110);
  CHECK(d.end_bytes == 132 + 110);
  // At event 3 the element freed at event 1 is gone: live = 10+60+40 + blocks,
  // which is the peak (the freed 50 was offset by U).
  CHECK(Sum(d.live_at_peak) == 110 + 132);
  CHECK(Sum(d.live_at_peak) == d.peak.bytes);
}

TEST_CASE("an element freed before recording is live at an earlier peak", "[peak]") {
  PeakTracker t;
  t.OnEvent(Ev(0, Action::kAlloc, 100, 70));
  t.OnEvent(Ev(1, Action::kFreeCompleted, 100, 70));
  t.OnEvent(Ev(2, Action::kFreeRequested, 900, 50));
  t.OnEvent(Ev(3, Action::kFreeCompleted, 900, 50));
  auto r = t.Finish();
  // Totals after each action: 120, 50, 0 -> peak 120 at event 0.
  CHECK(r[0].peak.bytes == 120);
  CHECK(*r[0].peak.event_id == 0);
  REQUIRE(r[0].live_at_peak.size() == 2);
  CHECK(Sum(r[0].live_at_peak) == 120);
  // The pre-recording element is named after its first free (the database's
  // allocations.id), not the free_completed.
  auto pre = std::find_if(r[0].live_at_peak.begin(), r[0].live_at_peak.end(),
                          [](const LiveElement& e) { return e.kind == LiveElement::Kind::kPreRecorded; });
  REQUIRE(pre != r[0].live_at_peak.end());
  CHECK(pre->id == 2);
}

// Issue #16: a real snapshot opened with a free of a block allocated before
// recording, with 715 untraced active blocks; the viewer's max_size (after
// actions only) gave 715 live, the memory held at the start had 716.
TEST_CASE("a trace that opens with frees peaks at the start", "[peak]") {
  PeakTracker t;
  int64_t blocks = 0;
  for (uint64_t i = 0; i < 715; ++i) {
    t.OnBlock(Blk(i, 1'000'000 + i * 4096, 4096, 4000 + static_cast<int64_t>(i)));
    blocks += 4000 + static_cast<int64_t>(i);
  }
  t.OnEvent(Ev(0, Action::kFreeRequested, 900, 8'896'512));
  t.OnEvent(Ev(1, Action::kFreeCompleted, 900, 8'896'512));
  t.OnEvent(Ev(2, Action::kAlloc, 100, 1000));
  t.OnEvent(Ev(3, Action::kFreeCompleted, 100, 1000));
  auto r = t.Finish();
  REQUIRE(r.size() == 1);
  const DevicePeak& d = r[0];
  CHECK(d.peak.bytes == blocks + 8'896'512);
  CHECK(!d.peak.event_id);  // the start
  CHECK(!d.peak.event_idx);
  CHECK(!d.peak.time_us);
  CHECK(d.actions == 3);
  REQUIRE(d.live_at_peak.size() == 716);
  CHECK(Sum(d.live_at_peak) == d.peak.bytes);
  CHECK(std::count_if(d.live_at_peak.begin(), d.live_at_peak.end(), [](const LiveElement& e) {
          return e.kind == LiveElement::Kind::kPreRecorded && e.id == 0;
        }) == 1);
  // The trace-only curve starts at 0 too; its peak is the alloc.
  CHECK(d.trace_peak.bytes == 1000);
  CHECK(*d.trace_peak.event_id == 2);
  CHECK(d.end_bytes == blocks);
}

TEST_CASE("a tie with the start keeps the start; a higher later peak wins", "[peak]") {
  PeakTracker t;
  t.OnEvent(Ev(0, Action::kFreeCompleted, 900, 50));  // start: 50
  t.OnEvent(Ev(1, Action::kAlloc, 100, 50));          // 50 again
  auto tie = t.Finish();
  CHECK(tie[0].peak.bytes == 50);
  CHECK(!tie[0].peak.event_id);
  REQUIRE(tie[0].live_at_peak.size() == 1);
  CHECK(tie[0].live_at_peak[0].kind == LiveElement::Kind::kPreRecorded);

  PeakTracker u;
  u.OnEvent(Ev(0, Action::kFreeCompleted, 900, 50));
  u.OnEvent(Ev(1, Action::kAlloc, 100, 51));
  auto higher = u.Finish();
  CHECK(higher[0].peak.bytes == 51);
  CHECK(*higher[0].peak.event_id == 1);
  REQUIRE(higher[0].live_at_peak.size() == 1);
  CHECK(higher[0].live_at_peak[0].kind == LiveElement::Kind::kAlloc);
}

TEST_CASE("an alloc over a live address keeps the older one forever", "[peak]") {
  PeakTracker t;
  t.OnEvent(Ev(0, Action::kAlloc, 100, 10));
  t.OnEvent(Ev(1, Action::kAlloc, 100, 20));
  t.OnEvent(Ev(2, Action::kFree, 100, 20));  // legacy action
  auto r = t.Finish();
  CHECK(r[0].peak.bytes == 30);
  CHECK(r[0].end_bytes == 10);
}

TEST_CASE("no actions: the blocks are the peak; host events and blocks are ignored", "[peak]") {
  PeakTracker t;
  t.OnBlock(Blk(0, 500, 64, 60));
  Block host_block = Blk(1, 900, 4096, 4096);
  host_block.host = true;
  t.OnBlock(host_block);
  TraceEvent host = Ev(0, Action::kAlloc, 100, 1000);
  host.host = true;
  t.OnEvent(host);
  auto r = t.Finish();
  REQUIRE(r.size() == 1);
  CHECK(r[0].peak.bytes == 60);
  CHECK(!r[0].peak.event_id);
  CHECK(r[0].actions == 0);
  CHECK(r[0].live_at_peak.size() == 1);
}

TEST_CASE("devices are independent", "[peak]") {
  PeakTracker t;
  t.OnEvent(Ev(0, Action::kAlloc, 100, 10, 0));
  t.OnEvent(Ev(1, Action::kAlloc, 100, 99, 1));  // same address, other device
  t.OnEvent(Ev(2, Action::kFreeCompleted, 100, 10, 0));
  auto r = t.Finish();
  REQUIRE(r.size() == 2);
  CHECK(r[0].peak.bytes == 10);
  CHECK(r[0].end_bytes == 0);
  CHECK(r[1].peak.bytes == 99);
}

TEST_CASE("random traces agree with a brute-force replay", "[peak]") {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 200; ++round) {
    PeakTracker t;
    std::vector<TraceEvent> evs;
    std::map<uint64_t, int64_t> live;  // addr -> size, what the generator believes
    const int n = 1 + static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) {
      uint64_t addr = 16 * (rng() % 12);
      int64_t size = 1 + static_cast<int64_t>(rng() % 1000);
      int kind = static_cast<int>(rng() % 10);
      Action a = kind < 5 ? Action::kAlloc : kind < 9 ? Action::kFreeCompleted : Action::kFreeRequested;
      if (a != Action::kAlloc && live.count(addr)) size = live[addr];
      if (a == Action::kAlloc) live[addr] = size;
      if (a == Action::kFreeCompleted) live.erase(addr);
      evs.push_back(Ev(static_cast<uint64_t>(i), a, addr, size));
    }
    for (const auto& e : evs) t.OnEvent(e);
    auto r = t.Finish();
    // Brute force, as the viewer: elements, initially-allocated, actions.
    std::vector<int64_t> elem;
    std::vector<size_t> initially;
    std::vector<std::pair<size_t, uint64_t>> actions;  // (element, event id)
    std::vector<uint64_t> elem_event;
    std::map<uint64_t, size_t> a2a;
    for (const auto& e : evs) {
      if (e.action == Action::kAlloc) {
        elem.push_back(e.size);
        elem_event.push_back(e.id);
        a2a[e.addr] = elem.size() - 1;
        actions.emplace_back(elem.size() - 1, e.id);
      } else if (e.action == Action::kFreeCompleted) {
        auto it = a2a.find(e.addr);
        if (it != a2a.end()) {
          actions.emplace_back(it->second, e.id);
          a2a.erase(it);
        } else {
          elem.push_back(e.size);
          elem_event.push_back(e.id);
          initially.push_back(elem.size() - 1);
          actions.emplace_back(elem.size() - 1, e.id);
        }
      }
    }
    // Every instant is a candidate, the state before the first action
    // included (issue #16); the earliest of equal maxima wins.
    std::set<size_t> cur(initially.begin(), initially.end());
    int64_t total = 0;
    for (size_t el : initially) total += elem[el];
    int64_t peak = total;
    std::optional<uint64_t> peak_event;
    std::set<size_t> at_peak = cur;
    for (auto [el, event] : actions) {
      if (cur.count(el)) {
        cur.erase(el);
        total -= elem[el];
      } else {
        cur.insert(el);
        total += elem[el];
      }
      if (total > peak) {
        peak = total;
        peak_event = event;
        at_peak = cur;
      }
    }
    if (actions.empty()) {
      // Only free_requested events: the device is known, nothing moved.
      REQUIRE((r.empty() || (r[0].actions == 0 && r[0].peak.bytes == 0)));
      continue;
    }
    REQUIRE(r.size() == 1);
    INFO("round " << round);
    CHECK(r[0].peak.bytes == peak);
    CHECK(r[0].peak.event_id == peak_event);
    CHECK(r[0].end_bytes == total);
    CHECK(r[0].live_at_peak.size() == at_peak.size());
    CHECK(Sum(r[0].live_at_peak) == peak);
  }
}
