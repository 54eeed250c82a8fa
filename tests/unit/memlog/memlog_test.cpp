// memlog: the report's phases on known shapes, exact errors, flat memory;
// the sampler on this process; time columns. (Issue #3.)
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "alloc_counter.h"
#include "memlog/time_format.h"
#include "memtk/memlog/recorder.h"
#include "memtk/memlog/report.h"
#include "memlog/sampler.h"
#include "test_util.h"

using namespace memtk;
using namespace memtk::memlog;

namespace {

constexpr double kMiB = 1 << 20;

using memtk::test::TempDir;

// A memlog CSV of `n` samples every `dt` seconds with rss = f(t).
template <class F>
std::string Series(size_t n, double dt, F&& f) {
  std::string s = "time_utc,unix_s,elapsed_s,rss_bytes,procs\n";
  for (size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) * dt;
    char row[160];
    std::snprintf(row, sizeof row, "2026-11-22T00:00:00.000Z,%.6f,%.6f,%lld,1\n", 1795300000.0 + t, t,
                  static_cast<long long>(f(t)));
    s += row;
  }
  return s;
}

MemlogReport Report(const std::string& path, MemlogReportOptions o = {}) {
  auto r = BuildMemlogReport(path, o);
  INFO(r.status().message());
  REQUIRE(r.ok());
  return std::move(r).value();
}

std::string ReportError(const std::string& path) {
  auto r = BuildMemlogReport(path, {});
  REQUIRE(!r.ok());
  return r.status().message();
}

}  // namespace

TEST_CASE("memlog report finds the phases of the generated recording", "[memlog]") {
  // data/memlog/train.csv comes from scripts/gen_memlog.py, which documents
  // the shape asserted here.
  MemlogReport r = Report(std::string(MEMTK_DATA_DIR) + "/memlog/train.csv");
  CHECK(r.samples == 3000);
  CHECK(r.column == "rss_bytes");
  CHECK(r.start_bytes == 150 * (1 << 20));
  CHECK(r.peak_bytes > 1900 * kMiB);
  CHECK(r.peak_s == Approx(180.0).margin(0.2));
  REQUIRE(r.hwm_max);
  CHECK(*r.hwm_max > r.peak_bytes);  // the spike only VmHWM saw
  REQUIRE(r.plateau);
  CHECK(r.startup_s > 17.0);
  CHECK(r.startup_s < 20.5);
  // The plateau starts where the ramp is within 5% of the rise: before its top.
  CHECK(r.startup_bytes == Approx(1450 * kMiB).epsilon(0.1));
  REQUIRE(r.steady);
  CHECK(r.growth_bytes_per_hour == Approx(600 * kMiB).epsilon(0.15));
  REQUIRE(r.drop);
  CHECK(r.drop_to_bytes == 20 * (1 << 20));
  CHECK(r.drop_from_bytes > 1600 * kMiB);
  CHECK(r.drop_to_s - r.drop_from_s == Approx(2.0).margin(0.2));
  REQUIRE(r.jumps.size() == 5);
  CHECK(r.jumps[0].rise() == Approx(850 * kMiB).epsilon(0.02));
  REQUIRE(!r.jumps[0].lines.empty());
  CHECK(r.jumps[0].lines[0].text == "warning: shard 2/2 is \"large\", this may take a while");
  CHECK(r.jumps[0].lines[0].stream == "stderr");
  CHECK(r.jumps[1].rise() == 600 * (1 << 20));
  REQUIRE(r.jumps[1].lines.size() == 1);
  CHECK(r.jumps[1].lines[0].text == "loading checkpoint shard 1/2");
  CHECK(r.jumps[2].rise() == Approx(300 * kMiB).epsilon(0.02));
  CHECK(r.mark_count == 1);
  REQUIRE(r.marks.size() == 1);
  CHECK(r.marks[0].text == "epoch 2");
  REQUIRE(r.columns.size() == 6);
  CHECK(r.columns[3].name == "procs");
  CHECK(r.columns[3].max == 3);
}

