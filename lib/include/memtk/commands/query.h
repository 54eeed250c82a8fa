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
#include "memtk/store/row_writer.h"

namespace memtk::commands {

struct QueryOptions {
  std::string input;  ///< memtk database, or a snapshot (converted and cached)
  // Exactly one question (--top may go with --at-peak):
  std::string sql;                        ///< any read-only statement
  std::optional<uint64_t> alloc;          ///< allocations.id
  bool at_peak = false;                   ///< live at the viewer's peak, largest first
  std::optional<uint64_t> top;            ///< call sites, K largest
  bool by_count = false;                  ///< --top ranks by allocation count
  std::string frame_regex;                ///< allocations with a matching frame
  std::optional<uint64_t> live_at_event;  ///< index in the device's trace
  std::optional<int64_t> live_at_us;
  std::optional<uint32_t> device;
  store::RowFormat format = store::RowFormat::kTable;
  uint64_t limit = UINT64_MAX;
  std::string cache_dir;                         ///< where converted snapshots are cached; empty = no cache
  bool no_cache = false;                         ///< convert into a temp database, removed at the end
  uint64_t cache_max_bytes = uint64_t{4} << 30;  ///< the cache's bound (LRU eviction)
};

/// Runs the question, writing rows to `out`. A closed pipe ends it with ok.
Status RunQuery(const QueryOptions& options, const store::OutputFn& out);

/// The default cache directory: $XDG_CACHE_HOME/memtk, else ~/.cache/memtk,
/// else "" (no cache).
std::string DefaultCacheDir();

}  // namespace memtk::commands
