// PodVector: a std::vector of trivially copyable values, also across the
// switch to its own mapping (1 MiB) and the mremap growth after it.
#include "memtk/base/pod_vector.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

using memtk::PodVector;

TEST_CASE("PodVector keeps every value across heap and mapped growth") {
  PodVector<uint32_t> v;
  std::vector<uint32_t> want;
  std::vector<uint32_t> chunk(37);
  // 4 M values = 16 MB: several mremaps past the 1 MiB switch.
  for (uint32_t i = 0; want.size() < (4u << 20); ++i) {
    if (i % 3 == 0) {
      for (size_t k = 0; k < chunk.size(); ++k) chunk[k] = i * 100 + static_cast<uint32_t>(k);
      v.insert(v.end(), chunk.begin(), chunk.end());
      want.insert(want.end(), chunk.begin(), chunk.end());
    } else {
      v.push_back(i);
      want.push_back(i);
    }
  }
  REQUIRE(v.size() == want.size());
  REQUIRE(v.capacity() >= v.size());
  CHECK(std::equal(want.begin(), want.end(), v.begin()));
  CHECK(v.back() == want.back());
  CHECK(v[12345] == want[12345]);

  PodVector<uint32_t> copy = v;
  CHECK(std::equal(want.begin(), want.end(), copy.begin()));
  PodVector<uint32_t> moved = std::move(copy);
  CHECK(moved.size() == want.size());
  CHECK(copy.empty());
  moved.clear();
  CHECK(moved.empty());
  moved.push_back(7);
  CHECK(moved[0] == 7);
}

TEST_CASE("PodVector: empty ranges, small sizes, initializer list") {
  PodVector<uint64_t> v{1, 2, 3};
  std::vector<uint64_t> none;
  v.insert(v.end(), none.begin(), none.end());
  CHECK(v.size() == 3);
  CHECK(v[2] == 3);
  PodVector<uint64_t> e;
  CHECK(e.empty());
  CHECK(e.begin() == e.end());
}

TEST_CASE("PodVector: resize, pop_back, and a push of one of its own values") {
  PodVector<uint64_t> v;
  for (uint64_t i = 0; i < 10; ++i) v.push_back(i + 1);
  v.resize(4);  // shrink: the first values stay
  REQUIRE(v.size() == 4);
  CHECK(v.back() == 4);
  const size_t cap = v.capacity();
  v.resize(7);  // grow within the capacity: no new block, new values zero
  CHECK(v.capacity() == cap);
  REQUIRE(v.size() == 7);
  CHECK(v[3] == 4);
  CHECK(v[4] == 0);
  CHECK(v[6] == 0);
  v.resize(cap + 5);  // past it: grows, values kept
  REQUIRE(v.size() == cap + 5);
  CHECK(v[3] == 4);
  CHECK(v[cap + 4] == 0);
  v.pop_back();
  CHECK(v.size() == cap + 4);
  // At capacity, pushing an element of the array itself: the growth moves
  // the array, and the value pushed must be the one read before it moved.
  PodVector<uint64_t> w;
  w.push_back(42);
  while (w.size() < w.capacity()) w.push_back(7);
  const size_t full = w.capacity();
  w.push_back(w[0]);
  REQUIRE(w.size() == full + 1);
  CHECK(w.back() == 42);
  CHECK(w[0] == 42);
}
