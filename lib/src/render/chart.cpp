#include "render/chart.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "render/text.h"

namespace memtk::render {

namespace {

// The smallest 1/2/5 × 10^k step that splits `span` into at most `max_count` parts.
double NiceStep(double span, int max_count) {
  if (span <= 0 || max_count < 1) return 1;
  double raw = span / max_count;
  double base = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * base >= raw) return m * base;
  return 10 * base;
}

// Decimals needed to tell ticks `step` apart: 0 for whole steps, 1 for 0.5, ...
int Decimals(double step) {
  int d = 0;
  while (d < 6 && std::fabs(step * std::pow(10.0, d) - std::round(step * std::pow(10.0, d))) > 1e-9) ++d;
  return d;
}

std::string Trim(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

std::string CountLabel(double v, double step) {
  static constexpr struct {
    double scale;
    const char* suffix;
  } kUnits[] = {{1e9, "G"}, {1e6, "M"}, {1e3, "K"}};
  for (const auto& u : kUnits)
    if (std::fabs(v) >= u.scale && step >= u.scale / 1000)
      return Trim(fmt::format("{:.{}f}", v / u.scale, Decimals(step / u.scale))) + u.suffix;
  return Trim(fmt::format("{:.{}f}", v, Decimals(step)));
}

}  // namespace

std::vector<Tick> ByteTicks(int64_t max, int max_count) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int unit = 0;
  double scale = 1;
  // The largest unit that still gives at least one whole unit per tick span.
  while (unit < 5 && static_cast<double>(max) / (scale * 1024) >= 1) {
    scale *= 1024;
    ++unit;
  }
  double in_units = static_cast<double>(max) / scale;
  double step = NiceStep(in_units, max_count);
  if (unit == 0) step = std::max(step, 1.0);
  std::vector<Tick> ticks;
  for (double v = 0; v <= in_units + 1e-9; v += step) {
    std::string label = v == 0 ? "0" : Trim(fmt::format("{:.{}f}", v, Decimals(step))) + " " + kUnits[unit];
    ticks.push_back({v * scale, std::move(label)});
  }
  return ticks;
}

std::vector<Tick> LinearTicks(double lo, double hi, int max_count, TickUnit unit) {
  double step = NiceStep(hi - lo, max_count);
  if (unit == TickUnit::kCount) step = std::max(step, 1.0);
  std::vector<Tick> ticks;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    if (std::fabs(v) < step * 1e-9) v = 0;
    std::string label =
        unit == TickUnit::kCount ? CountLabel(v, step) : Trim(fmt::format("{:.{}f}", v, Decimals(step))) + " s";
    ticks.push_back({v, std::move(label)});
  }
  return ticks;
}

int RowOf(const PlotArea& plot, double value, double y_max) {
  double frac = y_max > 0 ? value / y_max : 0;
  return plot.Bottom() - static_cast<int>(std::lround(frac * (plot.h - 1)));
}

int ColumnOf(const PlotArea& plot, double value, double x0, double x1) {
  double frac = x1 > x0 ? (value - x0) / (x1 - x0) : 0;
  return plot.x + static_cast<int>(std::lround(frac * (plot.w - 1)));
}

void DrawYAxis(Image& image, const PlotArea& plot, const std::vector<Tick>& ticks, double y_max, Rgb background) {
  for (const Tick& t : ticks) {
    int y = RowOf(plot, t.value, y_max);
    if (t.value > 0) {
      for (int x = plot.x; x < plot.x + plot.w; ++x)
        if (image.Get(x, y) == background) image.Set(x, y, kGrid);
    }
    image.HLine(plot.x - 4, plot.x - 1, y, kInk);
    DrawText(image, plot.x - 7 - TextWidth(t.label), y - 3, t.label, kInk);
  }
}

void DrawXAxis(Image& image, const PlotArea& plot, const std::vector<Tick>& ticks, double x0, double x1,
               std::string_view title) {
  int last_right = -1000;
  for (const Tick& t : ticks) {
    int x = ColumnOf(plot, t.value, x0, x1);
    image.VLine(x, plot.Bottom() + 1, plot.Bottom() + 4, kInk);
    int w = TextWidth(t.label);
    int left = std::clamp(x - w / 2, 0, image.width() - w);
    if (left <= last_right + 6) continue;  // never print labels over each other
    DrawText(image, left, plot.Bottom() + 7, t.label, kInk);
    last_right = left + w;
  }
  int w = TextWidth(title);
  DrawText(image, plot.x + (plot.w - w) / 2, plot.Bottom() + 7 + kLineHeight + 2, title, kMutedInk);
}

void DrawAxisLines(Image& image, const PlotArea& plot) {
  image.VLine(plot.x - 1, plot.y, plot.Bottom() + 1, kInk);
  image.HLine(plot.x - 1, plot.x + plot.w - 1, plot.Bottom() + 1, kInk);
}

int DrawLegendEntry(Image& image, int x, int y, Rgb color, std::string_view text) {
  image.FillRect(x, y - 1, 9, 9, color);
  return DrawText(image, x + 14, y, text, kInk);
}

}  // namespace memtk::render
