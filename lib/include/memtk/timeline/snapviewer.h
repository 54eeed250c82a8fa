// The allocation timeline SnapViewer reads (its convert_snap.py: an early
// form of PyTorch's process_alloc_data), computed with memory that grows with
// the number of allocations only, never with the size of what it writes.
//
// The model, per device: `alloc` starts an element; `free` / `free_completed`
// ends the element allocated at that address, or, when none is, becomes an
// element alive from before recording began. Elements stack in creation
// order (those alive from the start first, in reverse order of their frees,
// at the bottom). Time advances 1 per alloc and per free, plus 3 when a free
// has live elements above it: each of those gets the points (t, offset) and
// (t+3, offset - size) as it slides down. allocations.json lists, per
// element, its `timesteps` and `offsets` (one point at creation, two per
// free below it, one at its free or at the end of the trace).
//
// That file grows with allocations x live allocations (gigabytes for an
// ordinary training step). WriteJson() therefore never holds it: a first
// replay counts each element's points; then elements are written in order,
// a range at a time, each range filled by replaying the actions from its
// first element's creation into a buffer of at most `budget_bytes` (4
// bytes per pair of points: the free action that made them).
//
// Example:
//   SnapViewerLayout layout;
//   layout.Alloc(0x1000, 512, stack_a);
//   layout.Free(0x1000, 512, stack_b);
//   RETURN_IF_ERROR(layout.Finish());
//   RETURN_IF_ERROR(layout.WriteJson(&out, 64 << 20));  // [{"elem":0,"timesteps":[0,1],...}]
#pragma once

#include <cstdint>
#include <vector>

#include "memtk/base/flat_map.h"
#include "memtk/base/status.h"
#include "memtk/io/output_stream.h"

namespace memtk::timeline {

class SnapViewerLayout {
 public:
  static constexpr uint32_t kNoStack = 0xFFFFFFFFu;

  /// One entry of allocations.json (and row of elements.db), in file order.
  struct Element {
    int64_t size = 0;
    uint64_t start = 0;         ///< first timestep
    uint64_t end = 0;           ///< last timestep (its free, or the end of the trace)
    uint64_t points = 0;        ///< number of timesteps (= number of offsets)
    uint32_t elem = 0;          ///< its index among convert_snap.py's `elements` (trace order)
    uint32_t stack = kNoStack;  ///< caller's id for the event's frames
  };

  /// Feed one device's `alloc` events and `free`/`free_completed` events in
  /// trace order. `stack` is stored, never interpreted.
  void Alloc(uint64_t addr, int64_t size, uint32_t stack);
  void Free(uint64_t addr, int64_t size, uint32_t stack);

  /// After the last event: orders the elements as convert_snap.py does and
  /// computes every element's span and point count. Call once.
  Status Finish();

  size_t size() const { return elements_.size(); }
  const Element& operator[](size_t j) const { return elements_[j]; }
  /// The timestep after the last action (where live elements end).
  uint64_t final_timestep() const { return final_t_; }
  /// Sum of every element's points: the number of (timestep, offset) pairs.
  uint64_t total_points() const { return total_points_; }

  /// Writes the JSON list convert_snap.py writes with orjson (compact, keys
  /// elem, timesteps, offsets, size, color; no trailing "summarized" entry),
  /// buffering at most about `budget_bytes` of points at a time (two
  /// halves: one replayed on this thread while another thread writes the
  /// other).
  Status WriteJson(io::OutputStream* out, size_t budget_bytes) const;

 private:
  static constexpr uint32_t kFreeBit = 0x80000000u;
  static constexpr uint32_t kShiftBit = 0x40000000u;  // free with live elements above
  static constexpr uint32_t kIndexMask = 0x3FFFFFFFu;

  // Where a replay stands: before action `action`, at timestep `t`, with
  // `total` live bytes; `init_below` = bytes of initial elements below lo.
  struct Cursor {
    size_t action = 0;
    uint64_t t = 0;
    int64_t total = 0;
    int64_t init_below = 0;
  };
  void Step(Cursor* c) const;
  template <class Visitor>
  void Replay(size_t lo, size_t hi, const Cursor& from, Visitor& v) const;
  struct Range;
  void FillRange(Range* r, const Cursor& from) const;
  void WriteRange(io::OutputStream* out, const Range& r) const;
  void WriteDirect(io::OutputStream* out, size_t j, const Cursor& from) const;
  void AppendHead(io::OutputStream* out, const Element& e) const;
  void AppendTail(io::OutputStream* out, const Element& e) const;

  std::vector<Element> elements_;   // trace order until Finish(), then file order
  std::vector<uint32_t> actions_;   // element index | kFreeBit | kShiftBit
  std::vector<uint32_t> action_t_;  // timestep of each action (after Finish)
  std::vector<uint32_t> initial_;   // elements alive from the start, trace order
  FlatMap<uint32_t> live_by_addr_;
  size_t num_initial_ = 0;
  uint64_t final_t_ = 0;
  uint64_t total_points_ = 0;
  bool finished_ = false;
};

}  // namespace memtk::timeline
