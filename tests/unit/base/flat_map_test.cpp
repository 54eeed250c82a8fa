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

// `rounds` random inserts (and erases, one in `erase_one_in`) of keys from
// make_key(rng), then every answer against std::map; `absent` is never made.
template <class K, class Hash, class MakeKey>
void MatchesStdMap(uint64_t seed, int rounds, uint64_t erase_one_in, MakeKey make_key, const K& absent) {
  std::mt19937_64 rng(seed);
  FlatMap<int, K, Hash> m;
  std::map<K, int> ref;
  for (int i = 0; i < rounds; ++i) {
    const K k = make_key(rng);
    if (rng() % erase_one_in == 0) {
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
  m.ForEach([&](const K& k, int v) {
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
  CHECK(m.Find(absent) == nullptr);
}

template <class Hash>
void MatchesStdMapWithStructKeys() {
  MatchesStdMap<Key, Hash>(
      11, 50000, 4,
      [](std::mt19937_64& rng) {
        return Key{static_cast<int64_t>(rng() % 4) * 512, static_cast<int64_t>(rng() % 300) - 1,
                   static_cast<uint32_t>(rng() % 2)};
      },
      Key{1, 1, 1});  // size 1 is never made
}

}  // namespace

TEST_CASE("FlatMap with a struct key matches std::map", "[flat_map]") { MatchesStdMapWithStructKeys<GoodHash>(); }

TEST_CASE("FlatMap with a colliding hash still matches std::map", "[flat_map]") {
  MatchesStdMapWithStructKeys<BadHash>();
}

TEST_CASE("FlatMap matches std::map under random inserts and erases", "[flat_map]") {
  // Aligned keys, as addresses are; 1 is never made.
  MatchesStdMap<uint64_t, FlatHash>(
      7, 200000, 3, [](std::mt19937_64& rng) { return (rng() % 5000) * 256; }, uint64_t{1});
}
