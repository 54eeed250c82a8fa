// Chart furniture shared by every picture memtk draws: tick choice with
// readable labels, axes, gridlines behind the data, and legend swatches.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "memtk/render/image.h"

namespace memtk::render {

struct Tick {
  double value = 0;
  std::string label;
};

/// Ticks from 0 to at most `max` bytes at 1, 2 or 5 × 10^k of a binary unit
/// (B, KiB, MiB, GiB, TiB), at most `max_count` of them: "0", "512 MiB", "1 GiB".
std::vector<Tick> ByteTicks(int64_t max, int max_count);

enum class TickUnit {
  kCount,    ///< 1.5K, 2M, ...
  kSeconds,  ///< 0.5 s, 30 s, 90 s, ...
};
/// Ticks in [lo, hi] at 1, 2 or 5 × 10^k, at most `max_count` of them.
std::vector<Tick> LinearTicks(double lo, double hi, int max_count, TickUnit unit);

/// Where the data goes inside the image.
struct PlotArea {
  int x = 0, y = 0, w = 1, h = 1;
  int Bottom() const { return y + h - 1; }
};

inline constexpr Rgb kInk{40, 40, 40};
inline constexpr Rgb kMutedInk{110, 110, 110};
inline constexpr Rgb kGrid{226, 226, 226};

/// Horizontal gridlines at the y ticks, drawn only over pixels that still
/// show `background` (behind the data), and the y labels left of the plot.
void DrawYAxis(Image& image, const PlotArea& plot, const std::vector<Tick>& ticks, double y_max, Rgb background);
/// Tick marks and labels under the plot, and `title` centred below them.
void DrawXAxis(Image& image, const PlotArea& plot, const std::vector<Tick>& ticks, double x0, double x1,
               std::string_view title);
/// The left and bottom axis lines.
void DrawAxisLines(Image& image, const PlotArea& plot);
/// Row of `value` in [0, y_max] inside the plot (bottom row for 0).
int RowOf(const PlotArea& plot, double value, double y_max);
/// Column of `value` in [x0, x1] inside the plot.
int ColumnOf(const PlotArea& plot, double value, double x0, double x1);

/// A legend entry: a 9×9 swatch and its text; returns the x after the text.
int DrawLegendEntry(Image& image, int x, int y, Rgb color, std::string_view text);

}  // namespace memtk::render
