#include "memtk/base/string_pool.h"

#include <cstring>

namespace memtk {

uint64_t HashBytes(const void* data, size_t n) {
  // FNV-1a over 8-byte words, then a murmur finaliser: good spread for
  // similar file paths, a few ns per short string.
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = 0xcbf29ce484222325ULL ^ n;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0x100000001b3ULL;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;
  if (n > 0) std::memcpy(&tail, p, n);  // an empty view may have a null data()
  h = (h ^ tail) * 0x100000001b3ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

StringPool::StringPool() : table_(1024, 0) {}

std::string_view StringPool::Store(std::string_view s) {
  // Text lives in large blocks that never move, so views stay valid.
  if (block_size_ - block_used_ < s.size() || blocks_.empty()) {
    size_t size = std::max<size_t>(64 * 1024, s.size());
    blocks_.emplace_back(new char[size]);
    block_size_ = size;
    block_used_ = 0;
  }
  char* dst = blocks_.back().get() + block_used_;
  if (!s.empty()) std::memcpy(dst, s.data(), s.size());
  block_used_ += s.size();
  return {dst, s.size()};
}

StringId StringPool::Intern(std::string_view s) {
  uint64_t h = HashBytes(s.data(), s.size());
  size_t mask = table_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    uint32_t slot = table_[i];
    if (slot == 0) {
      auto id = static_cast<uint32_t>(views_.size());
      views_.push_back(Store(s));
      hashes_.push_back(h);
      table_[i] = id + 1;
      if (views_.size() * 2 > table_.size()) Rehash();
      return StringId{id};
    }
    if (hashes_[slot - 1] == h && views_[slot - 1] == s) return StringId{slot - 1};
  }
}

void StringPool::Rehash() {
  std::vector<uint32_t> bigger(table_.size() * 2, 0);
  size_t mask = bigger.size() - 1;
  for (uint32_t id = 0; id < views_.size(); ++id) {
    size_t i = hashes_[id] & mask;
    while (bigger[i] != 0) i = (i + 1) & mask;
    bigger[i] = id + 1;
  }
  table_.swap(bigger);
}

size_t StringPool::MemoryBytes() const {
  return blocks_.size() * 64 * 1024 + views_.capacity() * sizeof(std::string_view) +
         table_.capacity() * 4 + hashes_.capacity() * 8;
}

}  // namespace memtk
