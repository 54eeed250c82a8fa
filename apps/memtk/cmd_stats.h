#pragma once
#include <CLI/CLI.hpp>
namespace memtk::cli {
/// Registers `memtk stats`.
void RegisterStats(CLI::App& app);
}  // namespace memtk::cli
