// Chunked file input with transparent gzip (zlib inflate as a filter stage).
#include "io/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "base/scoped.h"

namespace memtk {
int CloseFd(int fd) { return ::close(fd); }
}  // namespace memtk

namespace memtk::io {

namespace {
constexpr size_t kRawBuffer = 256 * 1024;
}

struct InputFile::Impl {
  ScopedFd fd;
  std::vector<uint8_t> raw = std::vector<uint8_t>(kRawBuffer);
  size_t raw_pos = 0, raw_len = 0;
  bool raw_eof = false;
  z_stream zs{};
  bool zs_live = false;
  bool z_end = false;
  // Bytes read ahead for detection, served before anything else.
  std::vector<uint8_t> head;
  size_t head_pos = 0;
  ~Impl() {
    if (zs_live) inflateEnd(&zs);
  }
};

ContentFormat DetectContent(const uint8_t* head, size_t n) {
  if (n == 0) return ContentFormat::kEmpty;
  if (head[0] == 0x80) return ContentFormat::kPickle;
  size_t i = 0;
  // A UTF-8 BOM and whitespace may precede JSON.
  if (n >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF) i = 3;
  while (i < n && (head[i] == ' ' || head[i] == '\n' || head[i] == '\r' || head[i] == '\t')) ++i;
  if (i < n && (head[i] == '{' || head[i] == '[')) return ContentFormat::kJson;
  if (i == n) return n < kDetectBytes ? ContentFormat::kEmpty : ContentFormat::kJson;
  // Protocol 0/1 pickles start with an opcode such as '(' or '}' or ']'.
  if (head[0] == '(' || head[0] == '}' || head[0] == ']') return ContentFormat::kPickle;
  return ContentFormat::kUnknown;
}

InputFile::~InputFile() = default;

StatusOr<std::unique_ptr<InputFile>> InputFile::Open(const std::string& path) {
  std::unique_ptr<InputFile> f(new InputFile());
  f->path_ = path;
  f->impl_ = std::make_unique<Impl>();
  int fd = path == "-" ? ::dup(0) : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  f->impl_->fd.reset(fd);
  struct stat st {};
  if (::fstat(fd, &st) == 0) {
    if (S_ISDIR(st.st_mode)) return IoError(fmt::format("{}: is a directory", path));
    if (S_ISREG(st.st_mode)) {
      f->file_size_ = static_cast<uint64_t>(st.st_size);
      f->seekable_ = true;
    }
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  RETURN_IF_ERROR(f->Fill());
  Impl& im = *f->impl_;
  f->gzip_ = im.raw_len >= 2 && im.raw[0] == 0x1f && im.raw[1] == 0x8b;
  if (f->gzip_) {
    if (inflateInit2(&im.zs, 15 + 32) != Z_OK) return IoError(fmt::format("{}: zlib init failed", path));
    im.zs_live = true;
  }
  // Peek at the decompressed head to detect the content format.
  std::vector<uint8_t> head(kDetectBytes);
  size_t got = 0;
  while (got < head.size()) {
    size_t n = 0;
    RETURN_IF_ERROR(f->ReadRaw(head.data() + got, head.size() - got, &n));
    if (n == 0) break;
    got += n;
  }
  head.resize(got);
  f->format_ = DetectContent(head.data(), head.size());
  im.head = std::move(head);
  im.head_pos = 0;
  return f;
}

Status InputFile::ReadOnce(uint8_t* dst, size_t cap, size_t* got) {
  for (;;) {
    ssize_t r = ::read(impl_->fd.get(), dst, cap);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return IoError(fmt::format("{}: read error: {}", path_, std::strerror(errno)));
    if (r == 0) impl_->raw_eof = true;
    raw_consumed_ += static_cast<uint64_t>(r);
    *got = static_cast<size_t>(r);
    return OkStatus();
  }
}

Status InputFile::Fill() {
  Impl& im = *impl_;
  im.raw_pos = 0;
  im.raw_len = 0;
  while (!im.raw_eof && im.raw_len < im.raw.size()) {
    size_t got = 0;
    RETURN_IF_ERROR(ReadOnce(im.raw.data() + im.raw_len, im.raw.size() - im.raw_len, &got));
    im.raw_len += got;
    if (!seekable_) break;  // a pipe: hand over what arrived
  }
  return OkStatus();
}

Status InputFile::ReadRaw(uint8_t* buf, size_t cap, size_t* n) {
  Impl& im = *impl_;
  *n = 0;
  if (!gzip_) {
    if (im.raw_pos == im.raw_len && !im.raw_eof && cap >= im.raw.size()) {
      // A caller with a big buffer gets the bytes straight from read(2):
      // one copy (the kernel's) instead of two.
      return ReadOnce(buf, cap, n);
    }
    while (im.raw_pos == im.raw_len) {
      if (im.raw_eof) return OkStatus();
      RETURN_IF_ERROR(Fill());
    }
    size_t take = std::min(cap, im.raw_len - im.raw_pos);
    std::memcpy(buf, im.raw.data() + im.raw_pos, take);
    im.raw_pos += take;
    *n = take;
    return OkStatus();
  }
  im.zs.next_out = buf;
  im.zs.avail_out = static_cast<uInt>(std::min<size_t>(cap, 1u << 30));
  while (im.zs.avail_out > 0 && !im.z_end) {
    if (im.raw_pos == im.raw_len) {
      if (im.raw_eof) {
        if (im.zs.next_out == buf)
          return InvalidInput(fmt::format("{}: truncated gzip stream at compressed byte {}", path_, raw_consumed_));
        break;
      }
      RETURN_IF_ERROR(Fill());
      continue;
    }
    im.zs.next_in = im.raw.data() + im.raw_pos;
    im.zs.avail_in = static_cast<uInt>(im.raw_len - im.raw_pos);
    int rc = inflate(&im.zs, Z_NO_FLUSH);
    im.raw_pos = im.raw_len - im.zs.avail_in;
    if (rc == Z_STREAM_END) {
      // Concatenated gzip members (as `cat a.gz b.gz`) continue the stream.
      if (im.raw_pos < im.raw_len || !im.raw_eof) {
        if (im.raw_pos == im.raw_len) RETURN_IF_ERROR(Fill());
        if (im.raw_len > im.raw_pos) {
          inflateReset(&im.zs);
          continue;
        }
      }
      im.z_end = true;
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return InvalidInput(fmt::format("{}: corrupt gzip data at compressed byte {}: {}", path_,
                                      raw_consumed_ - (im.raw_len - im.raw_pos),
                                      im.zs.msg ? im.zs.msg : "inflate failed"));
    }
  }
  *n = static_cast<size_t>(im.zs.next_out - buf);
  return OkStatus();
}

Status InputFile::Read(uint8_t* buf, size_t cap, size_t* n) {
  Impl& im = *impl_;
  if (im.head_pos < im.head.size()) {
    size_t take = std::min(cap, im.head.size() - im.head_pos);
    std::memcpy(buf, im.head.data() + im.head_pos, take);
    im.head_pos += take;
    *n = take;
    return OkStatus();
  }
  return ReadRaw(buf, cap, n);
}

Status InputFile::CheckEnd() {
  if (!gzip_) return OkStatus();
  std::vector<uint8_t> sink(64 * 1024);
  for (;;) {
    size_t n = 0;
    RETURN_IF_ERROR(Read(sink.data(), sink.size(), &n));
    if (n == 0) return OkStatus();
  }
}

Status InputFile::ReadAt(uint64_t offset, uint8_t* buf, size_t cap, size_t* n) const {
  *n = 0;
  if (!random_access()) return IoError(fmt::format("{}: no random access to this input", path_));
  while (*n < cap) {
    ssize_t r = ::pread(impl_->fd.get(), buf + *n, cap - *n, static_cast<off_t>(offset + *n));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return IoError(fmt::format("{}: read error: {}", path_, std::strerror(errno)));
    if (r == 0) break;
    *n += static_cast<size_t>(r);
  }
  return OkStatus();
}

Status InputFile::Rewind() {
  if (!seekable_) return IoError(fmt::format("{}: cannot rewind a pipe", path_));
  Impl& im = *impl_;
  if (::lseek(im.fd.get(), 0, SEEK_SET) != 0)
    return IoError(fmt::format("{}: seek failed: {}", path_, std::strerror(errno)));
  im.raw_pos = im.raw_len = 0;
  im.raw_eof = false;
  raw_consumed_ = 0;
  im.head.clear();
  im.head_pos = 0;
  if (gzip_) {
    inflateReset(&im.zs);
    im.z_end = false;
  }
  return OkStatus();
}

}  // namespace memtk::io
