// libFuzzer target for the snapshot readers (pickle and JSON). Built with
// -DMEMTK_FUZZ=ON and clang; without it, fuzz_replay.cpp supplies a main()
// that replays the committed corpus under ctest.
#include <cstddef>
#include <cstdint>

#include "memtk/snapshot/snapshot.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  memtk::snapshot::SnapshotSink sink;
  memtk::snapshot::ReadOptions o;
  o.chunk_size = 1 + size % 61;  // odd chunk sizes exercise the carry path
  (void)memtk::snapshot::ReadSnapshotBytes("fuzz", {data, size}, &sink, o);
  return 0;
}
