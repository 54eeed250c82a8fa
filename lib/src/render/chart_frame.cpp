// Chart furniture of memtk's pictures: frame layout, title, markers, peak.
#include "render/chart_frame.h"

#include <fmt/core.h>

#include <algorithm>

#include "render/text.h"

namespace memtk::render {

using timeline::Marker;

std::string BaseName(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string Thousands(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

namespace {

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

}  // namespace

StatusOr<ChartFrame> LayoutChartFrame(int width, int height, size_t legend_option, size_t legend_entries) {
  ChartFrame f;
  f.legend_columns = width >= 1000 ? 2 : 1;
  int legend_rows =
      legend_entries == 0 ? 0 : 1 + static_cast<int>((legend_entries + f.legend_columns - 1) / f.legend_columns);
  const int left = 78, right = 24, top = 58;
  const int bottom = 7 + 2 * render::kLineHeight + 8 + legend_rows * kLegendRow + 4;
  f.plot = {left, top, width - left - right, height - top - bottom};
  if (f.plot.w < 100 || f.plot.h < 60)
    return UsageError(fmt::format("{}x{} leaves no room for the plot (with --legend {}); use a larger --width/--height",
                                  width, height, legend_option));
  f.legend_y = f.plot.Bottom() + 7 + 2 * render::kLineHeight + 8;
  return f;
}

// The title is `custom` (--title) or the input's name followed by `facts`;
// when it does not fit, the name loses its start (the end says which file),
// and the facts and the subtitle's opening counts stay whole.
void DrawTitle(Image& img, const ChartFrame& f, const std::string& custom, const std::string& input,
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

// Every marker is a tick in the lane just above the plot. While there are
// few, each also gets a line through the plot (blended, so the bands stay
// readable) and a label at the top, in up to three staggered rows; a label
// that would overlap its row's last is left out. Hundreds of OOM or snapshot
// lines would hide the data, so beyond kMaxLines only the ticks remain.
constexpr size_t kMaxLines = 30;

void DrawMarkers(Image& img, const PlotArea& plot, const std::vector<std::pair<int, const Marker*>>& markers,
                 int label_width) {
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
}  // namespace memtk::render
