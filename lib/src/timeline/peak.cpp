#include "memtk/timeline/peak.h"

#include <algorithm>
#include <limits>

#include "memtk/base/flat_map.h"
#include "memtk/base/wrap.h"

namespace memtk::timeline {

using snapshot::Action;
using snapshot::BlockState;

namespace {

struct LiveEntry {
  uint64_t id = 0;  // the element's first event (allocations.id)
  int64_t size = 0;
  std::optional<StackId> stack;
  bool pre_recorded = false;
};

LiveElement ToElement(uint64_t addr, const LiveEntry& l) {
  LiveElement e;
  e.kind = l.pre_recorded ? LiveElement::Kind::kPreRecorded : LiveElement::Kind::kAlloc;
  e.id = l.id;
  e.addr = addr;
  e.size = l.size;
  e.stack = l.stack;
  return e;
}

void Reach(PeakPoint* p, int64_t bytes, const snapshot::TraceEvent& e) {
  p->bytes = bytes;
  p->event_id = e.id;
  p->event_idx = e.index;
  p->time_us = e.time_us;
}

}  // namespace

struct PeakTracker::Device {
  FlatMap<LiveEntry> live;               // addr -> element (the viewer's addr_to_alloc)
  FlatMap<uint64_t> first_free;          // addr -> free_requested id with no alloc before it
  std::vector<LiveElement> orphans;      // replaced by a newer alloc at the same addr: live forever
  std::vector<LiveElement> freed_since;  // live at the current peak, freed after it
  std::vector<LiveElement> blocks;       // active_allocated blocks of `segments`
  int64_t recorded = 0;                  // live bytes allocated in the trace
  int64_t before_freed = 0;              // sizes of frees with no recorded alloc, so far
  // The initial state (U = 0, nothing recorded yet) is the first candidate:
  // memory held before the first action is as real as any after it.
  bool peak_at_start = true;
  uint64_t peak_event = 0;  // meaningful only when !peak_at_start
  int64_t peak_u = 0;
  DevicePeak out;

  // Whether the element whose first event is `id` was allocated at or
  // before the peak (nothing recorded is, when the peak is the start).
  bool BeforePeak(uint64_t id) const { return !peak_at_start && id <= peak_event; }

