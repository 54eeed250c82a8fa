#include "memtk/snapshot/allocations.h"

#include <algorithm>
#include <vector>

namespace memtk::snapshot {

Status AllocationTracker::Close(Allocation& a) {
  if (!a.alloc_event) stats_->Increment(Stat::k_free_without_alloc);
  return emit_(a);
}

Status AllocationTracker::OnEvent(const TraceEvent& e) {
  if (e.action != Action::kAlloc && e.action != Action::kFreeRequested && e.action != Action::kFreeCompleted)
    return OkStatus();
  Key key{e.addr, e.device, e.host};
  auto it = open_.find(key);
  switch (e.action) {
    case Action::kAlloc: {
      if (it != open_.end()) {
        // The trace missed a free (ring buffer wrapped, or a bug): close the
        // old allocation unfreed rather than lose it.
        stats_->Increment(Stat::k_alloc_over_live);
        RETURN_IF_ERROR(Close(it->second));
        open_.erase(it);
      }
      Allocation a;
      a.device = e.device;
      a.host = e.host;
      a.addr = e.addr;
      a.size = e.size;
      a.stream = e.stream;
      a.alloc_event = e.id;
      a.alloc_time_us = e.time_us;
      a.stack = e.stack;
      open_.emplace(key, a);
      return OkStatus();
    }
    case Action::kFreeRequested: {
      if (it == open_.end()) {
        stats_->Increment(Stat::k_free_requested_unmatched);
        Allocation a;
        a.device = e.device;
        a.host = e.host;
        a.addr = e.addr;
        a.size = e.size;
        a.stream = e.stream;
        a.stack = e.stack;
        it = open_.emplace(key, a).first;
      }
      it->second.free_requested_event = e.id;
      it->second.free_requested_time_us = e.time_us;
      return OkStatus();
    }
    default: {  // free_completed
      if (it == open_.end()) {
        Allocation a;
        a.device = e.device;
        a.host = e.host;
        a.addr = e.addr;
        a.size = e.size;
        a.stream = e.stream;
        a.stack = e.stack;
        a.free_event = e.id;
        a.free_time_us = e.time_us;
        return Close(a);
      }
      it->second.free_event = e.id;
      it->second.free_time_us = e.time_us;
      Status s = Close(it->second);
      open_.erase(it);
      return s;
    }
  }
}

Status AllocationTracker::Finish() {
  // Deterministic order for the never-freed rest: by alloc event, then address.
  std::vector<Allocation*> rest;
  rest.reserve(open_.size());
  for (auto& [k, a] : open_) rest.push_back(&a);
  std::sort(rest.begin(), rest.end(), [](const Allocation* a, const Allocation* b) {
    uint64_t ea = a->alloc_event.value_or(UINT64_MAX), eb = b->alloc_event.value_or(UINT64_MAX);
    if (ea != eb) return ea < eb;
    if (a->device != b->device) return a->device < b->device;
    return a->addr < b->addr;
  });
  for (Allocation* a : rest) {
    if (!a->free_requested_event) stats_->Increment(Stat::k_never_freed);
    RETURN_IF_ERROR(Close(*a));
  }
  open_.clear();
  return OkStatus();
}

}  // namespace memtk::snapshot
