// OomLive: the live set at each kept OOM, by stack, then by call site.
#include "analysis/oom_live.h"

#include <algorithm>

#include "memtk/base/wrap.h"
#include "snapshot/call_site.h"  // FormatFrame

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
  if (e.host) return;
  std::vector<Kept>& kept = devices_[e.device];
  if (kept.size() >= keep_) return;
  Kept& c = kept.emplace_back();
  c.oom.device = e.device;
  c.oom.event = EventRef{e.id, e.index, e.time_us, e.size, e.device_free};
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
  const snapshot::Tables& tables = *frames.tables();
  for (Kept& c : it->second) {
    for (const timeline::LiveElement& l : live_at_peak)
      if (l.kind == timeline::LiveElement::Kind::kBlock) c.Add(l.stack, l.size);
    // By site, the rule `stats` uses at the peak (snapshot/frame_rules.h:
    // each stack's site computed once, cached by the classifier). A site's
    // "called" frame is that of its heaviest stack (ties: the lower id).
    std::unordered_map<int64_t, SiteUsage> by_site;                     // Site::Key(), -1 = none
    std::unordered_map<int64_t, std::pair<int64_t, int64_t>> named_by;  // site key -> (bytes, stack)
    for (const auto& [sk, u] : c.by_stack) {
      snapshot::Site site;
      if (sk >= 0) site = frames.SiteOf(StackId{static_cast<uint32_t>(sk)});
      SiteUsage& s = by_site[site.Key()];
      WrapAddTo(&s.bytes, u.bytes);
      s.count += u.count;
      auto [best, fresh] = named_by.try_emplace(site.Key(), u.bytes, sk);
      if (fresh || u.bytes > best->second.first || (u.bytes == best->second.first && sk < best->second.second)) {
        best->second = {u.bytes, sk};
        s.site = site.frame ? frames.SiteFrameLabel(site) : "<no frames>";
        s.called = site.called ? snapshot::FormatFrame(tables, *site.called) : "";
        s.called_short = site.called ? snapshot::ShortFrame(tables, *site.called) : "";
        if (site.stack)
          s.stack_id = site.stack->value;
        else if (site.frame)
          s.frame_id = site.frame->value;
      }
    }
    std::vector<SiteUsage> sites;
    for (auto& [key, s] : by_site) sites.push_back(std::move(s));
    std::sort(sites.begin(), sites.end(), [](const SiteUsage& a, const SiteUsage& b) {
      if (a.bytes != b.bytes) return a.bytes > b.bytes;
      if (a.count != b.count) return a.count > b.count;
      return a.site < b.site;
    });
    if (sites.size() > top_sites) sites.resize(top_sites);
    c.oom.live_by_site = std::move(sites);
    out.push_back(std::move(c.oom));
  }
  devices_.erase(it);
  return out;
}

}  // namespace memtk::analysis
