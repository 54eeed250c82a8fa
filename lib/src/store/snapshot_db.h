// SnapshotDbWriter: a SnapshotSink that writes the memtk database.
//
// Schema (also documented in README.md, "Database schema"):
//   meta(key, value)                       source, format, counts, keys seen, version
//   frames(id, filename, line, name, extra)
//   stacks(id, depth, top_frame_id, site_frame_id)  top = frames[0] (innermost);
//                                          site = the user site by the built-in
//                                          rule (snapshot/frame_rules.h; meta
//                                          site_rule names the rule)
//   stack_frames(stack_id, position, frame_id)   position 0 = innermost
//   events(id, device, idx, host, action, addr, size, stream, time_us, stack_id,
//          forward_stack_id, device_free, compile_context, user_metadata, pool_id, extra)
//   allocations(id, device, host, addr, size, stream, alloc_event, free_requested_event,
//          free_event, alloc_time_us, free_requested_time_us, free_time_us, stack_id)
//   segments(id, device, host, address, total_size, allocated_size, active_size,
//          requested_size, stream, segment_type, pool_id, is_expandable, stack_id,
//          num_blocks, extra)
//   blocks(id, segment_id, device, address, size, requested_size, state,
//          address_derived, stack_id, extra)
//   annotations(id, device, stage, name, time_us, extra)
//   stats(name, severity, value, description)
//   peaks(device, peak_bytes, peak_event, peak_idx, peak_time_us, trace_peak_*, end_bytes,
//          before_recording_bytes, segment_block_bytes, actions, live_at_peak)
//   peak_allocations(device, kind, id, addr, size, stack_id)   live at the peak
//   traces(device, host, first_event, events)   events.id = first_event + idx
// Every row goes through a RowPipe (a writer thread, multi-row INSERTs) in
// one transaction with the journal off (the file is a temp file renamed on
// success); the one index is built at the end.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "snapshot/allocations.h"
#include "memtk/snapshot/snapshot.h"

namespace memtk::store {

inline constexpr int kSchemaVersion = 2;

/// Every table the schema creates (snapshot_db.cpp's kSchema; a unit test
/// checks the two agree): what CheckMemtkDb (replay.h) requires to be a
/// plain table wherever a database is read.
inline constexpr std::array<std::string_view, 13> kTableNames = {
    "meta",     "frames", "stacks", "stack_frames", "events", "allocations",     "segments",
    "blocks", "annotations", "stats",  "peaks",        "traces", "peak_allocations"};

class SnapshotDbWriter : public snapshot::SnapshotSink {
 public:
  /// Creates the schema in a new database at `db_path`. `source` is recorded in meta.
  static StatusOr<std::unique_ptr<SnapshotDbWriter>> Create(const std::string& db_path, const std::string& source);
  ~SnapshotDbWriter() override;

  Status OnBegin(const snapshot::Tables& t) override;
  Status OnFrame(FrameId id, const snapshot::Frame& f) override;
  Status OnStack(StackId id, std::span<const FrameId> frames) override;
  Status OnSegment(const snapshot::Segment& s) override;
  Status OnBlock(const snapshot::Block& b) override;
  Status OnEvent(const snapshot::TraceEvent& e) override;
  Status OnAnnotation(const snapshot::Annotation& a) override;
  Status OnTopLevel(std::string_view key, std::string_view json) override;
  Status OnEnd(const snapshot::ReadSummary& summary) override;

  /// Reader counters plus the allocation matcher's, after OnEnd.
  const Stats& stats() const { return stats_; }
  const snapshot::ReadSummary& summary() const { return summary_; }
  uint64_t allocations() const { return allocations_; }
  /// Closes the database; must succeed before the file is renamed into place.
  Status Close();

 private:
  struct Impl;
  SnapshotDbWriter();
  /// traces, peaks, peak_allocations: known only at the end of the input.
  Status WriteTimelineTables();
  std::unique_ptr<Impl> impl_;
  Stats stats_;
  snapshot::ReadSummary summary_;
  uint64_t allocations_ = 0;
};

}  // namespace memtk::store
