// memtk diff: compare two runs (snapshots, databases, memlog CSVs or
// directories of per-rank files); --fail-on gates for CI.
#pragma once

#include <CLI/CLI.hpp>

namespace memtk::cli {
void RegisterDiff(CLI::App& app);
}  // namespace memtk::cli
