// The attribution flags every command that names code shares: --site,
// --user-code, --library (also from MEMTK_USER_CODE / MEMTK_LIBRARY) and,
// where stacks are printed, --all-frames (snapshot/frame_rules.h).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "memtk/snapshot/frame_rules.h"

namespace memtk::cli {

/// Adds the flags to `sub`, writing into `*out`; `all_frames` adds
/// --all-frames too. `out` must outlive the parse (a flags struct held by
/// the subcommand's callback).
void AddFrameFlags(CLI::App* sub, snapshot::FrameRulesOptions* out, bool all_frames = false);

/// A paragraph for a subcommand's footer: the rule in three lines and the
/// environment variables.
std::string FrameFlagsHelp();

}  // namespace memtk::cli
