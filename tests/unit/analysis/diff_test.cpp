// memtk diff: gate parsing (exact limits, every error), the comparison of two
// reports (metric rows, site ranking, allocations only in NEW), gates that
// trip one byte / 0.01% above the limit and not at it (issue #19).
#include "memtk/analysis/diff.h"

#include <fmt/format.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "memtk/analysis/multi_stats.h"
#include "memtk/commands/convert.h"
#include "memtk/commands/diff.h"
#include "snapshot/tee_sink.h"
#include "store/replay.h"
#include "test_util.h"

using namespace memtk;
using analysis::Gate;
using analysis::Metric;
using analysis::ParseGate;

namespace {

Gate MustParse(std::string_view text) {
  auto g = ParseGate(text);
  INFO(text << ": " << g.status().message());
  REQUIRE(g.ok());
  return *g;
}

std::string ParseError(std::string_view text) {
  auto g = ParseGate(text);
  REQUIRE(!g.ok());
  CHECK(g.status().code() == StatusCode::kUsage);
  return g.status().message();
}

const std::string kData = MEMTK_DATA_DIR;

}  // namespace

TEST_CASE("gate expressions parse to exact limits", "[diff]") {
  Gate g = MustParse("peak>5%");
  CHECK(g.metric == Metric::kPeak);
  CHECK(g.percent);
  CHECK(g.limit == 5000000);
  CHECK(MustParse("peak>0.01%").limit == 10000);
  CHECK(MustParse(" reserved > 12.5% ").limit == 12500000);
  g = MustParse("peak>256MiB");
  CHECK_FALSE(g.percent);
  CHECK(g.limit == 256 << 20);
  CHECK(MustParse("peak>1.5GiB").limit == (int64_t{3} << 29));
  CHECK(MustParse("allocated>100").limit == 100);
  CHECK(MustParse("alloc_bytes>2kB").limit == 2000);
  CHECK(MustParse("fragmentation>1 GB").limit == 1000000000);
  CHECK(MustParse("oom>0").limit == 0);
  CHECK(MustParse("allocs>20%").metric == Metric::kAllocs);
  CHECK(MustParse("duration>90s").limit == 90000);
  CHECK(MustParse("duration>2min").limit == 120000);
  CHECK(MustParse("growth>10MiB/h").limit == 10 << 20);
}

TEST_CASE("bad gate expressions are usage errors naming the problem", "[diff]") {
  CHECK(ParseError("peak") == "--fail-on 'peak': expected METRIC>LIMIT, e.g. peak>5% or peak>256MiB");
  CHECK(ParseError("vram>5%") ==
        "--fail-on 'vram>5%': unknown metric 'vram' (snapshots: peak, reserved, allocated, fragmentation, allocs, "
        "alloc_bytes, oom; memlog CSVs: peak, startup, growth, final, duration)");
  CHECK(ParseError("peak>=5%") == "--fail-on 'peak>=5%': only '>' is supported: the limit itself passes");
  CHECK(ParseError("peak>five%") == "--fail-on 'peak>five%': the limit must be a non-negative number, e.g. 5% or 0.5%");
  CHECK(ParseError("peak>-5%") == "--fail-on 'peak>-5%': the limit must be a non-negative number, e.g. 5% or 0.5%");
  CHECK(ParseError("peak>5 parsecs") ==
        "--fail-on 'peak>5 parsecs': the limit must be a percentage (5%) or bytes, optionally with B, KiB, MiB, GiB, "
        "TiB, kB, MB, GB or TB for peak");
  CHECK(ParseError("oom>1MiB") == "--fail-on 'oom>1MiB': the limit must be a percentage (5%) or a whole count for oom");
  CHECK(ParseError("allocs>1.5") == "--fail-on 'allocs>1.5': a count limit must be a whole number");
  CHECK(ParseError("peak>") ==
        "--fail-on 'peak>': the limit must be a percentage (5%) or bytes, optionally with B, KiB, MiB, GiB, TiB, kB, "
        "MB, GB or TB for peak");
  CHECK(ParseError("peak>99999999999999TiB") == "--fail-on 'peak>99999999999999TiB': the limit is too large");
}

