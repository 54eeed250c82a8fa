// FlatMap: open-addressing hash map from uint64_t keys (or small plain
// structs, with a hash of their own) to small values.
//
// Matching allocs to frees keys millions of short-lived entries by address;
// a node-based map pays one heap allocation per entry, this pays none in
// steady state (the table only doubles). Linear probing with backward-shift
// erase keeps probe chains short without tombstones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace memtk {

/// FlatMap's hash of a uint64_t key. Addresses are aligned: high and low
/// bits are mixed before the table masks them.
struct FlatHash {
  size_t operator()(uint64_t key) const {
    uint64_t h = key * 0x9E3779B97F4A7C15ULL;
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

/// K: a copyable, default-constructible key with ==; Hash: K -> size_t, with well-mixed low bits
/// (the table keeps the low bits).
template <class V, class K = uint64_t, class Hash = FlatHash>
class FlatMap {
 public:
  struct Slot {
    K key{};
    bool used = false;
    V value{};
  };

  /// The value for `key`, or nullptr.
  V* Find(const K& key) {
    for (size_t i = Home(key);; i = Next(i)) {
      if (!slots_[i].used) return nullptr;
      if (slots_[i].key == key) return &slots_[i].value;
    }
  }
  /// The value for `key`, default-constructed if new (*inserted tells which).
  V& FindOrInsert(const K& key, bool* inserted = nullptr) {
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    size_t i = Home(key);
    for (; slots_[i].used; i = Next(i)) {
      if (slots_[i].key == key) {
        if (inserted) *inserted = false;
        return slots_[i].value;
      }
    }
    slots_[i].used = true;
    slots_[i].key = key;
    slots_[i].value = V{};
    ++size_;
    if (inserted) *inserted = true;
    return slots_[i].value;
  }
  /// Removes `key`; returns false if it was absent.
  bool Erase(const K& key) {
    size_t i = Home(key);
    for (;; i = Next(i)) {
      if (!slots_[i].used) return false;
      if (slots_[i].key == key) break;
    }
    // Backward shift: later members of the probe chain move into the hole.
    for (size_t j = Next(i); slots_[j].used; j = Next(j)) {
      const size_t home = Home(slots_[j].key);
      const bool movable = (i <= j) ? (home <= i || home > j) : (home <= i && home > j);
      if (movable) {
        slots_[i] = std::move(slots_[j]);
        i = j;
      }
    }
    slots_[i].used = false;
    slots_[i].value = V{};  // release what the value owns (an fd, a buffer) now
    --size_;
    return true;
  }
  size_t size() const { return size_; }
  /// Calls f(key, value) for every entry, in table order.
  template <class F>
  void ForEach(F&& f) const {
    for (const Slot& s : slots_)
      if (s.used) f(s.key, s.value);
  }
  template <class F>
  void ForEach(F&& f) {
    for (Slot& s : slots_)
      if (s.used) f(s.key, s.value);
  }

 private:
  size_t Home(const K& key) const { return Hash()(key) & (slots_.size() - 1); }
  size_t Next(size_t i) const { return (i + 1) & (slots_.size() - 1); }
  // Out of line: the probe loops above stay small enough to keep their
  // registers (Grow runs log2(size) times in a table's life).
  [[gnu::noinline]] void Grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    size_ = 0;
    for (Slot& s : old)
      if (s.used) FindOrInsert(s.key) = std::move(s.value);
  }

  std::vector<Slot> slots_ = std::vector<Slot>(64);
  size_t size_ = 0;
};

}  // namespace memtk
