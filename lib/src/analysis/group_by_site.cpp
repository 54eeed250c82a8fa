// GroupBySite / RankUsage: the site rule's grouping and ranking, shared by
// the peak (snapshot_stats.cpp) and the OOMs (oom_live.cpp).
#include "analysis/group_by_site.h"

#include <algorithm>
#include <tuple>
#include <unordered_map>

#include "memtk/base/wrap.h"
#include "snapshot/call_site.h"  // FormatFrame

namespace memtk::analysis {

std::vector<SiteUsage> GroupBySite(std::span<const StackUsage> by_stack, snapshot::FrameClassifier& frames) {
  struct Group {
    SiteUsage usage;
    // The stack that names the site: its bytes and id (-1 = no stack); a
    // later stack takes over only with more bytes, or as many and a lower id,
    // which makes the choice independent of the input order.
    int64_t best_bytes = 0;
    int64_t best_stack = 0;
    // The distinct frames the site's stacks called (-1 = none): one site
    // may reach the library through several calls, and its label names one.
    std::vector<int64_t> calls;
  };
  std::unordered_map<int64_t, Group> groups;  // Site::Key(), -1 = no site
  for (const StackUsage& u : by_stack) {
    int64_t sk = u.stack ? static_cast<int64_t>(u.stack->value) : -1;
    snapshot::Site site;
    if (u.stack) site = frames.SiteOf(*u.stack);
    auto [it, fresh] = groups.try_emplace(site.Key());
    Group& g = it->second;
    WrapAddTo(&g.usage.bytes, u.bytes);
    g.usage.count += u.count;
    const int64_t call = site.called ? static_cast<int64_t>(site.called->value) : -1;
    if (std::find(g.calls.begin(), g.calls.end(), call) == g.calls.end()) g.calls.push_back(call);
    if (!fresh && !(u.bytes > g.best_bytes || (u.bytes == g.best_bytes && sk < g.best_stack))) continue;
    g.best_bytes = u.bytes;
    g.best_stack = sk;
    SiteUsage& s = g.usage;
    s.site = frames.SiteFrameLabel(site);  // "<no frames>" without a site frame
    s.called = site.called ? snapshot::FormatFrame(*frames.tables(), *site.called) : "";
    s.called_short = site.called ? snapshot::ShortFrame(*frames.tables(), *site.called) : "";
    s.stack_id.reset();
    s.frame_id.reset();
    if (site.stack)
      s.stack_id = site.stack->value;
    else if (site.frame)
      s.frame_id = site.frame->value;
  }
  std::vector<SiteUsage> out;
  out.reserve(groups.size());
  for (auto& [key, g] : groups) {
    g.usage.called_others = static_cast<uint32_t>(g.calls.size() - 1);
    out.push_back(std::move(g.usage));
  }
  return out;
}

void RankUsage(std::vector<SiteUsage>& usage, size_t k) {
  auto larger = [](const SiteUsage& a, const SiteUsage& b) {
    if (a.bytes != b.bytes) return a.bytes > b.bytes;
    if (a.count != b.count) return a.count > b.count;
    return std::tie(a.site, a.called, a.stack_id, a.frame_id) < std::tie(b.site, b.called, b.stack_id, b.frame_id);
  };
  if (usage.size() > k) {
    std::partial_sort(usage.begin(), usage.begin() + static_cast<std::ptrdiff_t>(k), usage.end(), larger);
    usage.resize(k);
  } else {
    std::sort(usage.begin(), usage.end(), larger);
  }
}

}  // namespace memtk::analysis
