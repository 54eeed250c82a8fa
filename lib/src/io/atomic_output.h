// AtomicOutput: write to `<dir>/.<name>.tmp-XXXXXX`, rename over the target
// on Commit(). A failed or interrupted run never leaves a half-written file
// that looks complete; the destructor removes an uncommitted temp file, and
// the cleanup registry (memtk/io/cleanup.h) removes it if a signal ends the
// process first.
#pragma once

#include <string>
#include <string_view>

#include "memtk/base/status.h"
#include "memtk/io/cleanup.h"

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
  AtomicOutput(std::string target, std::string temp, CleanupId id)
      : target_(std::move(target)), temp_(std::move(temp)), id_(id) {}
  std::string target_;
  std::string temp_;
  CleanupId id_ = 0;
  bool done_ = false;
};

/// A directory an output is written into: created if missing, and removed
/// again (if still empty) when the write fails or is interrupted, unless
/// Keep() was called. A directory that already existed is never removed.
class OutputDirectory {
 public:
  static StatusOr<OutputDirectory> Create(const std::string& path);
  OutputDirectory(OutputDirectory&& o) noexcept : id_(o.id_) { o.id_ = 0; }
  OutputDirectory& operator=(OutputDirectory&&) = delete;
  ~OutputDirectory() { RemoveAndUnregister(id_); }
  /// The write succeeded: the directory stays.
  void Keep() {
    Unregister(id_);
    id_ = 0;
  }

 private:
  explicit OutputDirectory(CleanupId id) : id_(id) {}
  CleanupId id_ = 0;
};

/// Writes all of `data` to `fd`, retrying short writes and EINTR; errors read
/// "<name>: <strerror>".
Status WriteAll(int fd, std::string_view data, const std::string& name);

/// Writes `data` to `path` through an AtomicOutput ("-" writes to stdout).
Status WriteFileAtomically(const std::string& path, std::string_view data);

}  // namespace memtk::io
