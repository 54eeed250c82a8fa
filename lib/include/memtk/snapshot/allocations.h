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
#include <optional>
#include <vector>

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
  size_t live() const { return size_; }

 private:
  struct Key {
    uint64_t addr;
    uint32_t device;
    bool host;
    bool operator==(const Key& o) const { return addr == o.addr && device == o.device && host == o.host; }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<uint64_t>()(k.addr * 0x9E3779B97F4A7C15ULL ^ (uint64_t{k.device} << 1 | k.host));
    }
  };
  // Open addressing with backward-shift deletion: an allocation opened and
  // closed costs no heap allocation (a node-based map costs one each).
  struct Slot {
    bool used = false;
    Key key{};
    Allocation a;
  };
  Slot* Find(const Key& k);
  Slot* Insert(const Key& k);
  void Erase(Slot* s);
  size_t Home(const Key& k) const { return KeyHash()(k) & (slots_.size() - 1); }
  Status Close(Allocation& a);
  Emit emit_;
  Stats* stats_;
  std::vector<Slot> slots_ = std::vector<Slot>(256);
  size_t size_ = 0;
};

}  // namespace memtk::snapshot
