#include "memtk/snapshot/allocations.h"

#include <algorithm>
#include <vector>

namespace memtk::snapshot {

AllocationTracker::Slot* AllocationTracker::Find(const Key& k) {
  for (size_t i = Home(k);; i = (i + 1) & (slots_.size() - 1)) {
    if (!slots_[i].used) return nullptr;
    if (slots_[i].key == k) return &slots_[i];
  }
}

AllocationTracker::Slot* AllocationTracker::Insert(const Key& k) {
  if ((size_ + 1) * 2 > slots_.size()) {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    size_ = 0;
    for (Slot& s : old)
      if (s.used) Insert(s.key)->a = s.a;
  }
  size_t i = Home(k);
  while (slots_[i].used) i = (i + 1) & (slots_.size() - 1);
  slots_[i].used = true;
  slots_[i].key = k;
  slots_[i].a = Allocation{};
  ++size_;
  return &slots_[i];
}

void AllocationTracker::Erase(Slot* s) {
  // Backward shift: later entries of the probe chain move into the hole.
  const size_t mask = slots_.size() - 1;
  size_t i = static_cast<size_t>(s - slots_.data());
  for (size_t j = (i + 1) & mask; slots_[j].used; j = (j + 1) & mask) {
    const size_t home = Home(slots_[j].key);
    const bool movable = (i <= j) ? (home <= i || home > j) : (home <= i && home > j);
    if (movable) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i].used = false;
  --size_;
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
  if (e.action != Action::kAlloc && e.action != Action::kFreeRequested && e.action != Action::kFreeCompleted)
    return OkStatus();
  Key key{e.addr, e.device, e.host};
  Slot* it = Find(key);
  switch (e.action) {
    case Action::kAlloc: {
      if (it != nullptr) {
        // The trace missed a free (ring buffer wrapped, or a bug): close the
        // old allocation unfreed rather than lose it.
        stats_->Increment(Stat::k_alloc_over_live);
        RETURN_IF_ERROR(Close(it->a));
        Erase(it);
      }
      Allocation& a = Insert(key)->a;
      Describe(e, &a);
      a.alloc_event = e.id;
      a.alloc_time_us = e.time_us;
      return OkStatus();
    }
    case Action::kFreeRequested: {
      if (it == nullptr) {
        stats_->Increment(Stat::k_free_requested_unmatched);
        it = Insert(key);
        Allocation& a = it->a;
        Describe(e, &a);
      }
      it->a.free_requested_event = e.id;
      it->a.free_requested_time_us = e.time_us;
      return OkStatus();
    }
    default: {  // free_completed
      if (it == nullptr) {
        Allocation a;
        Describe(e, &a);
        a.free_event = e.id;
        a.free_time_us = e.time_us;
        return Close(a);
      }
      it->a.free_event = e.id;
      it->a.free_time_us = e.time_us;
      Status s = Close(it->a);
      Erase(it);
      return s;
    }
  }
}

Status AllocationTracker::Finish() {
  // Deterministic order for the never-freed rest: by alloc event, then address.
  std::vector<Allocation*> rest;
  rest.reserve(size_);
  for (Slot& s : slots_)
    if (s.used) rest.push_back(&s.a);
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
  slots_.assign(256, Slot{});
  size_ = 0;
  return OkStatus();
}

}  // namespace memtk::snapshot
