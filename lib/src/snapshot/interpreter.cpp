#include "snapshot/interpreter.h"

#include <cstring>

#include <fmt/format.h>

namespace memtk::snapshot {

using pickle::Kind;
using pickle::Node;
using pickle::Value;

namespace {

enum Role : uint16_t {
  kGeneric = 0,
  kRoot,
  kSegments,
  kTraces,
  kTrace,
  kAnnotations,
  kHostSegments,
  kHostTraces,
  kHostTrace,
  kEventDict,  // an item of a trace: read only by Event()
  kFrameList,  // its `frames` or `forward_frames` list: read only by InternStack()
};

constexpr const char* kActionNames[kNumActions - 1] = {
    "alloc",       "free_requested", "free_completed", "segment_alloc", "segment_free",
    "segment_map", "segment_unmap",  "snapshot",       "oom",           "annotate",
    "free"};

constexpr const char* kRecNames[] = {"top", "segment", "block", "event", "frame", "annotation", "history"};

}  // namespace

std::string_view ActionName(Action a) {
  auto i = static_cast<size_t>(a);
  return i < kNumActions - 1 ? kActionNames[i] : "unknown";
}

bool ActionMovesMemory(Action a) {
  switch (a) {
    case Action::kAlloc:
    case Action::kFreeRequested:
    case Action::kFreeCompleted:
    case Action::kFree:
    case Action::kSegmentAlloc:
    case Action::kSegmentFree:
    case Action::kSegmentMap:
    case Action::kSegmentUnmap:
      return true;
    default:
      return false;
  }
}

Action ActionFromName(std::string_view name) {
  for (int a = 0; a < kNumActions - 1; ++a)
    if (kActionNames[a] == name) return static_cast<Action>(a);
  return Action::kUnknown;
}

BlockState BlockStateFromName(std::string_view s) {
  if (s == "active_allocated") return BlockState::kActiveAllocated;
  if (s == "active_pending_free" || s == "active_awaiting_free") return BlockState::kActivePendingFree;
  if (s == "inactive") return BlockState::kInactive;
  return BlockState::kUnknown;
}

std::span<const FrameId> Tables::GetStack(StackId id) const {
  uint64_t begin = stack_offsets[id.value];
  uint64_t end = id.value + 1 < stack_offsets.size() ? stack_offsets[id.value + 1] : stack_frames.size();
  return {stack_frames.data() + begin, static_cast<size_t>(end - begin)};
}

Interpreter::Interpreter(std::string name, Tables* tables, SnapshotSink* sink)
    : name_(std::move(name)), t_(tables), sink_(sink) {
  auto k = [&](const char* s) { return t_->strings.Intern(s).value; };
  k_action_ = k("action");
  k_addr_ = k("addr");
  k_size_ = k("size");
  k_stream_ = k("stream");
  k_time_us_ = k("time_us");
  k_frames_ = k("frames");
  k_compile_context_ = k("compile_context");
  k_user_metadata_ = k("user_metadata");
  k_device_free_ = k("device_free");
  k_pool_id_ = k("pool_id");
  k_forward_frames_ = k("forward_frames");
  k_filename_ = k("filename");
  k_line_ = k("line");
  k_name_ = k("name");
  k_device_ = k("device");
  k_address_ = k("address");
  k_total_size_ = k("total_size");
  k_allocated_size_ = k("allocated_size");
  k_active_size_ = k("active_size");
  k_requested_size_ = k("requested_size");
  k_segment_type_ = k("segment_type");
  k_segment_pool_id_ = k("segment_pool_id");
  k_is_expandable_ = k("is_expandable");
  k_blocks_ = k("blocks");
  k_state_ = k("state");
  k_history_ = k("history");
  k_real_size_ = k("real_size");
  k_stage_ = k("stage");
  k_segments_ = k("segments");
  k_device_traces_ = k("device_traces");
  k_external_annotations_ = k("external_annotations");
  k_host_segments_ = k("host_segments");
  k_host_traces_ = k("host_traces");
  for (int i = 0; i < kNumActions - 1; ++i) action_ids_[i] = k(kActionNames[i]);
  s_active_allocated_ = k("active_allocated");
  s_active_pending_free_ = k("active_pending_free");
  s_active_awaiting_free_ = k("active_awaiting_free");
  s_inactive_ = k("inactive");
}

uint16_t Interpreter::RoleOf(const Node* parent, const Value* key, uint64_t index, Kind kind) {
  if (parent == nullptr) {
    if (saw_root_) return kGeneric;
    saw_root_ = true;
    // torch.cuda.memory_snapshot() pickles a bare list of segments.
    if (kind == Kind::kList) {
      summary_.bare_segment_list = true;
      return kSegments;
    }
    return kind == Kind::kDict ? kRoot : kGeneric;
  }
  switch (parent->role) {
    case kRoot:
      if (key == nullptr || key->kind != Kind::kStr || kind != Kind::kList) return kGeneric;
      if (key->id == k_segments_) return kSegments;
      if (key->id == k_device_traces_) return kTraces;
      if (key->id == k_external_annotations_) return kAnnotations;
      if (key->id == k_host_segments_) return kHostSegments;
      if (key->id == k_host_traces_) return kHostTraces;
      return kGeneric;
    case kTraces:
    case kHostTraces:
      if (kind != Kind::kList) return kGeneric;
      // Told now, as the list opens: an empty one never reaches OnItem.
      if (Status st = sink_->OnDeviceTrace(static_cast<uint32_t>(index), parent->role == kHostTraces);
          !st.ok() && sink_error_.ok())
        sink_error_ = st;
      return parent->role == kHostTraces ? kHostTrace : kTrace;
    case kTrace:
    case kHostTrace:
      return kind == Kind::kDict ? kEventDict : kGeneric;
    case kEventDict:
      return kind == Kind::kList && key != nullptr && key->kind == Kind::kStr &&
                     (key->id == k_frames_ || key->id == k_forward_frames_)
                 ? kFrameList
                 : kGeneric;
    default:
      return kGeneric;
  }
}

bool Interpreter::ReadsOnlyCache(uint16_t role) const {
  // Event() hands both keys' lists to InternStack(), which returns the cached
  // stack id before it looks at the items.
  return role == kFrameList;
}

bool Interpreter::Streams(uint16_t role) const {
  return role == kSegments || role == kTrace || role == kAnnotations || role == kHostSegments || role == kHostTrace;
}

Status Interpreter::OnItem(Node* list, uint64_t index, const Value& item) {
  switch (list->role) {
    case kSegments:
      return SegmentRec(item, false, index);
    case kHostSegments:
      return SegmentRec(item, true, index);
    case kTrace:
      return Event(item, static_cast<uint32_t>(list->index), index, false);
    case kHostTrace:
      return Event(item, static_cast<uint32_t>(list->index), index, true);
    case kAnnotations:
      return AnnotationRec(item);
    default:
      return OkStatus();
  }
}

void Interpreter::NoteNewKey(Rec rec, const Value& key) {
  if (key.kind != Kind::kStr) return;
  if (key.id >= key_seen_.size()) key_seen_.resize(key.id + 1024, 0);
  key_seen_[key.id] |= static_cast<uint8_t>(1u << rec);
}

std::string Interpreter::KeysJson() const {
  std::string out = "{";
  for (int r = 0; r < kNumRecs; ++r) {
    if (r) out += ',';
    fmt::format_to(std::back_inserter(out), "\"{}\":[", kRecNames[r]);
    bool first = true;
    for (uint32_t id = 0; id < key_seen_.size(); ++id) {
      if (!(key_seen_[id] & (1u << r))) continue;
      if (!first) out += ',';
      first = false;
      Value v;
      v.kind = Kind::kStr;
      v.id = id;
      pickle::AppendJson(t_->strings, v, &out);
    }
    out += ']';
  }
  out += '}';
  return out;
}

bool Interpreter::GetInt(const Value& v, int64_t* out) {
  if (v.kind == Kind::kInt || v.kind == Kind::kBool) {
    *out = v.i;
    return true;
  }
  // Range first: casting a double outside int64 is undefined behaviour.
  if (v.kind == Kind::kFloat && v.d >= -0x1p63 && v.d < 0x1p63 &&
      v.d == static_cast<double>(static_cast<int64_t>(v.d))) {
    *out = static_cast<int64_t>(v.d);  // JSON writers sometimes emit 1.0
    return true;
  }
  return false;
}

void Interpreter::AddExtra(std::string* extra, const Value& key, const Value& value) {
  extra->push_back(extra->empty() ? '{' : ',');
  if (key.kind == Kind::kStr) {
    pickle::AppendJson(t_->strings, key, extra);
  } else {
    std::string k;
    pickle::AppendJson(t_->strings, key, &k);
    if (k.size() > 256) k.resize(256);  // a key, not a payload: keep it short
    Value kv;
    kv.kind = Kind::kStr;
    kv.id = t_->strings.Intern(k).value;
    pickle::AppendJson(t_->strings, kv, extra);
  }
  extra->push_back(':');
  pickle::AppendJson(t_->strings, value, extra);
}

std::optional<FrameId> Interpreter::InternNewFrame(const Value& v) {
  if (v.kind != Kind::kDict) {
    summary_.stats.Increment(Stat::k_bad_frame);
    return std::nullopt;
  }
  Node* n = v.node;
  Frame f{kNoString, 0, kNoString, kNoString};
  bool have_file = false;
  extra2_.clear();
  const auto& it = n->items;
  for (size_t i = 0; i + 1 < it.size(); i += 2) {
    const Value& key = it[i];
    const Value& val = it[i + 1];
    NoteKey(kFrameRec, key);
    if (key.kind == Kind::kStr && key.id == k_filename_ && val.kind == Kind::kStr) {
      f.filename = StringId{val.id};
      have_file = true;
    } else if (key.kind == Kind::kStr && key.id == k_name_ && val.kind == Kind::kStr) {
      f.name = StringId{val.id};
    } else if (key.kind == Kind::kStr && key.id == k_line_ && GetInt(val, &f.line)) {
    } else {
      AddExtra(&extra2_, key, val);
    }
  }
  if (!have_file) {
    summary_.stats.Increment(Stat::k_bad_frame);
    return std::nullopt;
  }
  if (!extra2_.empty()) {
    extra2_.push_back('}');
    f.extra = t_->strings.Intern(extra2_);
    expanded_ += extra2_.size();  // checked with the record that holds the frame
  }
  uint32_t packed[5] = {f.filename.value, f.name.value, f.extra.value, 0, 0};
  std::memcpy(&packed[3], &f.line, 8);
  size_t before = frame_keys_.size();
  StringId key = frame_keys_.Intern({reinterpret_cast<const char*>(packed), sizeof(packed)});
  FrameId id{key.value};
  if (frame_keys_.size() != before) {
    t_->frames.push_back(f);
    if (Status st = sink_->OnFrame(id, f); !st.ok() && sink_error_.ok()) sink_error_ = st;
  }
  n->cache = id.value;
  return id;
}

std::optional<StackId> Interpreter::InternStack(const Value& v) {
  if (v.kind != Kind::kList && v.kind != Kind::kTuple) return std::nullopt;
  if (v.cached) return StackId{v.id};  // a shared frame list: no load of its node (perf: ~9% of a decode)
  Node* n = v.node;
  if (n->cache >= 0) return StackId{static_cast<uint32_t>(n->cache)};
  scratch_frames_.clear();
  for (const Value& f : n->items) {
    // Not InternFrame(): returning std::optional through memory in this
    // loop costs a store-forwarding stall per frame (measured: ~10% of the
    // whole decode).
    if (int64_t c = CachedFrame(f); c >= 0) {
      scratch_frames_.push_back(FrameId{static_cast<uint32_t>(c)});
    } else if (auto id = InternNewFrame(f)) {
      scratch_frames_.push_back(*id);
    }
  }
  const size_t nf = scratch_frames_.size();
  const uint64_t h = HashBytes(scratch_frames_.data(), nf * sizeof(FrameId));
  const uint64_t tag = h >> 32 << 32;
  size_t mask = stack_index_.size() - 1;
  size_t i = static_cast<size_t>(h >> 32) & mask;
  for (;; i = (i + 1) & mask) {
    const uint64_t e = stack_index_[i];
    if (e == 0) break;
    if ((e & ~uint64_t{0xFFFFFFFF}) != tag) continue;
    const StackId seen{static_cast<uint32_t>(e) - 1};
    const std::span<const FrameId> frames = t_->GetStack(seen);
    if (frames.size() == nf && (nf == 0 || std::memcmp(frames.data(), scratch_frames_.data(), nf * sizeof(FrameId)) == 0)) {
      n->cache = seen.value;
      return seen;
    }
  }
  const StackId id{static_cast<uint32_t>(t_->num_stacks())};
  stack_index_[i] = tag | (uint64_t{id.value} + 1);
  t_->stack_offsets.push_back(t_->stack_frames.size());
  t_->stack_frames.insert(t_->stack_frames.end(), scratch_frames_.begin(), scratch_frames_.end());
  if (Status st = sink_->OnStack(id, scratch_frames_); !st.ok() && sink_error_.ok()) sink_error_ = st;
  if (t_->num_stacks() * 2 > stack_index_.size()) {
    std::vector<uint64_t> bigger(stack_index_.size() * 2, 0);
    mask = bigger.size() - 1;
    for (uint64_t e : stack_index_) {
      if (e == 0) continue;
      size_t j = static_cast<size_t>(e >> 32) & mask;
      while (bigger[j] != 0) j = (j + 1) & mask;
      bigger[j] = e;
    }
    stack_index_.swap(bigger);
  }
  n->cache = id.value;
  return id;
}

namespace {

// See kMaxSize: a size no allocator hands out is refused, naming the record.
Status CheckSize(std::string_view input, const std::string& where, std::string_view field, int64_t size) {
  if (size >= 0 && size <= kMaxSize) return OkStatus();
  return InvalidInput(fmt::format("{}: {}: {} {} cannot be real (sizes run from 0 to 2^50 bytes = 1 PiB)", input,
                                  where, field, size));
}

}  // namespace

Status Interpreter::Event(const Value& v, uint32_t device, uint64_t index, bool host) {
  if (v.kind != Kind::kDict) {
    summary_.stats.Increment(Stat::k_event_not_a_dict);
    return OkStatus();
  }
  // The same event dict listed again (only a memo reference or DUP can do
  // that; PyTorch writes a fresh dict per event) costs two bytes a record: 10^8
  // records from a 300 KB gzip, and every analysis keeps a few bytes per
  // alloc or free. As for block lists, the first repeat is refused.
  if (!Claim(v))
    return InvalidInput(fmt::format("{} event {} of device {} is an earlier event listed again (a memo reference "
                                    "or DUP: every repeat, a byte or two, would be one more record)",
                                    host ? "host" : "trace", index, device));
  // One event reused, each field reset on its own: a fresh `TraceEvent e;`
  // is zeroed with `rep stos` (GCC, 168 bytes), whose start-up cost was a
  // quarter of this function's samples (perf, 2M events).
  // (event_fields_test checks that nothing carries over; the size check
  // catches most new fields at compile time.)
  static_assert(sizeof(void*) != 8 || sizeof(TraceEvent) == 168, "a new TraceEvent field: reset it here");
  TraceEvent& e = event_;
  e.id = 0;
  e.device = device;
  e.index = index;
  e.host = host;
  e.action = Action::kUnknown;
  e.action_name = StringId{};
  e.addr = 0;
  e.has_addr = false;
  e.size = 0;
  e.stream = 0;
  e.time_us.reset();
  e.stack.reset();
  e.forward_stack.reset();
  e.device_free.reset();
  e.compile_context = kNoString;
  e.user_metadata = {};
  e.pool_id = {};
  e.extra = {};
  bool have_action = false;
  extra_.clear();
  const auto& it = v.node->items;
  size_t meta_at = 0, pool_at = 0;
  meta_.clear();
  for (size_t i = 0; i + 1 < it.size(); i += 2) {
    const Value& key = it[i];
    const Value& val = it[i + 1];
    NoteKey(kEvent, key);
    uint32_t k = key.kind == Kind::kStr ? key.id : 0xFFFFFFFFu;
    int64_t x;
    if (k == k_action_ && val.kind == Kind::kStr) {
      have_action = true;
      e.action_name = StringId{val.id};
      e.action = Action::kUnknown;
      for (int a = 0; a < kNumActions - 1; ++a)
        if (action_ids_[a] == val.id) {
          e.action = static_cast<Action>(a);
          break;
        }
    } else if (k == k_addr_ && GetInt(val, &x)) {
      e.addr = static_cast<uint64_t>(x);
      e.has_addr = true;
    } else if (k == k_size_ && GetInt(val, &x)) {
      e.size = x;
    } else if (k == k_stream_ && GetInt(val, &x)) {
      e.stream = x;
    } else if (k == k_time_us_ && GetInt(val, &x)) {
      e.time_us = x;
    } else if (k == k_frames_ && (val.kind == Kind::kList || val.kind == Kind::kTuple)) {
      e.stack = InternStack(val);
    } else if (k == k_forward_frames_ && (val.kind == Kind::kList || val.kind == Kind::kTuple)) {
      e.forward_stack = InternStack(val);
    } else if (k == k_device_free_ && GetInt(val, &x)) {
      e.device_free = x;
    } else if (k == k_compile_context_ && val.kind == Kind::kStr) {
      e.compile_context = StringId{val.id};
    } else if (k == k_user_metadata_) {
      meta_at = meta_.size();
      pickle::AppendJson(t_->strings, val, &meta_);
      e.user_metadata = std::string_view(meta_).substr(meta_at);
    } else if (k == k_pool_id_) {
      pool_.clear();
      pickle::AppendJson(t_->strings, val, &pool_);
      pool_at = 1;
    } else {
      if (k == k_action_ || k == k_addr_ || k == k_size_ || k == k_stream_ || k == k_time_us_ ||
          k == k_frames_ || k == k_device_free_ || k == k_compile_context_ || k == k_forward_frames_)
        summary_.stats.Increment(Stat::k_bad_field_type);
      else
        summary_.stats.Increment(Stat::k_unknown_key);
      AddExtra(&extra_, key, val);
    }
  }
  if (!have_action) {
    summary_.stats.Increment(Stat::k_event_missing_action);
    return OkStatus();
  }
  if (e.action == Action::kUnknown) summary_.stats.Increment(Stat::k_unknown_action);
  if (ActionMovesMemory(e.action) && (e.size < 0 || e.size > kMaxSize))
    return CheckSize(name_, fmt::format("{}[{}][{}]", host ? "host_traces" : "device_traces", device, index), "size",
                     e.size);
  if (!extra_.empty()) {
    extra_.push_back('}');
    e.extra = extra_;
  }
  if (!meta_.empty()) e.user_metadata = meta_;
  if (pool_at) e.pool_id = pool_;
  RETURN_IF_ERROR(Expanded(extra_.size() + meta_.size() + (pool_at ? pool_.size() : 0)));
  RETURN_IF_ERROR(sink_error_);
  e.id = event_ids_++;
  ++summary_.events;
  return sink_->OnEvent(e);
}

Status Interpreter::SegmentRec(const Value& v, bool host, uint64_t index) {
  if (v.kind != Kind::kDict) {
    summary_.stats.Increment(Stat::k_segment_not_a_dict);
    return OkStatus();
  }
  Segment s;
  s.host = host;
  s.id = segment_ids_++;
  const Value* blocks = nullptr;
  extra_.clear();
  pool_.clear();
  for (size_t i = 0; i + 1 < v.node->items.size(); i += 2) {
    const Value& key = v.node->items[i];
    const Value& val = v.node->items[i + 1];
    NoteKey(kSegment, key);
    uint32_t k = key.kind == Kind::kStr ? key.id : 0xFFFFFFFFu;
    int64_t x;
    if (k == k_device_ && GetInt(val, &x)) {
      s.device = x;
    } else if (k == k_address_ && GetInt(val, &x)) {
      s.address = static_cast<uint64_t>(x);
    } else if (k == k_total_size_ && GetInt(val, &x)) {
      s.total_size = x;
    } else if (k == k_allocated_size_ && GetInt(val, &x)) {
      s.allocated_size = x;
    } else if (k == k_active_size_ && GetInt(val, &x)) {
      s.active_size = x;
    } else if (k == k_requested_size_ && GetInt(val, &x)) {
      s.requested_size = x;
    } else if (k == k_stream_ && GetInt(val, &x)) {
      s.stream = x;
    } else if (k == k_segment_type_ && val.kind == Kind::kStr) {
      s.segment_type = StringId{val.id};
    } else if (k == k_segment_pool_id_) {
      pickle::AppendJson(t_->strings, val, &pool_);
    } else if (k == k_is_expandable_ && val.kind == Kind::kBool) {
      s.is_expandable = val.i != 0;
    } else if (k == k_frames_ && (val.kind == Kind::kList || val.kind == Kind::kTuple)) {
      s.stack = InternStack(val);
    } else if (k == k_blocks_ && val.kind == Kind::kList) {
      blocks = &val;
    } else {
      summary_.stats.Increment(Stat::k_unknown_key);
      AddExtra(&extra_, key, val);
    }
  }
  if (!extra_.empty()) extra_.push_back('}');
  s.extra = extra_;
  s.pool_id = pool_;
  s.num_blocks = blocks ? static_cast<uint32_t>(blocks->node->items.size()) : 0;
  // A block list reached from two segments (only a memo reference can do
  // that; real snapshots never do) would expand all its blocks again for
  // each: 10^4 references to 10^4 blocks make 10^8 from 600 KB.
  if (blocks != nullptr && !Claim(*blocks))
    return InvalidInput(fmt::format("segment {} reuses the block list of an earlier segment "
                                    "(a memo reference that would expand every block again)",
                                    s.id));
  RETURN_IF_ERROR(Expanded(extra_.size() + pool_.size()));
  const std::string where = fmt::format("{}[{}]", host ? "host_segments" : "segments", index);
  RETURN_IF_ERROR(CheckSize(name_, where, "total_size", s.total_size));
  RETURN_IF_ERROR(CheckSize(name_, where, "allocated_size", s.allocated_size));
  RETURN_IF_ERROR(CheckSize(name_, where, "active_size", s.active_size));
  RETURN_IF_ERROR(CheckSize(name_, where, "requested_size", s.requested_size));
  ++summary_.segments;
  RETURN_IF_ERROR(sink_error_);
  RETURN_IF_ERROR(sink_->OnSegment(s));
  if (blocks == nullptr) return OkStatus();

  // PyTorch 2.0 blocks have no address: they tile the segment in order.
  uint64_t cursor = s.address;
  uint64_t block_index = 0;
  for (const Value& bv : blocks->node->items) {
    const uint64_t this_block = block_index++;
    if (bv.kind != Kind::kDict) {
      summary_.stats.Increment(Stat::k_block_not_a_dict);
      continue;
    }
    Block b;
    b.id = block_ids_++;
    b.segment_id = s.id;
    b.device = s.device;
    b.host = s.host;
    bool have_address = false;
    extra_.clear();
    const Value* history = nullptr;
    for (size_t i = 0; i + 1 < bv.node->items.size(); i += 2) {
      const Value& key = bv.node->items[i];
      const Value& val = bv.node->items[i + 1];
      NoteKey(kBlock, key);
      uint32_t k = key.kind == Kind::kStr ? key.id : 0xFFFFFFFFu;
      int64_t x;
      if (k == k_address_ && GetInt(val, &x)) {
        b.address = static_cast<uint64_t>(x);
        have_address = true;
      } else if (k == k_size_ && GetInt(val, &x)) {
        b.size = x;
      } else if (k == k_requested_size_ && GetInt(val, &x)) {
        b.requested_size = x;
      } else if (k == k_state_ && val.kind == Kind::kStr) {
        b.state_name = StringId{val.id};
        b.state = val.id == s_active_allocated_ ? BlockState::kActiveAllocated
                  : (val.id == s_active_pending_free_ || val.id == s_active_awaiting_free_)
                      ? BlockState::kActivePendingFree
                  : val.id == s_inactive_ ? BlockState::kInactive
                                          : BlockState::kUnknown;
      } else if (k == k_frames_ && (val.kind == Kind::kList || val.kind == Kind::kTuple)) {
        b.stack = InternStack(val);
      } else if (k == k_history_ && val.kind == Kind::kList) {
        history = &val;
      } else {
        summary_.stats.Increment(Stat::k_unknown_key);
        AddExtra(&extra_, key, val);
      }
    }
    if (history != nullptr && !Claim(*history))
      return InvalidInput(fmt::format("block {} reuses the history list of an earlier block "
                                      "(a memo reference that would expand every entry again)",
                                      b.id));
    if (history != nullptr) {
      // Keep the history, with each entry's frames as a stack id; the block's
      // own stack is that of its latest allocation.
      history_ = "[";
      for (const Value& h : history->node->items) {
        if (history_.size() > 1) history_ += ',';
        if (h.kind != Kind::kDict) {
          pickle::AppendJson(t_->strings, h, &history_);
          continue;
        }
        history_ += '{';
        bool first = true;
        for (size_t i = 0; i + 1 < h.node->items.size(); i += 2) {
          const Value& key = h.node->items[i];
          const Value& val = h.node->items[i + 1];
          NoteKey(kHistory, key);
          if (!first) history_ += ',';
          first = false;
          if (key.kind == Kind::kStr && key.id == k_frames_) {
            auto st = InternStack(val);
            if (st) b.stack = st;
            history_ += st ? fmt::format("\"stack_id\":{}", st->value) : "\"stack_id\":null";
          } else {
            pickle::AppendJson(t_->strings, key, &history_);
            history_ += ':';
            pickle::AppendJson(t_->strings, val, &history_);
          }
        }
        history_ += '}';
      }
      history_ += ']';
      extra_ += extra_.empty() ? "{\"history\":" : ",\"history\":";
      extra_ += history_;
    }
    if (!extra_.empty()) extra_.push_back('}');
    b.extra = extra_;
    if ((b.size < 0 || b.size > kMaxSize) || (b.requested_size < 0 || b.requested_size > kMaxSize)) {
      const std::string at = fmt::format("{}.blocks[{}]", where, this_block);
      RETURN_IF_ERROR(CheckSize(name_, at, "size", b.size));
      RETURN_IF_ERROR(CheckSize(name_, at, "requested_size", b.requested_size));
    }
    if (!have_address) {
      b.address = cursor;
      b.address_derived = true;
      summary_.stats.Increment(Stat::k_legacy_block_address);
    }
    cursor = b.address + static_cast<uint64_t>(b.size);
    RETURN_IF_ERROR(Expanded(extra_.size()));
    ++summary_.blocks;
    RETURN_IF_ERROR(sink_->OnBlock(b));
  }
  return OkStatus();
}

Status Interpreter::AnnotationRec(const Value& v) {
  if (v.kind != Kind::kDict) return OkStatus();
  Annotation a;
  a.id = annotation_ids_++;
  extra_.clear();
  for (size_t i = 0; i + 1 < v.node->items.size(); i += 2) {
    const Value& key = v.node->items[i];
    const Value& val = v.node->items[i + 1];
    NoteKey(kAnnotationRec, key);
    uint32_t k = key.kind == Kind::kStr ? key.id : 0xFFFFFFFFu;
    int64_t x;
    if (k == k_device_ && GetInt(val, &x)) {
      a.device = x;
    } else if (k == k_stage_ && val.kind == Kind::kStr) {
      a.stage = StringId{val.id};
    } else if (k == k_name_ && val.kind == Kind::kStr) {
      a.name = StringId{val.id};
    } else if (k == k_time_us_ && GetInt(val, &x)) {
      a.time_us = x;
    } else {
      AddExtra(&extra_, key, val);
    }
  }
  if (!extra_.empty()) extra_.push_back('}');
  a.extra = extra_;
  RETURN_IF_ERROR(Expanded(extra_.size()));
  ++summary_.annotations;
  return sink_->OnAnnotation(a);
}

Status Interpreter::CheckExpansion() {
  const uint64_t read = position_ ? position_() : 0;
  const uint64_t allowed = kExpandSlack + kExpandFactor * read;
  if (expanded_ > allowed)
    return InvalidInput(fmt::format("records expand to {} bytes of JSON from {} bytes of input, over the "
                                    "limit of 64 MiB + {} per input byte (a memo bomb: one value referenced "
                                    "again and again)",
                                    expanded_, read, kExpandFactor));
  expand_check_ = allowed;
  return OkStatus();
}

Status Interpreter::OnRoot(const Value& root) {
  if (root.kind == Kind::kList && summary_.bare_segment_list) {
    summary_.keys_json = KeysJson();
    return OkStatus();
  }
  if (root.kind != Kind::kDict || root.node->role != kRoot)
    return InvalidInput(fmt::format("{}: not a PyTorch memory snapshot: the top-level object is a {}", name_,
                                    pickle::KindName(root.kind)));
  for (size_t i = 0; i + 1 < root.node->items.size(); i += 2) {
    const Value& key = root.node->items[i];
    const Value& val = root.node->items[i + 1];
    NoteKey(kTop, key);
    if (key.kind == Kind::kStr &&
        (key.id == k_segments_ || key.id == k_device_traces_ || key.id == k_external_annotations_ ||
         key.id == k_host_segments_ || key.id == k_host_traces_) &&
        val.kind == Kind::kList && val.node->role != kGeneric)
      continue;  // already streamed
    std::string json;
    pickle::AppendJson(t_->strings, val, &json);
    RETURN_IF_ERROR(Expanded(json.size()));
    std::string k;
    if (key.kind == Kind::kStr) {
      k = std::string(t_->strings.Get(StringId{key.id}));
    } else {
      pickle::AppendJson(t_->strings, key, &k);
    }
    RETURN_IF_ERROR(sink_->OnTopLevel(k, json));
  }
  summary_.keys_json = KeysJson();
  return sink_error_;
}

}  // namespace memtk::snapshot
