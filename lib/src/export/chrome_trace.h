// `convert --to chrome-trace`: Chrome Trace Event JSON for Perfetto UI and
// chrome://tracing.
//
// Per device (one process each, "cuda:N"): counter tracks `allocated` and
// `reserved` (args {"bytes": N}) stepping at every alloc / free_completed
// (legacy free) and segment_alloc / segment_free / segment_map /
// segment_unmap; instant events for oom (requested size, device_free) and
// snapshot; `annotate` trace events as instants; external_annotations as
// begin/end slices on an "annotations" thread. Timestamps are time_us;
// a trace without time_us uses the event's index in its device trace.
//
// Counters are absolute: the snapshot's segments give reserved and allocated
// bytes at the end, so the value before the first event is that minus the
// trace's net change (never below what keeps every value non-negative). That
// needs the whole trace before the first counter, so the input is read twice
// (a file, not stdin); memory stays flat.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "export/exporter.h"
#include "memtk/base/status.h"
#include "memtk/snapshot/snapshot.h"

namespace memtk::exports {

struct ChromeTraceOptions {
  std::optional<int64_t> device;  ///< only this device (default: all)
  /// Each alloc/free's call site ("file:line:function", the built-in user-site
  /// rule of snapshot/frame_rules.h)
  /// as a "site" arg of its `allocated` counter event. Perfetto plots the
  /// numeric "bytes" and keeps string args out of the plot.
  bool with_stacks = false;
};

struct ChromeTraceSummary {
  uint64_t devices = 0;
  uint64_t counter_events = 0, instant_events = 0, slices = 0;
  bool time_from_index = false;  ///< no time_us in the trace
  uint64_t json_bytes = 0, file_bytes = 0;
  snapshot::ReadSummary read;
};

// The exporter (export/exporter.h): MakeChromeTraceExporter reads the input
// twice (a file, not stdin) and writes the trace, gzip'd when the target's
// name ends in ".gz".

}  // namespace memtk::exports
