// The read-ahead ring of large inputs (eight buffers on huge pages, the
// reader woken once half the ring is free) against the plain one-buffer
// loop: the same records from a file of ~53 MiB, a 40 MiB string (the
// decoder waits on the reader while it steps over it) then ~13 MB of events
// (~50 chunks of 256 KiB; the reader waits on the decoder). The file has no
// FRAME, so there is no split pre-pass either: both passes use the ring.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "base/huge_pages.h"
#include "memtk/snapshot/snapshot.h"
#include "test_util.h"

namespace {

// A snapshot pickle: {"padding": <40 MiB of bytes>, "segments": [],
// "device_traces": [[N events]]}, keys and actions memoized once.
std::vector<uint8_t> LargeSnapshot(size_t events, size_t padding) {
  std::vector<uint8_t> b = {0x80, 4};
  auto op = [&](uint8_t c) { b.push_back(c); };
  auto str = [&](const std::string& s) {
    op(0x8c);  // SHORT_BINUNICODE
    op(static_cast<uint8_t>(s.size()));
    b.insert(b.end(), s.begin(), s.end());
  };
  auto u32 = [&](uint32_t x) {
    for (int i = 0; i < 4; ++i) op(static_cast<uint8_t>(x >> (8 * i)));
  };
  uint32_t memo = 0;
  auto put = [&] {
    op(0x94);  // MEMOIZE
    return memo++;
  };
  auto get = [&](uint32_t slot) {
    op('j');  // LONG_BINGET
    u32(slot);
  };
  op('}');
  put();
  op('(');
  str("padding");
  op('B');  // BINBYTES
  u32(static_cast<uint32_t>(padding));
  b.insert(b.end(), padding, 0x6a);  // 'j' bytes: a get only if misread
  str("segments");
  op(']');
  str("device_traces");
  op(']');
  op(']');  // device 0's list; its MARK opens with the first batch
  uint32_t k_action = 0, k_addr = 0, k_size = 0, v_alloc = 0, v_free = 0;
  for (size_t i = 0; i < events; ++i) {
    if (i % 1000 == 0) {
      if (i != 0) op('e');  // APPENDS, as CPython batches
      op('(');
    }
    op('}');
    op('(');
    if (i == 0) {
      str("action"), k_action = put();
      str("alloc"), v_alloc = put();
      str("addr"), k_addr = put();
      op('J'), u32(static_cast<uint32_t>(4096 * (i / 2 + 1)));
      str("size"), k_size = put();
      op('J'), u32(512);
      str("free_completed"), v_free = put();
      op('0');  // POP: only defines the memo slot
    } else {
      get(k_action), get(i % 2 ? v_free : v_alloc);
      get(k_addr), op('J'), u32(static_cast<uint32_t>(4096 * (i / 2 + 1)));
      get(k_size), op('J'), u32(512);
    }
    op('u');
  }
  op('e');
  op('a');  // the device's list into device_traces
  op('u');
  op('.');
  return b;
}

std::string ReadAs(const std::string& path, size_t chunk, uint64_t* events) {
  memtk::test::TextSink sink;
  memtk::snapshot::ReadOptions o;
  o.chunk_size = chunk;
  const memtk::Status st = memtk::snapshot::ReadSnapshot(path, &sink, o);
  *events = sink.summary.events;
  return st.ok() ? sink.text : "ERROR " + st.message();
}

}  // namespace

TEST_CASE("a large file reads the same through the read-ahead ring as through one buffer", "[snapshot][io]") {
  const size_t kEvents = 400000;
  const std::vector<uint8_t> bytes = LargeSnapshot(kEvents, 40u << 20);
  REQUIRE(bytes.size() >= (48u << 20));  // above the 32 MiB at which the ring is eight buffers
  const std::string path =
      (std::filesystem::temp_directory_path() / ("memtk-read-ahead-" + std::to_string(::getpid()) + ".pickle"))
          .string();
  struct Remove {  // whatever REQUIRE ends the test
    const std::string& path;
    ~Remove() { std::filesystem::remove(path); }
  } remove{path};
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    REQUIRE((std::fclose(f) == 0 && written));
  }
  uint64_t ring_events = 0, plain_events = 0;
  const std::string ring = ReadAs(path, 256 << 10, &ring_events);   // the ring (chunk >= 64 KiB)
  const std::string plain = ReadAs(path, 32 << 10, &plain_events);  // one buffer, no thread
  REQUIRE(ring.rfind("ERROR", 0) != 0);
  CHECK(ring_events == kEvents);
  CHECK(plain_events == kEvents);
  CHECK(ring == plain);
}

TEST_CASE("AllocBlock: huge blocks are aligned mappings, plain ones malloc'd, none on failure", "[base]") {
  auto huge = memtk::AllocBlock<uint8_t>(3 * memtk::kHugePage + 5, true);
  REQUIRE(huge != nullptr);
  CHECK(reinterpret_cast<uintptr_t>(huge.get()) % memtk::kHugePage == 0);
  CHECK(huge.get_deleter().mapped_bytes == 4 * memtk::kHugePage);  // rounded up to whole huge pages
  huge[0] = 1;
  huge[3 * memtk::kHugePage + 4] = 2;  // the last byte asked for is writable
  CHECK(huge[0] + huge[3 * memtk::kHugePage + 4] == 3);
  auto plain = memtk::AllocBlock<uint64_t>(1024, false);
  REQUIRE(plain != nullptr);
  CHECK(plain.get_deleter().mapped_bytes == 0);
  plain[127] = 7;
  CHECK(plain[127] == 7);
  CHECK(memtk::AllocBlock<uint8_t>(0, true) == nullptr);
  CHECK(memtk::AllocBlock<uint8_t>(SIZE_MAX - 10, true) == nullptr);  // no mapping that large: nullptr, no throw
}
