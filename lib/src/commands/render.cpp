#include "memtk/commands/render.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "memtk/base/format.h"
#include "memtk/csv/number.h"
#include "memtk/csv/reader.h"
#include "memtk/memlog/columns.h"
#include "memtk/memlog/recorder.h"
#include "memtk/memlog/report.h"
#include "memtk/render/chart.h"
#include "memtk/render/png.h"
#include "memtk/render/text.h"
#include "memtk/snapshot/call_site.h"
#include "memtk/store/row_ahead.h"
#include "memtk/store/snapshot_db_reader.h"
#include "memtk/store/sqlite.h"

namespace memtk::commands {

using render::Image;
using render::PlotArea;
using render::Rgb;
using timeline::Marker;
using timeline::TimelineBuilder;

namespace {

constexpr Rgb kWhite{255, 255, 255};
constexpr int kLegendRow = 13;

std::string BaseName(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string Thousands(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

// ------------------------------------------------------------ snapshot input

// Feeds a TimelineBuilder from the streaming reader. Each stack's call site
// is found once, when the stack is first seen; sites are interned per frame.
class TimelineSink : public snapshot::SnapshotSink {
 public:
  explicit TimelineSink(TimelineBuilder* b) : b_(b) {}
  Status OnBegin(const snapshot::Tables& t) override {
    tables_ = &t;
    return OkStatus();
  }
  Status OnStack(StackId id, std::span<const FrameId> frames) override {
    std::optional<FrameId> site = snapshot::CallSiteFrame(*tables_, frames);
    if (!site) return OkStatus();
    if (site->value >= frame_site_.size()) frame_site_.resize(site->value + 1, UINT32_MAX);
    uint32_t& s = frame_site_[site->value];
    if (s == UINT32_MAX) s = b_->InternSite(snapshot::FormatFrame(*tables_, *site));
    b_->SetStackSite(id, s);
    return OkStatus();
  }
  Status OnSegment(const snapshot::Segment& s) override {
    b_->OnSegment(s);
    return OkStatus();
  }
  Status OnBlock(const snapshot::Block& b) override {
    b_->OnBlock(b);
    return OkStatus();
  }
  Status OnEvent(const snapshot::TraceEvent& e) override { return b_->OnEvent(e); }
  Status OnAnnotation(const snapshot::Annotation& a) override {
    b_->OnAnnotation(a, tables_->String(a.stage), tables_->String(a.name));
    return OkStatus();
  }

 private:
  TimelineBuilder* b_;
  const snapshot::Tables* tables_ = nullptr;
  std::vector<uint32_t> frame_site_;  // FrameId -> site, UINT32_MAX = not yet interned
};

// A memtk database: only what the picture needs, the device's events by
// rowid range (a device's trace is contiguous in `events`), the call site of
// each stack from stacks.site_frame_id, the device's blocks or segments.
Status FeedFromDb(const std::string& path, std::optional<uint32_t> device, TimelineBuilder* b) {
  ASSIGN_OR_RETURN(store::ScopedDb db, store::OpenDb(path, false, true));
  sqlite3* d = db.get();
  RETURN_IF_ERROR(store::CheckMemtkDb(d, path));

  RETURN_IF_ERROR(store::ForEachRow(
      d, path, "SELECT s.id, f.filename, f.line, f.name FROM stacks s JOIN frames f ON f.id = s.site_frame_id",
      [&](sqlite3_stmt* s) {
        int64_t id = sqlite3_column_int64(s, 0);
        if (id < 0 || id > UINT32_MAX) return InvalidInput(fmt::format("{}: stack id {} out of range", path, id));
        std::string label =
            fmt::format("{}:{}:{}", store::ColumnText(s, 1), sqlite3_column_int64(s, 2), store::ColumnText(s, 3));
        b->SetStackSite(StackId{static_cast<uint32_t>(id)}, b->InternSite(label));
        return OkStatus();
      }));
  auto stack_of = [](sqlite3_stmt* s, int col) -> std::optional<StackId> {
    auto v = store::ColumnOptInt(s, col);
    if (!v || *v < 0 || *v > UINT32_MAX) return std::nullopt;
    return StackId{static_cast<uint32_t>(*v)};
  };
  const std::string where_device = device ? fmt::format(" AND device = {}", *device) : std::string();
  RETURN_IF_ERROR(store::ForEachRow(
      d, path,
      "SELECT id, device, address, total_size, stack_id FROM segments WHERE host = 0" + where_device + " ORDER BY id",
      [&](sqlite3_stmt* s) {
        snapshot::Segment g;
        g.id = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
        g.device = sqlite3_column_int64(s, 1);
        g.address = static_cast<uint64_t>(sqlite3_column_int64(s, 2));
        g.total_size = sqlite3_column_int64(s, 3);
        g.stack = stack_of(s, 4);
        b->OnSegment(g);
        return OkStatus();
      }));
  RETURN_IF_ERROR(store::ForEachRow(d, path,
                                    "SELECT b.device, b.address, b.requested_size, b.stack_id FROM blocks b JOIN "
                                    "segments s ON s.id = b.segment_id WHERE s.host = 0 AND b.state = "
                                    "'active_allocated'" +
                                        (device ? fmt::format(" AND b.device = {}", *device) : std::string()) +
                                        " ORDER BY b.id",
                                    [&](sqlite3_stmt* s) {
                                      snapshot::Block k;
                                      k.device = sqlite3_column_int64(s, 0);
                                      k.address = static_cast<uint64_t>(sqlite3_column_int64(s, 1));
                                      k.requested_size = sqlite3_column_int64(s, 2);
                                      k.state = snapshot::BlockState::kActiveAllocated;
                                      k.stack = stack_of(s, 3);
                                      b->OnBlock(k);
                                      return OkStatus();
                                    }));
  // Each device's trace by its rowid range (a scan of the whole table with a
  // WHERE on action measured no faster).
  std::vector<std::array<int64_t, 3>> traces;
  RETURN_IF_ERROR(store::ForEachRow(
      d, path, "SELECT device, first_event, events FROM traces WHERE host = 0" + where_device + " ORDER BY device",
      [&](sqlite3_stmt* s) {
        traces.push_back({sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2)});
        return OkStatus();
      }));
  // The events are most of the rows: SQLite decodes them on a second thread
  // while this one lays them out.
  struct EventRow {
    uint64_t index = 0;
    snapshot::Action action = snapshot::Action::kUnknown;
    std::optional<int64_t> addr, time_us;
    int64_t size = 0;
    std::optional<StackId> stack;
    std::string user_metadata;  // annotate events only; empty otherwise
  };
  for (const auto& [dev, first, count] : traces) {
    std::string sql = fmt::format(
        "SELECT idx, action, addr, size, time_us, stack_id, user_metadata FROM events WHERE id >= {} AND id < {} "
        "AND device = {} AND host = 0 ORDER BY id",
        first, first + count, dev);
    snapshot::TraceEvent e;
    e.device = static_cast<uint32_t>(dev);
    RETURN_IF_ERROR(store::ForEachRowAhead<EventRow>(
        path, sql,
        [&](sqlite3_stmt* s, EventRow* r) {
          r->index = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
          r->action = snapshot::ActionFromName(store::ColumnText(s, 1));
          r->addr = store::ColumnOptInt(s, 2);
          r->size = sqlite3_column_int64(s, 3);
          r->time_us = store::ColumnOptInt(s, 4);
          r->stack = stack_of(s, 5);
          r->user_metadata = store::ColumnText(s, 6);
          return OkStatus();
        },
        [&](const EventRow& r) {
          e.index = r.index;
          e.action = r.action;
          e.addr = static_cast<uint64_t>(r.addr.value_or(0));
          e.has_addr = r.addr.has_value();
          e.size = r.size;
          e.time_us = r.time_us;
          e.stack = r.stack;
          e.user_metadata = r.user_metadata;
          return b->OnEvent(e);
        }));
  }
  return store::ForEachRow(d, path, "SELECT device, stage, name, time_us FROM annotations ORDER BY id",
                           [&](sqlite3_stmt* s) {
                             snapshot::Annotation a;
                             a.device = store::ColumnOptInt(s, 0);
                             a.time_us = store::ColumnOptInt(s, 3);
                             b->OnAnnotation(a, store::ColumnText(s, 1), store::ColumnText(s, 2));
                             return OkStatus();
                           });
}

// ------------------------------------------------------------ layout

// Image regions: title lines on top, y labels left, x labels, the axis title
// and the legend below.
struct Frame {
  PlotArea plot;
  int legend_y = 0, legend_columns = 1;
};

StatusOr<Frame> LayoutFrame(const RenderOptions& o, size_t legend_entries) {
  Frame f;
  f.legend_columns = o.width >= 1000 ? 2 : 1;
  int legend_rows =
      legend_entries == 0 ? 0 : 1 + static_cast<int>((legend_entries + f.legend_columns - 1) / f.legend_columns);
  const int left = 78, right = 24, top = 58;
  const int bottom = 7 + 2 * render::kLineHeight + 8 + legend_rows * kLegendRow + 4;
  f.plot = {left, top, o.width - left - right, o.height - top - bottom};
  if (f.plot.w < 100 || f.plot.h < 60)
    return UsageError(fmt::format("{}x{} leaves no room for the plot (with --legend {}); use a larger --width/--height",
                                  o.width, o.height, o.legend));
  f.legend_y = f.plot.Bottom() + 7 + 2 * render::kLineHeight + 8;
  return f;
}

// The title is `custom` (--title) or the input's name followed by `facts`;
// when it does not fit, the name loses its start (the end says which file),
// and the facts and the subtitle's opening counts stay whole.
void DrawTitle(Image& img, const Frame& f, const std::string& custom, const std::string& input,
               const std::string& facts, const std::string& subtitle) {
  const int max = img.width() - f.plot.x - 10;
  std::string title;
  if (!custom.empty()) {
    title = render::ElideRight(custom, max, 2);
  } else {
    const std::string name = BaseName(input);
    const int facts_w = render::TextWidth(facts, 2);
    // Keep the facts whole while the name, or at least 16 characters of it, fits.
    const int name_min = std::min(render::TextWidth(name, 2), render::TextWidth("0123456789abcdef", 2));
    title = facts_w + name_min <= max ? render::ElideLeft(name, max - facts_w, 2) + facts
                                      : render::ElideRight(name + facts, max, 2);
  }
  render::DrawText(img, f.plot.x, 10, title, render::kInk, 2);
  render::DrawText(img, f.plot.x, 10 + 2 * render::kCapHeight + 8, render::ElideRight(subtitle, max),
                   render::kMutedInk);
}

// A legend line: the figure stays whole, the label loses its start (the
// function name at the end is the useful part).
std::string LegendText(const std::string& figure, const std::string& label, int max_width) {
  const std::string head = figure + "  ";
  return head + render::ElideLeft(label, max_width - render::TextWidth(head));
}

Rgb MarkerColor(Marker::Kind k) {
  switch (k) {
    case Marker::Kind::kOom:
      return {214, 39, 40};
    case Marker::Kind::kSnapshot:
      return {90, 90, 90};
    default:
      return {128, 60, 170};
  }
}

// Every marker is a tick in the lane just above the plot. While there are
// few, each also gets a line through the plot (blended, so the bands stay
// readable) and a label at the top, in up to three staggered rows; a label
// that would overlap its row's last is left out. Hundreds of OOM or snapshot
// lines would hide the data, so beyond kMaxLines only the ticks remain.
constexpr size_t kMaxLines = 30;

void DrawMarkers(Image& img, const PlotArea& plot, const std::vector<std::pair<int, const Marker*>>& markers,
                 int label_width = 180) {
  const bool lines = markers.size() <= kMaxLines;
  int row_end[3] = {-1000, -1000, -1000};
  for (const auto& [col, m] : markers) {
    const int x = plot.x + col;
    const Rgb c = MarkerColor(m->kind);
    const bool end = m->kind == Marker::Kind::kAnnotationEnd;
    img.VLine(x, plot.y - 8, plot.y - (end ? 5 : 2), c);
    if (!lines) continue;
    const int dash = m->kind == Marker::Kind::kOom ? 0 : (end ? 2 : 4);
    for (int y = plot.y; y <= plot.Bottom(); ++y)
      if (dash == 0 || ((y - plot.y) / dash) % 2 == 0) img.Blend(x, y, c, 150);
    if (end) continue;
    std::string label = render::ElideRight(m->label, label_width);
    int w = render::TextWidth(label);
    for (int r = 0; r < 3; ++r) {
      if (x + 3 <= row_end[r] + 4) continue;
      int y = plot.y + 2 + r * render::kLineHeight;
      img.BlendRect(x + 2, y - 1, w + 2, render::kLineHeight - 1, kWhite, 200);
      render::DrawText(img, x + 3, y, label, c);
      row_end[r] = x + 3 + w;
      break;
    }
  }
}

// A small downward triangle over the peak column and its value beside it.
void DrawPeak(Image& img, const PlotArea& plot, int col, int top_row, const std::string& label) {
  const int x = plot.x + col;
  for (int i = 0; i < 5; ++i) img.HLine(x - 4 + i, x + 4 - i, top_row - 7 + i, render::kInk);
  int w = render::TextWidth(label);
  int lx = x + w + 10 < plot.x + plot.w ? x + 7 : x - 7 - w;
  int ly = std::max(plot.y + 1, top_row - 10);
  img.BlendRect(lx - 1, ly - 1, w + 2, render::kLineHeight - 1, kWhite, 200);
  render::DrawText(img, lx, ly, label, render::kInk);
}

std::string TimeLabel(int64_t time_us, int64_t first_us) {
  return time_us == timeline::kNoTime ? std::string() : fmt::format(", {:.3f} s", (time_us - first_us) / 1e6);
}

StatusOr<Image> RenderTimeline(const RenderOptions& o, RenderSummary* summary) {
  const bool segments = o.view == timeline::View::kSegments;
  TimelineBuilder builder(o.view, o.device);
  if (o.input != "-" && store::IsSqliteFile(o.input)) {
    RETURN_IF_ERROR(FeedFromDb(o.input, o.device, &builder));
  } else {
    TimelineSink sink(&builder);
    RETURN_IF_ERROR(snapshot::ReadSnapshot(o.input, &sink, {}));
  }
  auto t = builder.Finish(o.device);
  if (!t.ok()) return InvalidInput(fmt::format("{}: {}", o.input, t.status().message()));

  ASSIGN_OR_RETURN(Frame f, LayoutFrame(o, o.legend));
  timeline::RasterOptions ro{.width = f.plot.w,
                             .height = f.plot.h,
                             .x = o.x,
                             .from = o.from,
                             .to = o.to,
                             .legend = o.legend,
                             .background = kWhite};
  auto raster = timeline::Rasterize(*t, ro);
  if (!raster.ok()) {
    const Status& s = raster.status();
    return Status(s.code(), fmt::format("{}: {}", o.input, s.message()));
  }
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
                    by_time ? fmt::format("seconds since the first event of device {}", t->device)
                            : fmt::format("trace event index (device {})", t->device));
  render::DrawAxisLines(img, f.plot);
  DrawMarkers(img, f.plot, r.markers);

  std::string where =
      r.peak_idx ? fmt::format("event {}{}", Thousands(*r.peak_idx), TimeLabel(r.peak_time_us, t->first_time_us))
                 : "the start";
  if (r.peak_bytes > 0)
    DrawPeak(img, f.plot, r.peak_column,
             render::RowOf(f.plot, static_cast<double>(r.peak_bytes), static_cast<double>(r.y_max)),
             "peak " + FormatBytes(r.peak_bytes));
  const std::string facts = fmt::format("  -  device {}  -  peak {} at {}", t->device, FormatBytes(r.peak_bytes), where);
  std::string subtitle = fmt::format(
      "{}: {} {}, {} frees, {} events{}; each pixel column drawn at its most-live instant",
      segments ? "Reserved memory per segment" : "Active memory timeline", Thousands(t->allocs),
      segments ? "segment allocs" : "allocations", Thousands(t->frees), Thousands(t->events),
      t->initial.empty() ? std::string() : fmt::format(", {} live before recording", Thousands(t->initial.size())));
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
      render::DrawLegendEntry(img, f.plot.x + col * column_w, f.legend_y + (row + 1) * kLegendRow, t->sites[site].color,
                              LegendText(fmt::format("{:>9}", FormatBytes(bytes)), t->sites[site].label,
                                         column_w - 24));
    }
  }
  summary->kind = segments ? "segments" : "timeline";
  summary->device = t->device;
  summary->peak_bytes = r.peak_bytes;
  summary->steps = r.steps_in_window;
  return img;
}

