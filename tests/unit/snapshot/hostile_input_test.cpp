// Issue #16, "hostile and broken input": memo bombs, oversized strings and
// integers, deep JSON and cut gzip trailers end in bounded time and memory
// with one message naming the byte (or line:column), and the legitimate
// neighbours of each (a shared frame list, a 64 KiB string, a 1785-byte
// integer, 9,999 levels) still read. The full-size inputs (gigabyte gzip
// bombs, 10^8-block memo bombs) run end to end in tests/hostile_inputs.py.
#include <pthread.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "memtk/base/stats.h"
#include "memtk/snapshot/snapshot.h"
#include "test_util.h"

using memtk::test::ErrorOf;
using memtk::test::ReadFile;

namespace {

// A protocol-4 pickle written opcode by opcode, as CPython's pickler would.
class Pk {
 public:
  Pk() { b_ = {0x80, 0x04}; }
  Pk& Op(std::string_view raw) {
    b_.insert(b_.end(), raw.begin(), raw.end());
    return *this;
  }
  Pk& S(std::string_view text) {
    if (text.size() < 256) {
      b_.push_back(0x8c);
      b_.push_back(static_cast<uint8_t>(text.size()));
    } else {
      b_.push_back('X');
      Le(text.size(), 4);
    }
    return Op(text);
  }
  Pk& I(int64_t v) {
    b_.push_back(0x8a);
    b_.push_back(8);
    Le(static_cast<uint64_t>(v), 8);
    return *this;
  }
  uint32_t Memoize() {
    b_.push_back(0x94);
    return memo_++;
  }
  Pk& Get(uint32_t idx) {
    b_.push_back('j');
    Le(idx, 4);
    return *this;
  }
  void Le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) b_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  size_t size() const { return b_.size(); }
  std::vector<uint8_t> Stop() {
    b_.push_back('.');
    return b_;
  }

 private:
  std::vector<uint8_t> b_;
  uint32_t memo_ = 0;
};

// {"segments": [...], "device_traces": [[one alloc event + extra pairs]]}:
// `segments` and `extra` write their part.
template <class Segs, class Extra>
std::vector<uint8_t> Snapshot(Segs segments, Extra extra) {
  Pk p;
  p.Op("}(").S("segments").Op("](");
  segments(p);
  p.Op("e").S("device_traces").Op("](](}(").S("action").S("alloc").S("addr").I(4096).S("size").I(512);
  extra(p);
  p.Op("ueeu");
  return p.Stop();
}

struct Read {
  std::string error;  // "" when the read succeeded
  std::string text;   // records, as memtk::test::TextSink renders them
  uint64_t not_kept = 0;
};

Read ReadBytes(const std::vector<uint8_t>& bytes, size_t chunk, bool single_pass = false) {
  memtk::test::TextSink sink;
  memtk::snapshot::ReadOptions o;
  o.chunk_size = chunk;
  o.single_pass = single_pass;
  memtk::Status s = memtk::snapshot::ReadSnapshotBytes("in.pickle", bytes, &sink, o);
  return {s.ok() ? "" : s.message(), sink.text, sink.summary.stats.Get(memtk::Stat::k_value_not_kept)};
}

std::vector<uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }

}  // namespace