TEST_CASE("a gate trips one byte above its limit and not at it", "[diff]") {
  Gate bytes = MustParse("peak>256MiB");
  const int64_t base = 1000000000;
  CHECK_FALSE(bytes.Exceeded(base, base + (256 << 20)));
  CHECK(bytes.Exceeded(base, base + (256 << 20) + 1));
  CHECK_FALSE(bytes.Exceeded(base, base - (1 << 30)));  // shrinking never fails
  Gate pct = MustParse("peak>5%");
  CHECK_FALSE(pct.Exceeded(10000, 10500));  // exactly 5%
  CHECK(pct.Exceeded(10000, 10501));        // 5.01%
  // 0.01% above: base 1000000, limit 5% = 50000, plus 0.01% = 100.
  CHECK_FALSE(pct.Exceeded(1000000, 1050000));
  CHECK(pct.Exceeded(1000000, 1050100));
  CHECK(pct.Exceeded(1000000, 1050001));  // one byte above the limit
  Gate fine = MustParse("peak>0.01%");
  CHECK_FALSE(fine.Exceeded(1000000, 1000100));
  CHECK(fine.Exceeded(1000000, 1000101));
  // From zero: any growth is above any percentage; no growth is not.
  CHECK(pct.Exceeded(0, 1));
  CHECK_FALSE(pct.Exceeded(0, 0));
  Gate oom = MustParse("oom>0");
  CHECK_FALSE(oom.Exceeded(2, 2));
  CHECK(oom.Exceeded(2, 3));
  // Extremes do not overflow.
  CHECK(pct.Exceeded(1, INT64_MAX));
  CHECK_FALSE(pct.Exceeded(INT64_MAX, INT64_MIN));
}

namespace {

struct Side {
  analysis::SnapshotReport report;
  analysis::AllocationSites sites;
};

// As `memtk diff` reads a side: stats' analysis and AllocationSites on one read.
std::unique_ptr<Side> Read(const std::string& path) {
  auto s = std::make_unique<Side>();
  analysis::SnapshotStatsOptions o;
  o.top_sites = SIZE_MAX;
  analysis::SnapshotStats stats(o);
  snapshot::TeeSink tee(stats.sink(), &s->sites);
  Status read = store::ReadInput(path, &tee);
  INFO(path << ": " << read.message());
  REQUIRE(read.ok());
  auto r = stats.Take(path);
  REQUIRE(r.ok());
  s->report = std::move(*r);
  return s;
}

std::vector<analysis::DeviceDiff> Diff(const Side& b, const Side& n, size_t top = 10) {
  analysis::CompareOptions o;
  o.top = top;
  return analysis::DiffSnapshots({&b.report, &b.sites}, {&n.report, &n.sites}, o);
}

}  // namespace

TEST_CASE("a snapshot compared with itself changes nothing and passes every gate", "[diff]") {
  auto a = Read(kData + "/sample.pickle");
  auto b = Read(kData + "/sample.pickle");
  std::vector<analysis::DeviceDiff> d = Diff(*a, *b);
  REQUIRE(d.size() == 2);
  std::vector<analysis::Gate> gates;
  for (Metric m : analysis::SnapshotMetrics()) {
    gates.push_back(MustParse(std::string(analysis::MetricName(m)) + ">0"));
    gates.push_back(MustParse(std::string(analysis::MetricName(m)) + ">0%"));
  }
  for (const analysis::DeviceDiff& x : d) {
    CHECK(x.in_base);
    CHECK(x.in_next);
    for (const analysis::MetricRow& r : x.metrics) {
      CHECK(r.change() == 0);
      CHECK(r.percent() == 0.0);
    }
    CHECK(x.sites.grown_total + x.sites.shrunk_total + x.sites.added_total + x.sites.gone_total == 0);
    CHECK(x.sites.unchanged > 0);
    CHECK(x.only_in_next_total == 0);
  }
  analysis::PairDiff p;
  p.devices = d;
  auto g = analysis::EvaluateGates({p}, gates, std::nullopt);
  REQUIRE(g.ok());
  CHECK(g->checks.size() == gates.size() * 2);
  CHECK_FALSE(g->failed());
}

