// Flame data (analysis/flame.h, flame_tree.h) and folded stacks
// (present/folded.h), on the committed fixtures: the weights at the peak
// add up to exactly stats' peak per device (issue #18), other instants to
// the same accounting's figures.
#include "analysis/flame.h"

#include <catch2/catch.hpp>
#include <map>

#include "analysis/flame_tree.h"
#include "memtk/analysis/snapshot_stats.h"
#include "present/folded.h"
#include "test_util.h"

namespace memtk::analysis {
namespace {

std::map<uint32_t, int64_t> Totals(const FlameProfile& p) {
  std::map<uint32_t, int64_t> t;
  for (const FlameStack& s : p.stacks) t[s.device] += s.bytes;
  return t;
}

FlameProfile Build(const std::string& name, FlameOptions o) {
  auto p = BuildFlameProfile(test::DataPath(name), o);
  REQUIRE(p.ok());
  return std::move(p).value();
}

TEST_CASE("ParseInstant reads peak, end, event:N and us:T; anything else is usage") {
  CHECK(ParseInstant("peak")->kind == Instant::kPeak);
  CHECK(ParseInstant("end")->kind == Instant::kEnd);
  auto e = ParseInstant("event:42");
  REQUIRE(e.ok());
  CHECK(e->kind == Instant::kEvent);
  CHECK(e->value == 42);
  auto t = ParseInstant("us:-5");
  REQUIRE(t.ok());
  CHECK(t->kind == Instant::kTimeUs);
  CHECK(t->value == -5);
  for (const char* bad :
       {"", "Peak", "event:", "event:-1", "event:1x", "us:", "time:3", "event:99999999999999999999"}) {
    auto s = ParseInstant(bad);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == StatusCode::kUsage);
  }
  CHECK(ParseInstant("a\x1b[2Jb").status().message().find("\\x1b") != std::string::npos);
}

TEST_CASE("FoldedField keeps one stack per line and frames apart") {
  CHECK(FoldedField("train.py:12:step") == "train.py:12:step");
  CHECK(FoldedField("a;b.py:1:f") == "a\\x3bb.py:1:f");
  CHECK(FoldedField("x\ny\r") == "x\\ny\\r");
  CHECK(FoldedField("with space.py:3:f") == "with space.py:3:f");  // tools split at the last space
  CHECK(FoldedField("\x1b;") == "\\x1b\\x3b");
}

TEST_CASE("Folded weights at the peak add up to stats' peak on every device") {
  for (const char* name : {"sample.pickle", "small.pickle", "newest.pickle", "legacy.pickle", "no_time.pickle",
                           "starts_with_frees.pickle", "expandable.pickle", "diff/new_3dev.pickle"}) {
    INFO(name);
    auto report = BuildSnapshotReport(test::DataPath(name), {});
    REQUIRE(report.ok());
    FlameProfile p = Build(name, {});
    std::map<uint32_t, int64_t> totals = Totals(p);
    for (const DeviceReport& d : report->devices) {
      INFO("device " << d.device);
      CHECK(totals[d.device] == d.peak.peak.bytes);
      FlameOptions end;
      end.at = {Instant::kEnd, 0};
      CHECK(Totals(Build(name, end))[d.device] == d.peak.end_bytes);
      FlameOptions all;
      all.at = {Instant::kAll, 0};
      CHECK(Totals(Build(name, all))[d.device] == d.alloc_bytes);
      if (d.peak.peak.event_idx) {
        // The live set after the peak's event is the peak.
        FlameOptions ev;
        ev.device = d.device;
        ev.at = {Instant::kEvent, static_cast<int64_t>(*d.peak.peak.event_idx)};
        CHECK(Totals(Build(name, ev))[d.device] == d.peak.peak.bytes);
      }
    }
  }
}

TEST_CASE("Folded text: device frames with several devices, none with one") {
  FlameProfile p = Build("sample.pickle", {});
  std::string text;
  REQUIRE(present::WriteFolded(p, [&](std::string_view s) {
            text += s;
            return OkStatus();
          }).ok());
  std::map<std::string, int64_t> by_device;
  size_t lines = 0;
  for (size_t start = 0; start < text.size();) {
    size_t nl = text.find('\n', start);
    REQUIRE(nl != std::string::npos);
    std::string line = text.substr(start, nl - start);
    start = nl + 1;
    ++lines;
    REQUIRE(line.starts_with("device "));
    size_t space = line.rfind(' ');
    by_device[line.substr(0, line.find(';'))] += std::stoll(line.substr(space + 1));
  }
  CHECK(lines > 100);
  auto report = BuildSnapshotReport(test::DataPath("sample.pickle"), {});
  REQUIRE(report.ok());
  for (const DeviceReport& d : report->devices)
    CHECK(by_device["device " + std::to_string(d.device)] == d.peak.peak.bytes);

  FlameOptions one;
  one.device = 1;
  FlameProfile p1 = Build("sample.pickle", one);
  text.clear();
  REQUIRE(present::WriteFolded(p1, [&](std::string_view s) {
            text += s;
            return OkStatus();
          }).ok());
  CHECK(text.find("device ") == std::string::npos);
}

TEST_CASE("Hidden frames stay out of folded stacks unless all_frames") {
  // control_chars.pickle's stack has frames the viewer hides.
  FlameProfile hidden = Build("control_chars.pickle", {});
  FlameOptions all;
  all.frames.all_frames = true;
  FlameProfile shown = Build("control_chars.pickle", all);
  size_t a = 0, b = 0;
  for (const FlameStack& s : hidden.stacks) a += s.frames.size();
  for (const FlameStack& s : shown.stacks) b += s.frames.size();
  CHECK(a >= 1);
  CHECK(b >= a);
}

TEST_CASE("Errors: a device without data, an event past the trace, an event without a device") {
  FlameOptions o;
  o.device = 7;
  auto s = BuildFlameProfile(test::DataPath("sample.pickle"), o);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == StatusCode::kInvalidInput);
  CHECK(s.status().message().ends_with("sample.pickle: no data for device 7 (devices: 0, 1)"));
  o.device = 0;
  o.at = {Instant::kEvent, 1500};
  s = BuildFlameProfile(test::DataPath("sample.pickle"), o);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message().ends_with("sample.pickle: event 1500 is past the end of device 0's trace (1500 events)"));
  o.device.reset();
  o.at = {Instant::kEvent, 3};
  s = BuildFlameProfile(test::DataPath("sample.pickle"), o);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == StatusCode::kUsage);
}

