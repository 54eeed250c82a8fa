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

#include "export/exporter.h"
#include "memtk/base/status.h"
#include "memtk/snapshot/snapshot.h"

namespace memtk::exports {

// The exporter (export/exporter.h): MakeSnapshotJsonExporter, gzip'd when
// the target's name ends in ".gz".

}  // namespace memtk::exports
