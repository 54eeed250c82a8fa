// A memlog recording as a picture: memory over time per series, log lines
// as a rug, marks and the largest jumps labelled with the log line before
// them, the peak.
#include <fmt/core.h>

#include <algorithm>

#include "memtk/base/format.h"
#include "render/text.h"
#include "render/chart_frame.h"
#include "render/charts.h"

namespace memtk::render {

using timeline::Marker;

namespace {

constexpr Rgb kSeriesColors[] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                 {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127}};

}  // namespace

size_t MaxMemlogSeries() { return std::size(kSeriesColors); }

Image DrawMemlogChart(const memlog::MemlogReport& report, const memlog::SeriesBins& bins,
                      const std::vector<std::string>& columns, const MemlogWindow& window, const ChartFrame& f,
                      const ChartOptions& o, ChartSummary* summary) {
  const double x0 = window.x0, x1 = window.x1;
  const std::vector<uint32_t>& rug = bins.log_lines;
  int64_t top = 0;
  std::vector<int64_t> peaks(columns.size(), 0);
  for (size_t s = 0; s < columns.size(); ++s)
    for (const memlog::Bin& b : bins.series[s])
      if (b.any) peaks[s] = std::max(peaks[s], b.hi);
  for (int64_t p : peaks) top = std::max(top, p);
  const int64_t y_max = std::max<int64_t>(f.plot.h, top + top / 20);

  Image img(o.width, o.height, kWhite);
  render::DrawYAxis(img, f.plot, render::ByteTicks(y_max, std::max(2, f.plot.h / 60)), static_cast<double>(y_max),
                    kWhite);
  // Each column spans its samples' min..max and reaches back to the previous
  // column's last sample, so the line is continuous and no spike is lost.
  for (size_t s = 0; s < columns.size(); ++s) {
    std::optional<int64_t> prev;
    for (int c = 0; c < f.plot.w; ++c) {
      const memlog::Bin& b = bins.series[s][static_cast<size_t>(c)];
      if (!b.any) continue;
      int64_t lo = prev ? std::min(b.lo, *prev) : b.lo, hi = prev ? std::max(b.hi, *prev) : b.hi;
      int y0 = render::RowOf(f.plot, static_cast<double>(hi), static_cast<double>(y_max));
      int y1 = render::RowOf(f.plot, static_cast<double>(lo), static_cast<double>(y_max));
      img.VLine(f.plot.x + c, y0, y1, kSeriesColors[s]);
      if (y0 == y1) img.Set(f.plot.x + c, y0 - 1, kSeriesColors[s]);  // flat stretches: two pixels thick
      prev = b.last;
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
  std::vector<timeline::Marker> labels;
  std::vector<std::pair<int, const timeline::Marker*>> placed;
  for (const memlog::LogLine& m : report.marks)
    labels.push_back({.kind = Marker::Kind::kAnnotationStart, .label = m.text});
  for (const memlog::Jump& j : report.jumps) {
    std::string line =
        !j.lines.empty() ? j.lines.back().text : (j.before ? j.before->text : std::string("(no log line)"));
    labels.push_back({.kind = Marker::Kind::kSnapshot, .label = fmt::format("+{}: {}", FormatBytes(j.rise()), line)});
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    const bool mark = i < report.marks.size();
    double at = mark ? report.marks[i].elapsed_s : report.jumps[i - report.marks.size()].to_s;
    if (at < x0 || at > x1) continue;
    // Jumps too small to see at this scale are not worth a label.
    if (!mark && report.jumps[i - report.marks.size()].rise() * 100 < y_max) continue;
    placed.emplace_back(render::ColumnOf(f.plot, at, x0, x1) - f.plot.x, &labels[i]);
  }
  std::stable_sort(placed.begin(), placed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  DrawMarkers(img, f.plot, placed, 300);
  // Report times are raw elapsed_s values, like x0 and x1.
  if (report.peak_bytes > 0 && report.peak_s >= x0 && report.peak_s <= x1)
    DrawPeak(img, f.plot, render::ColumnOf(f.plot, report.peak_s, x0, x1) - f.plot.x,
             render::RowOf(f.plot, static_cast<double>(report.peak_bytes), static_cast<double>(y_max)),
             "peak " + FormatBytes(report.peak_bytes));

  DrawTitle(
      img, f, o.title, o.input,
      fmt::format("  -  peak {} at {:.1f} s", FormatBytes(report.peak_bytes), report.peak_s - report.start_elapsed_s),
      fmt::format("memlog: {} samples over {}, {} log lines; each pixel column spans the min..max of its samples",
                  Thousands(report.samples), FormatDuration(report.duration_s), Thousands(report.log_lines)));
  render::DrawText(img, f.plot.x, f.legend_y, "Series (peak):", render::kMutedInk);
  const int column_w = f.plot.w / f.legend_columns;
  for (size_t s = 0; s < columns.size(); ++s) {
    int col = static_cast<int>(s) % f.legend_columns, row = static_cast<int>(s) / f.legend_columns;
    render::DrawLegendEntry(img, f.plot.x + col * column_w, f.legend_y + (row + 1) * kLegendRow, kSeriesColors[s],
                            fmt::format("{}  ({})", columns[s], FormatBytes(peaks[s])));
  }
  summary->peak_bytes = top;
  summary->steps = bins.samples;
  return img;
}

}  // namespace memtk::render