TEST_CASE("Flame tree: every node holds the sum of its children's bytes at least, children largest first") {
  FlameProfile p = Build("sample.pickle", {});
  FlameTree t = BuildFlameTree(p, 0);
  CHECK(t.nodes[0].bytes == Totals(p)[0]);
  CHECK(t.max_depth > 3);
  for (const FlameNode& n : t.nodes) {
    int64_t sum = 0;
    for (size_t i = 0; i < n.children.size(); ++i) {
      sum += t.nodes[n.children[i]].bytes;
      if (i) CHECK(t.nodes[n.children[i - 1]].bytes >= t.nodes[n.children[i]].bytes);
    }
    CHECK(sum <= n.bytes);
  }
}

TEST_CASE("Flame segments: blocks and free space add up to the reserved bytes") {
  FlameOptions o;
  o.segments = true;
  for (const char* name : {"sample.pickle", "expandable.pickle", "newest.pickle"}) {
    INFO(name);
    auto report = BuildSnapshotReport(test::DataPath(name), {});
    REQUIRE(report.ok());
    FlameProfile p = Build(name, o);
    std::map<uint32_t, int64_t> totals = Totals(p);
    for (const DeviceReport& d : report->devices) CHECK(totals[d.device] == d.segments.reserved);
  }
}

}  // namespace
}  // namespace memtk::analysis
