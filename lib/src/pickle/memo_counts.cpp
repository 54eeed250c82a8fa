#include "pickle/memo_counts.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace memtk::pickle {

namespace {
std::unique_ptr<uint64_t[]> Zeroed(size_t words) { return std::unique_ptr<uint64_t[]>(new uint64_t[words]()); }
}  // namespace

void MemoRefCounts::SlotSet::Insert(uint64_t k) {
  if ((size_ + 1) * 2 > keys_.size()) {
    std::vector<uint64_t> old(std::max<size_t>(64, keys_.size() * 2), kEmpty);
    old.swap(keys_);
    mask_ = keys_.size() - 1;
    size_ = 0;
    for (uint64_t x : old)
      if (x != kEmpty) Insert(x);
  }
  for (size_t i = Home(k);; i = (i + 1) & mask_) {
    if (keys_[i] == k) return;
    if (keys_[i] == kEmpty) {
      keys_[i] = k;
      ++size_;
      return;
    }
  }
}

bool MemoRefCounts::SlotSet::Erase(uint64_t k) {
  if (size_ == 0) return false;
  size_t i = Home(k);
  for (;; i = (i + 1) & mask_) {
    if (keys_[i] == kEmpty) return false;
    if (keys_[i] == k) break;
  }
  // Backward-shift deletion: no tombstones, probe chains stay intact.
  for (size_t j = i;;) {
    j = (j + 1) & mask_;
    if (keys_[j] == kEmpty) break;
    const size_t home = Home(keys_[j]);
    if ((i <= j) ? (home <= i || home > j) : (home <= i && home > j)) {
      keys_[i] = keys_[j];
      i = j;
    }
  }
  keys_[i] = kEmpty;
  --size_;
  return true;
}

MemoRefCounts::Page* MemoRefCounts::PageFor(uint64_t idx) {
  const uint64_t p = idx >> kPageBits;
  if (p >= pages_.size()) pages_.resize(std::max<size_t>(static_cast<size_t>(p) + 1, pages_.size() * 3 / 2));
  Page& page = pages_[p];
  if (page.bits == nullptr) {
    page.bits = Zeroed(dense_ ? kDenseWords : kSparseWords);
    ++live_pages_;
  }
  return &page;
}

void MemoRefCounts::BumpSlow(uint64_t idx) {
  Page* page = PageFor(idx);
  const unsigned s = static_cast<unsigned>(idx & (kPageSlots - 1));
  if (dense_) {
    uint64_t& w = page->bits[s / 32];
    const unsigned shift = 2 * (s % 32);
    if (((w >> shift) & 3) != 3) w += uint64_t{1} << shift;
    return;
  }
  const uint64_t bit = uint64_t{1} << (s % 64);
  uint64_t& seen = page->bits[s / 64];
  if (!(seen & bit)) {  // first reference: count 1
    seen |= bit;
    once_.Insert(idx);
    MaybeGoDense();
    return;
  }
  if (page->many != nullptr && (page->many[s / 64] & bit)) return;  // many already: the frequent case
  if (once_.Erase(idx)) return;                                     // 1 -> 2
  if (page->many == nullptr) page->many = Zeroed(kSparseWords);     // 2 -> 3
  page->many[s / 64] |= bit;
}

void MemoRefCounts::Set(uint64_t idx, uint8_t c) {
  Page* page = PageFor(idx);
  const unsigned s = static_cast<unsigned>(idx & (kPageSlots - 1));
  if (dense_) {
    uint64_t& w = page->bits[s / 32];
    const unsigned shift = 2 * (s % 32);
    w = (w & ~(uint64_t{3} << shift)) | (uint64_t{c} << shift);
    return;
  }
  const uint64_t bit = uint64_t{1} << (s % 64);
  if (c == 0) {
    page->bits[s / 64] &= ~bit;
  } else {
    page->bits[s / 64] |= bit;
  }
  if (c == 3) {
    if (page->many == nullptr) page->many = Zeroed(kSparseWords);
    page->many[s / 64] |= bit;
  } else if (page->many != nullptr) {
    page->many[s / 64] &= ~bit;
  }
  if (c == 1) {
    once_.Insert(idx);
    MaybeGoDense();
  } else {
    once_.Erase(idx);
  }
}

void MemoRefCounts::MaybeGoDense() {
  if (merging_) return;
  // The once-set may cost as much as 2 bits for every slot of every page,
  // plus a fixed allowance; past that the plain table is smaller.
  if (once_.capacity() * sizeof(uint64_t) > live_pages_ * kDenseWords * sizeof(uint64_t) + (256u << 10)) GoDense();
}

