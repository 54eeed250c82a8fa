// The icicle picture of a FlameTree.
#include "render/flame_chart.h"

#include <fmt/core.h>

#include <algorithm>

#include "memtk/base/format.h"
#include "memtk/snapshot/frame_rules.h"
#include "render/chart.h"
#include "render/chart_frame.h"
#include "render/text.h"
#include "timeline/layout.h"

namespace memtk::render {

namespace {

using analysis::FlameFrame;
using analysis::FlameNodeKind;

constexpr int kRow = 16;  // pixels per depth level
constexpr int kMargin = 10;
constexpr int kTop = 58;  // below the title and subtitle, as the other charts
constexpr Rgb kRootColor{196, 196, 196};
constexpr Rgb kGroupColor{178, 190, 206};
constexpr Rgb kStateColor{206, 196, 170};
constexpr Rgb kFreeColor{240, 240, 240};
constexpr Rgb kHatch{205, 205, 205};

Rgb NodeColor(const FlameFrame& f) {
  switch (f.kind) {
    case FlameNodeKind::kFrame:
      return timeline::SiteColor(f.label);
    case FlameNodeKind::kState:
      return kStateColor;
    case FlameNodeKind::kFree:
      return kFreeColor;
    default:
      return kGroupColor;
  }
}

// What a box says: the function first (it is what a reader looks for), then
// where it is; the grouping's own text otherwise.
std::string NodeText(const FlameFrame& f, int64_t bytes) {
  if (f.kind != FlameNodeKind::kFrame || (f.filename.empty() && f.name.empty()))
    return fmt::format("{} {}", f.label, FormatBytes(bytes));
  const size_t slash = f.filename.find_last_of("/\\");
  const std::string_view file =
      slash == std::string::npos ? std::string_view(f.filename) : std::string_view(f.filename).substr(slash + 1);
  if (!file.ends_with(".py")) {
    // C++: the qualified name says it (as stats prints it, ShortFrame); the
    // argument list and "(??:0)" only push the useful part out of the box.
    const std::string_view name = snapshot::CxxShortName(f.name);
    if (file.empty() || file == "??" || f.line <= 0) return fmt::format("{} {}", name, FormatBytes(bytes));
    return fmt::format("{} ({}:{}) {}", name, file, f.line, FormatBytes(bytes));
  }
  return fmt::format("{} ({}:{}) {}", f.name, file, f.line, FormatBytes(bytes));
}

struct Painter {
  Image& img;
  const analysis::FlameProfile& profile;
  const analysis::FlameTree& tree;
  int x0, width, rows;
  int64_t total;
  uint64_t drawn = 0;

  // Node `n` spans bytes [offset, offset + bytes) of the root.
  void Paint(uint32_t n, int64_t offset) {
    const analysis::FlameNode& node = tree.nodes[n];
    if (static_cast<int>(node.depth) >= rows) return;
    const int a = x0 + static_cast<int>(static_cast<__int128>(offset) * width / total);
    const int b = x0 + static_cast<int>(static_cast<__int128>(offset + node.bytes) * width / total);
    if (b - a < 1) return;  // narrower than a pixel: so are its children
    const int y = kTop + static_cast<int>(node.depth) * kRow;
    const bool root = node.frame < 0;
    const FlameFrame* f = root ? nullptr : &profile.frames[static_cast<size_t>(node.frame)];
    const int w = b - a > 2 ? b - a - 1 : b - a;  // a 1-pixel gap between boxes that can spare it
    img.FillRect(a, y, w, kRow - 1, root ? kRootColor : NodeColor(*f));
    if (f && f->kind == FlameNodeKind::kFree)
      for (int yy = y; yy < y + kRow - 1; ++yy)
        for (int xx = a; xx < a + w; ++xx)
          if ((xx + yy) % 6 == 0) img.Set(xx, yy, kHatch);
    ++drawn;
    if (w >= 4 * kGlyphAdvance) {
      const std::string text = root ? fmt::format("all {}", FormatBytes(node.bytes)) : NodeText(*f, node.bytes);
      const Rgb c = root ? kRootColor : NodeColor(*f);
      // Dark boxes get light text: every label stays readable.
      const bool dark = 299 * c.r + 587 * c.g + 114 * c.b < 120000;
      DrawText(img, a + 3, y + (kRow - kCapHeight) / 2 - 1, ElideRight(text, w - 5), dark ? kWhite : kInk);
    }
    int64_t child_offset = offset;
    for (uint32_t c : node.children) {
      Paint(c, child_offset);
      child_offset += tree.nodes[c].bytes;
    }
  }
};

}  // namespace

StatusOr<Image> DrawFlameChart(const analysis::FlameProfile& profile, const analysis::FlameTree& tree,
                               const analysis::FlameDevice& device, const FlameChartOptions& o) {
  const int rows = (o.height - kTop - kMargin) / kRow;
  if (rows < 2 || o.width < 200)
    return UsageError(
        fmt::format("{}x{} leaves no room for the flame; use a larger --width/--height", o.width, o.height));
  Image img(o.width, o.height, kWhite);
  ChartFrame f;
  f.plot = {kMargin, kTop, o.width - 2 * kMargin, rows * kRow};
  const int64_t total = tree.nodes[0].bytes;
  std::string facts, subtitle;
  if (o.segments) {
    facts = fmt::format("  -  device {}  -  reserved {}", device.device, FormatBytes(total));
    subtitle = fmt::format(
        "{} bytes reserved in segments, by stream, segment, block state and the block's frames; "
        "free space hatched",
        Thousands(static_cast<uint64_t>(total)));
  } else {
    std::string when;
    if (o.at.kind == analysis::Instant::kPeak)
      when = "peak";
    else if (o.at.kind == analysis::Instant::kEnd)
      when = "end";
    else
      when = analysis::DescribeInstant(o.at);
    std::string where = device.event_idx ? fmt::format("after event {}", *device.event_idx) : "before the first event";
    if (device.time_us) where += fmt::format(", time_us {}", *device.time_us);
    facts = fmt::format("  -  device {}  -  live at {} {}", device.device, when, FormatBytes(total));
    subtitle = fmt::format("{} bytes in {} allocations {}; width = bytes, outermost frame on top",
                           Thousands(static_cast<uint64_t>(total)), Thousands(device.count), where);
  }
  if (tree.max_depth + 1 > static_cast<uint32_t>(rows))
    subtitle += fmt::format("; {} deeper levels cut (use --height)", tree.max_depth + 1 - rows);
  DrawTitle(img, f, o.title, o.input, facts, subtitle);
  if (total <= 0) {
    const std::string what = o.segments ? "no reserved memory" : "nothing live at this instant";
    DrawText(img, kMargin + std::max(4, (f.plot.w - TextWidth(what, 2)) / 2), kTop + 3 * kRow, what, kMutedInk, 2);
    return img;
  }
  Painter p{img, profile, tree, kMargin, f.plot.w, rows, total};
  p.Paint(0, 0);
  return img;
}

}  // namespace memtk::render