TEST_CASE("memo bombs: a block list or history reached twice is refused at its byte", "[hostile]") {
  // Two segments, the second's "blocks" a memo reference to the first's.
  size_t at = 0;
  const auto shared_blocks = Snapshot(
      [&](Pk& p) {
        p.Op("}(").S("address").I(0).S("blocks").Op("]");
        const uint32_t blocks = p.Memoize();
        p.Op("(}(").S("size").I(512).Op("ueu");
        p.Op("}(").S("address").I(1 << 20).S("blocks").Get(blocks).Op("u");
        at = p.size();  // the APPENDS that streams both segments
      },
      [](Pk&) {});
  for (size_t chunk : {1, 7, 4096}) {
    INFO("chunk " << chunk);
    CHECK(ReadBytes(shared_blocks, chunk).error ==
          fmt::format("in.pickle: segment 1 reuses the block list of an earlier segment (a memo reference that "
                      "would expand every block again) at byte {}",
                      at));
  }
  // The same segment dict listed twice expands its blocks twice too.
  const auto shared_segment = Snapshot(
      [](Pk& p) {
        p.Op("}(").S("address").I(0).S("blocks").Op("](}(").S("size").I(512).Op("ueu");
        p.Get(p.Memoize());
      },
      [](Pk&) {});
  CHECK(ReadBytes(shared_segment, 4096).error.find("segment 1 reuses the block list") != std::string::npos);
  const auto shared_history = Snapshot(
      [](Pk& p) {
        p.Op("}(").S("address").I(0).S("blocks").Op("](");
        p.Op("}(").S("size").I(512).S("history").Op("]");
        const uint32_t h = p.Memoize();
        p.Op("(}(").S("real_size").I(512).Op("ueu");
        p.Op("}(").S("size").I(512).S("history").Get(h).Op("u");
        p.Op("eu");
      },
      [](Pk&) {});
  CHECK(ReadBytes(shared_history, 4096).error.find("in.pickle: block 1 reuses the history list of an earlier block") ==
        0);
  // Frame lists are shared by design (one traceback, many events): fine.
  const auto shared_frames = Snapshot([](Pk&) {},
                                      [](Pk& p) {
                                        p.S("frames").Op("](}(").S("filename").S("a.py").S("line").I(3).Op("ue");
                                        const uint32_t f = p.Memoize();
                                        p.S("forward_frames").Get(f);
                                      });
  CHECK(ReadBytes(shared_frames, 4096).error == "");
}

TEST_CASE("memo bombs: an event dict listed again is refused at its byte", "[hostile]") {
  // device_traces[0] = [e, e, e, ...] with e one memoised dict: two bytes a
  // record (10^8 records from a 300 KB gzip, the hostile sweep's bomb).
  size_t at = 0;
  auto bomb = [&](bool appends) {
    Pk p;
    p.Op("}(").S("segments").Op("]").S("device_traces").Op("](](}(").S("action").S("alloc").S("addr").I(4096);
    p.S("size").I(512).Op("u");
    const uint32_t e = p.Memoize();
    if (appends) {
      for (int i = 0; i < 1000; ++i) p.Get(e);
      at = p.size();  // the APPENDS that lists the repeats
      p.Op("e");
    } else {
      p.Op("e");  // APPENDS of the first alone, then one APPEND per repeat
      p.Get(e);
      at = p.size();
      p.Op("a");
    }
    p.Op("eu");
    return p.Stop();
  };
  for (bool appends : {true, false}) {
    const auto bytes = bomb(appends);
    for (size_t chunk : {1, 7, 4096}) {
      INFO("appends " << appends << ", chunk " << chunk);
      CHECK(ReadBytes(bytes, chunk).error ==
            fmt::format("in.pickle: trace event 1 of device 0 is an earlier event listed again (a memo reference "
                        "or DUP: every repeat, a byte or two, would be one more record) at byte {}",
                        at));
    }
  }
}

