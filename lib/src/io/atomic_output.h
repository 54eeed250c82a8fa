// AtomicOutput: write to `<dir>/.<name>.tmp-XXXXXX`, rename over the target
// on Commit(). A failed or interrupted run never leaves a half-written file
// that looks complete; the destructor removes an uncommitted temp file, and
// the cleanup registry (memtk/io/cleanup.h) removes it if a signal ends the
// process first.
#pragma once

#include <fcntl.h>

#include <string>
#include <string_view>
#include <vector>

#include "memtk/base/status.h"
#include "memtk/io/cleanup.h"

namespace memtk::io {

class AtomicOutput {
 public:
  /// Reserves a temp path next to `target` (same filesystem, so rename is
  /// atomic). Two kinds of target are not replaced by a rename:
  ///   - a symbolic link: the file it points to is written (through a temp
  ///     file beside that file), so the link stays;
  ///   - an existing device, FIFO or socket (-o /dev/null, a pipe), and any
  ///     path under /dev/ or /proc/ (/dev/stdout is a link to whatever the
  ///     shell redirected stdout to): temp_path() is the target itself,
  ///     written in place; Commit() renames nothing and a failure removes
  ///     nothing (a rename over /dev/null made it a regular file for the
  ///     whole machine).
  static StatusOr<AtomicOutput> Create(const std::string& target);
  AtomicOutput(AtomicOutput&& o) noexcept;
  AtomicOutput& operator=(AtomicOutput&&) = delete;
  ~AtomicOutput();

  const std::string& temp_path() const { return temp_; }
  /// The target is written in place (a device, FIFO, /dev/stdout, ...).
  bool in_place() const { return in_place_; }
  /// open(2) flags for writing temp_path(): a fresh temp file is truncated;
  /// an in-place target is appended to (/dev/stdout of `>> log` keeps the
  /// log; a device or FIFO does not care).
  int OpenFlags() const { return O_WRONLY | O_CLOEXEC | (in_place_ ? O_APPEND : O_TRUNC); }
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
  bool in_place_ = false;  // a device, FIFO or socket: no temp file
};

/// A directory an output is written into: created if missing, with any
/// missing parents (`mkdir -p`), and each level made here removed again (if
/// still empty) when the write fails or is interrupted, unless Keep() was
/// called. A directory that already existed is never removed. Errors read
/// "<dir>: cannot create directory: <reason>" (IoError, exit 1).
class OutputDirectory {
 public:
  static StatusOr<OutputDirectory> Create(const std::string& path);
  OutputDirectory(OutputDirectory&& o) noexcept : ids_(std::move(o.ids_)) { o.ids_.clear(); }
  OutputDirectory& operator=(OutputDirectory&&) = delete;
  ~OutputDirectory() {
    for (size_t i = ids_.size(); i-- > 0;) RemoveAndUnregister(ids_[i]);  // innermost first
  }
  /// The write succeeded: the directories stay.
  void Keep() {
    for (CleanupId id : ids_) Unregister(id);
    ids_.clear();
  }

 private:
  explicit OutputDirectory(std::vector<CleanupId> ids) : ids_(std::move(ids)) {}
  std::vector<CleanupId> ids_;  // the levels made here, outermost first
};

/// Writes all of `data` to `fd`, retrying short writes and EINTR; errors read
/// "<name>: <strerror>".
Status WriteAll(int fd, std::string_view data, const std::string& name);

/// Writes `data` to `path` through an AtomicOutput ("-" writes to stdout).
Status WriteFileAtomically(const std::string& path, std::string_view data);

}  // namespace memtk::io
