// Flame pictures (`render-png --view flame|flame-segments`): an icicle graph
// of one device's FlameTree, the root (every byte) on top and each stack's
// frames below it, outermost first. Widths are proportional to bytes; a node
// narrower than a pixel is not drawn (its bytes still widen its parents);
// labels are drawn where at least a few characters fit, cut at the end.
// Frames are coloured by SiteColor of "file:line:function", the colour the
// same site has in the timeline; groupings (stream, segment, state) are grey
// tones and free space a pale hatch. Same input, same bytes.
#pragma once

#include <cstdint>
#include <string>

#include "analysis/flame.h"
#include "analysis/flame_tree.h"
#include "memtk/base/status.h"
#include "memtk/render/image.h"

namespace memtk::render {

struct FlameChartOptions {
  std::string input;  ///< named in the title unless `title` is set
  std::string title;  ///< replaces the default first line
  int width = 1600, height = 900;
  bool segments = false;  ///< flame-segments: the root is reserved memory
  analysis::Instant at;   ///< what the title says was drawn (flame)
};

/// Draws `tree` (device `device` of `profile`). Usage error when the size
/// leaves no room for a row.
StatusOr<Image> DrawFlameChart(const analysis::FlameProfile& profile, const analysis::FlameTree& tree,
                               const analysis::FlameDevice& device, const FlameChartOptions& o);

}  // namespace memtk::render