TEST_CASE("values held at once are bounded: a tuple nested 3M deep stops early", "[hostile]") {
  // One TUPLE1 byte a level held ~115 bytes a level: 2.3 GB from 20 MB.
  std::vector<uint8_t> deep = {0x80, 0x04, 'N'};
  deep.insert(deep.end(), 3'000'000, 0x85);
  deep.push_back('.');
  for (size_t chunk : {size_t{4096}, size_t{256} << 10}) {
    INFO("chunk " << chunk);
    const std::string e = ReadBytes(deep, chunk).error;
    CHECK(e.rfind("in.pickle: ", 0) == 0);
    CHECK(e.find(" values held at once, over the limit of 2^18 + 1 per 2 input bytes at byte ") != std::string::npos);
    CHECK(e.find(": nested too deep, or never streamed") != std::string::npos);
  }
  // 100,000 levels are within the bound: the read ends as the snapshot
  // check says (a tuple is not a snapshot), not at the bound.
  std::vector<uint8_t> fine = {0x80, 0x04, 'N'};
  fine.insert(fine.end(), 100'000, 0x85);
  fine.push_back('.');
  CHECK(ReadBytes(fine, 4096).error.find("values held at once") == std::string::npos);
}

TEST_CASE("memo bombs: repeated large values stop at the expansion budget", "[hostile]") {
  // 1,200 events, each with a memoised 60,000-byte value under an unknown
  // key: 72 MB of `extra` JSON from 90 KB, over 64 MiB + 16 bytes per byte.
  Pk p;
  p.Op("}(").S("segments").Op("]").S("device_traces").Op("](](");
  uint32_t key = 0, value = 0;
  for (int i = 0; i < 1200; ++i) {
    p.Op("}(").S("action").S("alloc").S("addr").I(4096 + 512 * i);
    if (i == 0) {
      p.S("junk");
      key = p.Memoize();
      p.S(std::string(60000, 'x'));
      value = p.Memoize();
    } else {
      p.Get(key).Get(value);
    }
    p.Op("u");
  }
  p.Op("eeu");
  const std::string e = ReadBytes(p.Stop(), 1 << 16).error;
  CHECK(e.rfind("in.pickle: records expand to ", 0) == 0);
  CHECK(e.find("over the limit of 64 MiB + 16 per input byte") != std::string::npos);
  CHECK(e.find(" at byte ") != std::string::npos);
}

TEST_CASE("memo bombs: OrderedDict/set REDUCE copies are budgeted", "[hostile]") {
  Pk p;
  p.Op("}(").S("segments").Op("]").S("device_traces").Op("]").S("junk").Op("](");
  p.S("collections").S("OrderedDict").Op("\x93");
  const uint32_t g = p.Memoize();
  p.Op("]");
  const uint32_t l = p.Memoize();
  p.Op("(");
  for (int k = 0; k < 1000; ++k) p.I(k).I(k).Op("\x86");
  p.Op("e\x85R");
  for (int c = 1; c < 1200; ++c) p.Get(g).Get(l).Op("\x85R");
  p.Op("eu");
  const std::string e = ReadBytes(p.Stop(), 4096).error;
  CHECK(e.rfind("in.pickle: OrderedDict/set arguments copied ", 0) == 0);
  CHECK(e.find("one list referenced again and again (a memo bomb); refused") != std::string::npos);
  // One OrderedDict of the same list is fine.
  Pk ok;
  ok.Op("}(").S("segments").Op("]").S("device_traces").Op("]").S("junk");
  ok.S("collections").S("OrderedDict").Op("\x93](");
  for (int k = 0; k < 1000; ++k) ok.I(k).I(k).Op("\x86");
  ok.Op("e\x85Ru");
  CHECK(ReadBytes(ok.Stop(), 4096).error == "");
}

TEST_CASE("strings over 64 KiB are stepped over, not kept, at any chunk boundary", "[hostile]") {
  const auto bytes = Snapshot([](Pk&) {},
                              [](Pk& p) {
                                p.S("big").S(std::string(100000, 'a'));
                                p.S("edge").S(std::string(65536, 'b'));  // at the cap: kept
                                p.S("raw").Op("B");                      // BINBYTES
                                p.Le(70000, 4);
                                p.Op(std::string(70000, '\0'));
                                p.S("wide").Op("\x8d");  // BINUNICODE8
                                p.Le(200000, 8);
                                p.Op(std::string(200000, 'c'));
                              });
  const Read whole = ReadBytes(bytes, 1 << 20);
  REQUIRE(whole.error == "");
  CHECK(whole.text.find("\"big\":\"<string of 100000 bytes, not kept>\"") != std::string::npos);
  CHECK(whole.text.find("<string of 65536") == std::string::npos);  // at the cap: kept
  CHECK(whole.text.find("\"raw\":\"<bytes of 70000 bytes, not kept>\"") != std::string::npos);
  CHECK(whole.text.find("\"wide\":\"<string of 200000 bytes, not kept>\"") != std::string::npos);
  CHECK(whole.not_kept == 3);
  for (size_t chunk : {1, 3, 4096, 65537}) {
    for (bool single : {false, true}) {
      INFO("chunk " << chunk << (single ? " single pass" : ""));
      const Read r = ReadBytes(bytes, chunk, single);
      CHECK(r.error == "");
      CHECK(r.text == whole.text);
    }
  }
  // Cut inside a skipped string: truncated where the input ends.
  for (size_t cut : {size_t{200}, bytes.size() - 100000}) {
    std::vector<uint8_t> part(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(cut));
    CHECK(ErrorOf(part, 997).rfind(fmt::format("in.pickle: truncated pickle at byte {}", cut), 0) == 0);
  }
}

TEST_CASE("integers wider than 1785 bytes (4300 digits) are refused, not converted", "[hostile]") {
  auto long4 = [](size_t n) {
    return Snapshot([](Pk&) {},  // NOLINT
                    [n](Pk& p) {
                      p.S("junk").Op("\x8b");
                      p.Le(n, 4);
                      p.Op(std::string(n - 1, '\0'));
                      p.Op("\x01");  // 256^(n-1)
                    });
  };
  // 2^14272 has 4297 digits and ends in 6.
  const Read ok = ReadBytes(long4(1785), 4096);
  REQUIRE(ok.error == "");
  const size_t at = ok.text.find("\"junk\":");
  REQUIRE(at != std::string::npos);
  const size_t digits = ok.text.find_first_not_of("0123456789", at + 7) - (at + 7);
  CHECK(digits == 4297);
  CHECK(ok.text[at + 7 + digits - 1] == '6');
  const auto wide = long4(1 << 20);
  CHECK(ReadBytes(wide, 4096).error ==
        "in.pickle: integer of 1048576 bytes exceeds the 1785-byte limit at byte 91: more than 4300 decimal digits, "
        "Python's own limit for int to str");
  CHECK(ReadBytes(long4(1786), 1).error.rfind("in.pickle: integer of 1786 bytes exceeds the 1785-byte limit", 0) ==
        0);
  // Protocol 0's text form: the same limit in digits.
  const std::string text = "(dp0\nVjunk\np1\nL" + std::string(5000, '7') + "L\np2\ns.";
  CHECK(ErrorOf(Bytes(text)) ==
        "in.pickle: integer of 5000 digits exceeds the 4300-digit limit at byte 14: Python's own limit for int to str");
}

namespace {
// Runs `f` on a thread with a 512 KiB stack, as `ulimit -s 512` would.
template <class F>
void OnSmallStack(F f) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 512 << 10);
  pthread_t t;
  REQUIRE(pthread_create(
              &t, &attr, [](void* p) -> void* { (*static_cast<F*>(p))(); return nullptr; }, &f) == 0);
  pthread_join(t, nullptr);
  pthread_attr_destroy(&attr);
}

