#include "base/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>

namespace memtk {

void AdviseHugePages(const void* p, size_t bytes) {
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHugePage - 1) & ~(kHugePage - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHugePage - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

void* AllocBlockBytes(size_t bytes, bool huge, size_t* mapped_bytes) {
  *mapped_bytes = 0;
  if (bytes == 0) return nullptr;
  if (!huge) return std::malloc(bytes);
  const size_t len = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  if (len < bytes || len > SIZE_MAX - kHugePage) return nullptr;
  // Map one huge page more than needed and unmap the ends around the
  // aligned part: mmap itself aligns to 4 KiB only.
  void* raw = ::mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
  if (aligned > start) ::munmap(raw, aligned - start);
  const uintptr_t tail = aligned + len, raw_end = start + len + kHugePage;
  if (raw_end > tail) ::munmap(reinterpret_cast<void*>(tail), raw_end - tail);
  ::madvise(reinterpret_cast<void*>(aligned), len, MADV_HUGEPAGE);
  *mapped_bytes = len;
  return reinterpret_cast<void*>(aligned);
}

void BlockDeleter::operator()(void* p) const {
  if (p == nullptr) return;
  if (mapped_bytes != 0) {
    ::munmap(p, mapped_bytes);
  } else {
    std::free(p);
  }
}

}  // namespace memtk