// ------------------------------------------------------------ memlog input

constexpr Rgb kSeriesColors[] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                 {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127}};

// Per pixel column and series: min, max and last sample, so a spike between
// two columns is still drawn and lines join column to column.
struct Bin {
  int64_t lo = INT64_MAX, hi = INT64_MIN, last = 0;
  bool any = false;
};

class SeriesSink : public csv::RowSink {
 public:
  SeriesSink(const std::vector<std::string>& columns, double x0, double x1, int width)
      : names_(columns), x0_(x0), x1_(x1), width_(width), bins_(columns.size(), std::vector<Bin>(width)) {}
  Status OnRow(const csv::Row& row) override {
    if (row.line() == 1 || !header_done_) return Header(row);
    if (!row.terminated() || row.size() != fields_) return OkStatus();  // cut last row: stats counts it
    double t;
    if (!csv::ParseDouble(row[elapsed_], &t)) return InvalidInput(row.Where(elapsed_) + ": elapsed_s is not a number");
    if (t < x0_ || t > x1_) return OkStatus();
    int c = std::min(width_ - 1, static_cast<int>((t - x0_) / (x1_ - x0_) * width_));
    for (size_t s = 0; s < index_.size(); ++s) {
      std::string_view v = row[index_[s]];
      if (v.empty()) continue;
      int64_t n;
      if (!csv::ParseInt64(v, &n)) return InvalidInput(row.Where(index_[s]) + ": " + names_[s] + " is not an integer");
      Bin& b = bins_[s][static_cast<size_t>(c)];
      b.lo = std::min(b.lo, n);
      b.hi = std::max(b.hi, n);
      b.last = n;
      b.any = true;
    }
    ++samples_;
    return OkStatus();
  }
  const std::vector<std::vector<Bin>>& bins() const { return bins_; }
  uint64_t samples() const { return samples_; }

