// A memtk database opened for read-only questions (`memtk query`): checked
// to be memtk's and of a current schema, hardened against untrusted SQL
// (store/read_only_sql.h), and named in errors by the user's input rather
// than the cache file it may be.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "memtk/base/status.h"
#include "store/sqlite.h"

namespace memtk::store {

struct Db {
  ScopedDb db;
  std::string path;  ///< what messages name: the user's input, not the cache file
};

/// Opens `file` read-only; errors name `path`.
StatusOr<Db> OpenQueryDb(const std::string& file, const std::string& path);

/// store::Prepare whose errors name d.path.
StatusOr<ScopedStmt> Prepare(const Db& d, std::string_view sql);

/// The first column of every row of `sql`.
StatusOr<std::vector<int64_t>> Ints(const Db& d, std::string_view sql);

/// --frame: which stacks contain a frame matching a regex, as a bitmap the
/// SQL function memtk_stack_match(stack_id) looks up (no temp tables on a
/// read-only database). Lives as long as the statements that call it.
struct FrameMatch {
  std::vector<bool> stacks;
};

/// Fills `m` for `pattern` (ECMAScript) and registers memtk_stack_match on
/// d.db. A pattern that does not compile is a usage error naming it.
Status BuildFrameMatch(const Db& d, const std::string& pattern, FrameMatch* m);

}  // namespace memtk::store
