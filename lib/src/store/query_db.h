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
#include "memtk/snapshot/frame_rules.h"
#include "memtk/snapshot/snapshot.h"
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

/// Sites and frame kinds by the command line's rules, computed from the
/// database's frames and stacks when asked (not read from
/// stacks.site_frame_id, which holds the built-in rule's sites only), so a
/// database answers as the pickle it came from would, --user-code and
/// --library included. Registered on d.db as
///   memtk_site(stack_id)       TEXT: the site (FrameClassifier::SiteFrameLabel),
///                              NULL for a NULL, unknown or empty stack
///   memtk_frame_kind(frame_id) TEXT: 'user', 'library' or 'hidden'
/// Each computed once per stack / frame. Lives as long as the statements
/// that call them.
struct SiteFunctions {
  explicit SiteFunctions(snapshot::FrameRules rules) : frames(std::move(rules)) {}
  snapshot::Tables tables;
  snapshot::FrameClassifier frames;
  std::vector<std::string> labels;  // by stack id
  std::vector<uint8_t> known;       // by stack id: 0 not yet, 1 labels[i], 2 no site
};

/// Loads frames and stacks into `f` and registers the functions.
Status RegisterSiteFunctions(const Db& d, SiteFunctions* f);

}  // namespace memtk::store