TEST_CASE("metric rows are the two stats reports' figures", "[diff]") {
  auto b = Read(kData + "/diff/base.pickle");
  auto n = Read(kData + "/diff/new.pickle");
  std::vector<analysis::DeviceDiff> d = Diff(*b, *n, 3);
  REQUIRE(d.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    const analysis::DeviceReport& rb = b->report.devices[i];
    const analysis::DeviceReport& rn = n->report.devices[i];
    CHECK(d[i].Row(Metric::kPeak)->base == rb.peak.peak.bytes);
    CHECK(d[i].Row(Metric::kPeak)->next == rn.peak.peak.bytes);
    CHECK(d[i].Row(Metric::kPeak)->change() == rn.peak.peak.bytes - rb.peak.peak.bytes);
    CHECK(d[i].Row(Metric::kReserved)->next == rn.segments.reserved);
    CHECK(d[i].Row(Metric::kAllocated)->next == rn.segments.allocated);
    CHECK(d[i].Row(Metric::kFragmentation)->next == rn.segments.reserved - rn.segments.allocated);
    CHECK(d[i].Row(Metric::kAllocs)->base == static_cast<int64_t>(rb.allocs));
    CHECK(d[i].Row(Metric::kAllocBytes)->next == rn.alloc_bytes);
    CHECK(d[i].base_peak.event_idx == rb.peak.peak.event_idx);
    // Site changes: ranked by |change|, cut to 3, totals before the cut, and
    // every site of both sides counted once.
    const analysis::SiteChanges& s = d[i].sites;
    CHECK(s.grown.size() <= 3);
    for (size_t k = 1; k < s.grown.size(); ++k) CHECK(s.grown[k - 1].change() >= s.grown[k].change());
    for (size_t k = 1; k < s.shrunk.size(); ++k) CHECK(s.shrunk[k - 1].change() <= s.shrunk[k].change());
    for (const auto& c : s.grown) CHECK(c.change() > 0);
    for (const auto& c : s.shrunk) CHECK(c.change() < 0);
    for (const auto& c : s.added) CHECK((c.base_count == 0 && c.next_count > 0));
    for (const auto& c : s.gone) CHECK((c.next_count == 0 && c.base_count > 0));
    std::set<std::string> sites;
    for (const auto& u : rb.peak_by_site) sites.insert(u.site);
    for (const auto& u : rn.peak_by_site) sites.insert(u.site);
    CHECK(s.grown_total + s.shrunk_total + s.added_total + s.gone_total + s.unchanged == sites.size());
  }
}

TEST_CASE("allocations only in NEW: a device only NEW has is all new", "[diff]") {
  auto b = Read(kData + "/diff/base.pickle");
  auto n = Read(kData + "/diff/new_3dev.pickle");
  std::vector<analysis::DeviceDiff> d = Diff(*b, *n, 1000);
  REQUIRE(d.size() == 3);
  // Devices 0 and 1 replay the same trace (same seed, same events per device).
  CHECK(d[0].only_in_next_total == 0);
  CHECK(d[1].only_in_next_total == 0);
  CHECK_FALSE(d[2].in_base);
  CHECK(d[2].Row(Metric::kPeak)->base == 0);
  CHECK_FALSE(d[2].Row(Metric::kPeak)->percent().has_value());
  uint64_t allocs = 0;
  for (const analysis::NewAllocation& a : d[2].only_in_next) allocs += a.count;
  CHECK(d[2].only_in_next.size() == d[2].only_in_next_total);
  CHECK(allocs == n->report.devices[2].allocs);
  for (size_t k = 1; k < d[2].only_in_next.size(); ++k)
    CHECK(d[2].only_in_next[k - 1].size >= d[2].only_in_next[k].size);
  // --device keeps one.
  analysis::CompareOptions o;
  o.device = 2;
  CHECK(analysis::DiffSnapshots({&b->report, &b->sites}, {&n->report, &n->sites}, o).size() == 1);
}

