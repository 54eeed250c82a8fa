// Reading a memtk database back as a stream of snapshot records.
//
// ReplayDb sends the frames, stacks, segments, blocks, trace events and
// annotations of a database written by `memtk convert` to a SnapshotSink,
// in the order the reader produced them, so every analysis written against
// SnapshotSink (stats, render-png) accepts a database as well as a pickle.
#pragma once

#include <sqlite3.h>

#include <string>

#include "memtk/base/status.h"
#include "memtk/snapshot/snapshot.h"

namespace memtk::store {

/// True if the file starts with SQLite's 16-byte header.
bool IsSqliteFile(const std::string& path);

/// Ok if `db` (opened from `path`) has memtk's `meta` table with a row;
/// else "<path>: not a memtk database (no meta table)".
Status CheckMemtkDb(sqlite3* db, const std::string& path);

/// Replays the database at `path`; an SQLite file without memtk's `meta`
/// table is an error ("not a memtk database").
Status ReplayDb(const std::string& path, snapshot::SnapshotSink* sink);

}  // namespace memtk::store
