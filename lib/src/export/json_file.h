// A JSON output file shared by the JSON exporters: stdout for "-", else the
// temp file the convert frame gave (it renames it); gzip'd when the target's
// name ends in ".gz".
#pragma once

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "base/scoped.h"
#include "memtk/io/output_stream.h"

namespace memtk::exports {

class JsonFile {
 public:
  /// Writes to `write_path` ("-" = stdout); `target` names it in messages.
  /// `gzip`: compress whatever the name (default: when it ends in ".gz").
  static StatusOr<std::unique_ptr<JsonFile>> Open(const std::string& write_path, const std::string& target,
                                                  std::optional<bool> gzip = std::nullopt) {
    auto f = std::unique_ptr<JsonFile>(new JsonFile());
    f->name_ = write_path == "-" ? "<stdout>" : target;
    int fd = STDOUT_FILENO;
    if (write_path != "-") {
      // No O_CREAT: the frame made the temp file (mkstemp, registered under the
      // cleanup lock). Were it created here, an interrupt's cleanup could unlink
      // it a moment before this open made it anew, and leave it behind.
      f->fd_.reset(::open(write_path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
      if (f->fd_.get() < 0) return IoError(fmt::format("{}: cannot write: {}", target, std::strerror(errno)));
      fd = f->fd_.get();
    }
    f->gzip_ = gzip.value_or(target.size() > 3 && target.compare(target.size() - 3, 3, ".gz") == 0);
    // Level 1: JSON of a snapshot still shrinks ~20x, at 3-4x the speed of
    // the default level (a 4 GB trace: seconds, not a minute).
    ASSIGN_OR_RETURN(io::OutputStream s, io::OutputStream::Open(fd, f->name_, f->gzip_, /*level=*/1));
    f->stream_.emplace(std::move(s));
    return f;
  }

  io::OutputStream& stream() { return *stream_; }
  bool gzip() const { return gzip_; }

  /// Flushes and closes; sizes for the report.
  Status Finish(uint64_t* json_bytes, uint64_t* file_bytes) {
    RETURN_IF_ERROR(stream_->Finish());
    *json_bytes = stream_->bytes();
    struct stat st {};
    *file_bytes = fd_.get() >= 0 && ::fstat(fd_.get(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    fd_.reset();
    return OkStatus();
  }

 private:
  JsonFile() = default;
  std::string name_;
  ScopedFd fd_;
  std::optional<io::OutputStream> stream_;
  bool gzip_ = false;
};

}  // namespace memtk::exports
