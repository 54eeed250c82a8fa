// The Active Memory Timeline of PyTorch's memory viewer, streamed and drawn
// without a cap on entries.
//
// process_alloc_data() in torch/utils/viz/MemoryViz.js lays out, per device,
// every allocation as a band stacked on top of those allocated before it;
// when one is freed the bands above slide down. The viewer keeps every
// band's polygon in memory and summarises all but the largest few thousand.
// memtk does it in two phases:
//   1. TimelineBuilder (streaming, any input) logs one 32-byte Step per
//      alloc and free of the device and keeps only live allocations; blocks
//      freed without an alloc ("allocated before recording") and untraced
//      active blocks of `segments` become the initial stack, bottom to top in
//      the viewer's order. The step log spills to an unlinked temp file past
//      a memory budget, so memory stays flat for any trace length.
//   2. Rasterize replays the log twice: once to find, for each pixel column,
//      the instant with the most live bytes in its x span (so no spike is
//      lost between columns, and the peak column shows the peak), then with a
//      Fenwick tree over the stack (bytes and bytes × colour per band) to
//      draw each column at that instant. A pixel's colour is the bytes-
//      weighted blend of every band crossing it, so bands thinner than a
//      pixel still colour it and a column's inked height is its live bytes
//      to within one pixel. Cost: O(steps · log live + columns · rows · log live).
//
// Example:
//   TimelineBuilder b(View::kActive, /*only_device=*/0);
//   TimelineSink sink(&b);  // or b.SetStackSite(stack, b.InternSite("train.py:42:forward")); b.OnEvent(e); ...
//   RETURN_IF_ERROR(store::ReadInput(path, &sink));
//   ASSIGN_OR_RETURN(Timeline t, b.Finish(/*device=*/0));
//   ASSIGN_OR_RETURN(Raster r, Rasterize(t, {.width = 1500, .height = 700}));
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "memtk/base/flat_map.h"
#include "base/scoped.h"
#include "memtk/base/status.h"
#include "memtk/render/image.h"
#include "memtk/snapshot/snapshot.h"
#include "memtk/timeline/view.h"

namespace memtk::timeline {

inline constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();

/// One alloc or free of the timeline.
struct Step {
  enum Kind : uint16_t { kAlloc = 0, kFree = 1, kFreeInitial = 2, kShrink = 3 };
  uint64_t idx = 0;           ///< position of the event in the device trace
  int64_t time_us = kNoTime;  ///< kNoTime when the event has none
  int64_t size = 0;           ///< bytes that arrive or leave
  /// kAlloc: the call site; kFree: the allocation's number (0 = first alloc);
  /// kFreeInitial: the number of this free among frees without an alloc;
  /// kShrink: the number of the allocation (a segment_map) that loses
  /// `size` bytes to a segment_unmap, leaving when none are left.
  uint32_t ref = 0;
  Kind kind = kAlloc;
  /// 1: another step of the same event follows (an unmap across several
  /// mapped ranges), so no instant of the picture falls after this one.
  uint16_t partial = 0;
};
static_assert(sizeof(Step) == 32);

/// Append-only Step sequence kept in memory up to a budget, then spilled to
/// an unlinked temp file ($TMPDIR or /tmp); read back any number of times.
class StepLog {
 public:
  explicit StepLog(size_t memory_budget_bytes = size_t{64} << 20);
  StepLog(StepLog&&) noexcept;
  StepLog& operator=(StepLog&&) noexcept;
  ~StepLog();

  Status Append(const Step& s) {
    if (tail_.size() >= budget_steps_) RETURN_IF_ERROR(Spill());
    tail_.push_back(s);
    return OkStatus();
  }
  uint64_t size() const { return spilled_ + tail_.size(); }
  bool spilled() const { return spilled_ > 0; }

  /// Sequential reader; Next() returns false at the end or on a read error
  /// (then status() says which).
  class Cursor {
   public:
    explicit Cursor(const StepLog& log) : log_(&log) {}
    bool Next(Step* s);
    const Status& status() const { return status_; }

   private:
    const StepLog* log_;
    std::vector<Step> buffer_;
    size_t pos_ = 0;
    uint64_t file_next_ = 0;  // next spilled step to read
    size_t tail_next_ = 0;
    Status status_;
  };

