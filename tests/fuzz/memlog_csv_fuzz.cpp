// libFuzzer target for the CSV reader and everything `memtk stats` does with a
// memlog CSV and its log CSV (phases, jumps, log windows, text and JSON). The
// input is split at its first form feed: memlog CSV before it, log CSV after.
// Built with -DMEMTK_FUZZ=ON and clang; fuzz_replay.cpp replays the corpus
// under ctest otherwise.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "memtk/memlog/report.h"
#include "memtk/present/memlog_stats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t ff = all.find('\f');
  std::string_view csv = all.substr(0, ff), log = ff == std::string_view::npos ? "" : all.substr(ff + 1);
  auto report = memtk::memlog::BuildMemlogReportFromMemory(csv, log, {});
  if (report.ok()) {
    (void)memtk::present::FormatMemlogReport(*report);
    (void)memtk::present::MemlogReportJson(*report);
  }
  return 0;
}
