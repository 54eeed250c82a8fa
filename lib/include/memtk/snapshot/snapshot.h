// The records of a PyTorch CUDA memory snapshot and the sink that receives
// them, one at a time, as the reader completes each.
//
// A snapshot (torch.cuda.memory._dump_snapshot) is a dict with `segments`
// (each with `blocks`), `device_traces` (one event list per device),
// optional `allocator_settings`, `external_annotations`, and in newer
// PyTorch `host_segments`/`host_traces`; torch.cuda.memory_snapshot() writes
// a bare list of segments. Frames ({filename, line, name, ...}) and stacks
// (lists of frames) are interned: records carry FrameId/StackId only.
//
// Example:
//   class CountAllocs : public SnapshotSink {
//     Status OnEvent(const TraceEvent& e) override {
//       if (e.action == Action::kAlloc) ++n;
//       return OkStatus();
//     }
//     uint64_t n = 0;
//   };
//   CountAllocs sink;
//   Status s = ReadSnapshot("snap.pickle", &sink, {});
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "memtk/base/id.h"
#include "memtk/base/pod_vector.h"
#include "memtk/base/stats.h"
#include "memtk/base/status.h"
#include "memtk/base/string_pool.h"

namespace memtk::snapshot {

/// Trace event actions (TraceEntry::Action in c10/cuda/CUDACachingAllocator.h).
enum class Action : uint8_t {
  kAlloc,
  kFreeRequested,
  kFreeCompleted,
  kSegmentAlloc,
  kSegmentFree,
  kSegmentMap,
  kSegmentUnmap,
  kSnapshot,
  kOom,
  kAnnotate,
  kFree,     ///< PyTorch before 2.1: one `free` instead of free_requested + free_completed
  kUnknown,  ///< any other action string; its text is in `action_name`
};
constexpr int kNumActions = 12;
std::string_view ActionName(Action a);
/// The Action an action string names; kUnknown for any other string.
Action ActionFromName(std::string_view name);

/// One distinct frame. `extra` names a JSON object of keys beyond the three
/// (fx_node_*, fx_original_trace, ...), or is kNoString.
struct Frame {
  StringId filename;
  int64_t line = 0;
  StringId name;
  StringId extra;
};
inline constexpr StringId kNoString{0xFFFFFFFFu};

/// The largest size memtk accepts for an allocation, a free, a segment or
/// a block: 2^50 bytes (1 PiB), far above any device's memory. A negative
/// size, or a larger one, cannot be real: the reader refuses the snapshot
/// with one line naming the record, rather than clamping it, because every
/// total built on it would be meaningless (issue #16). OOM events are
/// exempt: their size is a request that failed and may be absurd.
inline constexpr int64_t kMaxSize = int64_t{1} << 50;
/// Whether a memory-moving action's size must lie within 0..kMaxSize.
bool ActionMovesMemory(Action a);

/// One entry of device_traces[device] (or host_traces).
struct TraceEvent {
  uint64_t id = 0;  ///< order in the file across all devices, from 0
  uint32_t device = 0;
  uint64_t index = 0;  ///< position in its device's trace
  bool host = false;   ///< from host_traces
  Action action = Action::kUnknown;
  StringId action_name;
  uint64_t addr = 0;
  bool has_addr = false;  ///< oom events have no addr
  int64_t size = 0;
  int64_t stream = 0;
  std::optional<int64_t> time_us;
  std::optional<StackId> stack;
  std::optional<StackId> forward_stack;
  std::optional<int64_t> device_free;  ///< oom events
  StringId compile_context = kNoString;
  std::string_view user_metadata;  ///< JSON text, empty if absent
  std::string_view pool_id;        ///< JSON text, empty if absent
  std::string_view extra;          ///< JSON object of unknown keys, empty if none
};

struct Segment {
  uint64_t id = 0;
  bool host = false;
  int64_t device = 0;
  uint64_t address = 0;
  int64_t total_size = 0;
  int64_t allocated_size = 0;
  int64_t active_size = 0;
  int64_t requested_size = 0;
  int64_t stream = 0;
  StringId segment_type = kNoString;
  std::string_view pool_id;  ///< JSON, e.g. "[0,0]"
  std::optional<bool> is_expandable;
  std::optional<StackId> stack;
  uint32_t num_blocks = 0;
  std::string_view extra;
};

/// Block states as PyTorch spells them; `active_awaiting_free` is read as
/// kActivePendingFree.
enum class BlockState : uint8_t { kActiveAllocated, kActivePendingFree, kInactive, kUnknown };
/// The state a block state string names (either pending spelling); kUnknown otherwise.
BlockState BlockStateFromName(std::string_view name);

struct Block {
  uint64_t id = 0;
  uint64_t segment_id = 0;
  int64_t device = 0;
  bool host = false;  ///< a block of `host_segments`
  uint64_t address = 0;
  bool address_derived = false;  ///< PyTorch 2.0 layout: segment address + sizes before
  int64_t size = 0;
  int64_t requested_size = 0;
  BlockState state = BlockState::kUnknown;
  StringId state_name = kNoString;
  std::optional<StackId> stack;
  std::string_view extra;  ///< includes `history` (frames replaced by stack ids)
};

struct Annotation {
  uint64_t id = 0;
  std::optional<int64_t> device;
  StringId stage = kNoString;
  StringId name = kNoString;
  std::optional<int64_t> time_us;
  std::string_view extra;
};

/// Interned strings, frames and stacks; valid while the reader lives.
class Tables {
 public:
  std::string_view String(StringId id) const { return id == kNoString ? std::string_view() : strings.Get(id); }
  const Frame& GetFrame(FrameId id) const { return frames[id.value]; }
  std::span<const FrameId> GetStack(StackId id) const;
  size_t num_frames() const { return frames.size(); }
  size_t num_stacks() const { return stack_offsets.size(); }