  // After each action: remember the best U (see peak.h) and start a fresh
  // list of what leaves the peak's live set. Ties keep the earlier instant.
  void AfterAction(const snapshot::TraceEvent& e) {
    ++out.actions;
    const int64_t u = WrapSub(recorded, before_freed);
    if (u > peak_u) {
      peak_at_start = false;
      peak_u = u;
      peak_event = e.id;
      Reach(&out.peak, u, e);
      freed_since.clear();
    }
    if (recorded > out.trace_peak.bytes) Reach(&out.trace_peak, recorded, e);
  }
};

PeakTracker::PeakTracker() = default;
PeakTracker::~PeakTracker() = default;
PeakTracker::PeakTracker(PeakTracker&&) noexcept = default;
PeakTracker& PeakTracker::operator=(PeakTracker&&) noexcept = default;

PeakTracker::Device& PeakTracker::Get(uint32_t device) {
  if (last_ != nullptr && last_device_ == device) return *last_;
  auto& slot = devices_[device];
  if (!slot) {
    slot = std::make_unique<Device>();
    slot->out.device = device;
  }
  last_ = slot.get();
  last_device_ = device;
  return *last_;
}

void PeakTracker::OnEvent(const snapshot::TraceEvent& e) {
  if (e.host) return;
  switch (e.action) {
    case Action::kAlloc: {
      Device& d = Get(e.device);
      bool inserted = false;
      LiveEntry& l = d.live.FindOrInsert(e.addr, &inserted);
      if (!inserted) {
        // The viewer overwrites addr_to_alloc: the older element is never
        // freed and stays in the picture to the end.
        d.orphans.push_back(ToElement(e.addr, l));
      }
      l = LiveEntry{e.id, e.size, e.stack, false};
      d.first_free.Erase(e.addr);
      WrapAddTo(&d.recorded, e.size);
      d.AfterAction(e);
      return;
    }
    case Action::kFreeRequested: {
      Device& d = Get(e.device);
      // Only its id matters: it names the allocation in the database when
      // the allocation was made before recording.
      if (d.live.Find(e.addr) == nullptr) {
        bool inserted = false;
        uint64_t& id = d.first_free.FindOrInsert(e.addr, &inserted);
        if (inserted) id = e.id;
      }
      return;
    }
    case Action::kFreeCompleted:
    case Action::kFree: {
      Device& d = Get(e.device);
      if (LiveEntry* l = d.live.Find(e.addr)) {
        if (d.BeforePeak(l->id)) d.freed_since.push_back(ToElement(e.addr, *l));
        d.recorded = WrapSub(d.recorded, l->size);
        d.live.Erase(e.addr);
      } else {
        // Live from the start until now: part of every earlier peak.
        LiveEntry pre{e.id, e.size, e.stack, true};
        if (uint64_t* first = d.first_free.Find(e.addr)) pre.id = *first;
        d.first_free.Erase(e.addr);
        d.freed_since.push_back(ToElement(e.addr, pre));
        WrapAddTo(&d.before_freed, e.size);
        WrapAddTo(&d.out.before_recording_bytes, e.size);
      }
      d.AfterAction(e);
      return;
    }
    default:
      return;
  }
}

void PeakTracker::OnBlock(const snapshot::Block& b) {
  // Host blocks are not in the viewer's picture, as host events are not.
  if (b.host || b.state != BlockState::kActiveAllocated || b.device < 0 || b.device > UINT32_MAX) return;
  LiveElement el;
  el.kind = LiveElement::Kind::kBlock;
  el.id = b.id;
  el.addr = b.address;
  // The viewer's `requested_size || size` (PyTorch 2.0 blocks may lack it).
  el.size = b.requested_size != 0 ? b.requested_size : b.size;
  el.stack = b.stack;
  Get(static_cast<uint32_t>(b.device)).blocks.push_back(el);
}

void PeakTracker::ForEachLive(uint32_t device, const std::function<void(const LiveElement&)>& fn) {
  auto it = devices_.find(device);
  if (it == devices_.end()) return;  // nothing allocated on it yet
  Device& d = *it->second;
  d.live.ForEach([&](uint64_t addr, const LiveEntry& l) { fn(ToElement(addr, l)); });
  for (const LiveElement& e : d.orphans) fn(e);
}

bool PeakTracker::IsLive(uint32_t device, uint64_t addr) {
  auto it = devices_.find(device);
  return it != devices_.end() && it->second->live.Find(addr) != nullptr;
}

std::vector<DevicePeak> PeakTracker::Finish() {
  std::vector<DevicePeak> result;
  for (auto& [device, dp] : devices_) {
    Device& d = *dp;
    DevicePeak& out = d.out;
    // Blocks count unless their address is allocated-and-live in the trace.
    int64_t blocks = 0;
    std::vector<LiveElement> counted;
    for (const LiveElement& b : d.blocks)
      if (d.live.Find(b.addr) == nullptr) {
        WrapAddTo(&blocks, b.size);
        counted.push_back(b);
      }
    out.segment_block_bytes = blocks;
    const int64_t base = WrapAdd(blocks, out.before_recording_bytes);
    out.end_bytes = WrapAdd(base, WrapSub(d.recorded, d.before_freed));
    out.peak.bytes = WrapAdd(base, d.peak_u);
    // Live at the peak: allocated at or before it and still live, or freed
    // after it (freed_since: when the peak is the start, every free of
    // memory from before recording), plus orphans and the blocks.
    if (!d.peak_at_start) {
      d.live.ForEach([&](uint64_t addr, const LiveEntry& l) {
        if (d.BeforePeak(l.id)) out.live_at_peak.push_back(ToElement(addr, l));
      });
      for (const LiveElement& e : d.orphans)
        if (d.BeforePeak(e.id)) out.live_at_peak.push_back(e);
    }
    out.live_at_peak.insert(out.live_at_peak.end(), d.freed_since.begin(), d.freed_since.end());
    out.live_at_peak.insert(out.live_at_peak.end(), counted.begin(), counted.end());
    result.push_back(std::move(out));
  }
  devices_.clear();
  last_ = nullptr;
  return result;
}

}  // namespace memtk::timeline
