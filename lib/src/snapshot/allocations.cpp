#include "snapshot/allocations.h"

#include <algorithm>
#include <vector>

namespace memtk::snapshot {

FlatMap<Allocation>& AllocationTracker::Table(uint32_t device, bool host) {
  const uint64_t key = uint64_t{device} << 1 | host;
  if (last_ == nullptr || last_key_ != key) {
    last_ = &tables_[key];  // std::map: the address stays valid
    last_key_ = key;
  }
  return *last_;
}

namespace {
// What an allocation takes from whichever of its events is seen first.
void Describe(const TraceEvent& e, Allocation* a) {
  a->device = e.device;
  a->host = e.host;
  a->addr = e.addr;
  a->size = e.size;
  a->stream = e.stream;
  a->stack = e.stack;
}
}  // namespace

Status AllocationTracker::Close(Allocation& a) {
  if (!a.alloc_event) stats_->Increment(Stat::k_free_without_alloc);
  return emit_(a);
}

Status AllocationTracker::OnEvent(const TraceEvent& e) {
  if (e.action != Action::kAlloc && e.action != Action::kFreeRequested && e.action != Action::kFreeCompleted &&
      e.action != Action::kFree)
    return OkStatus();
  FlatMap<Allocation>& table = Table(e.device, e.host);
  Allocation* it = table.Find(e.addr);
  switch (e.action) {
    case Action::kAlloc: {
      if (it != nullptr) {
        // The trace missed a free (ring buffer wrapped, or a bug): close the
        // old allocation unfreed rather than lose it.
        stats_->Increment(Stat::k_alloc_over_live);
        RETURN_IF_ERROR(Close(*it));
      }
      Allocation& a = it != nullptr ? *it : table.FindOrInsert(e.addr);
      a = Allocation{};
      Describe(e, &a);
      a.alloc_event = e.id;
      a.alloc_time_us = e.time_us;
      return OkStatus();
    }
    case Action::kFreeRequested: {
      if (it == nullptr) {
        stats_->Increment(Stat::k_free_requested_unmatched);
        it = &table.FindOrInsert(e.addr);
        Describe(e, it);
      }
      it->free_requested_event = e.id;
      it->free_requested_time_us = e.time_us;
      return OkStatus();
    }
    default: {  // free_completed, or the legacy free
      if (it == nullptr) {
        Allocation a;
        Describe(e, &a);
        a.free_event = e.id;
        a.free_time_us = e.time_us;
        return Close(a);
      }
      it->free_event = e.id;
      it->free_time_us = e.time_us;
      Status s = Close(*it);
      table.Erase(e.addr);
      return s;
    }
  }
}

Status AllocationTracker::Finish() {
  // Deterministic order for the never-freed rest: by alloc event, then address.
  std::vector<Allocation*> rest;
  for (auto& [key, table] : tables_) table.ForEach([&](uint64_t, Allocation& a) { rest.push_back(&a); });
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
  tables_.clear();
  last_ = nullptr;
  return OkStatus();
}

}  // namespace memtk::snapshot
