// `convert --to pprof`, parsed back with the classes generated from our
// profile.proto: totals per device equal stats' peak (inuse_space) and the
// trace's allocated bytes (alloc_space); ids and string indices resolve.
#include "export/pprof.h"

#include <unistd.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <set>

#include "memtk/analysis/snapshot_stats.h"
#include "memtk/commands/convert.h"
#include "test_util.h"

namespace memtk::exports {
namespace {

std::string Gunzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  REQUIRE(f != nullptr);
  std::string out;
  char buf[1 << 16];
  for (int n; (n = gzread(f, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  gzclose(f);
  return out;
}

TEST_CASE("pprof: inuse_space per device is stats' peak, alloc_space the allocated bytes") {
  for (const char* name : {"sample.pickle", "small.pickle", "diff/new_3dev.pickle", "starts_with_frees.pickle"}) {
    INFO(name);
    char dir[] = "/tmp/memtk-pprof-test-XXXXXX";
    REQUIRE(::mkdtemp(dir) != nullptr);
    const std::string out = std::string(dir) + "/p.pb.gz";
    commands::ConvertOptions co;
    co.to = commands::OutputFormat::kPprof;
    co.inputs = {test::DataPath(name)};
    co.output = out;
    auto results = commands::RunConvert(co);
    REQUIRE(results.ok());
    REQUIRE((*results)[0].status.ok());

    pb::Profile p;
    REQUIRE(p.ParseFromString(Gunzip(out)));
    std::remove(out.c_str());
    ::rmdir(dir);
    REQUIRE(p.string_table_size() > 0);
    CHECK(p.string_table(0).empty());
    auto str = [&](int64_t i) {
      REQUIRE(i >= 0);
      REQUIRE(i < p.string_table_size());
      return p.string_table(static_cast<int>(i));
    };
    REQUIRE(p.sample_type_size() == 4);
    CHECK(str(p.sample_type(0).type()) == "inuse_space");
    CHECK(str(p.sample_type(1).type()) == "inuse_objects");
    CHECK(str(p.sample_type(2).type()) == "alloc_space");
    CHECK(str(p.sample_type(3).type()) == "alloc_objects");
    CHECK(str(p.sample_type(0).unit()) == "bytes");
    CHECK(str(p.default_sample_type()) == "inuse_space");
    std::set<uint64_t> locations, functions;
    for (const pb::Function& f : p.function()) CHECK(functions.insert(f.id()).second);
    for (const pb::Location& l : p.location()) {
      CHECK(locations.insert(l.id()).second);
      REQUIRE(l.line_size() == 1);
      CHECK(functions.count(l.line(0).function_id()) == 1);
    }
    std::map<std::string, int64_t> inuse, alloc;
    for (const pb::Sample& s : p.sample()) {
      REQUIRE(s.value_size() == 4);
      CHECK(s.location_id_size() > 0);
      for (uint64_t id : s.location_id()) CHECK(locations.count(id) == 1);
      REQUIRE(s.label_size() == 1);
      CHECK(str(s.label(0).key()) == "device");
      inuse[str(s.label(0).str())] += s.value(0);
      alloc[str(s.label(0).str())] += s.value(2);
    }
    auto report = analysis::BuildSnapshotReport(test::DataPath(name), {});
    REQUIRE(report.ok());
    for (const analysis::DeviceReport& d : report->devices) {
      const std::string label = "cuda:" + std::to_string(d.device);
      CHECK(inuse[label] == d.peak.peak.bytes);
      CHECK(alloc[label] == d.alloc_bytes);
    }
  }
}

}  // namespace
}  // namespace memtk::exports
