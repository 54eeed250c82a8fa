// GroupBySite: per-stack usage folded into call sites, the one place the
// "heaviest stack names the site" rule lives (the peak's sites in
// analysis/snapshot_stats.cpp, each OOM's in analysis/oom_live.cpp).
//
// Example:
//   std::vector<StackUsage> stacks = ...;  // bytes and count per stack
//   std::vector<SiteUsage> sites = GroupBySite(stacks, classifier);
//   RankUsage(sites, 10);                  // the 10 largest, largest first
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "memtk/analysis/snapshot_stats.h"
#include "memtk/snapshot/frame_rules.h"

namespace memtk::analysis {

/// One stack's share of some memory (live at the peak, at an OOM).
struct StackUsage {
  std::optional<StackId> stack;  ///< nullopt: the allocation had no frames
  int64_t bytes = 0;
  uint64_t count = 0;
};

/// Sums `by_stack` (each stack at most once) per call site by `frames`'
/// site rule (FrameClassifier::SiteOf; `frames` must point at the stacks'
/// tables): bytes wrap as WrapAddTo does, counts add; stacks without frames
/// make one site, "<no frames>". Each site is named after its heaviest stack: the one with
/// the most bytes, ties to the lower stack id (no stack ranks below every
/// id), so the names do not depend on the order of `by_stack`: `site` is
/// FrameClassifier::SiteFrameLabel, `called`/`called_short` that stack's
/// called frame in full and as printed (ShortFrame), and `stack_id` (stack
/// mode) or else `frame_id` the site's key. The result is in no
/// particular order: see RankUsage.
std::vector<SiteUsage> GroupBySite(std::span<const StackUsage> by_stack, snapshot::FrameClassifier& frames);

/// Sorts `usage` largest first (bytes, then count, descending; then site,
/// called, stack_id and frame_id ascending, so equal figures sort the same
/// every run) and keeps the first `k`.
void RankUsage(std::vector<SiteUsage>& usage, size_t k);

}  // namespace memtk::analysis