TEST_CASE("memlog report on simple shapes", "[memlog]") {
  TempDir dir;
  SECTION("flat: no start-up, no growth, no drop") {
    MemlogReport r = Report(dir.File("flat.csv", Series(1000, 0.1, [](double) { return 500 << 20; })));
    CHECK(r.plateau);
    CHECK(r.startup_s == 0);
    REQUIRE(r.steady);
    CHECK(r.growth_bytes_per_hour == 0);
    CHECK(r.r_squared == 1.0);
    CHECK_FALSE(r.growth_meaningful);  // issue #17: flat is not growth worth a number
    CHECK(r.growth_why_not.starts_with("no growth beyond the noise"));
    CHECK_FALSE(r.drop);
    CHECK(r.jumps.empty());
  }
  SECTION("a straight line of 10 GiB/hour after a quick start") {
    auto f = [](double t) { return t < 2 ? (t / 2) * 1e9 : 1e9 + (t - 2) * 10 * 1024 * kMiB / 3600; };
    MemlogReport r = Report(dir.File("line.csv", Series(36000, 0.1, f)));
    CHECK_FALSE(r.plateau);  // a leak this steep never levels off
    REQUIRE(r.steady);
    CHECK(r.growth_bytes_per_hour == Approx(10 * 1024 * kMiB).epsilon(0.01));
    CHECK(r.r_squared > 0.999);
    CHECK(r.growth_meaningful);
    // An hour of steady phase: MiB/min (under 3 hours).
    CHECK(GrowthInFittingUnit(r).unit == "MiB/min");
    CHECK(GrowthInFittingUnit(r).value == Approx(10 * 1024 / 60.0).epsilon(0.01));
    CHECK_FALSE(r.drop);
  }
  SECTION("still rising at the end: no plateau, growth over the whole run") {
    MemlogReport r = Report(dir.File("rise.csv", Series(1000, 0.1, [](double t) { return t * 100 * kMiB; })));
    CHECK_FALSE(r.plateau);
    REQUIRE(r.steady);
    CHECK(r.steady_from_s == 0);
    CHECK(r.growth_bytes_per_hour == Approx(360000 * kMiB));
    // Issue #17: 100 s reported as "+360000.0 MiB/hour"; per second it reads.
    CHECK(r.growth_meaningful);
    CHECK(GrowthInFittingUnit(r).unit == "MiB/s");
    CHECK(GrowthInFittingUnit(r).value == Approx(100));
  }
  SECTION("too few samples, too short, poor fit: no figure, and why") {
    MemlogReport few = Report(dir.File("few.csv", Series(6, 0.1, [](double t) { return t * 100 * kMiB; })));
    REQUIRE(few.steady);
    CHECK_FALSE(few.growth_meaningful);
    CHECK(few.growth_why_not == "too few samples (6, need 10)");
    MemlogReport fast = Report(dir.File("fast.csv", Series(50, 0.01, [](double t) { return t * 1000 * kMiB; })));
    CHECK_FALSE(fast.growth_meaningful);
    CHECK(fast.growth_why_not == "too short (0.49 s)");
    // 100 MiB teeth (residual RMS ~50 MiB) on a rise of 2 MiB: within the noise.
    auto saw = [](double t) { return (static_cast<int>(t * 10 + 0.5) % 2) * 100 * kMiB + t * 0.2 * kMiB; };
    MemlogReport flat = Report(dir.File("saw.csv", Series(100, 0.1, saw)));
    CHECK_FALSE(flat.growth_meaningful);
    CHECK(flat.growth_why_not.starts_with("no growth beyond the noise"));
    // The same teeth on a rise of 140 MiB: above the noise, but R² ~0.4.
    auto saw_up = [](double t) { return (static_cast<int>(t * 10 + 0.5) % 2) * 100 * kMiB + t * 14 * kMiB; };
    MemlogReport poor = Report(dir.File("saw_up.csv", Series(100, 0.1, saw_up)));
    CHECK_FALSE(poor.growth_meaningful);
    CHECK(poor.growth_why_not.starts_with("poor fit (R² 0."));
  }
}

TEST_CASE("memlog report errors name file, line and column", "[memlog]") {
  TempDir dir;
  const std::string h = "time_utc,unix_s,elapsed_s,rss_bytes\n";
  const std::string ok = "2026-11-22T00:00:00.000Z,1795300000.0,0.0,100\n";
  CHECK(ReportError(dir.File("a.csv", h + ok + "2026-11-22T00:00:00.100Z,1795300000.1,0.1,12x\n")) ==
        dir.path + "/a.csv:3:43: rss_bytes: expected a number, found \"12x\"");
  CHECK(ReportError(dir.File("b.csv", h + ok + "2026-11-22T00:00:00.100Z,1795300000.1,0.1\n")) ==
        dir.path + "/b.csv:3:39: expected 4 fields as in the header, found 3");
  CHECK(ReportError(dir.File("c.csv", "time,rss\n1,2\n")) ==
        dir.path + "/c.csv:1:1: not a memtk memlog CSV (the header must start with time_utc,unix_s,elapsed_s)");
  CHECK(ReportError(dir.File("d.csv", h + ok + "2026-11-22T00:00:00.100Z,1795300000.1,-1.0,5\n")) ==
        dir.path + "/d.csv:3:39: elapsed_s goes backwards (-1.0 after 0)");
  CHECK(ReportError(dir.File("h.csv", h + ok + "2026-11-22T00:00:00.100Z,1795300000.1,0.1,-9223372036854775808\n")) ==
        dir.path + "/h.csv:3:43: rss_bytes: -9223372036854775808 is out of range (more than 2^53)");
  CHECK(ReportError(dir.File("i.csv", h + ok + "2026-11-22T00:00:00.100Z,inf,0.1,5\n")) ==
        dir.path + "/i.csv:3:26: unix_s: expected a number, found \"inf\"");
  CHECK(ReportError(dir.File("e.csv", "")) == dir.path + "/e.csv: empty file (no memlog header)");
  CHECK(ReportError(dir.File("f.csv", h + "2026-11-22T00:00:00.000Z,\"1795300000.0,0.0,100\n")) ==
        dir.path + "/f.csv:2:26: unterminated quoted field");
  // A last row cut short by a kill of the writer is skipped and counted.
  MemlogReport r = Report(dir.File("g.csv", h + ok + ok + "2026-11-22T00:00:00.2"));
  CHECK(r.samples == 2);
  CHECK(r.truncated_rows == 1);
}

