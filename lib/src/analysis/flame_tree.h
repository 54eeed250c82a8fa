// FlameTree: one device's FlameProfile as the tree a flame graph draws.
//
// Node 0 is the root (every byte of the device); each stack of the profile
// is a path from it, outermost frame first, and a node's bytes are the sum
// of the stacks through it. Children are ordered largest first (ties by
// label), so the picture reads left-heavy and its bytes are deterministic.
#pragma once

#include <cstdint>
#include <vector>

#include "analysis/flame.h"

namespace memtk::analysis {

struct FlameNode {
  int64_t frame = -1;  ///< index into FlameProfile::frames; -1 for the root
  uint32_t depth = 0;  ///< root 0
  int64_t bytes = 0;
  std::vector<uint32_t> children;  ///< largest first
};

struct FlameTree {
  std::vector<FlameNode> nodes;  ///< nodes[0] is the root
  uint32_t max_depth = 0;
};

/// The tree of `device`'s stacks in `profile` (an empty root if it has none).
FlameTree BuildFlameTree(const FlameProfile& profile, uint32_t device);

}  // namespace memtk::analysis
