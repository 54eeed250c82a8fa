// bench_decode: decode a snapshot with a sink that only counts, to measure
// the reader alone (no database). Prints MB/s of decompressed input.
//
//   bench_decode FILE [--single-pass] [--repeat N] [--chunk BYTES] [--pass1] [--no-hints]
//
// --no-hints reads without list hints (ReadOptions::list_hints), as diff and
// stats -j do.
// --pass1 times the memo pre-pass alone (pickle::RefCountPass, one thread)
// over the file (an uncompressed pickle) read into memory first, fed in
// --chunk pieces (256 KiB): no I/O, no second pass (the figures of
// docs/BENCHMARKS.md "Fourth pass"). --single-pass does not apply.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include <fmt/core.h>

#include "memtk/snapshot/snapshot.h"
#include "pickle/decoder.h"

namespace {
class CountingSink : public memtk::snapshot::SnapshotSink {
 public:
  memtk::Status OnEvent(const memtk::snapshot::TraceEvent& e) override {
    ++events;
    bytes += static_cast<uint64_t>(e.size);
    return memtk::OkStatus();
  }
  memtk::Status OnEnd(const memtk::snapshot::ReadSummary& s) override {
    decoded = s.bytes;
    return memtk::OkStatus();
  }
  uint64_t events = 0, bytes = 0, decoded = 0;
};
int Pass1(const char* path, int repeat, size_t chunk) {
  std::vector<uint8_t> bytes;
  std::FILE* f = std::fopen(path, "rb");
  if (f == nullptr) {
    fmt::print(stderr, "{}: cannot open\n", path);
    return 1;
  }
  uint8_t buf[1 << 16];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) bytes.insert(bytes.end(), buf, buf + n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed || bytes.size() < 2 || bytes[0] != 0x80) {
    fmt::print(stderr, "{}: {}\n", path, failed ? "read error" : "not an uncompressed pickle (--pass1 reads no gzip)");
    return 1;
  }
  for (int r = 0; r < repeat; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    memtk::pickle::RefCountPass pass(path);
    memtk::Status st;
    for (size_t pos = 0; st.ok() && pos < bytes.size() && !pass.done(); pos += chunk)
      st = pass.Feed(bytes.data() + pos, std::min(chunk, bytes.size() - pos));
    if (st.ok()) st = pass.Finish();
    if (!st.ok()) {  // a figure for part of the file would read as one for all of it
      fmt::print(stderr, "{}\n", st.message());
      return 1;
    }
    const auto counts = pass.Take();
    double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print("pass 1: {:.1f} MB in {:.3f} s: {:.0f} MB/s ({} KB of counts)\n", bytes.size() / 1e6, sec,
               bytes.size() / 1e6 / sec, counts.MemoryBytes() >> 10);
  }
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: bench_decode FILE [--single-pass] [--repeat N] [--chunk BYTES] [--pass1] [--no-hints]\n");
    return 2;
  }
  memtk::snapshot::ReadOptions o;
  int repeat = 1;
  bool pass1 = false;
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--single-pass")) o.single_pass = true;
    if (!std::strcmp(argv[i], "--pass1")) pass1 = true;
    if (!std::strcmp(argv[i], "--no-hints")) o.list_hints = false;
    if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::atoi(argv[++i]);
    if (!std::strcmp(argv[i], "--chunk") && i + 1 < argc) o.chunk_size = std::strtoull(argv[++i], nullptr, 10);
  }
  if (pass1) return Pass1(argv[1], repeat, std::max<size_t>(1, o.chunk_size));
  for (int r = 0; r < repeat; ++r) {
    CountingSink sink;
    auto t0 = std::chrono::steady_clock::now();
    memtk::Status s = memtk::snapshot::ReadSnapshot(argv[1], &sink, o);
    double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!s.ok()) {
      fmt::print(stderr, "{}\n", s.message());
      return 1;
    }
    fmt::print("{} events, {:.1f} MB in {:.3f} s: {:.0f} MB/s\n", sink.events, sink.decoded / 1e6, sec,
               sink.decoded / 1e6 / sec);
  }
  return 0;
}
