// The Active Memory Timeline and the segments view as a picture: the
// rasterized bands (timeline/layout.h) framed with axes, markers, the peak,
// a title and a legend of the call sites holding the most at the peak.
#include <fmt/core.h>

#include <algorithm>

#include "memtk/base/format.h"
#include "render/text.h"
#include "render/chart_frame.h"
#include "render/charts.h"

namespace memtk::render {

using timeline::Marker;

namespace {

std::string TimeLabel(int64_t time_us, int64_t first_us) {
  return time_us == timeline::kNoTime ? std::string() : fmt::format(", {:.3f} s", (time_us - first_us) / 1e6);
}

}  // namespace

StatusOr<Image> DrawEmptyChart(const ChartOptions& o) {
  ASSIGN_OR_RETURN(ChartFrame f, LayoutChartFrame(o.width, o.height, o.legend, 0));
  Image img(o.width, o.height, kWhite);
  render::DrawXAxis(img, f.plot, {}, 0, 1, "trace event index");
  render::DrawAxisLines(img, f.plot);
  const std::string what = "empty snapshot: no trace events and no segments";
  render::DrawText(img, f.plot.x + std::max(4, (f.plot.w - render::TextWidth(what, 2)) / 2),
                   f.plot.y + f.plot.h / 2 - render::kCapHeight, what, render::kMutedInk, 2);
  DrawTitle(img, f, o.title, o.input, "  -  empty snapshot",
            "Nothing to draw: the snapshot holds no memory events or state");
  return img;
}

StatusOr<Image> DrawTimelineChart(const timeline::Timeline& t, const ChartOptions& o, ChartSummary* summary) {
  const bool segments = o.view == timeline::View::kSegments;
  ASSIGN_OR_RETURN(ChartFrame f, LayoutChartFrame(o.width, o.height, o.legend, o.legend));
  timeline::RasterOptions ro{.width = f.plot.w,
                             .height = f.plot.h,
                             .x = o.x,
                             .from = o.from,
                             .to = o.to,
                             .legend = o.legend,
                             .background = kWhite};
  auto raster = timeline::Rasterize(t, ro);
  if (!raster.ok()) return raster.status().WithContext(o.input);
  const timeline::Raster& r = *raster;

  Image img(o.width, o.height, kWhite);
  for (int y = 0; y < f.plot.h; ++y)
    std::copy_n(r.plot.Row(y), static_cast<size_t>(f.plot.w) * 3, img.Row(f.plot.y + y) + f.plot.x * 3);
  render::DrawYAxis(img, f.plot, render::ByteTicks(r.y_max, std::max(2, f.plot.h / 60)), static_cast<double>(r.y_max),
                    kWhite);
  const bool by_time = o.x == timeline::XAxis::kTime;
  render::DrawXAxis(img, f.plot,
                    render::LinearTicks(r.x0, r.x1, std::max(2, f.plot.w / 110),
                                        by_time ? render::TickUnit::kSeconds : render::TickUnit::kCount),
                    r.x0, r.x1,
                    by_time ? fmt::format("seconds since the first event of device {}", t.device)
                            : fmt::format("trace event index (device {})", t.device));
  render::DrawAxisLines(img, f.plot);
  DrawMarkers(img, f.plot, r.markers);

  std::string where =
      r.peak_idx ? fmt::format("event {}{}", Thousands(*r.peak_idx), TimeLabel(r.peak_time_us, t.first_time_us))
                 : "the start";
  if (r.peak_bytes > 0)
    DrawPeak(img, f.plot, r.peak_column,
             render::RowOf(f.plot, static_cast<double>(r.peak_bytes), static_cast<double>(r.y_max)),
             "peak " + FormatBytes(r.peak_bytes));
  const std::string facts = fmt::format("  -  device {}  -  peak {} at {}", t.device, FormatBytes(r.peak_bytes), where);
  std::string subtitle = fmt::format(
      "{}: {} {}, {} {}, {} events{}; each pixel column drawn at its most-live instant",
      segments ? "Reserved memory per segment" : "Active memory timeline", Thousands(t.allocs),
      segments ? "segment allocs and maps" : "allocations", Thousands(t.frees),
      segments ? "frees and unmaps" : "frees", Thousands(t.events),
      t.initial.empty() ? std::string() : fmt::format(", {} live before recording", Thousands(t.initial.size())));
  if (!r.markers.empty()) {
    size_t ooms = 0, snapshots = 0;
    for (const auto& [col, m] : r.markers) {
      ooms += m->kind == Marker::Kind::kOom;
      snapshots += m->kind == Marker::Kind::kSnapshot;
    }
    subtitle += fmt::format("; markers: {} OOM (red), {} snapshot (grey), {} annotation (purple)", ooms, snapshots,
                            r.markers.size() - ooms - snapshots);
  }
  DrawTitle(img, f, o.title, o.input, facts, subtitle);

  if (o.legend > 0) {
    render::DrawText(img, f.plot.x, f.legend_y,
                     r.peak_sites.empty() ? std::string("Nothing live at the peak")
                                          : fmt::format("Call sites holding the most bytes at the peak ({}):",
                                                        FormatBytes(r.peak_bytes)),
                     render::kMutedInk);
    const int column_w = f.plot.w / f.legend_columns;
    for (size_t i = 0; i < r.peak_sites.size(); ++i) {
      const auto& [site, bytes] = r.peak_sites[i];
      int col = static_cast<int>(i) % f.legend_columns, row = static_cast<int>(i) / f.legend_columns;
      render::DrawLegendEntry(img, f.plot.x + col * column_w, f.legend_y + (row + 1) * kLegendRow, t.sites[site].color,
                              LegendText(fmt::format("{:>9}", FormatBytes(bytes)), t.sites[site].label, column_w - 24));
    }
  }
  summary->peak_bytes = r.peak_bytes;
  summary->steps = r.steps_in_window;
  return img;
}

}  // namespace memtk::render
