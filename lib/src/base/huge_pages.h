// Transparent huge pages for tables that grow large and fill page by page.
//
// Each first touch of a 4 KiB page is a page fault, and in a VM a costly
// one: decoding 2M events over 10^5 stacks took ~15K faults, mostly in the
// known-list table, the memo and the stack table, and a glibc switch that
// puts the whole heap on huge pages made that decode ~6% faster. THP is
// usually in "madvise" mode, so the tables ask for it themselves, before
// anything touches their memory. Advice only: where THP is off, nothing
// changes.
#pragma once

#include <cstddef>
#include <memory>

namespace memtk {

/// One huge page (x86-64 and arm64 with 4 KiB base pages).
inline constexpr size_t kHugePage = size_t{2} << 20;

/// Asks for huge pages for the whole kHugePage-aligned pages inside
/// [p, p + bytes). Call before the range is first written.
void AdviseHugePages(const void* p, size_t bytes);

/// v->reserve(n), with huge pages asked for the new storage when it is large
/// (at least kHugePage): for vectors about to be filled (resize after this).
template <class V>
void ReserveHuge(V* v, size_t n) {
  v->reserve(n);
  if (n * sizeof(*v->data()) >= kHugePage) AdviseHugePages(v->data(), n * sizeof(*v->data()));
}

/// Frees a RawBlock from AllocBlock: munmap for a mapping, else free().
struct BlockDeleter {
  size_t mapped_bytes = 0;  // 0: the block came from malloc
  void operator()(void* p) const;
};
template <class T>
using RawBlock = std::unique_ptr<T[], BlockDeleter>;

/// `bytes` of uninitialised memory; nullptr when there is none to be had
/// (never throws). With `huge`, a mapping of its own aligned to a huge page,
/// with huge pages asked for (its own mapping: freed back to the system at
/// once, and no effect on malloc's thresholds or on the heap's other
/// memory); else malloc.
void* AllocBlockBytes(size_t bytes, bool huge, size_t* mapped_bytes);
template <class T>
RawBlock<T> AllocBlock(size_t bytes, bool huge) {
  size_t mapped = 0;
  void* p = AllocBlockBytes(bytes, huge, &mapped);
  return RawBlock<T>(static_cast<T*>(p), BlockDeleter{mapped});
}

}  // namespace memtk
