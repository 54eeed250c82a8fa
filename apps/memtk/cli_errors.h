// Command-line mistakes in plain words: which subcommand, what was meant,
// what a flag expects. CLI11's own messages ("Value x not in range 0 to
// 1000000", "The following argument was not expected") are rewritten here,
// in one place, so every subcommand reads the same.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

namespace memtk::cli {

/// Prints the usage error `e` (thrown while parsing argv) as
/// "memtk <subcmd>: <plain message>[; did you mean X?]" plus a pointer to
/// --help, and returns 2.
int ReportParseError(CLI::App& app, const CLI::ParseError& e, int argc, char** argv);

/// The candidate closest to `typo` (optimal string alignment distance, a
/// transposition counting 1), or "" if none is close enough to be a likely
/// typo: at most 2 edits and fewer than half of the typo's letters, or a
/// unique candidate that starts with it.
std::string ClosestMatch(std::string_view typo, const std::vector<std::string>& candidates);

/// `memtk --version`: memtk's version, the build type and the versions of
/// SQLite, zlib and libzip it runs with.
std::string VersionText();

}  // namespace memtk::cli
