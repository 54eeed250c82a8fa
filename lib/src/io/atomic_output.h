// AtomicOutput: write to `<dir>/.<name>.tmp-XXXXXX`, rename over the target
// on Commit(). A failed or interrupted run never leaves a half-written file
// that looks complete; the destructor removes an uncommitted temp file.
#pragma once

#include <string>
#include <string_view>

#include "memtk/base/status.h"

namespace memtk::io {

class AtomicOutput {
 public:
  /// Reserves a temp path next to `target` (same filesystem, so rename is atomic).
  static StatusOr<AtomicOutput> Create(const std::string& target);
  AtomicOutput(AtomicOutput&& o) noexcept;
  AtomicOutput& operator=(AtomicOutput&&) = delete;
  ~AtomicOutput();

  const std::string& temp_path() const { return temp_; }
  const std::string& target() const { return target_; }
  /// fsync-free rename of the temp file onto the target.
  Status Commit();

 private:
  AtomicOutput(std::string target, std::string temp) : target_(std::move(target)), temp_(std::move(temp)) {}
  std::string target_;
  std::string temp_;
  bool done_ = false;
};

/// Writes all of `data` to `fd`, retrying short writes and EINTR; errors read
/// "<name>: <strerror>".
Status WriteAll(int fd, std::string_view data, const std::string& name);

/// Writes `data` to `path` through an AtomicOutput ("-" writes to stdout).
Status WriteFileAtomically(const std::string& path, std::string_view data);

}  // namespace memtk::io