TEST_CASE("every gate metric trips one byte or 0.01% above the change, not at it", "[diff]") {
  auto b = Read(kData + "/diff/base.pickle");
  auto n = Read(kData + "/diff/new.pickle");
  analysis::PairDiff p;
  p.devices = Diff(*b, *n);
  for (const analysis::DeviceDiff& d : p.devices)
    for (const analysis::MetricRow& r : d.metrics) {
      if (r.change() <= 0) continue;
      std::string name(analysis::MetricName(r.metric));
      INFO(name << " on device " << d.device << ": " << r.base << " -> " << r.next);
      CHECK_FALSE(MustParse(name + ">" + std::to_string(r.change())).Exceeded(r.base, r.next));
      CHECK(MustParse(name + ">" + std::to_string(r.change() - 1)).Exceeded(r.base, r.next));
      // In hundredths of a percent, exactly: a limit at the change passes,
      // 0.01% below it trips.
      __int128 scaled = static_cast<__int128>(r.change()) * 10000;
      int64_t hundredths = static_cast<int64_t>(scaled / r.base);
      bool exact = scaled % r.base == 0;
      auto pct = [](int64_t h) { return fmt::format("{}.{:02}%", h / 100, h % 100); };
      if (exact) {
        CHECK_FALSE(MustParse(name + ">" + pct(hundredths)).Exceeded(r.base, r.next));
        CHECK(MustParse(name + ">" + pct(hundredths - 1)).Exceeded(r.base, r.next));
      } else {
        CHECK(MustParse(name + ">" + pct(hundredths)).Exceeded(r.base, r.next));
        CHECK_FALSE(MustParse(name + ">" + pct(hundredths + 1)).Exceeded(r.base, r.next));
      }
    }
}

TEST_CASE("a database and its pickle compare equal", "[diff]") {
  const std::string db = "/tmp/memtk-unit-diff-" + std::to_string(::getpid()) + ".db";
  REQUIRE(commands::ConvertOne(kData + "/diff/base.pickle", db, {}).status.ok());
  commands::DiffOptions o;
  o.base = kData + "/diff/base.pickle";
  o.next = db;
  o.fail_on = {"peak>0", "reserved>0", "allocated>0", "fragmentation>0", "allocs>0", "alloc_bytes>0", "oom>0"};
  o.format = commands::DiffFormat::kJson;
  auto r = commands::RunDiff(o);
  ::unlink(db.c_str());
  REQUIRE(r.ok());
  CHECK_FALSE(r->gate_failed);
  CHECK(r->gate_failures.empty());
  CHECK(r->output.find("\"change\":1") == std::string::npos);
  CHECK(r->output.find("\"failed\":false,\"missing_in_new\":[],\"checks\"") != std::string::npos);
}

TEST_CASE("directories pair files by name and list the unpaired", "[diff]") {
  commands::DiffOptions o;
  o.base = kData + "/diff/runs_base";
  o.next = kData + "/diff/runs_new";
  o.fail_on = {"peak>10%"};
  o.format = commands::DiffFormat::kJson;
  auto r = commands::RunDiff(o);
  REQUIRE(r.ok());
  CHECK(r->gate_failed);
  // The rank NEW lost fails the gate first, then the check that failed.
  REQUIRE(r->gate_failures.size() == 2);
  CHECK(r->gate_failures[0] == "rank2.pickle: failed: only in BASE, NEW has no file to compare");
  CHECK(r->gate_failures[1].rfind("rank1.pickle: peak>10% failed on device 0: base ", 0) == 0);
  CHECK(r->output.find("\"only_in_base\":[\"rank2.pickle\"],\"only_in_new\":[\"rank3.pickle\"]") != std::string::npos);
  CHECK(r->output.find("\"missing_in_new\":[\"rank2.pickle\"]") != std::string::npos);
  // Without gates a file only in BASE is listed, not failed.
  o.fail_on.clear();
  auto quiet = commands::RunDiff(o);
  REQUIRE(quiet.ok());
  CHECK_FALSE(quiet->gate_failed);
  CHECK(quiet->output.find("\"failed\":false,\"missing_in_new\":[]") != std::string::npos);
  // Nothing in common is an input error.
  const std::filesystem::path empty =
      std::filesystem::temp_directory_path() / ("memtk-diff-" + std::to_string(::getpid()));
  std::filesystem::create_directories(empty);
  std::ofstream(empty / "other.pickle") << "x";
  o.next = empty.string();
  auto e = commands::RunDiff(o);
  std::filesystem::remove_all(empty);
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().code() == StatusCode::kInvalidInput);
  CHECK(e.status().message().find("no file name in both directories (3 and 1 files)") != std::string::npos);
}

