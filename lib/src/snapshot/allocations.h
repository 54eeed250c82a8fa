// AllocationTracker: matches trace events into allocations, per device and
// address, as PyTorch's caching allocator pairs them.
//
// An `alloc` opens an allocation; `free_requested` records when the caller
// freed it; `free_completed` (the block really returned to the allocator,
// after stream sync) closes it. A free with no recorded alloc is an
// allocation made before recording began; an allocation still open at the
// end was never freed. Both are emitted, never dropped. Memory: one entry
// per live allocation.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "memtk/base/flat_map.h"
#include "memtk/base/stats.h"
#include "memtk/snapshot/snapshot.h"

namespace memtk::snapshot {

struct Allocation {
  uint32_t device = 0;
  bool host = false;
  uint64_t addr = 0;
  int64_t size = 0;
  int64_t stream = 0;
  std::optional<uint64_t> alloc_event, free_requested_event, free_event;
  std::optional<int64_t> alloc_time_us, free_requested_time_us, free_time_us;
  std::optional<StackId> stack;  ///< from the alloc (or the free, if no alloc was recorded)
};

class AllocationTracker {
 public:
  using Emit = std::function<Status(const Allocation&)>;
  AllocationTracker(Emit emit, Stats* stats) : emit_(std::move(emit)), stats_(stats) {}

  /// Feed every trace event in file order.
  Status OnEvent(const TraceEvent& e);
  /// Emits the allocations still open (never freed), in address order per device.
  Status Finish();
  size_t live() const {
    size_t n = 0;
    for (const auto& [k, t] : tables_) n += t.size();
    return n;
  }

 private:
  // One address table per (device, host) trace; consecutive events almost
  // always hit the same one.
  FlatMap<Allocation>& Table(uint32_t device, bool host);
  Status Close(Allocation& a);
  Emit emit_;
  Stats* stats_;
  std::map<uint64_t, FlatMap<Allocation>> tables_;  // key: device << 1 | host
  FlatMap<Allocation>* last_ = nullptr;
  uint64_t last_key_ = 0;
};

}  // namespace memtk::snapshot