std::vector<uint8_t> DeepJson(int depth) {
  return Bytes(R"({"segments":[],"device_traces":[],"junk":)" + std::string(depth, '[') + std::string(depth, ']') +
               "}");
}
}  // namespace

TEST_CASE("JSON nested 9,999 deep reads on a 512 KiB stack; the 10,000 cap decides", "[hostile][json]") {
  std::string deep, too_deep;
  OnSmallStack([&] {
    deep = ErrorOf(DeepJson(9999));
    too_deep = ErrorOf(DeepJson(10001));
  });
  CHECK(deep == "");
  CHECK(too_deep == "in.pickle:1:10042: JSON nested deeper than 10000 levels");
}

TEST_CASE("JSON strings over 64 KiB are dropped as they stream past", "[hostile][json]") {
  const std::string big(100000, 'a');
  std::string escapes;
  for (int i = 0; i < 40000; ++i) escapes += i % 2 ? "\\n" : "\\u00e9";
  // Surrogate pairs across the cut: the kept part never ends inside one.
  std::string pairs;
  for (int i = 0; i < 20000; ++i) pairs += "\\ud83d\\ude00x";
  const std::string json = R"({"segments":[],"device_traces":[[{"action":"alloc","addr":1,"size":2,"big":")" + big +
                           R"(","esc":")" + escapes + R"(","pairs":")" + pairs + R"(","edge":")" +
                           std::string(65535, 'b') + R"(",")" + big + R"(":1}]]})";
  const Read whole = ReadBytes(Bytes(json), 1 << 20);
  REQUIRE(whole.error == "");
  CHECK(whole.not_kept == 4);
  CHECK(whole.text.find("\"big\":\"<string of 100000 bytes, not kept>\"") != std::string::npos);
  CHECK(whole.text.find(fmt::format("\"esc\":\"<string of {} bytes, not kept>\"", escapes.size())) !=
        std::string::npos);
  CHECK(whole.text.find(fmt::format("\"pairs\":\"<string of {} bytes, not kept>\"", pairs.size())) !=
        std::string::npos);
  CHECK(whole.text.find("\"edge\":\"" + std::string(65535, 'b') + "\"") != std::string::npos);
  CHECK(whole.text.find("\"<string of 100000 bytes, not kept>\":1") != std::string::npos);  // a key
  for (size_t chunk : {1, 5, 4096, 65539}) {
    INFO("chunk " << chunk);
    CHECK(ReadBytes(Bytes(json), chunk).text == whole.text);
  }
  // An error after a dropped string points at the input's own line:col.
  const std::string bad = "{\"segments\":[],\n\"junk\":\"" + big + "\",\n\"device_traces\":[] \"x\"}";
  CHECK(ErrorOf(Bytes(bad), 4096) == "in.pickle:3:20: Missing a comma or '}' after an object member.");
  // A control character inside the dropped part is still an error.
  const std::string ctrl = "{\"segments\":[],\"junk\":\"" + big + "\x01" + "\"}";
  CHECK(ErrorOf(Bytes(ctrl), 4096).find("Invalid escape character in string.") != std::string::npos);
}

