// MemoRefCounts: same answers as a plain map of saturating counters, in
// either representation, across merges; memory only where references are.
#include "pickle/memo_counts.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <map>
#include <random>

using memtk::pickle::MemoRefCounts;

namespace {

using Reference = std::map<uint64_t, uint8_t>;

void BumpBoth(MemoRefCounts* t, Reference* r, uint64_t idx) {
  t->Bump(idx);
  uint8_t& c = (*r)[idx];
  if (c < 3) ++c;
}

void CheckSame(const MemoRefCounts& t, const Reference& r, uint64_t up_to) {
  for (uint64_t i = 0; i < up_to; ++i) {
    auto it = r.find(i);
    const uint8_t want = it == r.end() ? 0 : it->second;
    INFO("slot " << i);
    REQUIRE(t.Get(i) == want);
  }
  size_t listed = 0;
  t.ForEach([&](uint64_t i, uint8_t c) {
    ++listed;
    auto it = r.find(i);
    REQUIRE(it != r.end());
    REQUIRE(it->second == c);
  });
  REQUIRE(listed == r.size());
}

}  // namespace

TEST_CASE("MemoRefCounts counts 0, 1, 2, many per slot like a map of saturating counters") {
  std::mt19937_64 rng(7);
  MemoRefCounts t;
  Reference r;
  // Mostly slots read back twice (the shared-list shape), some once, some
  // many times (frames), spread over several pages.
  for (int i = 0; i < 20000; ++i) {
    const uint64_t idx = rng() % 30000;
    const int times = static_cast<int>(rng() % 5);
    for (int k = 0; k < times; ++k) BumpBoth(&t, &r, idx);
  }
  CHECK_FALSE(t.dense());
  CheckSame(t, r, 40000);
}

TEST_CASE("MemoRefCounts allocates nothing for pages no reference names") {
  MemoRefCounts t;
  for (int k = 0; k < 5; ++k) t.Bump(10);
  t.Bump(11);
  const size_t small = t.MemoryBytes();
  // Ten million slots later, one more reference: one more page (plus the
  // page directory), not a table for every slot in between.
  t.Bump(10'000'000);
  CHECK(t.Get(10) == 3);
  CHECK(t.Get(11) == 1);
  CHECK(t.Get(10'000'000) == 1);
  CHECK(t.Get(5'000'000) == 0);
  CHECK(t.Get(uint64_t{1} << 40) == 0);
  CHECK(t.MemoryBytes() < small + 2048 + (10'000'000 / 4096) * 16 * 2);
  CHECK(t.MemoryBytes() < 200'000);  // a dense 2-bit table would be 2.5 MB
}

TEST_CASE("MemoRefCounts turns dense when slots read back once outgrow the plain table, answers unchanged") {
  MemoRefCounts t;
  Reference r;
  std::mt19937_64 rng(3);
  // Every slot read back exactly once: the once-set would cost 16 B a slot.
  for (uint64_t i = 0; i < 300000; ++i) BumpBoth(&t, &r, i);
  for (int i = 0; i < 50000; ++i) BumpBoth(&t, &r, rng() % 300000);
  CHECK(t.dense());
  CheckSame(t, r, 310000);
  // About 2 bits a slot (plus the page directory), not 16 bytes.
  CHECK(t.MemoryBytes() < 300000 / 4 * 2);
}

TEST_CASE("MemoRefCounts::Merge adds counts, saturating, whatever each side's form") {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 12; ++round) {
    MemoRefCounts a, b;
    Reference ra, rb;
    const bool a_dense = round % 3 == 1, b_dense = round % 4 == 2;
    // Both sides share the low pages (frames and keys, referenced
    // everywhere); b also has pages of its own (the second half).
    const uint64_t span = 50000;
    for (int i = 0; i < 8000; ++i) BumpBoth(&a, &ra, rng() % span);
    for (int i = 0; i < 8000; ++i) BumpBoth(&b, &rb, (rng() % 2) ? rng() % 8000 : span + rng() % span);
    if (a_dense)
      for (uint64_t i = 2 * span; i < 2 * span + 400000; ++i) BumpBoth(&a, &ra, i);
    if (b_dense)
      for (uint64_t i = 3 * span; i < 3 * span + 400000; ++i) BumpBoth(&b, &rb, i);
    CHECK(a.dense() == a_dense);
    CHECK(b.dense() == b_dense);
    Reference want = ra;
    for (auto [i, c] : rb) want[i] = static_cast<uint8_t>(std::min(3, want[i] + c));
    a.Merge(std::move(b));
    INFO("round " << round);
    CheckSame(a, want, 3 * span + 400000 + 10);
  }
}

TEST_CASE("MemoRefCounts equality compares counts, not layout") {
  MemoRefCounts a, b;
  for (uint64_t i : {1, 2, 2, 70000, 70000, 70000, 70000}) a.Bump(i);
  MemoRefCounts part1, part2;
  for (uint64_t i : {2, 70000}) part1.Bump(i);
  for (uint64_t i : {1, 2, 70000, 70000, 70000}) part2.Bump(i);
  part1.Merge(std::move(part2));
  CHECK(a == part1);
  b.Bump(1);
  CHECK_FALSE(a == b);
}
