// libFuzzer target for gzip input: InputFile's inflate stage, member
// concatenation and trailer check, under both snapshot readers. The input
// is the compressed file; one that does not start with the gzip magic is
// gzip'd here instead (its first byte says how many trailing bytes, 0-8, to
// cut off), so arbitrary content and every trailer cut are both reached.
// The file is read by path from a memfd, as the CLI reads one. zlib itself
// is the oracle: where it inflates every member to its end with CRC and
// length intact and nothing after, memtk must read exactly what it reads
// from the same bytes uncompressed; where zlib finds the stream cut or
// corrupt, memtk must refuse it. Built with -DMEMTK_FUZZ=ON and clang;
// fuzz_replay.cpp replays the corpus otherwise.
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "memtk/snapshot/snapshot.h"
#include "record_text.h"

namespace {

enum class Gz { kIntact, kBroken, kTooBig };

// Inflates every member of `in`, as InputFile does (auto-detected headers,
// members back to back, nothing else).
Gz Inflate(const std::vector<uint8_t>& in, std::vector<uint8_t>* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return Gz::kTooBig;
  zs.next_in = const_cast<uint8_t*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  uint8_t buf[16384];
  Gz result = Gz::kBroken;
  for (;;) {
    zs.next_out = buf;
    zs.avail_out = sizeof buf;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    out->insert(out->end(), buf, buf + (sizeof buf - zs.avail_out));
    if (out->size() > (16u << 20)) {
      result = Gz::kTooBig;
      break;
    }
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) {
        result = Gz::kIntact;
        break;
      }
      inflateReset(&zs);
      continue;
    }
    if (rc == Z_OK || (rc == Z_BUF_ERROR && zs.avail_out == 0)) continue;
    break;  // cut short (Z_BUF_ERROR with input exhausted) or corrupt
  }
  inflateEnd(&zs);
  return result;
}

std::vector<uint8_t> Gzip(const uint8_t* data, size_t size) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::vector<uint8_t> out(deflateBound(&zs, size) + 32);
  zs.next_in = const_cast<uint8_t*>(data);
  zs.avail_in = static_cast<uInt>(size);
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::vector<uint8_t> gz;
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
    gz.assign(data, data + size);
  } else {
    gz = Gzip(data + 1, size - 1);
    gz.resize(gz.size() - data[0] % 9);
  }
  std::vector<uint8_t> plain;
  const Gz oracle = Inflate(gz, &plain);
  if (oracle == Gz::kTooBig) return 0;

  static const int fd = memfd_create("fuzz.gz", MFD_CLOEXEC);
  if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, gz.data(), gz.size(), 0) != static_cast<ssize_t>(gz.size()))
    return 0;
  memtk::snapshot::ReadOptions o;
  o.chunk_size = 1 + data[size - 1] % 64;  // the last byte: a small chunk, so boundaries vary
  memtk::fuzz::RecordText from_gz, from_plain;
  const memtk::Status s = memtk::snapshot::ReadSnapshot("/proc/self/fd/" + std::to_string(fd), &from_gz, o);
  if (oracle == Gz::kBroken) {
    if (s.ok()) __builtin_trap();  // a cut or corrupt stream was accepted
    return 0;
  }
  const memtk::Status p = memtk::snapshot::ReadSnapshotBytes("fuzz", plain, &from_plain, o);
  if (s.ok() != p.ok() || from_gz.text != from_plain.text) __builtin_trap();
  return 0;
}