  StringPool strings;
  std::vector<Frame> frames;
  PodVector<FrameId> stack_frames;     // all stacks, concatenated (grows without a copy)
  std::vector<uint64_t> stack_offsets;  // start of each stack; end = next start
};

/// What the reader saw, delivered at the end.
struct ReadSummary {
  std::string format;  ///< "pickle protocol 4", "json", with ", gzip" if compressed
  uint64_t events = 0, segments = 0, blocks = 0, annotations = 0;
  uint64_t bytes = 0;  ///< (decompressed) bytes decoded
  bool bare_segment_list = false;
  std::string keys_json;  ///< {"top":[...],"segment":[...],...}: every key seen
  Stats stats;
  /// Frame lists whose hint, found on the read-ahead thread, the decoder
  /// took (ReadOptions::list_hints): how the reading went, not what was
  /// read; no output shows it (tests, benchmarks).
  uint64_t list_hints_used = 0;
};

/// Receives records in file order. Defaults ignore everything.
class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  /// Before anything else: the tables records refer to.
  virtual Status OnBegin(const Tables&) { return OkStatus(); }
  /// A frame or stack seen for the first time (before any record using it).
  virtual Status OnFrame(FrameId, const Frame&) { return OkStatus(); }
  virtual Status OnStack(StackId, std::span<const FrameId>) { return OkStatus(); }
  virtual Status OnSegment(const Segment&) { return OkStatus(); }
  virtual Status OnBlock(const Block&) { return OkStatus(); }
  /// Device `device`'s list in device_traces (host_traces if `host`) begins;
  /// also for devices without events. Its events follow.
  virtual Status OnDeviceTrace(uint32_t /*device*/, bool /*host*/) { return OkStatus(); }
  virtual Status OnEvent(const TraceEvent&) { return OkStatus(); }
  virtual Status OnAnnotation(const Annotation&) { return OkStatus(); }
  /// A top-level key that is not streamed (allocator_settings, unknown keys).
  /// Comes after every streamed record, before OnEnd.
  virtual Status OnTopLevel(std::string_view /*key*/, std::string_view /*json*/) { return OkStatus(); }
  virtual Status OnEnd(const ReadSummary&) { return OkStatus(); }
};

struct ReadOptions {
  /// Called now and then with (raw bytes read, file size or 0).
  std::function<void(uint64_t, uint64_t)> progress;
  /// Decode chunk size; tests use tiny ones to hit every boundary.
  size_t chunk_size = 256 * 1024;
  /// Skip the memo pre-pass (keeps every memo entry). For tests/benchmarks.
  bool single_pass = false;
  /// Uncompressed files at least this large get the memo pre-pass on two
  /// threads, split at a FRAME boundary (tests set 0 to split tiny inputs).
  uint64_t split_prepass_bytes = 16u << 20;
  /// Strings (and bytes) longer than this are stepped over unread, pickle
  /// and JSON alike, and stand as "<string of N bytes, not kept>"; counted
  /// as value_not_kept. 64 KiB, the cap on any value memtk writes
  /// (pickle::kMaxJsonBytes); fuzz targets set a few bytes to reach it.
  uint64_t max_kept_string = 64u << 10;
  /// Pickles read ahead (inputs that can be rewound: files and bytes in
  /// memory, not pipes; chunks of 64 KiB or more; not gzip'd, whose
  /// inflating keeps that thread busy already): the read-ahead
  /// thread also finds each chunk's frame lists for the decoder
  /// (pickle::FindListHints), ~15% of the decoding thread's work with many
  /// distinct stacks. Callers that already keep every core busy with other
  /// reads (diff on fewer than four cores, stats -j and convert -j with
  /// several inputs) turn it off: there it is only work moved between busy
  /// cores. The records are the same either way.
  bool list_hints = true;

  /// This input is one of several read at once, one per core (diff's two
  /// sides on fewer than four cores, stats -j, convert -j): no helper work
  /// of its own on other threads (the split pre-pass, list hints), which
  /// would only contend with the other reads. The one place that rule lives.
  void ShareCores() {
    split_prepass_bytes = UINT64_MAX;
    list_hints = false;
  }
};

/// Reads a snapshot file (pickle or JSON, gzip or not, detected by content;
/// "-" is stdin) and sends every record to `sink`.
Status ReadSnapshot(const std::string& path, SnapshotSink* sink, const ReadOptions& options);

/// Same, from memory (tests, fuzzing). `name` is used in messages.
Status ReadSnapshotBytes(std::string_view name, std::span<const uint8_t> bytes, SnapshotSink* sink,
                         const ReadOptions& options);

}  // namespace memtk::snapshot
