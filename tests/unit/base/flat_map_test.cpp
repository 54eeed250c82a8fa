// FlatMap (memtk/base/flat_map.h): the same answers as std::map under
// inserts and erases, with uint64 keys (addresses) and with a struct key and
// a hash of its own, also when the hash collides on purpose (long probe
// chains, backward-shift erase).
#include "memtk/base/flat_map.h"

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <tuple>

using namespace memtk;

namespace {

struct Key {
  int64_t size = 0;
  int64_t stack = 0;
  uint32_t device = 0;
  bool operator==(const Key&) const = default;
  bool operator<(const Key& o) const { return std::tie(size, stack, device) < std::tie(o.size, o.stack, o.device); }
};
struct GoodHash {
  size_t operator()(const Key& k) const {
    return FlatHash()(static_cast<uint64_t>(k.size) ^ static_cast<uint64_t>(k.stack) << 20 ^ k.device);
  }
};
struct BadHash {  // 8 buckets' worth: every probe chain is long
  size_t operator()(const Key& k) const { return static_cast<size_t>(k.stack & 7); }
};

template <class Hash>
void MatchesStdMap() {
  std::mt19937_64 rng(11);
  FlatMap<int, Key, Hash> m;
  std::map<Key, int> ref;
  for (int i = 0; i < 50000; ++i) {
    Key k{static_cast<int64_t>(rng() % 4) * 512, static_cast<int64_t>(rng() % 300) - 1,
          static_cast<uint32_t>(rng() % 2)};
    if (rng() % 4 == 0) {
      CHECK(m.Erase(k) == (ref.erase(k) == 1));
    } else {
      bool inserted = false;
      m.FindOrInsert(k, &inserted) = i;
      CHECK(inserted == (ref.count(k) == 0));
      ref[k] = i;
    }
  }
  REQUIRE(m.size() == ref.size());
  size_t seen = 0;
  m.ForEach([&](const Key& k, int v) {
    ++seen;
    auto it = ref.find(k);
    REQUIRE(it != ref.end());
    CHECK(it->second == v);
  });
  CHECK(seen == ref.size());
  for (const auto& [k, v] : ref) {
    int* p = m.Find(k);
    REQUIRE(p != nullptr);
    CHECK(*p == v);
  }
  CHECK(m.Find(Key{1, 1, 1}) == nullptr);  // size 1 is never inserted
}

}  // namespace

TEST_CASE("FlatMap with a struct key matches std::map", "[flat_map]") { MatchesStdMap<GoodHash>(); }

TEST_CASE("FlatMap with a colliding hash still matches std::map", "[flat_map]") { MatchesStdMap<BadHash>(); }

TEST_CASE("FlatMap matches std::map under random inserts and erases", "[flat_map]") {
  std::mt19937_64 rng(7);
  FlatMap<int> m;
  std::map<uint64_t, int> ref;
  for (int i = 0; i < 200000; ++i) {
    uint64_t k = (rng() % 5000) * 256;  // aligned keys, as addresses are
    if (rng() % 3 == 0) {
      CHECK(m.Erase(k) == (ref.erase(k) == 1));
    } else {
      bool inserted = false;
      m.FindOrInsert(k, &inserted) = i;
      CHECK(inserted == (ref.count(k) == 0));
      ref[k] = i;
    }
  }
  REQUIRE(m.size() == ref.size());
  for (const auto& [k, v] : ref) {
    int* p = m.Find(k);
    REQUIRE(p != nullptr);
    CHECK(*p == v);
  }
}