TEST_CASE("only a BASE file memtk would compare fails the gate when NEW lacks it", "[diff]") {
  // A README or a report written into BASE (diff --json -o BASE/) is
  // listed as only in BASE, not gated.
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("memtk-diff-gate-" + std::to_string(::getpid()));
  fs::create_directories(root / "base");
  fs::create_directories(root / "new");
  fs::copy_file(kData + "/diff/runs_base/rank0.pickle", root / "base" / "rank0.pickle");
  fs::copy_file(kData + "/diff/runs_new/rank0.pickle", root / "new" / "rank0.pickle");
  fs::copy_file(kData + "/diff/runs_base/rank2.pickle", root / "base" / "rank2.pickle");
  fs::copy_file(kData + "/small.json", root / "base" / "rank5.json");
  std::ofstream(root / "base" / "README.md") << "# runs\n";
  std::ofstream(root / "base" / "new.diff.json") << "{\"base\":\"b\",\"new\":\"n\",\"pairs\":[]}";
  commands::DiffOptions o;
  o.base = (root / "base").string();
  o.next = (root / "new").string();
  o.fail_on = {"peak>50%"};
  auto r = commands::RunDiff(o);
  fs::remove_all(root);
  REQUIRE(r.ok());
  CHECK(r->gate_failed);
  CHECK(r->gate_failures == std::vector<std::string>{"rank2.pickle: failed: only in BASE, NEW has no file to compare",
                                                     "rank5.json: failed: only in BASE, NEW has no file to compare"});
  for (const char* listed : {"README.md: only in BASE", "new.diff.json: only in BASE", "rank2.pickle: only in BASE"})
    CHECK(r->output.find(listed) != std::string::npos);
}

TEST_CASE("several inputs: rows per input and device, worst, imbalance, same top site", "[diff][stats]") {
  std::vector<analysis::SnapshotReport> reports;
  for (const char* f : {"/diff/runs_base/rank0.pickle", "/diff/runs_base/rank1.pickle", "/diff/base.pickle"}) {
    analysis::SnapshotStatsOptions o;
    o.top = 1;
    auto r = analysis::BuildSnapshotReport(kData + f, o);
    REQUIRE(r.ok());
    reports.push_back(std::move(*r));
  }
  reports.emplace_back();  // an input with no device data
  reports.back().source = "empty";
  analysis::MultiStats m = analysis::SummariseReports(reports);
  REQUIRE(m.rows.size() == 4);
  CHECK(m.no_data == std::vector<std::string>{"empty"});
  CHECK(m.rows[3].source == kData + "/diff/base.pickle");
  CHECK(m.rows[3].device == 1);
  int64_t max = 0, min = INT64_MAX;
  double sum = 0;
  size_t worst = 0;
  for (size_t i = 0; i < m.rows.size(); ++i) {
    const auto& r = m.rows[i];
    if (r.peak.bytes > max) worst = i;
    max = std::max(max, r.peak.bytes);
    min = std::min(min, r.peak.bytes);
    sum += static_cast<double>(r.peak.bytes);
  }
  CHECK(m.worst == worst);
  CHECK(m.max_peak == max);
  CHECK(m.min_peak == min);
  CHECK(m.imbalance == Approx(max / (sum / 4)));
  // Every one of these peaks at the same site (the fixtures share their sites).
  CHECK(m.same_top_site);
  CHECK(m.distinct_top_sites == 1);
  // A different top site somewhere breaks "same".
  m.rows[0].top_site = "elsewhere.py:1:f";
  reports[0].devices[0].peak_by_site[0].site = "elsewhere.py:1:f";
  CHECK_FALSE(analysis::SummariseReports(reports).same_top_site);
  CHECK(analysis::SummariseReports({}).rows.empty());
  CHECK_FALSE(analysis::SummariseReports({}).worst.has_value());
}

