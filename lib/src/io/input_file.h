// InputFile: a sequential, chunked, rewindable reader over a file that may be
// gzip-compressed, with the content format detected from its first bytes.
//
// Nothing is ever slurped: Read() fills the caller's buffer from a fixed
// 256 KiB staging buffer (and zlib's window for gzip). Rewind() lets the
// pickle reader make its cheap first pass (memo reference counts) and then
// decode; for stdin and pipes rewinding is not possible and the caller falls
// back to a single pass.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "memtk/base/status.h"

namespace memtk::io {

/// What the (decompressed) content looks like.
enum class ContentFormat { kEmpty, kPickle, kJson, kUnknown };

/// How many first bytes DetectContent is given (fewer only at the end).
inline constexpr size_t kDetectBytes = 64;

/// Content format from the first bytes of the (decompressed) content:
/// pickle `0x80 <proto 2..5>`, JSON `{`/`[` after whitespace. All
/// whitespace is kEmpty when `n` < kDetectBytes (the content ended), else
/// kJson: JSON may open after any amount of it, and the JSON reader then
/// names where the content ends or what it finds.
ContentFormat DetectContent(const uint8_t* head, size_t n);

class InputFile {
 public:
  /// Opens `path` ("-" is stdin) and detects gzip and the content format.
  static StatusOr<std::unique_ptr<InputFile>> Open(const std::string& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  /// Reads up to `cap` decompressed bytes; *n == 0 means end of input.
  Status Read(uint8_t* buf, size_t cap, size_t* n);
  /// Starts again from byte 0. Only when seekable().
  Status Rewind();
  /// For gzip: reads (and discards) whatever the reader left unread, to the
  /// end of the last member, so that zlib checks every trailer's CRC-32 and
  /// length: a reader that stops at its own end marker (pickle STOP, the
  /// JSON root's close) would otherwise accept a stream cut inside its
  /// 8-byte trailer. Ok and free for uncompressed input.
  Status CheckEnd();
  /// Reads up to `cap` bytes at `offset` of an uncompressed regular file
  /// (random_access()), independent of Read()'s position and safe to call
  /// from several threads; fewer than `cap` only at the end of the file.
  Status ReadAt(uint64_t offset, uint8_t* buf, size_t cap, size_t* n) const;
  bool random_access() const { return seekable_ && !gzip_; }

  bool seekable() const { return seekable_; }
  bool gzipped() const { return gzip_; }
  ContentFormat format() const { return format_; }
  const std::string& path() const { return path_; }
  /// Size on disk (0 if unknown) and raw bytes consumed so far, for progress.
  uint64_t file_size() const { return file_size_; }
  uint64_t raw_consumed() const { return raw_consumed_; }

 private:
  struct Impl;
  InputFile() = default;
  /// One read(2) into dst (retrying EINTR); 0 bytes marks the end.
  Status ReadOnce(uint8_t* dst, size_t cap, size_t* got);
  Status Fill();
  Status ReadRaw(uint8_t* buf, size_t cap, size_t* n);

  std::string path_;
  std::unique_ptr<Impl> impl_;
  bool seekable_ = false;
  bool gzip_ = false;
  ContentFormat format_ = ContentFormat::kUnknown;
  uint64_t file_size_ = 0;
  uint64_t raw_consumed_ = 0;
};

}  // namespace memtk::io
