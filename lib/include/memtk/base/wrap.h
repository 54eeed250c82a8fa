// Two's-complement wrapping arithmetic for byte totals.
//
// Sizes come from untrusted files: a hostile snapshot can make sums of
// int64 sizes overflow, which is undefined behaviour with plain `+`. Real
// totals are far below 2^63, so wrapping changes nothing for them and turns
// nonsense input into nonsense numbers instead of UB.
#pragma once

#include <cstdint>

namespace memtk {

inline int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
inline int64_t WrapSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
/// a += b, wrapping.
inline void WrapAddTo(int64_t* a, int64_t b) { *a = WrapAdd(*a, b); }

}  // namespace memtk
