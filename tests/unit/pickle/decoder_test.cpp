// The pickle reader: chunk boundaries, memo handling, exact error text,
// refusal of code, and equivalence with the JSON form.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "pickle/decoder.h"
#include "pickle/value.h"
#include "memtk/snapshot/snapshot.h"
#include "test_util.h"

using memtk::test::ErrorOf;
using memtk::test::ReadFile;
using memtk::test::Render;

TEST_CASE("every chunk boundary decodes identically", "[pickle]") {
  // Chunk size 1 splits between every pair of bytes; the others split
  // opcodes and strings at assorted places.
  for (const char* fixture : {"small.pickle", "torchscript_p2.pickle", "legacy.pickle", "bigint.pickle"}) {
    const std::string whole = Render(fixture);
    REQUIRE(whole.rfind("ERROR", 0) == std::string::npos);
    for (size_t chunk : {1, 2, 3, 5, 8, 13, 64, 1000, 4096}) {
      INFO(fixture << " chunk " << chunk);
      CHECK(Render(fixture, chunk) == whole);
    }
  }
}

TEST_CASE("the memo pre-pass changes nothing but memory", "[pickle]") {
  for (const char* fixture : {"sample.pickle", "newest.pickle", "torchscript_p2.pickle"})
    CHECK(Render(fixture, 4096, true) == Render(fixture, 4096, false));
}

namespace {
memtk::pickle::ReadAtFn ReaderOf(const std::vector<uint8_t>& bytes) {
  return [&bytes](uint64_t off, uint8_t* buf, size_t cap, size_t* n) {
    *n = off < bytes.size() ? std::min<size_t>(cap, bytes.size() - off) : 0;
    std::copy_n(bytes.begin() + static_cast<ptrdiff_t>(off), *n, buf);
    return memtk::OkStatus();
  };
}

memtk::pickle::MemoRefCounts SerialCounts(const std::vector<uint8_t>& bytes) {
  memtk::pickle::RefCountPass pass("x");
  (void)pass.Feed(bytes.data(), bytes.size());
  return pass.Take();
}
}  // namespace

TEST_CASE("the memo pre-pass split at any FRAME gives the serial counts", "[pickle]") {
  using memtk::pickle::CountMemoRefsSplit;
  using memtk::pickle::FindFrameCut;
  for (const char* fixture : {"sample.pickle", "newest.pickle", "protocol5.pickle", "legacy.pickle"}) {
    INFO(fixture);
    const auto bytes = ReadFile(memtk::test::DataPath(fixture));
    const auto read_at = ReaderOf(bytes);
    const memtk::pickle::MemoRefCounts serial = SerialCounts(bytes);
    int cuts = 0;
    for (uint64_t target = 1; target < bytes.size(); target += 997) {
      const auto cut = FindFrameCut(read_at, bytes.size(), target);
      if (!cut) continue;
      INFO("cut at " << *cut);
      CHECK(*cut >= target);
      memtk::pickle::MemoRefCounts split;
      REQUIRE(CountMemoRefsSplit("x", bytes.size(), read_at, 4096, &split, target));
      CHECK(split == serial);
      ++cuts;
    }
    if (bytes.size() > (128u << 10)) CHECK(cuts > 0);  // more than one frame: something to split
    CHECK(Render(fixture, 4096, false, /*split=*/true) == Render(fixture, 4096, true));
  }
  // Protocol 2 has no frames to walk: the serial pass runs.
  const auto p2 = ReadFile(memtk::test::DataPath("torchscript_p2.pickle"));
  CHECK_FALSE(FindFrameCut(ReaderOf(p2), p2.size(), p2.size() / 2));
}