 private:
  Status Header(const csv::Row& row) {
    header_done_ = true;
    fields_ = row.size();
    for (size_t i = 0; i < row.size(); ++i)
      if (row[i] == "elapsed_s") elapsed_ = i;
    for (const std::string& n : names_) {
      size_t i = 0;
      while (i < row.size() && row[i] != n) ++i;
      if (i == row.size()) return UsageError(fmt::format("{}: no column '{}'", row.Where(0), n));
      index_.push_back(i);
    }
    return OkStatus();
  }
  std::vector<std::string> names_;
  double x0_, x1_;
  int width_;
  std::vector<std::vector<Bin>> bins_;
  std::vector<size_t> index_;
  size_t elapsed_ = 2, fields_ = 0;
  bool header_done_ = false;
  uint64_t samples_ = 0;
};

// Log lines per pixel column: a rug along the bottom of the plot.
class LogRugSink : public csv::RowSink {
 public:
  LogRugSink(double x0, double x1, int width) : x0_(x0), x1_(x1), counts_(static_cast<size_t>(width)) {}
  Status OnRow(const csv::Row& row) override {
    if (row.line() == 1 || row.size() < 3 || !row.terminated()) return OkStatus();
    double t;
    if (!csv::ParseDouble(row[2], &t) || t < x0_ || t > x1_) return OkStatus();
    size_t c = std::min(counts_.size() - 1, static_cast<size_t>((t - x0_) / (x1_ - x0_) * counts_.size()));
    ++counts_[c];
    return OkStatus();
  }
  const std::vector<uint32_t>& counts() const { return counts_; }

