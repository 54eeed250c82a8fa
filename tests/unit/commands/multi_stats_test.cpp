// `stats` over several inputs: an input that cannot be read is named and
// leaves the others' table standing (commands/multi_stats.h).
#include "memtk/commands/multi_stats.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

using namespace memtk;

namespace {
std::string Data(const char* name) { return std::string(MEMTK_DATA_DIR) + "/" + name; }

// Table rows (one per input and device) that begin with `name`.
size_t RowsOf(const std::string& text, const std::string& name) {
  size_t n = 0;
  for (size_t at = 0; at < text.size();) {
    const size_t end = std::min(text.find('\n', at), text.size());
    n += text.compare(at, name.size() + 1, name + " ") == 0;
    at = end + 1;
  }
  return n;
}
}  // namespace

TEST_CASE("a bad input is named and the others are still tabulated", "[multi_stats][commands]") {
  for (unsigned jobs : {1u, 2u}) {
    CAPTURE(jobs);
    commands::MultiStatsOptions o;
    o.inputs = {Data("empty.pickle"), Data("small.pickle"), Data("truncated.pickle"), Data("sample.pickle")};
    o.jobs = jobs;
    auto out = commands::RunMultiStats(o);
    REQUIRE(out.ok());
    REQUIRE(out->failed.size() == 2);  // in input order, whatever finished first
    CHECK(out->failed[0].message() == Data("empty.pickle") + ": empty file");
    CHECK(out->failed[1].message().rfind(Data("truncated.pickle") + ": truncated pickle at byte", 0) == 0);
    CHECK(RowsOf(out->output, "small.pickle") == 1);
    CHECK(RowsOf(out->output, "sample.pickle") == 2);  // two devices
    CHECK(out->output.find("not read: " + Data("empty.pickle") + ": empty file\n") != std::string::npos);
    CHECK(out->warnings.size() == 2);  // the inputs that were read
  }
}

TEST_CASE("with no input read there is nothing to tabulate", "[multi_stats][commands]") {
  commands::MultiStatsOptions o;
  o.inputs = {Data("empty.pickle"), Data("not_a_snapshot.txt")};
  o.json = true;
  auto out = commands::RunMultiStats(o);
  REQUIRE(out.ok());
  CHECK(out->failed.size() == 2);
  CHECK(out->output.empty());
}

TEST_CASE("a memlog CSV among several inputs is still a usage error", "[multi_stats][commands]") {
  commands::MultiStatsOptions o;
  o.inputs = {Data("small.pickle"), Data("memlog/train.csv")};
  auto out = commands::RunMultiStats(o);
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().code() == StatusCode::kUsage);
}
