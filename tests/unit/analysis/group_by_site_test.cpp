// GroupBySite / RankUsage (analysis/group_by_site.h): per-stack usage summed
// per call site, the site named after its heaviest stack (ties: the lower
// stack id) whatever the input order, and the ranking the peak's and the
// OOMs' site lists share.
#include "analysis/group_by_site.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "test_util.h"

using namespace memtk;
using namespace memtk::analysis;
using snapshot::FrameClassifier;
using snapshot::FrameRules;
using snapshot::Tables;

namespace {

using F = test::FrameSpec;
using test::AddStack;

constexpr const char* kFunctional = "/usr/lib/python3/site-packages/torch/nn/functional.py";
constexpr const char* kTrain = "/work/train.py";

// Stacks 0 and 1: one user site (train.py:20:forward) calling two library
// functions; stack 2 another site; stack 3 no frames at all.
struct Fixture {
  Tables t;
  StackId relu, linear, cache, empty;
  Fixture() {
    relu = AddStack(t, {{kFunctional, 1701, "relu"}, {kTrain, 20, "forward"}});
    linear = AddStack(t, {{kFunctional, 2000, "linear"}, {kTrain, 20, "forward"}});
    cache = AddStack(t, {{kTrain, 30, "cache"}});
    empty = AddStack(t, {});
  }
};

const SiteUsage* Find(const std::vector<SiteUsage>& v, const std::string& site) {
  for (const SiteUsage& s : v)
    if (s.site == site) return &s;
  return nullptr;
}

std::vector<SiteUsage> Group(Fixture& f, std::vector<StackUsage> stacks, FrameRules rules = {}) {
  FrameClassifier c(std::move(rules));
  c.Reset(&f.t);
  return GroupBySite(stacks, c);
}

}  // namespace

TEST_CASE("GroupBySite sums stacks per site; the heaviest stack names it", "[group_by_site]") {
  Fixture f;
  std::vector<StackUsage> in = {{f.relu, 100, 1}, {f.linear, 300, 2}, {f.cache, 50, 5}};
  // Every input order gives the same sites: the name does not come from
  // whichever stack was seen first or last.
  std::sort(in.begin(), in.end(), [](const StackUsage& a, const StackUsage& b) { return a.stack < b.stack; });
  do {
    std::vector<SiteUsage> sites = Group(f, in);
    REQUIRE(sites.size() == 2);
    const SiteUsage* fwd = Find(sites, "/work/train.py:20:forward");
    REQUIRE(fwd);
    CHECK(fwd->bytes == 400);
    CHECK(fwd->count == 3);
    CHECK(fwd->called == std::string(kFunctional) + ":2000:linear");  // stack 1, the heavier
    CHECK(fwd->called_short == "torch/nn/functional.py:2000:linear");
    CHECK(fwd->frame_id.has_value());
    CHECK(!fwd->stack_id);
    const SiteUsage* cache = Find(sites, "/work/train.py:30:cache");
    REQUIRE(cache);
    CHECK(cache->bytes == 50);
    CHECK(cache->count == 5);
    CHECK(cache->called.empty());
    CHECK(cache->called_short.empty());
  } while (std::next_permutation(in.begin(), in.end(),
                                 [](const StackUsage& a, const StackUsage& b) { return a.stack < b.stack; }));
}

TEST_CASE("GroupBySite: equal bytes name the site after the lower stack id", "[group_by_site]") {
  Fixture f;
  for (bool reversed : {false, true}) {
    std::vector<StackUsage> in = {{f.relu, 200, 1}, {f.linear, 200, 7}};
    if (reversed) std::reverse(in.begin(), in.end());
    std::vector<SiteUsage> sites = Group(f, in);
    REQUIRE(sites.size() == 1);
    CHECK(sites[0].bytes == 400);
    CHECK(sites[0].count == 8);  // counts do not decide the name
    CHECK(sites[0].called_short == "torch/nn/functional.py:1701:relu");
  }
}

TEST_CASE("GroupBySite: no stack and an empty stack are one '<no frames>' site", "[group_by_site]") {
  Fixture f;
  for (bool reversed : {false, true}) {
    std::vector<StackUsage> in = {{std::nullopt, 64, 1}, {f.empty, 64, 2}, {f.cache, 1, 1}};
    if (reversed) std::reverse(in.begin(), in.end());
    std::vector<SiteUsage> sites = Group(f, in);
    REQUIRE(sites.size() == 2);
    const SiteUsage* none = Find(sites, "<no frames>");
    REQUIRE(none);
    CHECK(none->bytes == 128);
    CHECK(none->count == 3);
    CHECK(!none->frame_id);
    CHECK(!none->stack_id);
    CHECK(none->called.empty());
  }
}

TEST_CASE("GroupBySite in stack mode: one site per stack, keyed by stack id", "[group_by_site]") {
  Fixture f;
  std::vector<SiteUsage> sites =
      Group(f, {{f.relu, 100, 1}, {f.linear, 300, 2}}, FrameRules::Make({.site = snapshot::SiteMode::kStack}).value());
  REQUIRE(sites.size() == 2);
  for (const SiteUsage& s : sites) {
    REQUIRE(s.stack_id);
    CHECK(!s.frame_id);
    CHECK(s.bytes == (*s.stack_id == f.relu.value ? 100 : 300));
    CHECK(s.site.find("train.py:20:forward") != std::string::npos);
  }
}

TEST_CASE("GroupBySite: bytes wrap as WrapAddTo does, no overflow trap", "[group_by_site]") {
  Fixture f;
  const int64_t big = std::numeric_limits<int64_t>::max();
  std::vector<SiteUsage> sites = Group(f, {{f.relu, big, 1}, {f.linear, 2, 1}});
  REQUIRE(sites.size() == 1);
  CHECK(sites[0].bytes == std::numeric_limits<int64_t>::min() + 1);
  // The heavier stack by its own bytes names the site.
  CHECK(sites[0].called_short == "torch/nn/functional.py:1701:relu");
}

TEST_CASE("RankUsage: bytes, then count, then names; cut to K", "[group_by_site]") {
  auto u = [](const char* site, int64_t bytes, uint64_t count, const char* called = "") {
    SiteUsage s;
    s.site = site;
    s.called = called;
    s.bytes = bytes;
    s.count = count;
    return s;
  };
  std::vector<SiteUsage> v = {u("b", 10, 1), u("a", 10, 1),      u("c", 10, 2),
                              u("d", 99, 1), u("a", 10, 1, "x"), u("e", 1, 1)};
  std::vector<SiteUsage> all = v;
  RankUsage(all, 100);
  std::vector<std::string> order;
  for (const SiteUsage& s : all) order.push_back(s.site + "/" + s.called);
  CHECK(order == std::vector<std::string>{"d/", "c/", "a/", "a/x", "b/", "e/"});
  RankUsage(v, 3);  // the first K of the full order
  REQUIRE(v.size() == 3);
  CHECK(v[0].site == "d");
  CHECK(v[1].site == "c");
  CHECK(v[2].site == "a");
  CHECK(v[2].called.empty());
  std::vector<SiteUsage> none = all;
  RankUsage(none, 0);
  CHECK(none.empty());
}