TEST_CASE("real snapshots: the split pre-pass reads them exactly as one pass does", "[pickle][real]") {
  // Real files are below the size that splits by default; force it. Skipped
  // where ../shared/data/snapshots is absent (it is never copied here).
  const std::filesystem::path dir = std::filesystem::path(MEMTK_DATA_DIR) / ".." / ".." / "shared" / "data" / "snapshots";
  if (!std::filesystem::is_directory(dir)) {
    WARN("no real snapshots at " << dir.string() << ": skipped");
    return;
  }
  int files = 0, split_files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.find(".pickle") == std::string::npos && name.find(".pkl") == std::string::npos &&
        name.find(".json") == std::string::npos)
      continue;
    INFO(name);
    const auto bytes = ReadFile(entry.path().string());
    auto read = [&](bool single_pass, bool split) {
      memtk::test::TextSink sink;
      memtk::snapshot::ReadOptions o;
      o.single_pass = single_pass;
      if (split) o.split_prepass_bytes = 0;
      memtk::Status st = memtk::snapshot::ReadSnapshotBytes(name, bytes, &sink, o);
      return st.ok() ? sink.text : "ERROR " + st.message();
    };
    const std::string one_pass = read(true, false);
    CHECK(read(false, true) == one_pass);
    CHECK(read(false, false) == one_pass);
    if (memtk::pickle::FindFrameCut(ReaderOf(bytes), bytes.size(), bytes.size() / 2)) {
      memtk::pickle::MemoRefCounts split;
      REQUIRE(memtk::pickle::CountMemoRefsSplit("x", bytes.size(), ReaderOf(bytes), 65536, &split));
      CHECK(split == SerialCounts(bytes));
      ++split_files;
    }
    ++files;
  }
  CHECK(files > 0);
  CHECK(split_files > 0);
}

TEST_CASE("a FRAME that lies about its length cannot mislead the split pre-pass", "[pickle]") {
  auto bytes = ReadFile(memtk::test::DataPath("sample.pickle"));
  REQUIRE(bytes[2] == 0x95);  // PROTO 4, then the first FRAME's 8-byte length
  const memtk::pickle::MemoRefCounts serial = SerialCounts(bytes);
  for (int delta : {1, 2, 3, 5, 7, 11, -1, -3}) {
    INFO("length off by " << delta);
    auto bad = bytes;
    bad[3] = static_cast<uint8_t>(bad[3] + delta);
    memtk::pickle::MemoRefCounts split;
    // Either the first half does not end on the cut and the serial pass is
    // asked for, or the counts are right anyway.
    if (memtk::pickle::CountMemoRefsSplit("x", bad.size(), ReaderOf(bad), 4096, &split)) CHECK(split == serial);
    CHECK(ErrorOf(bad, 4096, /*split=*/true) == ErrorOf(bad, 4096));
  }
}

TEST_CASE("JSON, gzip and pickle forms give the same records", "[json]") {
  const std::string from_pickle = Render("small.pickle");
  CHECK(Render("small.json") == from_pickle);
  CHECK(Render("small.json", 7) == from_pickle);
  CHECK(Render("pickle_named.json") == from_pickle);
}

TEST_CASE("gzip input through the file reader", "[gzip]") {
  memtk::test::TextSink a, b;
  REQUIRE(memtk::snapshot::ReadSnapshot(memtk::test::DataPath("small.pickle.gz"), &a, {}).ok());
  REQUIRE(memtk::snapshot::ReadSnapshot(memtk::test::DataPath("small.pickle"), &b, {}).ok());
  CHECK(a.text == b.text);
  CHECK(a.summary.format == "pickle protocol 4, gzip");
}

