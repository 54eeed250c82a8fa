// ScopedResource: one owner for every C handle (fd, z_stream, sqlite3*,
// sqlite3_stmt*, zip_t*). Movable, not copyable; closes on destruction.
#pragma once

#include <utility>

namespace memtk {

template <class T, auto CloseFn, T kInvalid = T{}>
class ScopedResource {
 public:
  ScopedResource() = default;
  explicit ScopedResource(T t) : t_(t) {}
  ~ScopedResource() { reset(); }
  ScopedResource(const ScopedResource&) = delete;
  ScopedResource& operator=(const ScopedResource&) = delete;
  ScopedResource(ScopedResource&& o) noexcept : t_(std::exchange(o.t_, kInvalid)) {}
  ScopedResource& operator=(ScopedResource&& o) noexcept {
    if (this != &o) {
      reset();
      t_ = std::exchange(o.t_, kInvalid);
    }
    return *this;
  }

  T get() const { return t_; }
  explicit operator bool() const { return t_ != kInvalid; }
  T release() { return std::exchange(t_, kInvalid); }
  void reset(T t = kInvalid) {
    if (t_ != kInvalid) CloseFn(t_);
    t_ = t;
  }

 private:
  T t_ = kInvalid;
};

int CloseFd(int fd);
using ScopedFd = ScopedResource<int, CloseFd, -1>;

}  // namespace memtk
