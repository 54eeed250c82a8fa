#pragma once
#include <CLI/CLI.hpp>
namespace memtk::cli {
/// Registers `memtk render-png`.
void RegisterRenderPng(CLI::App& app);
}  // namespace memtk::cli
