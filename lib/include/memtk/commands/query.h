// `memtk query`: call-stack questions against a memtk database.
//
// A snapshot given instead of a database is converted once into a cached
// database (keyed by a hash of its content and memtk's version, bounded in
// size, least recently used evicted first: store/query_cache.h) so later
// questions about the same file are instant.
// Every question is a read-only SQL statement streamed through a RowWriter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "memtk/base/status.h"
#include "memtk/snapshot/frame_rules.h"
#include "memtk/store/row_writer.h"

namespace memtk::commands {

struct QueryOptions {
  std::string input;  ///< memtk database, or a snapshot (converted and cached)
  // Exactly one question (--top may go with --at-peak or --at-oom):
  std::string sql;  ///< any read-only statement
  /// An allocation by its id (the id of its alloc event, "6866") or by its
  /// alloc event's place in a device trace ("d1:421"): memtk/base/event_name.h.
  std::optional<std::string> alloc;
  bool at_peak = false;            ///< live at the viewer's peak, largest first
  std::optional<uint64_t> at_oom;  ///< live at the K-th OOM (from 1, in `stats`' order)
  std::optional<uint64_t> stack;   ///< the frames of stacks.id N
  std::optional<uint64_t> top;     ///< call sites, K largest (per device with --at-peak)
  bool by_count = false;           ///< --top ranks by allocation count
  std::string frame_regex;         ///< allocations with a matching frame
  /// Live after an event: "6866" (events.id) or "d1:421" (index in device 1's trace).
  std::optional<std::string> live_at_event;
  std::optional<int64_t> live_at_us;
  std::optional<uint32_t> device;
  store::RowFormat format = store::RowFormat::kTable;
  /// --format folded: stacks and bytes for flame graphs, read straight from
  /// the input (no database): --at-peak, --live-at-event, --live-at-us, or no
  /// question (every allocation, weighted by its size). See query_folded.h.
  bool folded = false;
  uint64_t limit = UINT64_MAX;
  std::string cache_dir;                         ///< where converted snapshots are cached; empty = no cache
  bool no_cache = false;                         ///< convert into a temp database, removed at the end
  uint64_t cache_max_bytes = uint64_t{4} << 30;  ///< the cache's bound (LRU eviction)
  /// How `site` columns name code (--site, --user-code, --library) and
  /// whether --alloc prints hidden frames (--all-frames).
  snapshot::FrameRulesOptions frames;
};

/// Runs the question, writing rows to `out`. A closed pipe ends it with ok.
Status RunQuery(const QueryOptions& options, const store::OutputFn& out);

/// The default cache directory: $XDG_CACHE_HOME/memtk, else ~/.cache/memtk,
/// else "" (no cache).
std::string DefaultCacheDir();

}  // namespace memtk::commands
