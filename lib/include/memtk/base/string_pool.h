// StringPool: every distinct string is stored once and named by a StringId.
//
// Snapshots repeat the same few thousand file names, function names and keys
// millions of times; records hold 4-byte ids instead of strings so memory
// grows with distinct strings only.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "memtk/base/id.h"

namespace memtk {

class StringPool {
 public:
  StringPool();
  StringPool(const StringPool&) = delete;
  StringPool& operator=(const StringPool&) = delete;

  /// Returns the id of `s`, adding it on first sight. Ids are dense, from 0.
  StringId Intern(std::string_view s);
  /// The text of an id returned by Intern(). Stable for the pool's lifetime.
  std::string_view Get(StringId id) const { return views_[id.value]; }
  size_t size() const { return views_.size(); }
  /// Bytes held (text plus tables), for memory accounting.
  size_t MemoryBytes() const;

 private:
  void Rehash();
  std::string_view Store(std::string_view s);

  std::vector<std::string_view> views_;
  std::vector<uint32_t> table_;  // open addressing; 0 = empty, else id + 1
  std::vector<uint64_t> hashes_;
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t block_used_ = 0;
  size_t block_size_ = 0;
};

/// 64-bit FNV-1a variant with a final mix; fast for the short strings here.
uint64_t HashBytes(const void* data, size_t n);

}  // namespace memtk
