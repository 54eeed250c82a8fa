// SnapViewer's bundle (github.com/Da1sypetals/SnapViewer): what its
// convert_snap.py writes, without its minutes and tens of GB.
//
//   allocations.json  one object per element of the timeline
//                     (timeline/snapviewer.h), compact as orjson writes it
//   elements.db       SQLite: allocs(idx INTEGER PRIMARY KEY, size INTEGER,
//                     start_time INTEGER, end_time INTEGER, callstack TEXT),
//                     one row per element in the same order; callstack is
//                     "(i) filename:line:name" per frame, joined by "\n"
//
// as a directory or, when the output ends in ".zip", a zip holding both
// (deflated, as convert_snap.py stores them, or stored with zip_level 0). Every file is written to a
// temporary name and renamed on success.
//
// One deliberate difference: convert_snap.py pairs allocations.json entry i
// with elements[i], which is another element whenever the trace frees
// blocks allocated before recording began (entries put those first, elements
// keep trace order). memtk gives row i the call stack of entry i's own event.
#pragma once

#include <cstdint>
#include <string>

#include "export/exporter.h"
#include "memtk/base/status.h"
#include "memtk/snapshot/snapshot.h"

namespace memtk::exports {

struct SnapViewerOptions {
  /// Index into device_traces, as convert_snap.py's --device (default 0).
  int64_t device = 0;
  /// Most bytes of timeline points held at once while writing allocations.json.
  size_t budget_bytes = size_t{64} << 20;
  /// zlib level for the members of a .zip (1 fastest .. 9 smallest); 0
  /// stores them uncompressed (the zip is then written at disk speed).
  int zip_level = 1;
};

struct SnapViewerSummary {
  uint64_t device_events = 0;  ///< trace events of the chosen device
  uint64_t elements = 0;       ///< entries of allocations.json = rows of elements.db
  uint64_t points = 0;         ///< (timestep, offset) pairs written
  uint64_t json_bytes = 0;     ///< size of allocations.json
  snapshot::ReadSummary read;
};

// The exporter (export/exporter.h): MakeSnapViewerExporter writes the bundle
// to a directory, or to a zip when the target ends in ".zip"; a device with
// no trace events is an error and writes nothing.

}  // namespace memtk::exports