// Protocols 0 and 1 carry no PROTO opcode; a protocol-1 file was reported as
// "pickle protocol 0" (CLI review). What CPython writes for a snapshot dict:
// protocol 0 "(dp0\n...", protocol 1 "}q\x00...".
TEST_CASE("protocols 0 and 1 are told apart by their first value", "[pickle]") {
  const std::pair<std::string, std::string> cases[] = {
      {std::string("(dp0\n.", 6), "pickle protocol 0"},
      {std::string("(lp0\n.", 6), "pickle protocol 0"},
      {std::string("}q\x00.", 4), "pickle protocol 1"},
      {std::string("]q\x00.", 4), "pickle protocol 1"},
      {std::string("\x80\x02}q\x00.", 6), "pickle protocol 2"},
  };
  const std::string path = (std::filesystem::temp_directory_path() / "memtk_protocol_test.pickle").string();
  for (const auto& [bytes, want] : cases) {
    INFO(want << " from " << bytes.size() << " bytes");
    const std::vector<uint8_t> v(bytes.begin(), bytes.end());
    memtk::test::TextSink in_memory, from_file;
    REQUIRE(memtk::snapshot::ReadSnapshotBytes("p.pickle", v, &in_memory, {}).ok());
    CHECK(in_memory.summary.format == want);
    // The file reader reads the head itself (up to 16 bytes of a 4-byte file).
    {
      std::FILE* f = std::fopen(path.c_str(), "wb");
      REQUIRE(f != nullptr);
      std::fwrite(bytes.data(), 1, bytes.size(), f);
      std::fclose(f);
    }
    REQUIRE(memtk::snapshot::ReadSnapshot(path, &from_file, {}).ok());
    CHECK(from_file.summary.format == want);
  }
  std::filesystem::remove(path);
}

TEST_CASE("integers wider than 8 bytes keep their exact value", "[pickle]") {
  const std::string text = Render("bigint.pickle");
  CHECK(text.find("\"huge\":1208925819614629174706183") != std::string::npos);
  CHECK(text.find("\"negative\":-1180591620717411303424") != std::string::npos);
}

TEST_CASE("LONG1 integers of 1 to 8 bytes, either sign, at any chunk boundary", "[pickle]") {
  // {"device_traces": [[{"action": "oom", "addr": v, "size": v}, ...]]}
  // with every v written as LONG1 in CPython's minimal two's complement.
  // (An oom: its size may be anything; an alloc's must be 0..2^50.)
  const std::vector<int64_t> values = {0,          1,           -1,           127,          128,
                                       -128,       -129,        255,          -32769,       1LL << 31,
                                       -(1LL << 31) - 1,        (1LL << 40) + 5,            -(1LL << 47),
                                       0x7F12345678ABLL,        (1LL << 62) + 3,            INT64_MIN,
                                       INT64_MAX,  -(1LL << 55) + 1};
  std::vector<uint8_t> p = {0x80, 4, '}', '('};
  auto str = [&](const std::string& t) {
    p.push_back(0x8c);
    p.push_back(static_cast<uint8_t>(t.size()));
    p.insert(p.end(), t.begin(), t.end());
  };
  auto long1 = [&](int64_t v) {
    int n = 0;
    if (v != 0) {
      n = 1;
      while (n < 8 && (v < -(1LL << (8 * n - 1)) || v >= (1LL << (8 * n - 1)))) ++n;
    }
    p.push_back(0x8a);
    p.push_back(static_cast<uint8_t>(n));
    for (int i = 0; i < n; ++i) p.push_back(static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i)));
  };
  str("device_traces");
  p.insert(p.end(), {']', ']', '('});
  for (int64_t v : values) {
    p.insert(p.end(), {'}', '('});
    str("action");
    str("oom");
    str("addr");
    long1(v);
    str("size");
    long1(v);
    p.push_back('u');
  }
  p.insert(p.end(), {'e', 'a', 'u', '.'});

  struct Sizes : memtk::snapshot::SnapshotSink {
    memtk::Status OnEvent(const memtk::snapshot::TraceEvent& e) override {
      got.push_back(e.size);
      addrs.push_back(static_cast<int64_t>(e.addr));
      return memtk::OkStatus();
    }
    std::vector<int64_t> got, addrs;
  };
  for (size_t chunk : {1, 3, 9, 10, 11, 64, 4096}) {
    INFO("chunk " << chunk);
    Sizes sink;
    memtk::snapshot::ReadOptions o;
    o.chunk_size = chunk;
    REQUIRE(memtk::snapshot::ReadSnapshotBytes("long1.pickle", p, &sink, o).ok());
    CHECK(sink.got == values);
    CHECK(sink.addrs == values);
  }
}

