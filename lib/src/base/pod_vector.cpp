#include "memtk/base/pod_vector.h"

#include <sys/mman.h>

#include <cstdlib>

namespace memtk::pod_vector_internal {

namespace {
// From here on an array has its own mapping: growing it is a remap of page
// tables, and only written pages are resident.
constexpr size_t kMapBytes = 1u << 20;
}  // namespace

void* Grow(void* old, size_t old_bytes, size_t keep_bytes, bool old_mapped, size_t bytes, bool* mapped) {
  if (bytes < kMapBytes && !old_mapped) {
    void* p = std::realloc(old, bytes);
    if (p == nullptr) throw std::bad_alloc();
    *mapped = false;
    return p;
  }
  void* p;
  if (old_mapped) {
    p = mremap(old, old_bytes, bytes, MREMAP_MAYMOVE);
  } else {
    p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED && keep_bytes != 0) std::memcpy(p, old, keep_bytes);  // once, below kMapBytes
    if (p != MAP_FAILED) std::free(old);
  }
  if (p == MAP_FAILED) throw std::bad_alloc();
  // Large arrays fill page by page as they grow (the stack table of a file
  // with 10^5 stacks is tens of MB): see base/huge_pages.h. The advice
  // covers the whole mapping, not only its aligned 2 MiB pages as
  // AdviseHugePages would: mremap needs the mapping to stay one VMA.
  madvise(p, bytes, MADV_HUGEPAGE);
  *mapped = true;
  return p;
}

void Free(void* p, size_t bytes, bool mapped) {
  if (p == nullptr) return;
  if (mapped) {
    munmap(p, bytes);
  } else {
    std::free(p);
  }
}

}  // namespace memtk::pod_vector_internal