TEST_CASE("memlog report memory does not grow with the rows", "[memlog]") {
  TempDir dir;
  // Rises all along: 5 jumps in both files.
  auto f = [](double t) { return 1e9 + std::sin(t * 10) * 1e8; };
  const std::string small = dir.File("small.csv", Series(2000, 0.01, f));
  const std::string big = dir.File("big.csv", Series(200000, 0.01, f));
  auto allocations = [](const std::string& path) {
    const uint64_t before = testing::AllocationCount();
    { MemlogReport r = Report(path); }
    return testing::AllocationCount() - before;
  };
  CHECK(allocations(small) == allocations(big));
}

TEST_CASE("sampler reads this process and its children", "[memlog]") {
  std::vector<std::string> notices;
  SamplerOptions o;
  o.target = SamplerOptions::Target::kTree;
  o.pid = ::getpid();
  o.gpu = false;
  pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  auto value = [](Sampler& s, Col c) {
    std::vector<int64_t> v(s.columns().size());
    REQUIRE(s.Sample(v).ok());
    for (size_t i = 0; i < v.size(); ++i)
      if (s.columns()[i] == c) return v[i];
    FAIL("no such column");
    return int64_t{0};
  };
  auto tree = Sampler::Create(o, &notices);
  REQUIRE(tree.ok());
  CHECK(value(**tree, Col::kProcs) == 2);
  CHECK(value(**tree, Col::kRss) > 1 << 20);
  o.children = false;
  auto alone = Sampler::Create(o, &notices);
  REQUIRE(alone.ok());
  CHECK(value(**alone, Col::kProcs) == 1);
  o.target = SamplerOptions::Target::kDescendants;
  o.children = true;
  auto desc = Sampler::Create(o, &notices);
  REQUIRE(desc.ok());
  CHECK(value(**desc, Col::kProcs) == 1);
  o.children = false;  // direct children only: still the one child
  auto direct = Sampler::Create(o, &notices);
  REQUIRE(direct.ok());
  CHECK(value(**direct, Col::kProcs) == 1);
  o.children = true;
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  CHECK(value(**desc, Col::kProcs) == 0);
  CHECK((*tree)->target_alive());

  o.target = SamplerOptions::Target::kTree;
  o.pid = child;  // reaped: gone
  auto gone = Sampler::Create(o, &notices);
  REQUIRE(!gone.ok());
  CHECK(gone.status().message() == "no process with PID " + std::to_string(child) + " (or /proc is not readable)");
}

TEST_CASE("memlog time columns and durations", "[memlog]") {
  std::string s;
  AppendTimes(s, 1795300000123456789, 1'500'000'000);
  CHECK(s == "2026-11-21T22:26:40.123Z,1795300000.123457,1.500000");
  s.clear();
  AppendTimes(s, 0, -1);
  CHECK(s == "1970-01-01T00:00:00.000Z,0.000000,");
  CHECK(IsoUtc(1709164800.5) == "2024-02-29T00:00:00.500Z");
  s.clear();
  AppendQuoted(s, "say \"hi\", twice");
  CHECK(s == "\"say \"\"hi\"\", twice\"");
  int64_t ns = 0;
  CHECK((ParseDuration("10ms", &ns) && ns == 10'000'000));
  CHECK((ParseDuration("0.5s", &ns) && ns == 500'000'000));
  CHECK((ParseDuration("2", &ns) && ns == 2'000'000'000));
  CHECK((ParseDuration("1.5h", &ns) && ns == 5'400'000'000'000));
  CHECK((ParseDuration("250us", &ns) && ns == 250'000));
  CHECK_FALSE(ParseDuration("10 ms", &ns));
  CHECK_FALSE(ParseDuration("fast", &ns));
  CHECK_FALSE(ParseDuration("", &ns));
  CHECK(DefaultLogPath("run.csv") == "run.log.csv");
  CHECK(DefaultLogPath("dir/run") == "dir/run.log.csv");
}

TEST_CASE("a FIFO where the log CSV would be is not read along unasked", "[memlog]") {
  // Opening it would block until a writer came (the hostile sweep's hang).
  TempDir d;
  const std::string csv = d.File("run.csv", Series(20, 1.0, [](double t) { return 100 * kMiB + t * kMiB; }));
  REQUIRE(::mkfifo((d.path + "/run.log.csv").c_str(), 0600) == 0);
  const MemlogReport r = Report(csv);
  CHECK(r.log_path.empty());
  CHECK(r.samples == 20);
}