TEST_CASE("TorchScript protocol 2: type-tag globals are interpreted, not run", "[pickle]") {
  const std::string text = Render("torchscript_p2.pickle");
  CHECK(text.find("E 0 0 0 alloc 8589934592 1024 0 10") != std::string::npos);
  CHECK(text.find("E 3 0 3 alloc 8589934592 1024 0 40") != std::string::npos);
  CHECK(text.find("T allocator_settings {\"PYTORCH_CUDA_ALLOC_CONF\":\"\"}") != std::string::npos);
  CHECK(text.find("B 0 0 8589934592 1024 1000 active_allocated train.py:12:step;") != std::string::npos);
}

TEST_CASE("legacy blocks get addresses from their segment", "[snapshot]") {
  const std::string text = Render("legacy.pickle");
  CHECK(text.find("\"history\":[{\"addr\":") != std::string::npos);
}

TEST_CASE("exact error messages", "[errors]") {
  using V = std::vector<uint8_t>;
  CHECK(ErrorOf(V{}) == "in.pickle: empty file");
  CHECK(ErrorOf(V{'h', 'i'}) ==
        "in.pickle: not a PyTorch memory snapshot: neither a pickle, gzip nor JSON (first byte 0x68)");
  CHECK(ErrorOf(V{0x80, 0x04, '}', 0x94}) == "in.pickle: truncated pickle at byte 4 (inside a dict)");
  CHECK(ErrorOf(V{0x80, 0x04, 0x8c, 0x05, 'a', 'b'}) == "in.pickle: truncated pickle at byte 6");
  CHECK(ErrorOf(V{0x80, 0x09, 'N', '.'}) == "in.pickle: unsupported pickle protocol 9 at byte 0");
  CHECK(ErrorOf(V{0x80, 0x04, 0xff}) == "in.pickle: unknown pickle opcode 0xff at byte 2");
  CHECK(ErrorOf(V{0x80, 0x04, 'N', '.'}) ==
        "in.pickle: not a PyTorch memory snapshot: the top-level object is a None");
  CHECK(ErrorOf(V{0x80, 0x04, 'h', 0x07}) == "in.pickle: memo index 7 used before it was defined at byte 2");
  // A PUT far beyond anything a writer could have numbered (each slot costs
  // at least one byte) is refused before any per-slot table is sized by it.
  CHECK(ErrorOf(V{0x80, 0x04, 'N', 'r', 0xff, 0xff, 0xff, 0x7f, '.'}) ==
        "in.pickle: memo index 2147483647 out of range at byte 3");
  const std::string gl = "\x80\x02" "cos\nsystem\n" "X\x02\x00\x00\x00ls\x85R.";
  CHECK(ErrorOf(V(gl.begin(), gl.end())) ==
        "in.pickle: refused pickle opcode GLOBAL (os.system) at byte 2: memtk never runs code from a pickle");
  CHECK(ErrorOf(ReadFile(memtk::test::DataPath("evil.pickle"))) ==
        "in.pickle: refused pickle opcode STACK_GLOBAL (os.system) at byte 25: memtk never runs code from a pickle");
  CHECK(ErrorOf(V{0x80, 0x04, ')', ')', 'R', '.'}) ==
        "in.pickle: refused pickle opcode REDUCE at byte 4: memtk never runs code from a pickle");
  CHECK(ErrorOf(V{0x80, 0x04, '}', ')', 'b', '.'}) ==
        "in.pickle: refused pickle opcode BUILD (0x62) at byte 4: memtk never runs code from a pickle");
  for (int op : {0x69, 0x6f, 0x81, 0x92, 0x50, 0x51, 0x82, 0x83, 0x84}) {  // INST OBJ NEWOBJ NEWOBJ_EX PERSID BINPERSID EXT1-4
    INFO("opcode " << int(op));
    std::string e = ErrorOf(V{0x80, 0x04, '(', static_cast<uint8_t>(op), 'x', '\n', 'y', '\n', 0, 0, 0, 0, '.'});
    CHECK(e.find("refused pickle opcode") != std::string::npos);
  }
}

