// A memlog recording as a picture: memory over time per series, log lines
// as a rug, marks and the largest jumps labelled with the log line before
// them, the peak.
#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>

#include "memtk/base/format.h"
#include "render/text.h"
#include "render/chart_frame.h"
#include "render/charts.h"

namespace memtk::render {

using timeline::Marker;
using render::TickUnit;

namespace {

constexpr Rgb kSeriesColors[] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                 {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127}};

// A segment from (x0, y0) to (x1, y1), two pixels thick (Bresenham).
void Segment(Image& img, int x0, int y0, int x1, int y1, Rgb color) {
  const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
  for (int err = dx + dy;;) {
    img.Set(x0, y0, color);
    img.Set(x0, y0 - 1, color);
    if (x0 == x1 && y0 == y1) break;
    const int e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

std::string Percent(double v) { return fmt::format("{:.0f}%", v); }

}  // namespace

size_t MaxMemlogSeries() { return std::size(kSeriesColors); }

int MemlogPercentAxisWidth(const std::vector<std::string>& columns) {
  bool bytes = false, percent = false;
  for (const std::string& c : columns) (memlog::IsPercentColumn(c) ? percent : bytes) = true;
  return bytes && percent ? 40 : 0;
}

Image DrawMemlogChart(const memlog::MemlogReport& report, const memlog::SeriesBins& bins,
                      const std::vector<std::string>& columns, const MemlogWindow& window, const ChartFrame& f,
                      const ChartOptions& o, ChartSummary* summary) {
  const double x0 = window.x0, x1 = window.x1;
  const std::vector<uint32_t>& rug = bins.log_lines;
  // Two scales: bytes, and percent (kept in tenths) for cpu_percent. The
  // bytes scale is on the left; percent is on the right, or on the left
  // when nothing else is drawn.
  int64_t top = 0, top_tenths = 0;
  bool any_bytes = false;
  std::vector<int64_t> peaks(columns.size(), 0);
  for (size_t s = 0; s < columns.size(); ++s) {
    for (const memlog::Bin& b : bins.series[s])
      if (b.any) peaks[s] = std::max(peaks[s], b.hi);
    if (memlog::IsPercentColumn(columns[s])) {
      top_tenths = std::max(top_tenths, peaks[s]);
    } else {
      any_bytes = true;
      top = std::max(top, peaks[s]);
    }
  }
  const int64_t y_max = std::max<int64_t>(f.plot.h, top + top / 20);
  // At least 0..100%, and 5% of headroom above the highest value.
  const double pct_max = std::max(100.0, static_cast<double>(top_tenths) / 10.0 * 1.05);
  auto scale_of = [&](size_t s) {
    return memlog::IsPercentColumn(columns[s]) ? pct_max * 10.0 : static_cast<double>(y_max);
  };

  Image img(o.width, o.height, kWhite);
  std::vector<render::Tick> pct_ticks = render::LinearTicks(0, pct_max, std::max(2, f.plot.h / 60), TickUnit::kCount);
  for (render::Tick& t : pct_ticks) t.label = Percent(t.value);
  if (any_bytes) {
    render::DrawYAxis(img, f.plot, render::ByteTicks(y_max, std::max(2, f.plot.h / 60)), static_cast<double>(y_max),
                      kWhite);
    if (MemlogPercentAxisWidth(columns) > 0) {
      for (const render::Tick& t : pct_ticks) {
        const int row = render::RowOf(f.plot, t.value, pct_max);
        img.HLine(f.plot.x + f.plot.w, f.plot.x + f.plot.w + 3, row, render::kInk);
        render::DrawText(img, f.plot.x + f.plot.w + 5, row - 3, t.label, render::kMutedInk);
      }
      img.VLine(f.plot.x + f.plot.w, f.plot.y, f.plot.Bottom(), render::kInk);
    }
  } else {
    render::DrawYAxis(img, f.plot, pct_ticks, pct_max, kWhite);
  }
  // A line through the samples: each sample joins the next, across empty
  // pixel columns at long intervals; a column that holds several samples
  // also spans their min..max, so no spike between pixels is lost.
  for (size_t s = 0; s < columns.size(); ++s) {
    const double scale = scale_of(s);
    auto row = [&](int64_t v) { return render::RowOf(f.plot, static_cast<double>(v), scale); };
    int prev_col = -1, prev_row = 0;
    for (int c = 0; c < f.plot.w; ++c) {
      const memlog::Bin& b = bins.series[s][static_cast<size_t>(c)];
      if (!b.any) continue;
      const int x = f.plot.x + c;
      if (prev_col >= 0) {
        Segment(img, f.plot.x + prev_col, prev_row, x, row(b.first), kSeriesColors[s]);
      } else {
        img.Set(x, row(b.first), kSeriesColors[s]);
        img.Set(x, row(b.first) - 1, kSeriesColors[s]);
      }
      if (b.count > 1) img.VLine(x, row(b.hi) - 1, row(b.lo), kSeriesColors[s]);
      prev_col = c;
      prev_row = row(b.last);
    }
  }
  for (size_t c = 0; c < rug.size(); ++c)
    if (rug[c] > 0)
      img.VLine(f.plot.x + static_cast<int>(c), f.plot.Bottom() - (rug[c] > 9 ? 5 : 2), f.plot.Bottom(),
                render::kMutedInk);
  render::DrawXAxis(img, f.plot,
                    render::LinearTicks(x0 - report.start_elapsed_s, x1 - report.start_elapsed_s,
                                        std::max(2, f.plot.w / 110), render::TickUnit::kSeconds),
                    x0 - report.start_elapsed_s, x1 - report.start_elapsed_s,
                    rug.empty() ? std::string("seconds since the first sample")
                                : std::string("seconds since the first sample (ticks along the bottom: log lines)"));
  render::DrawAxisLines(img, f.plot);

  // Marks and the largest jumps of the analysed column, labelled with the
  // log line written just before them.
  const bool pct_report = memlog::IsPercentColumn(report.column);
  auto value = [&](int64_t v) { return pct_report ? Percent(static_cast<double>(v)) : FormatBytes(v); };
  const double report_scale = pct_report ? pct_max : static_cast<double>(y_max);
  std::vector<timeline::Marker> labels;
  std::vector<std::pair<int, const timeline::Marker*>> placed;
  for (const memlog::LogLine& m : report.marks)
    labels.push_back({.kind = Marker::Kind::kAnnotationStart, .label = m.text});
  for (const memlog::Jump& j : report.jumps) {
    std::string line =
        !j.lines.empty() ? j.lines.back().text : (j.before ? j.before->text : std::string("(no log line)"));
    labels.push_back({.kind = Marker::Kind::kSnapshot, .label = fmt::format("+{}: {}", value(j.rise()), line)});
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    const bool mark = i < report.marks.size();
    double at = mark ? report.marks[i].elapsed_s : report.jumps[i - report.marks.size()].to_s;
    if (at < x0 || at > x1) continue;
    // Jumps too small to see at this scale are not worth a label.
    if (!mark && static_cast<double>(report.jumps[i - report.marks.size()].rise()) * 100 < report_scale) continue;
    placed.emplace_back(render::ColumnOf(f.plot, at, x0, x1) - f.plot.x, &labels[i]);
  }
  std::stable_sort(placed.begin(), placed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  DrawMarkers(img, f.plot, placed, 300);
  // Report times are raw elapsed_s values, like x0 and x1.
  if (report.peak_bytes > 0 && report.peak_s >= x0 && report.peak_s <= x1)
    DrawPeak(img, f.plot, render::ColumnOf(f.plot, report.peak_s, x0, x1) - f.plot.x,
             render::RowOf(f.plot, static_cast<double>(report.peak_bytes), report_scale),
             "peak " + value(report.peak_bytes));

  DrawTitle(
      img, f, o.title, o.input,
      fmt::format("  -  peak {} at {:.1f} s", value(report.peak_bytes), report.peak_s - report.start_elapsed_s),
      fmt::format("memlog: {} samples over {}, {} log lines; a line through the samples, min..max where they share "
                  "a pixel column",
                  Thousands(report.samples), FormatDuration(report.duration_s), Thousands(report.log_lines)));
  render::DrawText(img, f.plot.x, f.legend_y, "Series (peak):", render::kMutedInk);
  const int column_w = f.plot.w / f.legend_columns;
  for (size_t s = 0; s < columns.size(); ++s) {
    int col = static_cast<int>(s) % f.legend_columns, row = static_cast<int>(s) / f.legend_columns;
    render::DrawLegendEntry(img, f.plot.x + col * column_w, f.legend_y + (row + 1) * kLegendRow, kSeriesColors[s],
                            fmt::format("{}  ({})", columns[s],
                                        memlog::IsPercentColumn(columns[s]) ? Percent(static_cast<double>(peaks[s]) / 10)
                                                                            : FormatBytes(peaks[s])));
  }
  summary->peak_bytes = any_bytes ? top : 0;
  summary->steps = bins.samples;
  return img;
}

}  // namespace memtk::render
