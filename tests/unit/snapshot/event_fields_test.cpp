// Interpreter::Event reuses one TraceEvent and resets its fields one by one
// (a fresh one was zeroed with `rep stos`): an event with every key, then
// one with only its action, must read as if each were alone.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "memtk/snapshot/snapshot.h"
#include "test_util.h"

namespace {
std::string Records(const std::string& json) {
  memtk::test::TextSink sink;
  const memtk::Status st = memtk::snapshot::ReadSnapshotBytes(
      "events.json", {reinterpret_cast<const uint8_t*>(json.data()), json.size()}, &sink, {});
  return st.ok() ? sink.text : "ERROR " + st.message();
}
std::string Snapshot(const std::string& events) {
  return R"({"segments": [], "device_traces": [[)" + events + "]]}";
}
}  // namespace

TEST_CASE("an event's fields do not carry over to the next event", "[snapshot]") {
  const std::string full =
      R"({"action": "alloc", "addr": 4096, "size": 512, "stream": 7, "time_us": 99, "device_free": 5,)"
      R"( "compile_context": "ctx", "user_metadata": "meta", "pool_id": [1, 2], "unknown_key": 3,)"
      R"( "frames": [{"filename": "a.py", "line": 1, "name": "f"}],)"
      R"( "forward_frames": [{"filename": "b.py", "line": 2, "name": "g"}]})";
  const std::string bare = R"({"action": "free_completed"})";
  const std::string both = Records(Snapshot(full + ", " + bare));
  const std::string bare_alone = Records(Snapshot(bare));
  REQUIRE(both.rfind("ERROR", 0) != 0);
  REQUIRE(bare_alone.rfind("ERROR", 0) != 0);
  // The bare event's line, but for its id and index (1 after the full one),
  // is the line it has alone.
  const auto last_line = [](const std::string& text) {
    const size_t end = text.rfind('\n', text.size() - 2);
    return text.substr(end == std::string::npos ? 0 : end + 1);
  };
  std::string alone = last_line(bare_alone), after = last_line(both);
  REQUIRE(alone.rfind("E 0 0 0 ", 0) == 0);
  REQUIRE(after.rfind("E 1 0 1 ", 0) == 0);
  CHECK(after.substr(8) == alone.substr(8));
  // And the full event did carry its fields (the check above is not vacuous).
  CHECK(both.find("E 0 0 0 alloc 4096 512 7 99 5 a.py:1:f; b.py:2:g;|\"meta\"|[1,2]|{\"unknown_key\":3}\n") !=
        std::string::npos);
  // compile_context is not in TextSink's line: read it directly.
  struct ContextSink : memtk::snapshot::SnapshotSink {
    memtk::Status OnEvent(const memtk::snapshot::TraceEvent& e) override {
      contexts.push_back(e.compile_context != memtk::snapshot::kNoString);
      has_addr.push_back(e.has_addr);
      return memtk::OkStatus();
    }
    std::vector<bool> contexts, has_addr;
  } sink;
  const std::string json = Snapshot(full + ", " + bare);
  REQUIRE(memtk::snapshot::ReadSnapshotBytes("events.json",
                                             {reinterpret_cast<const uint8_t*>(json.data()), json.size()}, &sink, {})
              .ok());
  CHECK(sink.contexts == std::vector<bool>{true, false});
  CHECK(sink.has_addr == std::vector<bool>{true, false});
}
