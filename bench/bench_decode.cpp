// bench_decode: decode a snapshot with a sink that only counts, to measure
// the reader alone (no database). Prints MB/s of decompressed input.
//
//   bench_decode FILE [--single-pass] [--repeat N] [--chunk BYTES]
#include <chrono>
#include <cstring>

#include <fmt/core.h>

#include "memtk/snapshot/snapshot.h"

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
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: bench_decode FILE [--single-pass] [--repeat N] [--chunk BYTES]\n");
    return 2;
  }
  memtk::snapshot::ReadOptions o;
  int repeat = 1;
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--single-pass")) o.single_pass = true;
    if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::atoi(argv[++i]);
    if (!std::strcmp(argv[i], "--chunk") && i + 1 < argc) o.chunk_size = std::strtoull(argv[++i], nullptr, 10);
  }
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
