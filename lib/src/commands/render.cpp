// `memtk render-png`: read the input, lay it out, draw it, write the PNG.
#include "memtk/commands/render.h"

#include <fmt/core.h>

#include <algorithm>

#include "analysis/flame.h"
#include "analysis/flame_tree.h"
#include "commands/files_read.h"
#include "memlog/series_bins.h"
#include "memtk/base/format.h"
#include "memtk/io/output_file.h"
#include "memtk/memlog/report.h"
#include "render/charts.h"
#include "render/flame_chart.h"
#include "render/png.h"
#include "store/replay.h"
#include "timeline/layout.h"
#include "timeline/timeline_sink.h"

namespace memtk::commands {

namespace {

render::ChartOptions ChartOptionsOf(const RenderOptions& o) {
  return {.input = o.input,
          .title = o.title,
          .width = o.width,
          .height = o.height,
          .view = o.view,
          .x = o.x,
          .from = o.from,
          .to = o.to,
          .legend = o.legend};
}

StatusOr<render::Image> RenderTimeline(const RenderOptions& o, RenderSummary* summary) {
  ASSIGN_OR_RETURN(snapshot::FrameRules rules, snapshot::FrameRules::Make(o.frames));
  timeline::TimelineBuilder builder(o.view, o.device);
  // The database's stored sites are the built-in rule's user sites: enough
  // unless the rule was changed on the command line.
  const bool stored_sites = rules.is_default() && rules.site_mode() == snapshot::SiteMode::kUser;
  timeline::TimelineSink sink(&builder, std::move(rules));
  // From a database: only the device's rows and each stack's call site, with
  // SQLite decoding the events on a second thread while this one lays them out.
  RETURN_IF_ERROR(store::ReadInput(
      o.input, &sink, {},
      {.device = o.device, .call_sites_only = stored_sites, .event_details = false, .read_ahead = true}));
  if (!o.device && builder.Empty()) {
    summary->kind = "empty";
    return render::DrawEmptyChart(ChartOptionsOf(o));
  }
  auto t = builder.Finish(o.device);
  if (!t.ok()) return t.status().WithContext(o.input);
  render::ChartSummary drawn;
  ASSIGN_OR_RETURN(render::Image img, render::DrawTimelineChart(*t, ChartOptionsOf(o), &drawn));
  summary->kind = o.view == timeline::View::kSegments ? "segments" : "timeline";
  summary->device = t->device;
  summary->peak_bytes = drawn.peak_bytes;
  summary->steps = drawn.steps;
  return img;
}

StatusOr<render::Image> RenderFlame(const RenderOptions& o, RenderSummary* summary) {
  const bool segments = o.flame == FlameView::kSegments;
  if (o.x != timeline::XAxis::kEvent || o.from || o.to)
    return UsageError("--x, --from and --to are for the timeline views, not --view flame or flame-segments");
  if (segments && !o.at.empty())
    return UsageError("--at is for --view flame; flame-segments draws the segments as the snapshot holds them");
  analysis::FlameOptions fo;
  if (!o.at.empty()) {
    ASSIGN_OR_RETURN(fo.at, analysis::ParseInstant(o.at));
  }
  fo.device = o.device;
  fo.segments = segments;
  fo.frames = o.frames;
  ASSIGN_OR_RETURN(analysis::FlameProfile profile, analysis::BuildFlameProfile(o.input, fo));
  render::ChartOptions co = ChartOptionsOf(o);
  if (profile.devices.empty()) {
    summary->kind = "empty";
    return render::DrawEmptyChart(co);
  }
  // Default: the lowest device with something to draw.
  const analysis::FlameDevice* device = &profile.devices.front();
  for (const analysis::FlameDevice& d : profile.devices)
    if (d.bytes > 0) {
      device = &d;
      break;
    }
  analysis::FlameTree tree = analysis::BuildFlameTree(profile, device->device);
  summary->kind = segments ? "flame-segments" : "flame";
  summary->device = device->device;
  summary->peak_bytes = tree.nodes[0].bytes;
  summary->steps = static_cast<uint64_t>(
      std::count_if(profile.stacks.begin(), profile.stacks.end(),
                    [&](const analysis::FlameStack& s) { return s.device == device->device && s.bytes > 0; }));
  summary->at = segments ? "the snapshot" : analysis::DescribeInstant(fo.at);
  return render::DrawFlameChart(
      profile, tree, *device,
      {.input = o.input, .title = o.title, .width = o.width, .height = o.height, .segments = segments, .at = fo.at});
}

StatusOr<render::Image> RenderMemlog(const RenderOptions& o, RenderSummary* summary) {
  if (o.device || o.view != timeline::View::kActive || o.x != timeline::XAxis::kEvent)
    return UsageError("--device, --view and --x are for snapshots; a memlog CSV is drawn over elapsed seconds");
  memlog::MemlogReportOptions ro;
  ro.column = o.columns.empty() ? std::string() : o.columns.front();
  ro.log_path = o.log_path;
  ro.jumps = std::min<size_t>(o.legend, 8);
  ro.lines_per_jump = 1;
  ASSIGN_OR_RETURN(memlog::MemlogReport report, memlog::BuildMemlogReport(o.input, ro));
  std::vector<std::string> columns = o.columns.empty() ? std::vector<std::string>{report.column} : o.columns;
  if (columns.size() > render::MaxMemlogSeries())
    return UsageError(fmt::format("--column: at most {} series", render::MaxMemlogSeries()));

  ASSIGN_OR_RETURN(render::ChartFrame f, render::LayoutChartFrame(o.width, o.height, o.legend, columns.size() + 1));
  f.plot.w -= render::MemlogPercentAxisWidth(columns);
  render::MemlogWindow w;
  const double end = std::max(report.duration_s, 1e-3);
  w.x0 = report.start_elapsed_s + o.from.value_or(0);
  w.x1 = report.start_elapsed_s + o.to.value_or(end);
  // As for a snapshot's timeline: a window with none of the recording in it
  // would draw an empty chart that looks like data.
  if (!(w.x1 > w.x0) || o.from.value_or(0) >= end || o.to.value_or(end) <= 0)
    return UsageError(fmt::format("{}: empty window: {}: the recording spans 0 to {:.3f} s", o.input,
                                  timeline::WindowFlags(o.from, o.to), end));
  ASSIGN_OR_RETURN(memlog::SeriesBins bins, memlog::BinSeries(o.input, report.log_path, columns, w.x0, w.x1, f.plot.w));
  render::ChartSummary drawn;
  render::Image img = render::DrawMemlogChart(report, bins, columns, w, f, ChartOptionsOf(o), &drawn);
  summary->kind = "memlog";
  summary->peak_bytes = drawn.peak_bytes;
  if (std::all_of(columns.begin(), columns.end(), [](const std::string& c) { return memlog::IsPercentColumn(c); })) {
    int64_t tenths = 0;
    for (const auto& series : bins.series)
      for (const memlog::Bin& b : series)
        if (b.any) tenths = std::max(tenths, b.hi);
    summary->peak_label = fmt::format("{}.{}%", tenths / 10, tenths % 10);
  } else {
    summary->peak_label = FormatBytes(drawn.peak_bytes);
  }
  summary->steps = drawn.steps;
  return img;
}

}  // namespace

StatusOr<render::Image> RenderImage(const RenderOptions& o, RenderSummary* summary) {
  if (o.width < 1 || o.height < 1 || o.width > render::kMaxImageSide || o.height > render::kMaxImageSide)
    return UsageError(fmt::format("--width and --height must be between 1 and {}", render::kMaxImageSide));
  RETURN_IF_ERROR(snapshot::FrameRules::Make(o.frames).status());  // a bad regex is usage, whatever the input
  if (o.input != "-" && memlog::IsMemlogCsv(o.input)) {
    if (o.flame != FlameView::kNone || !o.at.empty()) return UsageError("--view flame and --at are for snapshots");
    return RenderMemlog(o, summary);
  }
  if (o.flame != FlameView::kNone) return RenderFlame(o, summary);
  if (!o.at.empty()) return UsageError("--at is for --view flame");
  if (!o.columns.empty() || !o.log_path.empty()) return UsageError("--column and --log are for memlog CSVs");
  return RenderTimeline(o, summary);
}

Status CheckRenderOutputs(const std::vector<std::string>& inputs, const RenderOptions& o) {
  if (inputs.size() > 1 && !o.output.empty() && !io::NamesDirectory(o.output))
    return UsageError("several inputs need -o DIR/ (or no -o: each PNG beside its input)");
  std::vector<std::string> reads;
  for (const std::string& in : inputs) {
    if (in == "-" && (o.output.empty() || io::NamesDirectory(o.output)))
      return UsageError("reading stdin needs -o OUT.png (or -o - for stdout)");
    AddFilesRead(in, o.log_path, &reads);
  }
  return io::PlanOutputs(o.output, inputs, ".png", reads).status();
}

Status RenderPng(const RenderOptions& o, RenderSummary* summary) {
  RETURN_IF_ERROR(CheckRenderOutputs({o.input}, o));
  ASSIGN_OR_RETURN(render::Image img, RenderImage(o, summary));
  ASSIGN_OR_RETURN(std::string png, render::EncodePng(img));
  return io::WriteOutputFile(o.output, o.input, ".png", png);
}

}  // namespace memtk::commands
