// OutputStream: a fixed 1 MiB buffer in front of a file descriptor, with
// optional gzip. Exporters append text to it record by record, so what they
// write never has to fit in memory.
//
// With gzip, compression runs on a second thread, one buffer behind.
//
// Errors are sticky: appends never fail on their own (RapidJSON's writer
// cannot take a Status back), the first write error is kept and every later
// write is skipped; Finish() returns it. A pipe whose reader went away
// (`memtk convert X --to json -o - | head`, SIGPIPE ignored) gives
// ClosedPipe(), which every command ends on quietly with status 0.
//
// Example:
//   ASSIGN_OR_RETURN(OutputStream out, OutputStream::Open(fd, "out.json.gz", /*gzip=*/true));
//   out.Append("[");
//   out.AppendInt(42);
//   out.Put(']');
//   RETURN_IF_ERROR(out.Finish());
#pragma once

#include <fmt/compile.h>
#include <zlib.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "memtk/base/status.h"

namespace memtk::io {

/// The Status of a write to a pipe whose reader went away (EPIPE, with
/// SIGPIPE ignored): not a failure of memtk's; the reader has what it
/// wanted. Every command ends on it quietly with status 0 (cli::Fail).
Status ClosedPipe();
bool IsClosedPipe(const Status& s);

class OutputStream {
 public:
  using Ch = char;  ///< RapidJSON's output stream concept

  /// Writes to `fd` (not owned; it must outlive the stream). `name` is used
  /// in error messages. `gzip` compresses with zlib's gzip framing at `level`.
  static StatusOr<OutputStream> Open(int fd, std::string name, bool gzip, int level = 6);
  OutputStream(OutputStream&&) noexcept;
  OutputStream& operator=(OutputStream&&) = delete;
  ~OutputStream();

  void Put(char c) {
    if (len_ == kBufferSize) Drain();
    buf_[len_++] = c;
  }
  void Append(std::string_view s) {
    if (s.size() > kBufferSize - len_) {
      AppendSlow(s);
      return;
    }
    std::memcpy(buf_.get() + len_, s.data(), s.size());
    len_ += s.size();
  }
  /// Decimal text of `v`, no allocation.
  template <class Int>
  void AppendInt(Int v) {
    if (kBufferSize - len_ < kMaxIntChars) Drain();
    len_ = static_cast<size_t>(fmt::format_to(buf_.get() + len_, FMT_COMPILE("{}"), v) - buf_.get());
  }
  /// Longest decimal text of a 64-bit integer (with sign).
  static constexpr size_t kMaxIntChars = 20;
  /// Room for at least `n` (<= 64 KiB) bytes: write them at the pointer
  /// returned, then hand the new end to Commit(). For tight loops that
  /// would otherwise check the buffer per character.
  char* Reserve(size_t n) {
    if (kBufferSize - len_ < n) Drain();
    return buf_.get() + len_;
  }
  void Commit(char* end) { len_ = static_cast<size_t>(end - buf_.get()); }
  /// RapidJSON calls this; data is written out only when the buffer fills.
  void Flush() {}

  /// True once a write found the reader of a pipe gone (ClosedPipe()): a
  /// writer may stop producing, nothing more will be written. Safe to ask
  /// while the gzip thread writes.
  bool closed() const { return closed_.load(std::memory_order_relaxed); }

  /// Bytes handed to the stream so far (before compression).
  uint64_t bytes() const { return total_ + len_; }
  /// Writes what is buffered, ends the gzip stream, returns the first error.
  Status Finish();

 private:
  static constexpr size_t kBufferSize = 1 << 20;
  OutputStream(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  void Drain();
  void JoinDeflater();
  void AppendSlow(std::string_view s);
  void Write(const char* p, size_t n);
  void Deflate(const char* p, size_t n, int flush);

  int fd_;
  std::string name_;
  std::unique_ptr<char[]> buf_ = std::make_unique<char[]>(kBufferSize);
  size_t len_ = 0;
  uint64_t total_ = 0;
  std::unique_ptr<z_stream> zs_;  // set when gzip
  std::unique_ptr<char[]> zbuf_;
  // gzip: a full buffer is deflated on `deflater_` while the caller fills
  // `spare_`; deflate is the slow half of writing a .gz.
  std::unique_ptr<char[]> spare_;
  std::thread deflater_;
  Status status_;
  std::atomic<bool> closed_{false};
};

}  // namespace memtk::io
