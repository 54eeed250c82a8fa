// libFuzzer target for the JSON reader: RapidJSON's iterative parser behind
// ChunkStream's string-cutting lexer and the JsonBuilder. The first byte
// picks the chunk size (1..32) and the string cap (0..21 bytes), so cuts
// land at every boundary even in tiny inputs (the rest is the JSON; a `{`
// is put in front when it does not open an object or array). Property: the
// chunking changes nothing, so a read in one chunk and a read in tiny
// chunks give the same records, or the same error. Built with
// -DMEMTK_FUZZ=ON and clang; fuzz_replay.cpp replays the corpus otherwise.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "memtk/snapshot/snapshot.h"
#include "record_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::vector<uint8_t> json(data + 1, data + size);
  if (json.empty() || (json[0] != '{' && json[0] != '[')) json.insert(json.begin(), '{');
  memtk::snapshot::ReadOptions whole;
  whole.max_kept_string = 3 * (data[0] >> 5);
  whole.chunk_size = 1u << 16;
  memtk::snapshot::ReadOptions tiny = whole;
  tiny.chunk_size = 1 + (data[0] & 0x1f);
  memtk::fuzz::RecordText a, b;
  const memtk::Status sa = memtk::snapshot::ReadSnapshotBytes("fuzz.json", json, &a, whole);
  const memtk::Status sb = memtk::snapshot::ReadSnapshotBytes("fuzz.json", json, &b, tiny);
  if (sa.ok() != sb.ok() || a.text != b.text || sa.message() != sb.message()) __builtin_trap();
  return 0;
}
