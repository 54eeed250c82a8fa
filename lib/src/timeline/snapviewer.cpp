#include "memtk/timeline/snapviewer.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "memtk/base/wrap.h"

namespace memtk::timeline {

namespace {

// Counts per index with prefix sums in O(log n): how many elements below j
// were freed so far, how many above j are live.
class Fenwick {
 public:
  explicit Fenwick(size_t n) : tree_(n + 1, 0) {}
  void Add(size_t i, int32_t v) {
    for (++i; i < tree_.size(); i += i & (~i + 1)) tree_[i] += static_cast<uint32_t>(v);
  }
  /// Sum over indices [0, i).
  uint32_t Prefix(size_t i) const {
    uint32_t s = 0;
    for (; i > 0; i -= i & (~i + 1)) s += tree_[i];
    return s;
  }

 private:
  std::vector<uint32_t> tree_;
};

constexpr uint64_t kUnset = ~uint64_t{0};

}  // namespace

void SnapViewerLayout::Alloc(uint64_t addr, int64_t size, uint32_t stack) {
  auto e = static_cast<uint32_t>(elements_.size());
  elements_.push_back({size, 0, 0, 0, e, stack});
  // A second alloc at a live address replaces it in the map, as the Python
  // dict assignment does; the older element then lives to the end.
  live_by_addr_.FindOrInsert(addr) = e;
  actions_.push_back(e);
}

void SnapViewerLayout::Free(uint64_t addr, int64_t size, uint32_t stack) {
  if (uint32_t* e = live_by_addr_.Find(addr)) {
    actions_.push_back(*e | kFreeBit);
    live_by_addr_.Erase(addr);
    return;
  }
  // Allocated before recording began: an element of its own, alive from t=0.
  auto e = static_cast<uint32_t>(elements_.size());
  elements_.push_back({size, 0, 0, 0, e, stack});
  initial_.push_back(e);
  actions_.push_back(e | kFreeBit);
}

Status SnapViewerLayout::Finish() {
  if (finished_) return OkStatus();
  finished_ = true;
  const size_t n = elements_.size();
  if (n > kIndexMask)
    return InvalidInput(fmt::format("{} allocations on one device: more than SnapViewer's layout supports here", n));
  live_by_addr_ = FlatMap<uint32_t>();

  // File order: initial elements in reverse, then allocations as they come.
  num_initial_ = initial_.size();
  std::vector<uint32_t> pos(n, 0);
  for (size_t k = 0; k < num_initial_; ++k) pos[initial_[k]] = static_cast<uint32_t>(num_initial_ - 1 - k);
  std::vector<bool> is_initial(n, false);
  for (uint32_t e : initial_) is_initial[e] = true;
  uint32_t next = static_cast<uint32_t>(num_initial_);
  for (size_t e = 0; e < n; ++e)
    if (!is_initial[e]) pos[e] = next++;
  std::vector<Element> ordered(n);
  for (size_t e = 0; e < n; ++e) ordered[pos[e]] = elements_[e];
  elements_.swap(ordered);
  for (uint32_t& a : actions_) a = pos[a & kIndexMask] | (a & kFreeBit);
  std::vector<uint32_t>().swap(initial_);
  std::vector<bool>().swap(is_initial);
  std::vector<uint32_t>().swap(pos);
  std::vector<Element>().swap(ordered);

  // Replay once for each element's span and point count. points holds, until
  // the element's free, the number of lower elements freed before it was
  // created; two points per lower free during its life follow from that.
  Fenwick freed(n), live(n);
  uint64_t t = 0;
  uint32_t live_count = 0;
  for (size_t j = 0; j < num_initial_; ++j) {
    elements_[j].end = kUnset;
    live.Add(j, 1);
    ++live_count;
  }
  action_t_.resize(actions_.size());
  for (size_t i = 0; i < actions_.size(); ++i) {
    uint32_t& a = actions_[i];
    size_t j = a & kIndexMask;
    action_t_[i] = static_cast<uint32_t>(t);
    Element& e = elements_[j];
    if (!(a & kFreeBit)) {
      e.start = t;
      e.end = kUnset;
      e.points = freed.Prefix(j);
      live.Add(j, 1);
      ++live_count;
      ++t;
      continue;
    }
    e.end = t;
    e.points = 2 + 2 * (freed.Prefix(j) - e.points);
    live.Add(j, -1);
    --live_count;
    freed.Add(j, 1);
    if (live_count > live.Prefix(j + 1)) {  // something live above j slides down
      a |= kShiftBit;
      t += 3;
    }
    ++t;
  }
  final_t_ = t;
  if (t > UINT32_MAX) return InvalidInput(fmt::format("{} timesteps: more than SnapViewer's layout supports here", t));
  total_points_ = 0;
  for (size_t j = 0; j < n; ++j) {
    Element& e = elements_[j];
    if (e.end == kUnset) {
      e.end = t;
      e.points = 2 + 2 * (freed.Prefix(j) - e.points);
    }
    total_points_ += e.points;
  }
  return OkStatus();
}

void SnapViewerLayout::Step(Cursor* c) const {
  uint32_t a = actions_[c->action++];
  int64_t size = elements_[a & kIndexMask].size;
  if (a & kFreeBit) {
    c->total = WrapSub(c->total, size);
    c->t += (a & kShiftBit) ? 4 : 1;
  } else {
    WrapAddTo(&c->total, size);
    c->t += 1;
  }
}

// Replays the actions from `from` (lo's creation) and tells `v` about every
// point of elements lo..hi-1 in time order (k = j - lo):
//   v.Create(k, t, offset)        created at t, `offset` bytes below it
//   v.Shift(k, action, t, size)   a free below it at t: down by size at t+3
//   v.End(k, t)                   its own free, or the end of the trace
// Stops as soon as every element of the range has been created and freed.
template <class Visitor>
void SnapViewerLayout::Replay(size_t lo, size_t hi, const Cursor& from, Visitor& v) const {
  const size_t count = hi - lo;
  // Live elements of the range in index order; freed ones are tombstoned
  // (kFreeBit) and swept out once they outnumber the living.
  std::vector<uint32_t> live;
  size_t dead = 0, created = 0, freed = 0;
  auto mark_free = [&](uint32_t j) {
    auto it =
        std::lower_bound(live.begin(), live.end(), j, [](uint32_t x, uint32_t y) { return (x & kIndexMask) < y; });
    *it |= kFreeBit;
    if (++dead > 64 && dead * 2 > live.size()) {
      std::erase_if(live, [](uint32_t x) { return (x & kFreeBit) != 0; });
      dead = 0;
    }
  };

  Cursor c = from;
  // Initial elements are all created at t=0, stacked in index order.
  int64_t below = c.init_below;
  for (size_t j = lo; j < hi && j < num_initial_; ++j) {
    v.Create(j - lo, uint64_t{0}, below);
    WrapAddTo(&below, elements_[j].size);
    live.push_back(static_cast<uint32_t>(j));
    ++created;
  }
  while (c.action < actions_.size() && (created < count || freed < created)) {
    uint32_t a = actions_[c.action];
    uint32_t j = a & kIndexMask;
    if (!(a & kFreeBit)) {
      if (j >= lo && j < hi) {
        v.Create(j - lo, c.t, c.total);
        live.push_back(j);
        ++created;
      }
    } else {
      if (j >= lo && j < hi) {
        v.End(j - lo, c.t);
        mark_free(j);
        ++freed;
      }
      if (a & kShiftBit) {
        int64_t size = elements_[j].size;
        auto it =
            std::upper_bound(live.begin(), live.end(), j, [](uint32_t x, uint32_t y) { return x < (y & kIndexMask); });
        for (; it != live.end(); ++it)
          if (!(*it & kFreeBit)) v.Shift(*it - lo, c.action, c.t, size);
      }
    }
    Step(&c);
  }
  // Still live at the end of the trace: one closing point each.
  for (uint32_t x : live)
    if (!(x & kFreeBit)) v.End(x - lo, c.t);
}

void SnapViewerLayout::AppendHead(io::OutputStream* out, const Element& e) const {
  out->Append("{\"elem\":");
  out->AppendInt(e.elem);
  out->Append(",\"timesteps\":[");
}

void SnapViewerLayout::AppendTail(io::OutputStream* out, const Element& e) const {
  out->Append("],\"size\":");
  out->AppendInt(e.size);
  out->Append(",\"color\":");
  out->AppendInt(e.elem);
  out->Put('}');
}

// Elements lo..hi-1, replayed and waiting to be written. A point pair is
// stored as the index of the free action that made it (4 bytes, not the 32
// of two (timestep, offset) pairs): that action's timestep and size give
// both points when the text is written.
struct SnapViewerLayout::Range {
  size_t lo = 0, hi = 0;
  std::vector<uint64_t> base;    // first shift of each element in `shifts`
  std::vector<int64_t> offset0;  // each element's offset at creation
  std::vector<uint32_t> shifts;  // free actions below each element, in order
};

void SnapViewerLayout::FillRange(Range* r, const Cursor& from) const {
  const size_t count = r->hi - r->lo;
  r->offset0.assign(count, 0);
  r->shifts.resize(r->base.back() + (elements_[r->hi - 1].points - 2) / 2);
  struct Visitor {
    Range* r;
    std::vector<uint64_t> fill;
    void Create(size_t k, uint64_t, int64_t off) { r->offset0[k] = off; }
    void Shift(size_t k, size_t action, uint64_t, int64_t) { r->shifts[fill[k]++] = static_cast<uint32_t>(action); }
    void End(size_t, uint64_t) {}
  } v{r, r->base};
  Replay(r->lo, r->hi, from, v);
}

// Writes `n` integers comma-separated, straight into the stream's buffer a
// block at a time: the hot loop of the whole export, so no bounds check per
// character. next() yields the values in order.
template <class Next>
static void AppendInts(io::OutputStream* out, uint64_t n, Next&& next) {
  constexpr uint64_t kBlock = 256;
  for (uint64_t i = 0; i < n;) {
    uint64_t m = std::min(kBlock, n - i);
    char* w = out->Reserve(m * (io::OutputStream::kMaxIntChars + 1));
    for (uint64_t end = i + m; i < end; ++i) {
      if (i) *w++ = ',';
      w = fmt::format_to(w, FMT_COMPILE("{}"), next());
    }
    out->Commit(w);
  }
}

void SnapViewerLayout::WriteRange(io::OutputStream* out, const Range& r) const {
  for (size_t j = r.lo; j < r.hi; ++j) {
    const Element& e = elements_[j];
    const uint32_t* sh = r.shifts.data() + r.base[j - r.lo];
    if (j) out->Put(',');
    AppendHead(out, e);
    // start, (t, t+3) per free below, end
    uint64_t i = 0;
    AppendInts(out, e.points, [&]() -> uint64_t {
      uint64_t p = i++;
      if (p == 0) return e.start;
      if (p == e.points - 1) return e.end;
      uint64_t t = action_t_[sh[(p - 1) / 2]];
      return (p & 1) ? t : t + 3;
    });
    out->Append("],\"offsets\":[");
    // start offset, then (offset, offset - size) per free below, end
    int64_t off = r.offset0[j - r.lo];
    i = 0;
    AppendInts(out, e.points, [&]() -> int64_t {
      uint64_t p = i++;
      if (p == 0 || p == e.points - 1 || (p & 1)) return off;
      off = WrapSub(off, elements_[actions_[sh[(p - 1) / 2]] & kIndexMask].size);
      return off;
    });
    AppendTail(out, e);
  }
}

void SnapViewerLayout::WriteDirect(io::OutputStream* out, size_t j, const Cursor& from) const {
  // One element larger than the budget: replay its life twice, writing its
  // timesteps straight out, then its offsets.
  const Element& e = elements_[j];
  if (j) out->Put(',');
  AppendHead(out, e);
  struct Times {
    io::OutputStream* out;
    bool first = true;
    void Put(uint64_t t) {
      if (!first) out->Put(',');
      first = false;
      out->AppendInt(t);
    }
    void Create(size_t, uint64_t t, int64_t) { Put(t); }
    void Shift(size_t, size_t, uint64_t t, int64_t) {
      Put(t);
      Put(t + 3);
    }
    void End(size_t, uint64_t t) { Put(t); }
  } times{out};
  Replay(j, j + 1, from, times);
  out->Append("],\"offsets\":[");
  struct Offsets {
    io::OutputStream* out;
    int64_t off = 0;
    bool first = true;
    void Put(int64_t o) {
      if (!first) out->Put(',');
      first = false;
      out->AppendInt(o);
    }
    void Create(size_t, uint64_t, int64_t o) { Put(off = o); }
    void Shift(size_t, size_t, uint64_t, int64_t size) {
      Put(off);
      Put(off = WrapSub(off, size));
    }
    void End(size_t, uint64_t) { Put(off); }
  } offsets{out};
  Replay(j, j + 1, from, offsets);
  AppendTail(out, e);
}

Status SnapViewerLayout::WriteJson(io::OutputStream* out, size_t budget_bytes) const {
  if (!finished_) return InvalidInput("SnapViewerLayout::WriteJson before Finish");
  // Memory per element of a range: a 4-byte action per pair of points,
  // plus its base, start offset and fill position.
  auto cost = [&](size_t j) -> uint64_t { return 4 * ((elements_[j].points - 2) / 2) + 24; };
  const size_t n = elements_.size();
  // Two ranges in flight, each with half the budget: while a helper thread
  // turns one into text (half the work: ~2 integers per point), this thread
  // replays the next. Each buffer is reserved once; growing it range by
  // range would briefly hold old and new storage together.
  const size_t half = budget_bytes / 2;
  Range ranges[2];
  for (Range& r : ranges) r.shifts.reserve(std::min<uint64_t>(total_points_ / 2, half / 4));

  out->Put('[');
  Cursor cursor;  // at the creation of the next range's first element
  for (size_t j = 0; j < num_initial_; ++j) WrapAddTo(&cursor.total, elements_[j].size);
  std::thread writer;
  auto wait = [&] {
    if (writer.joinable()) writer.join();
  };
  size_t lo = 0;
  for (int slot = 0; lo < n; slot ^= 1) {
    if (lo >= num_initial_) {
      while (actions_[cursor.action] != lo) Step(&cursor);
    }
    Range& r = ranges[slot];
    r.lo = lo;
    r.base.clear();
    uint64_t bytes = 0, shifts = 0;
    r.hi = lo;
    while (r.hi < n && bytes + cost(r.hi) <= half) {
      r.base.push_back(shifts);
      bytes += cost(r.hi);
      shifts += (elements_[r.hi].points - 2) / 2;
      ++r.hi;
    }
    if (r.hi == lo) {
      wait();  // everything before it must be out first
      WriteDirect(out, lo, cursor);
      r.hi = lo + 1;
    } else {
      FillRange(&r, cursor);  // overlaps with the writer of the other slot
      wait();
      writer = std::thread([this, out, &r] { WriteRange(out, r); });
    }
    // Initial elements share one creation instant: the cursor only tracks
    // how many of their bytes lie below the next range.
    for (size_t j = lo; j < r.hi && j < num_initial_; ++j) WrapAddTo(&cursor.init_below, elements_[j].size);
    lo = r.hi;
  }
  wait();
  out->Put(']');
  return OkStatus();
}

}  // namespace memtk::timeline
