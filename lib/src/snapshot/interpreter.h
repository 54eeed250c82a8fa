// Interpreter: turns decoded values (from the pickle or the JSON reader) into
// snapshot records. Internal to the library.
//
// It is the decoders' Consumer: it gives the lists `segments`,
// `device_traces[i]`, `host_traces[i]`, `host_segments` and
// `external_annotations` a streaming role, so each element reaches OnItem()
// as soon as it is complete and is released right after.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "pickle/decoder.h"
#include "memtk/snapshot/snapshot.h"

namespace memtk::snapshot {

class Interpreter : public pickle::Consumer {
 public:
  Interpreter(std::string name, Tables* tables, SnapshotSink* sink);

  uint16_t RoleOf(const pickle::Node* parent, const pickle::Value* key, uint64_t index, pickle::Kind kind) override;
  bool Streams(uint16_t role) const override;
  bool ReadsOnlyCache(uint16_t role) const override;
  Status OnItem(pickle::Node* list, uint64_t index, const pickle::Value& item) override;
  Status OnRoot(const pickle::Value& root) override;

  ReadSummary& summary() { return summary_; }
  bool saw_root() const { return saw_root_; }
  /// Input bytes read so far (the reader's position), for the expansion
  /// budget; without it the budget is the fixed slack alone.
  void set_position(std::function<uint64_t()> position) { position_ = std::move(position); }

  /// JSON that records may expand to (extra, user_metadata, pool ids, frame
  /// extras, block histories, top-level values): this much plus
  /// kExpandFactor bytes per input byte. Memo references let a few bytes
  /// repeat a 64 KiB value; real snapshots stay far below 1 byte per byte.
  static constexpr uint64_t kExpandSlack = 64u << 20;
  static constexpr uint64_t kExpandFactor = 16;

 private:
  enum Rec : uint8_t { kTop, kSegment, kBlock, kEvent, kFrameRec, kAnnotationRec, kHistory, kNumRecs };
  Status Event(const pickle::Value& v, uint32_t device, uint64_t index, bool host);
  Status SegmentRec(const pickle::Value& v, bool host, uint64_t index);
  Status AnnotationRec(const pickle::Value& v);
  // A frame dict shared by many stacks is interpreted once; later sightings
  // are one load of the id cached on its node (-1: not interpreted yet).
  static int64_t CachedFrame(const pickle::Value& v) { return v.kind == pickle::Kind::kDict ? v.node->cache : -1; }
  std::optional<FrameId> InternFrame(const pickle::Value& v) {
    if (int64_t c = CachedFrame(v); c >= 0) return FrameId{static_cast<uint32_t>(c)};
    return InternNewFrame(v);
  }
  std::optional<FrameId> InternNewFrame(const pickle::Value& v);
  std::optional<StackId> InternStack(const pickle::Value& v);
  bool GetInt(const pickle::Value& v, int64_t* out);
  /// Adds `bytes` of record JSON to the expansion budget (kExpandSlack).
  Status Expanded(uint64_t bytes) {
    expanded_ += bytes;
    return expanded_ > expand_check_ ? CheckExpansion() : OkStatus();
  }
  Status CheckExpansion();
  /// Marks a one-owner container (block list, history) as expanded; false
  /// if it already was, i.e. a memo reference reaches it a second time.
  static bool Claim(const pickle::Value& v) {
    if (v.node->claimed) return false;
    v.node->claimed = true;
    return true;
  }
  /// Records that `key` was seen in a record of kind `rec` (for meta's key lists).
  void NoteKey(Rec rec, const pickle::Value& key) {
    if (key.kind == pickle::Kind::kStr && key.id < key_seen_.size())
      key_seen_[key.id] |= static_cast<uint8_t>(1u << rec);
    else
      NoteNewKey(rec, key);
  }
  void NoteNewKey(Rec rec, const pickle::Value& key);
  void AddExtra(std::string* extra, const pickle::Value& key, const pickle::Value& value);
  std::string KeysJson() const;

  std::string name_;
  Tables* t_;
  Status sink_error_;  // from OnFrame/OnStack, reported with the next record
  SnapshotSink* sink_;
  ReadSummary summary_;
  bool saw_root_ = false;
  StringPool frame_keys_;  // packed (filename, name, extra, line) -> FrameId
  // Distinct stacks -> StackId, over the frames Tables already keeps (a
  // second copy of every stack's frame ids was ~20 MB per 10^5 stacks):
  // slot = (hash >> 32) << 32 | (id + 1), 0 = empty.
  std::vector<uint64_t> stack_index_ = std::vector<uint64_t>(1024, 0);
  std::vector<FrameId> scratch_frames_;
  TraceEvent event_;  // Event()'s, reset field by field for each event
  std::vector<uint8_t> key_seen_;  // per StringId: bit per Rec
  std::string extra_, extra2_, pool_, meta_, history_;
  uint64_t segment_ids_ = 0, block_ids_ = 0, event_ids_ = 0, annotation_ids_ = 0;
  uint64_t expanded_ = 0, expand_check_ = kExpandSlack;
  std::function<uint64_t()> position_;

  // Interned key and value names, compared by id on the hot path.
  uint32_t k_action_, k_addr_, k_size_, k_stream_, k_time_us_, k_frames_, k_compile_context_,
      k_user_metadata_, k_device_free_, k_pool_id_, k_forward_frames_, k_filename_, k_line_, k_name_,
      k_device_, k_address_, k_total_size_, k_allocated_size_, k_active_size_, k_requested_size_,
      k_segment_type_, k_segment_pool_id_, k_is_expandable_, k_blocks_, k_state_, k_history_, k_real_size_,
      k_stage_, k_segments_, k_device_traces_, k_external_annotations_, k_host_segments_, k_host_traces_;
  uint32_t action_ids_[kNumActions - 1];
  uint32_t s_active_allocated_, s_active_pending_free_, s_active_awaiting_free_, s_inactive_;
};

}  // namespace memtk::snapshot
