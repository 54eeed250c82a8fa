// Reading a memtk database back as a stream of snapshot records: the one
// replay every analysis uses.
//
// ReplayDb sends the frames, stacks, segments, blocks, trace events and
// annotations of a database written by `memtk convert` to a SnapshotSink,
// in the order the reader produced them, so every analysis written against
// SnapshotSink (stats, render-png, diff, ...) accepts a database as well as
// a pickle. ReplayOptions leave out what a sink does not need (a device's
// rows only, no segments), and can step the `events` rows, most of the
// database, on a second connection and thread (store/row_ahead.h).
// ReadInput picks the snapshot reader or the replay by the file's content.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>

#include "memtk/base/status.h"
#include "memtk/snapshot/snapshot.h"

namespace memtk::store {

/// What a replay sends; the defaults send everything, in one thread.
struct ReplayOptions {
  /// Only CUDA device N: its segments, blocks, trace events and annotations
  /// (host rows and other devices' rows are not read at all).
  std::optional<uint32_t> device;
  /// Segments and their blocks.
  bool segments = true;
  /// Each stack as its site frame alone (stacks.site_frame_id, written by
  /// the built-in user-site rule of snapshot/frame_rules.h), for sinks that
  /// only group by that rule's site: one row per stack instead of one per
  /// frame of every stack. Ignored (whole stacks are sent) when the database
  /// names another rule in meta.site_rule (an older memtk).
  bool call_sites_only = false;
  /// Events with every field. false: only what a timeline needs (id, device,
  /// index, action, addr, size, time, stack, user_metadata); stream,
  /// forward_stack, device_free and compile_context stay empty.
  bool event_details = true;
  /// Decode `events` rows on a second read-only connection and thread while
  /// the sink consumes them (worth it when the sink's own work per event is
  /// comparable to SQLite's decoding, as for render-png).
  bool read_ahead = false;
};

/// True if the file starts with SQLite's 16-byte header.
bool IsSqliteFile(const std::string& path);

/// Ok if `db` (opened from `path`) has memtk's `meta` table with a row;
/// else "<path>: not a memtk database (no meta table)".
Status CheckMemtkDb(sqlite3* db, const std::string& path);

/// Replays the database at `path`; an SQLite file without memtk's `meta`
/// table is an error ("not a memtk database").
Status ReplayDb(const std::string& path, snapshot::SnapshotSink* sink, const ReplayOptions& options = {});

/// Reads `path` into `sink`: a memtk database through ReplayDb(replay), a
/// snapshot (pickle or JSON, gzip'd or not, "-" = stdin) through
/// snapshot::ReadSnapshot(read).
///
/// Example:
///   analysis::SnapshotStats stats(options);
///   RETURN_IF_ERROR(store::ReadInput(path, stats.sink()));
Status ReadInput(const std::string& path, snapshot::SnapshotSink* sink, const snapshot::ReadOptions& read = {},
                 const ReplayOptions& replay = {});

}  // namespace memtk::store
