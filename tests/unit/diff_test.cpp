// memtk diff: gate parsing (exact limits, every error), the comparison of two
// reports (metric rows, site ranking, allocations only in NEW), gates that
// trip one byte / 0.01% above the limit and not at it (issue #19).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "memtk/analysis/diff.h"
#include "memtk/commands/diff.h"
#include "memtk/commands/stats.h"

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
  CHECK(pct.Exceeded(1000000, 1050001));        // one byte above the limit
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