TEST_CASE("JSON numbers and gaps are bounded too", "[hostile][json]") {
  const std::string json = R"({"segments":[],"junk":0.)" + std::string(3 << 20, '7') + "}";
  CHECK(ErrorOf(Bytes(json), 65536) ==
        "in.pickle:1:22: no JSON value ends within 1048576 bytes (a number or whitespace run that long is refused)");
}

namespace {
std::string WriteTemp(const std::string& name, const std::vector<uint8_t>& bytes) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
  return path.string();
}
}  // namespace

TEST_CASE("gzip: a stream cut inside its trailer or with a bad CRC is refused", "[hostile][gzip]") {
  const auto gz = ReadFile(memtk::test::DataPath("small.pickle.gz"));
  REQUIRE(gz.size() > 8);
  const std::string path = WriteTemp(fmt::format("memtk-trailer-{}.pickle.gz", ::getpid()), gz);
  memtk::snapshot::SnapshotSink sink;
  CHECK(memtk::snapshot::ReadSnapshot(path, &sink, {}).ok());
  for (size_t keep = gz.size() - 8; keep < gz.size(); ++keep) {
    INFO("kept " << keep << " of " << gz.size());
    WriteTemp(path.substr(path.rfind('/') + 1), {gz.begin(), gz.begin() + static_cast<ptrdiff_t>(keep)});
    CHECK(memtk::snapshot::ReadSnapshot(path, &sink, {}).message() ==
          fmt::format("{}: truncated gzip stream at compressed byte {}", path, keep));
  }
  auto bad = gz;
  bad[bad.size() - 8] ^= 0xff;  // CRC-32
  WriteTemp(path.substr(path.rfind('/') + 1), bad);
  CHECK(memtk::snapshot::ReadSnapshot(path, &sink, {}).message().find(": incorrect data check") != std::string::npos);
  bad = gz;
  bad[bad.size() - 1] ^= 0x01;  // ISIZE
  WriteTemp(path.substr(path.rfind('/') + 1), bad);
  CHECK(memtk::snapshot::ReadSnapshot(path, &sink, {}).message().find(": incorrect length check") != std::string::npos);
  std::filesystem::remove(path);
}
