// SnapViewerLayout: a hand-checked trace, budget independence of the
// streamed allocations.json, and the spans elements.db gets.
#include "memtk/timeline/snapviewer.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <random>
#include <string>

#include "memtk/io/output_stream.h"

namespace memtk {
namespace {

using timeline::SnapViewerLayout;

std::string WriteToString(const SnapViewerLayout& layout, size_t budget) {
  FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  {
    auto out = io::OutputStream::Open(fileno(f), "tmp", false);
    REQUIRE(out.ok());
    REQUIRE(layout.WriteJson(&*out, budget).ok());
    REQUIRE(out->Finish().ok());
  }
  std::string text;
  std::rewind(f);
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
  std::fclose(f);
  return text;
}

TEST_CASE("snapviewer: hand-checked trace with a free from before recording") {
  SnapViewerLayout l;
  l.Alloc(1, 100, 7);  // a
  l.Alloc(2, 10, 7);   // b
  l.Alloc(3, 1, 7);    // c
  l.Free(1, 100, 8);   // a: b and c slide down by 100 (t 3 -> 6)
  l.Free(9, 5, 9);     // x, alive from the start at the bottom
  REQUIRE(l.Finish().ok());
  CHECK(WriteToString(l, 1 << 20) ==
        "[{\"elem\":3,\"timesteps\":[0,7],\"offsets\":[0,0],\"size\":5,\"color\":3},"
        "{\"elem\":0,\"timesteps\":[0,3],\"offsets\":[5,5],\"size\":100,\"color\":0},"
        "{\"elem\":1,\"timesteps\":[1,3,6,7,10,11],\"offsets\":[105,105,5,5,0,0],\"size\":10,\"color\":1},"
        "{\"elem\":2,\"timesteps\":[2,3,6,7,10,11],\"offsets\":[115,115,15,15,10,10],\"size\":1,\"color\":2}]");
  REQUIRE(l.size() == 4);
  CHECK(l[0].stack == 9);
  CHECK(l[1].stack == 7);
  CHECK(l[2].start == 1);
  CHECK(l[2].end == 11);
  CHECK(l[2].points == 6);
  CHECK(l.final_timestep() == 11);
  CHECK(l.total_points() == 2 + 2 + 6 + 6);
}

TEST_CASE("snapviewer: empty trace writes an empty list") {
  SnapViewerLayout l;
  REQUIRE(l.Finish().ok());
  CHECK(WriteToString(l, 1024) == "[]");
}

TEST_CASE("snapviewer: output does not depend on the memory budget") {
  // Random traces with frees before recording, realloc over live addresses
  // and long-lived elements; budgets from "every element alone, written
  // twice straight out" to "everything in one range".
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    SnapViewerLayout l;
    std::vector<uint64_t> live;
    for (int i = 0; i < 400; ++i) {
      uint64_t r = rng() % 10;
      if (r < 5 || live.empty()) {
        uint64_t addr = r == 0 && !live.empty() ? live[rng() % live.size()] : 0x1000 + rng() % 100000;
        l.Alloc(addr, static_cast<int64_t>(1 + rng() % 4096), static_cast<uint32_t>(rng() % 5));
        live.push_back(addr);
      } else if (r < 6) {
        l.Free(0x90000000 + rng() % 1000, static_cast<int64_t>(1 + rng() % 512), 3);
      } else {
        size_t k = rng() % live.size();
        l.Free(live[k], 1, 1);
        live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
      }
    }
    REQUIRE(l.Finish().ok());
    std::string whole = WriteToString(l, size_t{1} << 30);
    CHECK(WriteToString(l, 1) == whole);
    CHECK(WriteToString(l, 200) == whole);
    CHECK(WriteToString(l, 5000) == whole);
    // Every element's point count is what was written.
    uint64_t commas = 0;
    for (char c : whole) commas += c == ',';
    CHECK(commas == 2 * (l.total_points() - l.size()) + 4 * l.size() + (l.size() - 1));
  }
}

}  // namespace
}  // namespace memtk
