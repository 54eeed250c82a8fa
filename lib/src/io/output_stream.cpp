#include "memtk/io/output_stream.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace memtk::io {

namespace {
constexpr size_t kZBufferSize = 1 << 18;
}

Status ClosedPipe() { return IoError("EPIPE"); }
bool IsClosedPipe(const Status& s) { return s.code() == StatusCode::kIoError && s.message() == "EPIPE"; }

StatusOr<OutputStream> OutputStream::Open(int fd, std::string name, bool gzip, int level) {
  OutputStream out(fd, std::move(name));
  if (gzip) {
    // The z_stream lives on the heap: zlib's internal state points back at
    // it, so it must not move when the OutputStream does.
    out.zs_ = std::make_unique<z_stream>();
    std::memset(out.zs_.get(), 0, sizeof(z_stream));
    // windowBits 15 + 16 selects the gzip wrapper (header and CRC trailer).
    if (deflateInit2(out.zs_.get(), level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      out.zs_.reset();
      return IoError(fmt::format("{}: cannot start gzip compression", out.name_));
    }
    out.zbuf_ = std::make_unique<char[]>(kZBufferSize);
    out.spare_ = std::make_unique<char[]>(kBufferSize);
  }
  return out;
}

// The deflate thread works on `o`'s members: it is joined before any of
// them moves (the first initializer runs first).
OutputStream::OutputStream(OutputStream&& o) noexcept
    : fd_((o.JoinDeflater(), o.fd_)),
      name_(std::move(o.name_)),
      buf_(std::move(o.buf_)),
      len_(o.len_),
      total_(o.total_),
      zs_(std::move(o.zs_)),
      zbuf_(std::move(o.zbuf_)),
      spare_(std::move(o.spare_)),
      deflater_(std::move(o.deflater_)),
      status_(std::move(o.status_)),
      closed_(o.closed_.load()) {}

void OutputStream::JoinDeflater() {
  if (deflater_.joinable()) deflater_.join();
}

OutputStream::~OutputStream() {
  JoinDeflater();
  if (zs_) deflateEnd(zs_.get());
}

void OutputStream::Drain() {
  total_ += len_;
  if (zs_) {
    // Wait for the previous buffer, then hand this one over and fill the
    // other meanwhile.
    JoinDeflater();
    buf_.swap(spare_);
    deflater_ = std::thread([this, n = len_] { Deflate(spare_.get(), n, Z_NO_FLUSH); });
  } else {
    Write(buf_.get(), len_);
  }
  len_ = 0;
}

void OutputStream::AppendSlow(std::string_view s) {
  // Larger than what is left: top the buffer up, drain, repeat. Keeps the
  // gzip stream fed in full buffers, which compresses no worse.
  while (!s.empty()) {
    if (len_ == kBufferSize) Drain();
    size_t n = std::min(s.size(), kBufferSize - len_);
    std::memcpy(buf_.get() + len_, s.data(), n);
    len_ += n;
    s.remove_prefix(n);
  }
}

void OutputStream::Write(const char* p, size_t n) {
  if (!status_.ok() || n == 0) return;
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE) {
        status_ = ClosedPipe();
        closed_.store(true, std::memory_order_relaxed);
      } else {
        status_ = IoError(fmt::format("{}: {}", name_, std::strerror(errno)));
      }
      return;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void OutputStream::Deflate(const char* p, size_t n, int flush) {
  z_stream* zs = zs_.get();
  zs->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(p));
  zs->avail_in = static_cast<uInt>(n);
  int rc;
  do {
    zs->next_out = reinterpret_cast<Bytef*>(zbuf_.get());
    zs->avail_out = static_cast<uInt>(kZBufferSize);
    rc = deflate(zs, flush);
    if (rc == Z_STREAM_ERROR) {
      if (status_.ok()) status_ = IoError(fmt::format("{}: gzip compression failed", name_));
      return;
    }
    Write(zbuf_.get(), kZBufferSize - zs->avail_out);
    // Z_FINISH is done when deflate says Z_STREAM_END; otherwise, done when
    // it left output space unused (it has consumed all input).
  } while (flush == Z_FINISH ? rc != Z_STREAM_END : zs->avail_out == 0);
}

Status OutputStream::Finish() {
  total_ += len_;
  JoinDeflater();
  if (zs_) {
    Deflate(buf_.get(), len_, Z_FINISH);
  } else {
    Write(buf_.get(), len_);
  }
  len_ = 0;
  return status_;
}

}  // namespace memtk::io
