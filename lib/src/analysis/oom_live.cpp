// OomLive: the live set at each kept OOM, by stack, then by call site.
#include "analysis/oom_live.h"

#include "analysis/group_by_site.h"
#include "memtk/base/wrap.h"

namespace memtk::analysis {

using snapshot::Action;

void OomLive::Kept::Add(const std::optional<StackId>& stack, int64_t size) {
  Usage& u = by_stack[stack ? static_cast<int64_t>(stack->value) : -1];
  WrapAddTo(&u.bytes, size);
  ++u.count;
  WrapAddTo(&oom.live_bytes, size);
  ++oom.live_count;
}

void OomLive::Capture(const snapshot::TraceEvent& e, timeline::PeakTracker& peaks) {
  // keep_ = 0 (`diff`): no device is entered, so frees skip Free() too.
  if (e.host || keep_ == 0) return;
  std::vector<Kept>& kept = devices_[e.device];
  if (kept.size() >= keep_) return;
  Kept& c = kept.emplace_back();
  c.oom.device = e.device;
  c.oom.event = EventRef{e.id, e.index, e.time_us, e.size, e.device_free};
  c.request_stack = e.stack;
  peaks.ForEachLive(e.device, [&](const timeline::LiveElement& l) { c.Add(l.stack, l.size); });
}

void OomLive::Free(const snapshot::TraceEvent& e, timeline::PeakTracker& peaks) {
  if (e.host) return;
  auto it = devices_.find(e.device);
  if (it == devices_.end() || it->second.empty() || peaks.IsLive(e.device, e.addr)) return;
  // Memory from before recording, live from the start until now: it was
  // live at every OOM of this device so far (PeakTracker counts it the same).
  for (Kept& c : it->second) c.Add(e.stack, e.size);
}

std::vector<OomRef> OomLive::Finish(uint32_t device, const std::vector<timeline::LiveElement>& live_at_peak,
                                    snapshot::FrameClassifier& frames, size_t top_sites) {
  std::vector<OomRef> out;
  auto it = devices_.find(device);
  if (it == devices_.end()) return out;
  for (Kept& c : it->second) {
    for (const timeline::LiveElement& l : live_at_peak)
      if (l.kind == timeline::LiveElement::Kind::kBlock) c.Add(l.stack, l.size);
    // By site, the rule `stats` uses at the peak (analysis/group_by_site.h).
    std::vector<StackUsage> stacks;
    stacks.reserve(c.by_stack.size());
    for (const auto& [sk, u] : c.by_stack)
      stacks.push_back(StackUsage{sk >= 0 ? std::optional<StackId>(StackId{static_cast<uint32_t>(sk)}) : std::nullopt,
                                  u.bytes, u.count});
    std::vector<SiteUsage> sites = GroupBySite(stacks, frames);
    RankUsage(sites, top_sites);
    c.oom.live_by_site = std::move(sites);
    // The failing request's own site, by the same rule: the first thing an
    // OOM's reader asks is which line of their code wanted the memory.
    if (c.request_stack && frames.SiteOf(*c.request_stack).frame) {
      const StackUsage request{c.request_stack, c.oom.event.size, 1};
      std::vector<SiteUsage> one = GroupBySite({&request, 1}, frames);
      if (one.size() == 1) c.oom.request_site = std::move(one[0]);
    }
    out.push_back(std::move(c.oom));
  }
  devices_.erase(it);
  return out;
}

}  // namespace memtk::analysis
