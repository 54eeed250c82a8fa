// Chart furniture shared by memtk's pictures (timeline, segments, memlog):
// where the plot, title and legend go, the title and its elision, marker
// lines and labels, and the peak's triangle. Axes and ticks: render/chart.h.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "memtk/base/status.h"
#include "render/chart.h"
#include "memtk/render/image.h"
#include "timeline/layout.h"

namespace memtk::render {

inline constexpr Rgb kWhite{255, 255, 255};
inline constexpr int kLegendRow = 13;

/// "a/b/c.pickle" -> "c.pickle".
std::string BaseName(const std::string& path);
/// 1234567 -> "1,234,567".
std::string Thousands(uint64_t v);

/// Image regions: title lines on top, y labels left, x labels, the axis
/// title and the legend below.
struct ChartFrame {
  PlotArea plot;
  int legend_y = 0, legend_columns = 1;
};

/// The frame of a width x height picture with `legend_entries` legend lines;
/// a usage error (naming --legend `legend_option`) when no plot fits.
StatusOr<ChartFrame> LayoutChartFrame(int width, int height, size_t legend_option, size_t legend_entries);

/// The title is `custom` (--title) or the input's name followed by `facts`;
/// when it does not fit, the name loses its start, the facts and the
/// subtitle's opening counts stay whole.
void DrawTitle(Image& img, const ChartFrame& f, const std::string& custom, const std::string& input,
               const std::string& facts, const std::string& subtitle);

/// A legend line: the figure stays whole, the label loses its start.
std::string LegendText(const std::string& figure, const std::string& label, int max_width);

/// Every marker is a tick above the plot; while there are at most 30, each
/// also gets a line through the plot and a label in up to three rows.
void DrawMarkers(Image& img, const PlotArea& plot, const std::vector<std::pair<int, const timeline::Marker*>>& markers,
                 int label_width = 180);

/// A small downward triangle over the peak column and its value beside it.
void DrawPeak(Image& img, const PlotArea& plot, int col, int top_row, const std::string& label);

}  // namespace memtk::render