TEST_CASE("AllocationSites: alloc events by (device, site, size), first event kept", "[diff]") {
  snapshot::Tables t;
  // Stacks 0 and 2 are one frame (interned once): one site.
  StackId a = test::AddStack(t, {{"/work/train.py", 10, "f"}});
  StackId b = test::AddStack(t, {{"/work/train.py", 20, "g"}});
  StackId a2{static_cast<uint32_t>(t.stack_offsets.size())};
  t.stack_offsets.push_back(t.stack_frames.size());
  t.stack_frames.push_back(t.stack_frames[t.stack_offsets[a.value]]);
  analysis::AllocationSites sites;
  REQUIRE(sites.OnBegin(t).ok());
  uint64_t idx = 0;
  auto ev = [&](uint32_t device, snapshot::Action action, std::optional<StackId> stack, int64_t size,
                bool host = false) {
    snapshot::TraceEvent e;
    e.device = device;
    e.index = idx++;
    e.action = action;
    e.stack = stack;
    e.size = size;
    e.host = host;
    e.time_us = 1000 + static_cast<int64_t>(e.index);
    REQUIRE(sites.OnEvent(e).ok());
  };
  using snapshot::Action;
  ev(0, Action::kAlloc, b, 512);                                              // 0
  ev(0, Action::kAlloc, a2, 512);                                             // 1: site of a, first of (0, f, 512)
  ev(0, Action::kAlloc, a, 512);                                              // 2
  ev(0, Action::kFreeCompleted, a, 512);                                      // 3: not an alloc
  ev(0, Action::kAlloc, a, 1024);                                             // 4
  ev(1, Action::kAlloc, a, 512);                                              // 5: another device
  ev(0, Action::kAlloc, a, 512, /*host=*/true);                               // 6: host, ignored
  ev(0, Action::kAlloc, std::nullopt, 512);                                   // 7
  for (int i = 0; i < 3000; ++i) ev(2, Action::kAlloc, b, 512 * (i % 1000));  // grows the table
  REQUIRE(sites.OnEnd({}).ok());
  const analysis::AllocationSites::Map& m = sites.sites();
  auto at = [&](uint32_t device, const std::string& site, int64_t size) -> const analysis::AllocationSites::Entry& {
    auto it = m.find({device, site, size});
    INFO(device << " " << site << " " << size);
    REQUIRE(it != m.end());
    return it->second;
  };
  CHECK(at(0, "/work/train.py:10:f", 512).count == 2);
  CHECK(at(0, "/work/train.py:10:f", 512).first_event_idx == 1);
  CHECK(at(0, "/work/train.py:10:f", 512).first_time_us == 1001);
  CHECK(at(0, "/work/train.py:10:f", 1024).count == 1);
  CHECK(at(0, "/work/train.py:20:g", 512).first_event_idx == 0);
  CHECK(at(1, "/work/train.py:10:f", 512).first_event_idx == 5);
  CHECK(at(0, "<no frames>", 512).first_event_idx == 7);
  CHECK(at(2, "/work/train.py:20:g", 512 * 999).count == 3);
  CHECK(at(2, "/work/train.py:20:g", 0).first_event_idx == 8);
  CHECK(m.size() == 5 + 1000);
}