 private:
  double x0_, x1_;
  std::vector<uint32_t> counts_;
};

StatusOr<Image> RenderMemlog(const RenderOptions& o, RenderSummary* summary) {
  if (o.device || o.view != timeline::View::kActive || o.x != timeline::XAxis::kEvent)
    return UsageError("--device, --view and --x are for snapshots; a memlog CSV is drawn over elapsed seconds");
  memlog::MemlogReportOptions ro;
  ro.column = o.columns.empty() ? std::string() : o.columns.front();
  ro.log_path = o.log_path;
  ro.jumps = std::min<size_t>(o.legend, 8);
  ro.lines_per_jump = 1;
  ASSIGN_OR_RETURN(memlog::MemlogReport report, memlog::BuildMemlogReport(o.input, ro));
  std::vector<std::string> columns = o.columns.empty() ? std::vector<std::string>{report.column} : o.columns;
  if (columns.size() > std::size(kSeriesColors))
    return UsageError(fmt::format("--columns: at most {} series", std::size(kSeriesColors)));

  ASSIGN_OR_RETURN(Frame f, LayoutFrame(o, columns.size() + 1));
  const double x0 = report.start_elapsed_s + o.from.value_or(0);
  const double x1 = o.to ? report.start_elapsed_s + *o.to : report.start_elapsed_s + std::max(report.duration_s, 1e-3);
  if (!(x1 > x0))
    return UsageError(
        fmt::format("empty window: --from {} --to {}", x0 - report.start_elapsed_s, x1 - report.start_elapsed_s));
  SeriesSink series(columns, x0, x1, f.plot.w);
  {
    csv::Reader reader(o.input, &series);
    RETURN_IF_ERROR(csv::ReadFile(o.input, reader));
  }
  std::vector<uint32_t> rug;
  if (!report.log_path.empty()) {
    LogRugSink sink(x0, x1, f.plot.w);
    csv::Reader reader(report.log_path, &sink);
    RETURN_IF_ERROR(csv::ReadFile(report.log_path, reader));
    rug = sink.counts();
  }

  int64_t top = 0;
  std::vector<int64_t> peaks(columns.size(), 0);
  for (size_t s = 0; s < columns.size(); ++s)
    for (const Bin& b : series.bins()[s])
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
      const Bin& b = series.bins()[s][static_cast<size_t>(c)];
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

  DrawTitle(img, f, o.title, o.input,
            fmt::format("  -  peak {} at {:.1f} s", FormatBytes(report.peak_bytes),
                        report.peak_s - report.start_elapsed_s),
            fmt::format("memlog: {} samples over {}, {} log lines; each pixel column spans the min..max of its samples",
                        Thousands(report.samples), FormatDuration(report.duration_s), Thousands(report.log_lines)));
  render::DrawText(img, f.plot.x, f.legend_y, "Series (peak):", render::kMutedInk);
  const int column_w = f.plot.w / f.legend_columns;
  for (size_t s = 0; s < columns.size(); ++s) {
    int col = static_cast<int>(s) % f.legend_columns, row = static_cast<int>(s) / f.legend_columns;
    render::DrawLegendEntry(img, f.plot.x + col * column_w, f.legend_y + (row + 1) * kLegendRow, kSeriesColors[s],
                            fmt::format("{}  ({})", columns[s], FormatBytes(peaks[s])));
  }
  summary->kind = "memlog";
  summary->peak_bytes = top;
  summary->steps = series.samples();
  return img;
}

}  // namespace

StatusOr<Image> RenderImage(const RenderOptions& o, RenderSummary* summary) {
  if (o.width < 1 || o.height < 1 || o.width > render::kMaxImageSide || o.height > render::kMaxImageSide)
    return UsageError(fmt::format("--width and --height must be between 1 and {}", render::kMaxImageSide));
  if (o.input != "-" && memlog::IsMemlogCsv(o.input)) return RenderMemlog(o, summary);
  if (!o.columns.empty() || !o.log_path.empty()) return UsageError("--columns and --log are for memlog CSVs");
  return RenderTimeline(o, summary);
}

Status RenderPng(const RenderOptions& o, RenderSummary* summary) {
  ASSIGN_OR_RETURN(Image img, RenderImage(o, summary));
  return render::WritePng(img, o.output);
}

}  // namespace memtk::commands
