// `convert --to json`: the snapshot's own structure as JSON, streamed.
//
// The output is what torch.cuda.memory._snapshot() returns, with every
// memo reference spelled out: {"segments": [...], "device_traces": [[...]],
// "external_annotations": [...], other top-level keys}. Frames are written
// in full wherever the pickle shared them, block `history` entries get their
// `frames` back, unknown keys are copied as read. memtk's reader reads it
// back to the same database (tested on every real snapshot). A bare list of
// segments (torch.cuda.memory_snapshot()) becomes {"segments": [...]}.
#pragma once

#include <cstdint>
#include <string>

#include "memtk/base/status.h"
#include "memtk/snapshot/snapshot.h"

namespace memtk::exports {

struct JsonExportSummary {
  uint64_t json_bytes = 0;  ///< JSON text written (before gzip)
  uint64_t file_bytes = 0;  ///< size of the output file
  bool gzip = false;
  snapshot::ReadSummary read;
};

/// Reads `input` and writes its JSON to `output` ("-" = stdout), gzip'd when
/// the name ends in ".gz", through a temp file renamed on success. `strict`:
/// fail, writing nothing, if the reader had to skip records.
Status WriteSnapshotJson(const std::string& input, const std::string& output, bool strict,
                         const snapshot::ReadOptions& read_options, JsonExportSummary* summary);

}  // namespace memtk::exports
