#pragma once
#include <CLI/CLI.hpp>
namespace memtk::cli {
/// Registers `memtk memlog`.
void RegisterMemlog(CLI::App& app);
}  // namespace memtk::cli
