#pragma once
#include <CLI/CLI.hpp>
namespace memtk::cli {
/// Registers `memtk query`.
void RegisterQuery(CLI::App& app);
}  // namespace memtk::cli
