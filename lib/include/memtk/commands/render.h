// `memtk render-png`: pictures of a snapshot (the Active Memory Timeline or
// reserved memory per segment) or of a memlog CSV (memory over time).
//
// A snapshot is streamed once into a timeline::TimelineBuilder (pickle or
// JSON through the snapshot reader; a memtk database through the replay,
// reading only the chosen device's rows), rasterized (lib/src/timeline/
// layout.h), drawn with axes, markers and a legend (lib/src/render/charts.h),
// and written as a PNG through a temp file. A memlog CSV is read twice
// (report, then per-pixel min/max) and its log CSV twice. The flame views
// stream the snapshot once into an analysis::FlameSink (bytes by stack at
// one instant, or the segments and their blocks) and draw its tree
// (render/flame_chart.h). Output bytes depend only on the input and options.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "memtk/base/status.h"
#include "memtk/render/image.h"
#include "memtk/snapshot/frame_rules.h"
#include "memtk/timeline/view.h"

namespace memtk::commands {

/// `--view flame` / `flame-segments`: a flame graph instead of the timeline.
enum class FlameView : uint8_t { kNone, kLive, kSegments };

struct RenderOptions {
  std::string input;
  /// PNG path; "-" = stdout; "" = beside the input (INPUT stem + .png); a
  /// directory (DIR/ is created) = DIR/<input stem>.png.
  std::string output;
  std::optional<uint32_t> device;
  int width = 1600, height = 900;
  timeline::XAxis x = timeline::XAxis::kEvent;
  timeline::View view = timeline::View::kActive;
  std::optional<double> from, to;  ///< window in x-axis units
  std::string title;               ///< replaces the default first line
  size_t legend = 10;
  std::vector<std::string> columns;  ///< memlog: series to draw (default rss_bytes or used_bytes)
  std::string log_path;              ///< memlog: log CSV (default beside the CSV)
  FlameView flame = FlameView::kNone;
  /// flame: the instant, "peak" (default when empty), "end", "event:N" or
  /// "us:T" (analysis::ParseInstant).
  std::string at;
  /// Snapshots: the legend's and colours' site rule (--site, --user-code, --library).
  snapshot::FrameRulesOptions frames;
};

/// What was drawn, for the one-line summary the CLI prints.
struct RenderSummary {
  /// "timeline", "segments", "memlog", "flame", "flame-segments" or "empty"
  /// (nothing to draw)
  std::string kind;
  uint32_t device = 0;
  int64_t peak_bytes = 0;
  std::string peak_label;  ///< the peak in its unit: "1.5 GiB", or "98.5%" for a chart of *_percent columns only
  uint64_t steps = 0;  ///< allocations + frees (or samples) inside the window; flame: stacks
  std::string at;      ///< flame: the instant drawn ("peak", "event 12", ...)
};

/// Draws the picture into an Image (no file written).
StatusOr<render::Image> RenderImage(const RenderOptions& options, RenderSummary* summary);
/// The usage checks of a render-png run over `inputs` (options.input is
/// ignored), made before any is read: several inputs need a directory (or no
/// -o), stdin needs -o, no two inputs may be drawn into one PNG, and no PNG
/// may replace an input or a memlog CSV's log CSV (io::PlanOutputs).
Status CheckRenderOutputs(const std::vector<std::string>& inputs, const RenderOptions& options);
/// CheckRenderOutputs for options.input, RenderImage, then the PNG to
/// options.output.
Status RenderPng(const RenderOptions& options, RenderSummary* summary);

}  // namespace memtk::commands
