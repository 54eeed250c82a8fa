#pragma once
#include <CLI/CLI.hpp>
namespace memtk::cli {
/// Registers `memtk convert`.
void RegisterConvert(CLI::App& app);
}  // namespace memtk::cli
