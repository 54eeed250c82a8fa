// The pictures `memtk render-png` draws, from analysed data: the timeline
// (or segments view) of a snapshot, and a memlog recording over time.
// Each takes plain results and options and returns an Image; reading the
// input is the command's job (commands/render.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "memlog/series_bins.h"
#include "memtk/memlog/report.h"
#include "memtk/render/image.h"
#include "render/chart_frame.h"
#include "timeline/layout.h"

namespace memtk::render {

struct ChartOptions {
  std::string input;  ///< named in the title unless `title` is set
  std::string title;  ///< replaces the default first line
  int width = 1600, height = 900;
  timeline::View view = timeline::View::kActive;
  timeline::XAxis x = timeline::XAxis::kEvent;
  std::optional<double> from, to;  ///< window in x-axis units
  size_t legend = 10;
};

/// What was drawn, for the one-line summary.
struct ChartSummary {
  int64_t peak_bytes = 0;
  uint64_t steps = 0;  ///< allocations + frees (or samples) inside the window
};

/// The Active Memory Timeline (or the segments view) of `t`: rasterized to
/// the plot's size, with axes, markers, the peak, a title and the legend.
/// Errors (--x time without time_us, an empty window) name o.input.
StatusOr<Image> DrawTimelineChart(const timeline::Timeline& t, const ChartOptions& o, ChartSummary* summary);

/// An empty snapshot (no trace event, no segment): a frame with empty axes
/// that says so. It is data, not an error (CI renders every snapshot).
StatusOr<Image> DrawEmptyChart(const ChartOptions& o);

/// The elapsed-seconds window of a memlog chart (raw elapsed_s values).
struct MemlogWindow {
  double x0 = 0, x1 = 1;
};

/// Series a memlog chart can tell apart by colour.
size_t MaxMemlogSeries();
/// Pixels the plot must leave on its right for a percent axis: non-zero
/// when `columns` mix bytes and `*_percent` series.
int MemlogPercentAxisWidth(const std::vector<std::string>& columns);

/// A memlog recording: one line per column (`bins`, binned to f.plot.w over
/// `window`), the log rug, marks and jumps labelled, the peak.
Image DrawMemlogChart(const memlog::MemlogReport& report, const memlog::SeriesBins& bins,
                      const std::vector<std::string>& columns, const MemlogWindow& window, const ChartFrame& f,
                      const ChartOptions& o, ChartSummary* summary);

}  // namespace memtk::render
