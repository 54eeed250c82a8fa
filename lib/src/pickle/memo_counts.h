// MemoRefCounts: how often each memo slot is read back (GET) after its PUT,
// 0, 1, 2 or 3 (= many), as the first pass counts them. Internal.
//
// A snapshot has one or two memo slots per trace event (its dict, its frame
// list), but only a few of them are ever read back: frame dicts, strings and,
// in the shared-list shape, one list per allocation. The table therefore
// costs memory only where references are:
// - slots are grouped in pages of 4096; a page no GET ever names is never
//   allocated, so a file whose late events are never referenced (PyTorch's
//   own shape: fresh lists over shared frames) keeps the table flat however
//   many events follow;
// - a page holds one bit per slot, "read back at least once", and a second
//   bitmap, allocated only where needed, for "many" (3); slots read back
//   exactly once are listed in a small set, since in snapshots a count of 1
//   is rare (a list freed by one event) and a count of 2 (alloc's list read
//   by free_requested and free_completed) is the common case;
// - should that set ever outgrow a plain 2-bit-per-slot table (a file that
//   reads many slots exactly once), the table turns into one: memory stays
//   within a small factor of 2 bits per referenced page's slot.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace memtk::pickle {

/// Number of later references of each memo slot (0, 1, 2, 3 = many).
class MemoRefCounts {
 public:
  MemoRefCounts() = default;
  MemoRefCounts(MemoRefCounts&&) noexcept = default;
  MemoRefCounts& operator=(MemoRefCounts&&) noexcept = default;

  uint8_t Get(uint64_t idx) const {
    const uint64_t p = idx >> kPageBits;
    if (p >= pages_.size() || pages_[p].bits == nullptr) return 0;
    const Page& page = pages_[p];
    const unsigned s = static_cast<unsigned>(idx & (kPageSlots - 1));
    if (dense_) return (page.bits[s / 32] >> (2 * (s % 32))) & 3;
    if (!((page.bits[s / 64] >> (s % 64)) & 1)) return 0;
    if (page.many != nullptr && ((page.many[s / 64] >> (s % 64)) & 1)) return 3;
    return once_.Contains(idx) ? 1 : 2;
  }
  /// One more reference to `idx` (saturates at 3).
  void Bump(uint64_t idx) {
    // Nearly every GET reads a frame, key or string already at "many": a
    // few instructions inline (pass 1 runs this for every GET of the file).
    if (!IsMany(pages_.data(), pages_.size(), idx)) BumpSlow(idx);
  }
  /// Adds `other`'s counts slot by slot, saturating at 3; `other` is left
  /// empty (its pages move here where this table has none).
  void Merge(MemoRefCounts&& other);
  /// Same count for every slot.
  bool operator==(const MemoRefCounts& other) const;
  /// Bytes held (pages, the once-set), for memory accounting and tests.
  size_t MemoryBytes() const;
  /// True once the table fell back to 2 bits per slot of each page.
  bool dense() const { return dense_; }
  /// Calls fn(idx, count) for every slot with a count > 0, in slot order.
  void ForEach(const std::function<void(uint64_t, uint8_t)>& fn) const;

 private:
  static constexpr unsigned kPageBits = 12;
  static constexpr uint64_t kPageSlots = uint64_t{1} << kPageBits;
  static constexpr size_t kSparseWords = kPageSlots / 64, kDenseWords = kPageSlots / 32;
  // Sparse mode: `bits` (kSparseWords) = read back at least once, `many`
  // (kSparseWords, only once some slot has it) = count 3.
  // Dense mode: `bits` (kDenseWords) = 2 bits per slot, `many` unused.
  // No `bits`: no slot of the page is read back.
  struct Page {
    std::unique_ptr<uint64_t[]> bits;
    std::unique_ptr<uint64_t[]> many;
  };
  // Sparse mode's inline test: is `idx` already at "many" (3)? (Dense
  // tables have no `many` bitmaps: always false, BumpSlow decides.)
  static bool IsMany(const Page* pages, size_t n, uint64_t idx) {
    const uint64_t p = idx >> kPageBits;
    if (p >= n || pages[p].many == nullptr) return false;
    const unsigned s = static_cast<unsigned>(idx & (kPageSlots - 1));
    return (pages[p].many[s / 64] >> (s % 64)) & 1;
  }

 public:
  /// Bump() for a tight loop over many GETs: holds the page table's address
  /// in registers (a member read after every call would reload it).
  /// Valid until the table changes: Bump() through it refreshes it itself.
  class Bumper {
   public:
    explicit Bumper(MemoRefCounts* c) : c_(c) { Refresh(); }
    void Bump(uint64_t idx) {
      if (IsMany(pages_, n_, idx)) return;
      c_->BumpSlow(idx);
      Refresh();
    }

   private:
    void Refresh() { pages_ = c_->pages_.data(), n_ = c_->pages_.size(); }
    MemoRefCounts* c_;
    const Page* pages_;
    size_t n_;
  };

 private:
  // Open-addressing set of slot indices (those read back exactly once).
  class SlotSet {
   public:
    bool Contains(uint64_t k) const {
      if (size_ == 0) return false;
      for (size_t i = Home(k);; i = (i + 1) & mask_) {
        if (keys_[i] == kEmpty) return false;
        if (keys_[i] == k) return true;
      }
    }
    void Insert(uint64_t k);
    bool Erase(uint64_t k);
    size_t size() const { return size_; }
    template <class F>
    void ForEachKey(F fn) const {
      for (uint64_t k : keys_)
        if (k != kEmpty) fn(k);
    }
    size_t capacity() const { return keys_.size(); }
    void Clear() { keys_.clear(), keys_.shrink_to_fit(), size_ = 0, mask_ = 0; }

   private:
    static constexpr uint64_t kEmpty = ~uint64_t{0};
    size_t Home(uint64_t k) const { return static_cast<size_t>((k * 0x9E3779B97F4A7C15ULL) >> 24) & mask_; }
    std::vector<uint64_t> keys_;
    size_t size_ = 0, mask_ = 0;
  };

  Page* PageFor(uint64_t idx);
  void BumpSlow(uint64_t idx);
  void Set(uint64_t idx, uint8_t c);
  void MaybeGoDense();
  void GoDense();

  std::vector<Page> pages_;
  size_t live_pages_ = 0;
  SlotSet once_;
  bool dense_ = false;
  bool merging_ = false;
};

}  // namespace memtk::pickle