 private:
  static constexpr size_t kSpillChunk = 1 << 16;  // steps per write / read (2 MiB)
  Status Spill();
  std::vector<Step> tail_;
  size_t budget_steps_;
  uint64_t spilled_ = 0;
  ScopedFd fd_;
};

/// A call site: what bands are coloured and the legend is grouped by.
struct Site {
  std::string label;  ///< "file:line:function", or "<no frames>"
  render::Rgb color;
};

/// The stable colour of a call-site label: the same site gets the same colour
/// in every run and every picture.
render::Rgb SiteColor(std::string_view label);

struct Marker {
  enum class Kind : uint8_t { kOom, kSnapshot, kAnnotate, kAnnotationStart, kAnnotationEnd };
  Kind kind = Kind::kOom;
  std::optional<uint64_t> idx;  ///< trace position; external annotations: none
  int64_t time_us = kNoTime;
  std::string label;
};

struct InitialElement {
  int64_t size = 0;
  uint32_t site = 0;
};

/// Phase 1's result: everything phase 2 needs, nothing per-event but steps.
struct Timeline {
  uint32_t device = 0;
  View view = View::kActive;
  uint64_t events = 0;  ///< length of the device trace (its x range)
  int64_t first_time_us = kNoTime, last_time_us = kNoTime;
  uint64_t untimed_steps = 0;  ///< steps whose event has no time_us
  uint64_t allocs = 0, frees = 0, initial_frees = 0, initial_blocks = 0;
  uint64_t alloc_over_live = 0;         ///< allocs at a live address (the older band stays, as in the viewer)
  std::vector<InitialElement> initial;  ///< bottom to top
  StepLog steps;
  std::vector<Marker> markers;
  std::vector<Site> sites;  ///< site 0 is "<no frames>"
};

/// Phase 1. Follows every device at once (or only `only_device`), since a
/// stream cannot know which device it will be asked for until its end.
class TimelineBuilder {
 public:
  /// `memory_budget_bytes`: how much of each step log stays in memory.
  TimelineBuilder(View view, std::optional<uint32_t> only_device = std::nullopt,
                  size_t memory_budget_bytes = size_t{64} << 20);
  ~TimelineBuilder();

  /// The id of a call-site label (interned; colour from SiteColor).
  uint32_t InternSite(std::string_view label);
  /// Declares the call site of `stack`, before any event that uses it.
  void SetStackSite(StackId stack, uint32_t site);

  /// Trace events in file order; host traces are skipped.
  Status OnEvent(const snapshot::TraceEvent& e);
  /// Segments and blocks of `segments` (host_segments are skipped).
  void OnSegment(const snapshot::Segment& s);
  void OnBlock(const snapshot::Block& b);
  /// External annotations (device-less ones go to every device).
  void OnAnnotation(const snapshot::Annotation& a, std::string_view stage, std::string_view name);

  /// True when no device has a trace event or a segment (an empty snapshot:
  /// data, not an error; render-png draws a picture that says so).
  bool Empty() const;

  /// The timeline of `device`, or by default of the lowest device with trace
  /// events (else with segments). Error if there is none such.
  StatusOr<Timeline> Finish(std::optional<uint32_t> device);

 private:
  struct Device;
  Device* Get(uint32_t device, bool data);
  uint32_t StackSite(const std::optional<StackId>& stack) const;

  View view_;
  std::optional<uint32_t> only_;
  size_t budget_;
  std::map<uint32_t, std::unique_ptr<Device>> devices_;
  Device* last_ = nullptr;
  uint32_t last_device_ = 0;
  std::vector<Site> sites_;
  std::vector<uint32_t> stack_site_;
  std::unordered_map<std::string, uint32_t> site_ids_;
  std::vector<Marker> all_device_markers_;
  std::vector<uint32_t> filtered_out_;  // devices with data that only_device excluded
};

struct RasterOptions {
  int width = 1500, height = 700;  ///< plot area, pixels
  XAxis x = XAxis::kEvent;
  /// Window in axis units (event index, or seconds since the first timed
  /// event); unset = the whole trace.
  std::optional<double> from, to;
  size_t legend = 10;  ///< call sites to report at the peak
  render::Rgb background{255, 255, 255};
};

struct Raster {
  render::Image plot{1, 1, {}};
  double x0 = 0, x1 = 1;              ///< axis units at the left edge and right edge
  int64_t y_max = 1;                  ///< bytes at the top edge
  std::vector<int64_t> column_bytes;  ///< live bytes drawn in each column
  int64_t peak_bytes = 0;             ///< largest column (the window's peak)
  int peak_column = 0;
  std::optional<uint64_t> peak_idx;  ///< step after which the peak holds; none: the initial state
  int64_t peak_time_us = kNoTime;
  std::vector<std::pair<uint32_t, int64_t>> peak_sites;  ///< (site, bytes), largest first, ≤ legend
  std::vector<std::pair<int, const Marker*>> markers;    ///< (column, marker) inside the window
  uint64_t steps_in_window = 0;
};

/// "--from 10 --to 20" (what was given of them), for the message of a
/// window with none of the data in it (a trace here; a memlog recording in
/// commands/render.cpp).
std::string WindowFlags(const std::optional<double>& from, const std::optional<double>& to);

/// Phase 2 (see the top of this file). Errors: --x time on a trace without
/// time_us; a window that holds none of the trace (to <= from, or wholly
/// outside 0 .. the trace's end), a usage error naming the trace's extent.
StatusOr<Raster> Rasterize(const Timeline& t, const RasterOptions& o);

}  // namespace memtk::timeline
