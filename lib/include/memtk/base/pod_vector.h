// PodVector: a growable array of trivially copyable values that grows
// without a second copy alive.
//
// std::vector doubles by allocating the new block and copying into it, so
// for a moment the old and the new array are both resident: a 20 MB table
// (the frame ids of 10^5 distinct stacks) costs 40-60 MB at that instant.
// Past kMapBytes this array lives in its own anonymous mapping and grows
// with mremap(2), which moves page tables, not bytes; only the pages written
// count towards RSS (in 2 MiB steps where transparent huge pages back the
// mapping: it asks for them, see pod_vector.cpp). Smaller arrays use
// malloc/realloc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <new>
#include <type_traits>

namespace memtk {

namespace pod_vector_internal {
/// (Re)allocates `old` (of `old_bytes`, mapped if `old_mapped`) to `bytes`;
/// sets *mapped. Throws std::bad_alloc when memory is exhausted.
void* Grow(void* old, size_t old_bytes, size_t keep_bytes, bool old_mapped, size_t bytes, bool* mapped);
void Free(void* p, size_t bytes, bool mapped);
}  // namespace pod_vector_internal

template <class T>
class PodVector {
  static_assert(std::is_trivially_copyable_v<T>, "PodVector holds trivially copyable values only");

 public:
  PodVector() = default;
  PodVector(std::initializer_list<T> init) {
    reserve(init.size());
    for (const T& v : init) push_back(v);
  }
  PodVector(const PodVector& o) { *this = o; }
  PodVector(PodVector&& o) noexcept { swap(o); }
  PodVector& operator=(const PodVector& o) {
    if (this != &o) {
      clear();
      insert(end(), o.begin(), o.end());
    }
    return *this;
  }
  PodVector& operator=(PodVector&& o) noexcept {
    swap(o);
    return *this;
  }
  ~PodVector() { pod_vector_internal::Free(data_, cap_ * sizeof(T), mapped_); }

  void swap(PodVector& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(cap_, o.cap_);
    std::swap(mapped_, o.mapped_);
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return cap_; }
  bool empty() const { return size_ == 0; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T& back() { return data_[size_ - 1]; }
  const T& back() const { return data_[size_ - 1]; }
  void clear() { size_ = 0; }
  void pop_back() { --size_; }
  /// New elements (when growing) are value-initialised.
  void resize(size_t n) {
    if (n > cap_) reserve(n > cap_ * 2 ? n : cap_ * 2);
    for (size_t i = size_; i < n; ++i) data_[i] = T{};
    size_ = n;
  }

  void reserve(size_t n) {
    if (n <= cap_) return;
    data_ = static_cast<T*>(
        pod_vector_internal::Grow(data_, cap_ * sizeof(T), size_ * sizeof(T), mapped_, n * sizeof(T), &mapped_));
    cap_ = n;
  }
  // Inline with the growth out of line: the decoder's value stack pushes
  // once per opcode, and an out-of-line std::vector::push_back there cost a
  // call and a store-forwarding stall (the value built field by field, then
  // reloaded whole) on every push.
  void push_back(const T& v) {
    if (size_ == cap_) [[unlikely]] {
      const T copy = v;  // `v` may be an element of this array
      GrowForPush();
      data_[size_++] = copy;
      return;
    }
    data_[size_++] = v;
  }
  /// Appends [first, last), a contiguous range outside this array, at the
  /// end (`pos` must be end()).
  template <class It>
  void insert(T* pos, It first, It last) {
    (void)pos;
    const size_t n = static_cast<size_t>(last - first);
    if (n == 0) return;
    if (size_ + n > cap_) reserve(size_ + n > cap_ * 2 ? size_ + n : cap_ * 2);
    std::memcpy(data_ + size_, &*first, n * sizeof(T));
    size_ += n;
  }

 private:
  [[gnu::noinline]] void GrowForPush() { reserve(cap_ < 16 ? 16 : cap_ * 2); }

  T* data_ = nullptr;
  size_t size_ = 0, cap_ = 0;
  bool mapped_ = false;
};

}  // namespace memtk
