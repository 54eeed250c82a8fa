// The query cache: snapshots converted once into databases that later
// `memtk query` runs reuse.
//
// A cached database is `<dir>/<stem>-<content hash>-memtk<version>.db`
// (CachedName): a changed snapshot or a new memtk never meets a stale
// database. The cache is bounded: after each lookup the least recently used
// databases are deleted until the total is at most `max_bytes`. "Used" is
// the file's mtime, which a hit refreshes (atime is unreliable under
// noatime/relatime). The database a query is about to read is never
// evicted, even if it alone is over the bound: it goes on a later run.
// Temp files of conversions killed with SIGKILL (`.<name>.tmp-XXXXXX`) are
// removed once they are a day old. Only files with those two name shapes
// are ever deleted, so a cache directory shared with other files is safe.
//
// Without a cache (`--no-cache`, or no cache directory known) the snapshot
// is converted into a temp database that is removed when the query ends, or
// by the interrupt cleanup (memtk/io/cleanup.h) if a signal ends it first.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "memtk/base/status.h"
#include "memtk/io/cleanup.h"

namespace memtk::store {

/// 4 GiB: a few of the largest real snapshots' databases.
inline constexpr uint64_t kDefaultCacheMaxBytes = uint64_t{4} << 30;

/// Converts snapshot `input` into a new database at `db` (atomically).
using ConvertFn = std::function<Status(const std::string& input, const std::string& db)>;

/// `<stem>-<16 hex digits of hash>-memtk<version>.db`.
std::string CachedName(const std::string& stem, uint64_t hash, std::string_view version);

/// The cache key: a fast 64-bit hash of the file's content (four
/// multiply-xor lanes over 8-byte words, at memory speed).
StatusOr<uint64_t> HashFile(const std::string& path);

/// True for names CachedName makes (whatever the version).
bool IsCachedName(std::string_view name);

/// What EvictLeastRecentlyUsed did.
struct EvictResult {
  uint64_t kept_bytes = 0;     ///< cached databases left, `keep` included
  uint64_t removed_bytes = 0;  ///< deleted (databases and stale temp files)
  int removed_files = 0;
};

/// Deletes cached databases in `dir`, least recently used first, until
/// those left total at most `max_bytes`; never `keep` (a file name in
/// `dir`, may be empty). Also deletes stale temp files older than
/// `stale_temp_seconds`. A missing directory is not an error.
StatusOr<EvictResult> EvictLeastRecentlyUsed(const std::string& dir, uint64_t max_bytes, const std::string& keep,
                                             int64_t stale_temp_seconds = 24 * 3600);

/// A database to query: a cached one, or a temp one removed on destruction.
class QueryDatabase {
 public:
  QueryDatabase() = default;
  QueryDatabase(QueryDatabase&& o) noexcept : path_(std::move(o.path_)), temp_id_(o.temp_id_) { o.temp_id_ = 0; }
  QueryDatabase& operator=(QueryDatabase&&) = delete;
  ~QueryDatabase() { io::RemoveAndUnregister(temp_id_); }
  const std::string& path() const { return path_; }

  /// Cache in `dir` (created if missing) bounded by `max_bytes`; `dir`
  /// empty: a temp database in $TMPDIR (or /tmp), removed afterwards.
  /// `stem` and the hash of the input's content name the cached file;
  /// `convert` makes it on a miss.
  static StatusOr<QueryDatabase> Open(const std::string& input, const std::string& stem, const std::string& dir,
                                      uint64_t max_bytes, const ConvertFn& convert);
  /// A database that is the input itself (nothing to convert or remove).
  static QueryDatabase Existing(const std::string& path) {
    QueryDatabase q;
    q.path_ = path;
    return q;
  }

 private:
  std::string path_;
  io::CleanupId temp_id_ = 0;
};

}  // namespace memtk::store
