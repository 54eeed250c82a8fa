// BuildFlameTree: stacks merged into a prefix tree.
#include "analysis/flame_tree.h"

#include <algorithm>
#include <unordered_map>

#include "memtk/base/wrap.h"

namespace memtk::analysis {

FlameTree BuildFlameTree(const FlameProfile& profile, uint32_t device) {
  FlameTree t;
  t.nodes.emplace_back();
  // (parent, frame) -> child: one hash lookup per frame of every stack.
  std::unordered_map<uint64_t, uint32_t> child;
  for (const FlameStack& s : profile.stacks) {
    if (s.device != device || s.bytes == 0) continue;
    uint32_t node = 0;
    WrapAddTo(&t.nodes[0].bytes, s.bytes);
    for (uint32_t f : s.frames) {
      const uint64_t key = (static_cast<uint64_t>(node) << 32) | f;
      auto [it, inserted] = child.try_emplace(key, static_cast<uint32_t>(t.nodes.size()));
      if (inserted) {
        FlameNode n;
        n.frame = f;
        n.depth = t.nodes[node].depth + 1;
        t.max_depth = std::max(t.max_depth, n.depth);
        t.nodes.push_back(n);
        t.nodes[node].children.push_back(it->second);
      }
      node = it->second;
      WrapAddTo(&t.nodes[node].bytes, s.bytes);
    }
  }
  for (FlameNode& n : t.nodes)
    std::sort(n.children.begin(), n.children.end(), [&](uint32_t a, uint32_t b) {
      const FlameNode& x = t.nodes[a];
      const FlameNode& y = t.nodes[b];
      if (x.bytes != y.bytes) return x.bytes > y.bytes;
      return profile.frames[x.frame].label < profile.frames[y.frame].label;
    });
  return t;
}

}  // namespace memtk::analysis