void MemoRefCounts::GoDense() {
  if (dense_) return;
  for (size_t p = 0; p < pages_.size(); ++p) {
    Page& page = pages_[p];
    if (page.bits == nullptr) continue;
    auto packed = Zeroed(kDenseWords);
    for (unsigned w = 0; w < kSparseWords; ++w) {
      for (uint64_t m = page.bits[w]; m != 0; m &= m - 1) {
        const unsigned s = w * 64 + static_cast<unsigned>(std::countr_zero(m));
        const uint64_t idx = (uint64_t{p} << kPageBits) | s;
        const uint64_t c = (page.many != nullptr && ((page.many[w] >> (s % 64)) & 1)) ? 3 : once_.Contains(idx) ? 1 : 2;
        packed[s / 32] |= c << (2 * (s % 32));
      }
    }
    page.bits = std::move(packed);
    page.many.reset();
  }
  once_.Clear();
  dense_ = true;
}

void MemoRefCounts::ForEach(const std::function<void(uint64_t, uint8_t)>& fn) const {
  for (size_t p = 0; p < pages_.size(); ++p) {
    const Page& page = pages_[p];
    if (page.bits == nullptr) continue;
    const uint64_t base = uint64_t{p} << kPageBits;
    if (dense_) {
      for (unsigned w = 0; w < kDenseWords; ++w)
        for (unsigned k = 0; k < 32; ++k)
          if (const uint8_t c = (page.bits[w] >> (2 * k)) & 3; c != 0) fn(base + w * 32 + k, c);
      continue;
    }
    for (unsigned w = 0; w < kSparseWords; ++w)
      for (uint64_t m = page.bits[w]; m != 0; m &= m - 1) {
        const uint64_t idx = base + w * 64 + static_cast<unsigned>(std::countr_zero(m));
        fn(idx, Get(idx));
      }
  }
}

void MemoRefCounts::Merge(MemoRefCounts&& other) {
  if (other.dense_) GoDense();
  // No change of mode halfway: moved pages' once-set entries arrive last.
  merging_ = true;
  if (other.pages_.size() > pages_.size()) pages_.resize(other.pages_.size());
  // Pages only `other` has move over whole (the split pass: the second
  // half's pages past the cut); pages both have are added slot by slot.
  std::vector<bool> moved(other.pages_.size(), false);
  const bool same_mode = dense_ == other.dense_;
  for (size_t p = 0; p < other.pages_.size(); ++p) {
    Page& theirs = other.pages_[p];
    if (theirs.bits == nullptr) continue;
    if (same_mode && pages_[p].bits == nullptr) {
      pages_[p] = std::move(theirs);
      ++live_pages_;
      moved[p] = true;
      continue;
    }
    const uint64_t base = uint64_t{p} << kPageBits;
    auto add = [&](uint64_t idx) {
      if (const unsigned c = other.Get(idx); c != 0) Set(idx, static_cast<uint8_t>(std::min(3u, Get(idx) + c)));
    };
    if (other.dense_) {
      for (unsigned w = 0; w < kDenseWords; ++w)
        if (theirs.bits[w] != 0)
          for (unsigned k = 0; k < 32; ++k) add(base + w * 32 + k);
    } else {
      for (unsigned w = 0; w < kSparseWords; ++w)
        for (uint64_t m = theirs.bits[w]; m != 0; m &= m - 1) add(base + w * 64 + std::countr_zero(m));
    }
  }
  if (!dense_) {
    // Moved pages' slots read back once are in other's set: copy them.
    other.once_.ForEachKey([&](uint64_t k) {
      if ((k >> kPageBits) < moved.size() && moved[k >> kPageBits]) once_.Insert(k);
    });
  }
  merging_ = false;
  MaybeGoDense();
  other = MemoRefCounts();
}

bool MemoRefCounts::operator==(const MemoRefCounts& other) const {
  std::vector<std::pair<uint64_t, uint8_t>> a, b;
  ForEach([&](uint64_t i, uint8_t c) { a.emplace_back(i, c); });
  other.ForEach([&](uint64_t i, uint8_t c) { b.emplace_back(i, c); });
  return a == b;
}

size_t MemoRefCounts::MemoryBytes() const {
  size_t n = pages_.capacity() * sizeof(Page) + once_.capacity() * sizeof(uint64_t);
  for (const Page& page : pages_) {
    if (page.bits != nullptr) n += (dense_ ? kDenseWords : kSparseWords) * sizeof(uint64_t);
    if (page.many != nullptr) n += kSparseWords * sizeof(uint64_t);
  }
  return n;
}

}  // namespace memtk::pickle