TEST_CASE("every truncation of a real-shaped snapshot is reported, never accepted", "[errors]") {
  auto bytes = ReadFile(memtk::test::DataPath("small.pickle"));
  for (size_t n = 0; n < bytes.size(); n += 97) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
    std::string e = ErrorOf(cut, 61);
    INFO("cut at " << n << ": " << e);
    CHECK(ErrorOf(cut, 61, /*split=*/true) == e);
    CHECK((n == 0 ? e == "in.pickle: empty file" : e.rfind("in.pickle: truncated pickle at byte " + std::to_string(n), 0) == 0));
  }
}

TEST_CASE("JSON errors point at line and column", "[json][errors]") {
  memtk::snapshot::SnapshotSink sink;
  memtk::Status s = memtk::snapshot::ReadSnapshot(memtk::test::DataPath("bad.json"), &sink, {});
  CHECK(s.message() == std::string(MEMTK_DATA_DIR) + "/bad.json:3:18: Missing a comma or '}' after an object member.");
}

TEST_CASE("rendering a hostile value to JSON stays small and valid", "[pickle]") {
  using memtk::pickle::Kind;
  memtk::StringPool pool;
  memtk::pickle::NodeArena arena;
  auto str = [&](std::string_view s) {
    memtk::pickle::Value v;
    v.kind = Kind::kStr;
    v.id = pool.Intern(s).value;
    return v;
  };
  auto node = [&](Kind k) {
    memtk::pickle::Value v;
    v.kind = k;
    v.node = arena.New(k, 0, 0);
    return v;
  };
  SECTION("a value shared at every level (billion laughs) is cut at the byte budget") {
    // 40 levels, each a list holding the level below twice: 2^40 leaves.
    memtk::pickle::Value level = str(std::string(100, 'x'));
    std::vector<memtk::pickle::Value> keep;
    for (int i = 0; i < 40; ++i) {
      memtk::pickle::Value l = node(Kind::kList);
      l.node->items = {level, level};
      keep.push_back(l);
      level = l;
    }
    std::string out;
    memtk::pickle::AppendJson(pool, level, &out);
    CHECK(out.size() < memtk::pickle::kMaxJsonBytes + 4096);
    CHECK(out.find("\"<truncated>\"") != std::string::npos);
    CHECK(std::count(out.begin(), out.end(), '[') == std::count(out.begin(), out.end(), ']'));
  }
  SECTION("container keys become a placeholder instead of nested escaped JSON") {
    memtk::pickle::Value inner = node(Kind::kDict);
    memtk::pickle::Value tuple_key = node(Kind::kTuple);
    tuple_key.node->items = {str("a\"b"), str("c")};
    inner.node->items = {tuple_key, str("v")};
    std::string out;
    memtk::pickle::AppendJson(pool, inner, &out);
    CHECK(out == "{\"<tuple>\":\"v\"}");
  }
  SECTION("scalar keys keep their value as text") {
    memtk::pickle::Value d = node(Kind::kDict);
    memtk::pickle::Value k;
    k.kind = Kind::kInt;
    k.i = 42;
    d.node->items = {k, str("v")};
    std::string out;
    memtk::pickle::AppendJson(pool, d, &out);
    CHECK(out == "{\"42\":\"v\"}");
  }
}
