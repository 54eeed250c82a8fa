// libFuzzer target for the snapshot readers (pickle and JSON) and everything
// `memtk stats` does with what they read (peak tracking, grouping, text and
// JSON rendering). Built with -DMEMTK_FUZZ=ON and clang; without it,
// fuzz_replay.cpp supplies a main() that replays the committed corpus under
// ctest.
#include <cstddef>
#include <cstdint>

#include "memtk/commands/stats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto report = memtk::commands::BuildSnapshotReportBytes("fuzz", {data, size}, {});
  if (report.ok()) {
    (void)memtk::commands::FormatSnapshotReport(*report);
    (void)memtk::commands::SnapshotReportJson(*report);
  }
  return 0;
}
