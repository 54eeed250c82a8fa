// FlameSink: bytes by call stack at one instant, or over every allocation.
#include "analysis/flame.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <unordered_map>

#include "memtk/base/escape.h"
#include "memtk/base/flat_map.h"
#include "memtk/base/format.h"
#include "memtk/base/wrap.h"
#include "memtk/timeline/peak.h"
#include "snapshot/call_site.h"
#include "store/replay.h"

namespace memtk::analysis {

using snapshot::Action;
using snapshot::BlockState;

namespace {

constexpr int64_t kNoStack = -1;

int64_t StackKey(const std::optional<StackId>& s) { return s ? static_cast<int64_t>(s->value) : kNoStack; }

struct Weight {
  int64_t bytes = 0;
  uint64_t count = 0;
  void Add(int64_t size) {
    WrapAddTo(&bytes, size);
    ++count;
  }
  void Add(const Weight& w) {
    WrapAddTo(&bytes, w.bytes);
    count += w.count;
  }
};
using ByStack = std::unordered_map<int64_t, Weight>;

// Per-event tallies by stack: stack ids are dense, so a vector indexed by
// id + 1 (0: no stack) costs no hashing per event.
struct StackTally {
  std::vector<Weight> by_stack;
  void Add(int64_t stack, int64_t size) {
    const size_t i = static_cast<size_t>(stack + 1);
    if (i >= by_stack.size()) by_stack.resize(std::max(i + 1, by_stack.size() * 2));
    by_stack[i].Add(size);
  }
  ByStack ToMap() const {
    ByStack m;
    for (size_t i = 0; i < by_stack.size(); ++i)
      if (by_stack[i].count) m[static_cast<int64_t>(i) - 1] = by_stack[i];
    return m;
  }
};

struct LiveEntry {
  int64_t size = 0;
  int64_t stack = kNoStack;
};

struct SegmentInfo {
  uint32_t device = 0;
  uint64_t address = 0;
  int64_t total = 0;
  int64_t stream = 0;
};
struct BlockInfo {
  uint64_t segment_id = 0;
  uint64_t address = 0;
  int64_t size = 0;
  BlockState state = BlockState::kUnknown;
  int64_t stack = kNoStack;
};

bool ParseInt(std::string_view s, int64_t* v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string_view StateName(BlockState s) {
  switch (s) {
    case BlockState::kActiveAllocated:
      return "active_allocated";
    case BlockState::kActivePendingFree:
      return "active_pending_free";
    case BlockState::kInactive:
      return "free";
    default:
      return "unknown state";
  }
}

}  // namespace

StatusOr<Instant> ParseInstant(std::string_view text) {
  Instant at;
  int64_t v = 0;
  if (text == "peak") return at;
  if (text == "end") return Instant{Instant::kEnd, 0};
  if (text.starts_with("event:") && ParseInt(text.substr(6), &v) && v >= 0) return Instant{Instant::kEvent, v};
  if (text.starts_with("us:") && ParseInt(text.substr(3), &v)) return Instant{Instant::kTimeUs, v};
  return UsageError(
      fmt::format("--at '{}': expected peak, end, event:N (N >= 0) or us:T (time_us)", EscapeControl(text)));
}

std::string DescribeInstant(const Instant& at) {
  switch (at.kind) {
    case Instant::kPeak:
      return "peak";
    case Instant::kEnd:
      return "end";
    case Instant::kEvent:
      return fmt::format("event {}", at.value);
    case Instant::kTimeUs:
      return fmt::format("time_us {}", at.value);
    case Instant::kAll:
      return "all allocations";
    case Instant::kEventId:
      return fmt::format("event id {}", at.value);
  }
  return "";
}

void VisibleFrames(snapshot::FrameClassifier& classifier, std::span<const FrameId> stack, std::vector<FrameId>* out) {
  classifier.VisibleFrames(stack, out);
  // Stacks are innermost first; flames read outermost first.
  std::reverse(out->begin(), out->end());
  if (out->empty() && !stack.empty()) {
    auto site = classifier.SiteOf(stack, snapshot::SiteMode::kInnermost).frame;
    out->push_back(site ? *site : stack.front());
  }
}

std::string FoldedField(std::string_view label) {
  std::string s = NeedsEscape(label) ? EscapeControl(label) : std::string(label);
  if (s.find(';') == std::string::npos) return s;
  std::string out;
  for (char c : s) {
    if (c == ';')
      out += "\\x3b";
    else
      out += c;
  }
  return out;
}

// ---------------------------------------------------------------- the sink

struct FlameSink::State {
  State(const FlameOptions& o, snapshot::FrameRules rules) : options(o), classifier(std::move(rules)) {}

  // One device's live set, for instants other than the peak.
  struct LiveDevice {
    FlatMap<LiveEntry> live;  // addr -> element (the viewer's addr_to_alloc)
    ByStack orphans;          // overwritten at a live address before the instant: live for ever
    ByStack at;               // the result, once the instant has passed
    bool passed = false;
    uint64_t events = 0;
    std::optional<uint64_t> last_idx, at_idx;
    std::optional<int64_t> last_time, at_time;
  };

  const FlameOptions options;
  const snapshot::Tables* tables = nullptr;
  snapshot::FrameClassifier classifier;
  timeline::PeakTracker peaks;
  std::map<uint32_t, LiveDevice> live;
  std::map<uint32_t, StackTally> allocs;      // every alloc event, per device
  std::map<uint32_t, uint64_t> trace_events;  // devices with a device trace: its length
  std::map<uint32_t, bool> has_data;          // devices with events or segments
  std::vector<snapshot::Block> blocks;        // active blocks of `segments` (live-at-instant accounting)
  std::unordered_map<uint64_t, SegmentInfo> segments;
  std::vector<BlockInfo> segment_blocks;  // flame-segments
  std::vector<uint64_t> segment_order;    // segment ids in file order
  FlameProfile profile;
  Status error;
  std::optional<uint32_t> id_device;  // kEventId: the device of that event, once seen
  struct Cache {
    uint32_t device = 0;
    uint64_t* events = nullptr;  // null: nothing cached yet
    StackTally* allocs = nullptr;
    LiveDevice* live = nullptr;
    bool peak = false;
  } cache;

  bool Tracks(uint32_t device) const { return !options.device || *options.device == device; }

  bool LiveKind() const {
    return options.at.kind == Instant::kEnd || options.at.kind == Instant::kEvent ||
           options.at.kind == Instant::kTimeUs || options.at.kind == Instant::kEventId;
  }

  // The instant has come for `d`: what is live now (and the orphans so far)
  // is its answer; frees of memory from before recording still add to it.
  void Pass(LiveDevice& d) {
    d.live.ForEach([&](uint64_t, const LiveEntry& l) { d.at[l.stack].Add(l.size); });
    for (const auto& [k, w] : d.orphans) d.at[k].Add(w);
    d.orphans.clear();
    d.passed = true;
    d.at_idx = d.last_idx;
    d.at_time = d.last_time;
  }

  void OnLiveEvent(LiveDevice& d, const snapshot::TraceEvent& e) {
    if (options.at.kind == Instant::kTimeUs && !d.passed && e.time_us && *e.time_us > options.at.value) Pass(d);
    switch (e.action) {
      case Action::kAlloc: {
        bool inserted = false;
        LiveEntry& l = d.live.FindOrInsert(e.addr, &inserted);
        if (!inserted && !d.passed) d.orphans[l.stack].Add(l.size);
        l = LiveEntry{e.size, StackKey(e.stack)};
        break;
      }
      case Action::kFreeCompleted:
      case Action::kFree:
        if (d.live.Find(e.addr) != nullptr) {
          d.live.Erase(e.addr);
        } else if (d.passed) {
          // Allocated before recording, freed after the instant: live at it.
          d.at[StackKey(e.stack)].Add(e.size);
        }
        break;
      default:
        break;
    }
    ++d.events;
    d.last_idx = e.index;
    d.last_time = e.time_us;
    if (options.at.kind == Instant::kEvent && !d.passed && e.index == static_cast<uint64_t>(options.at.value)) Pass(d);
    if (options.at.kind == Instant::kEventId && !d.passed && e.id == static_cast<uint64_t>(options.at.value)) {
      Pass(d);
      id_device = e.device;
    }
  }

  Status Finish();
  void BuildProfile(std::map<uint32_t, ByStack>& at);
  void BuildSegments();
  uint32_t InternFrame(FrameId id);
  uint32_t InternGroup(FlameNodeKind kind, std::string label);

  std::unordered_map<std::string, uint32_t> frame_index;  // label -> profile.frames
  std::vector<int64_t> frame_of_id;                       // FrameId -> profile.frames, -1 = not yet
};

uint32_t FlameSink::State::InternGroup(FlameNodeKind kind, std::string label) {
  auto [it, inserted] = frame_index.try_emplace(label, static_cast<uint32_t>(profile.frames.size()));
  if (inserted) profile.frames.push_back(FlameFrame{kind, {}, {}, 0, std::move(label)});
  return it->second;
}

uint32_t FlameSink::State::InternFrame(FrameId id) {
  if (frame_of_id.size() <= id.value) frame_of_id.resize(tables->num_frames(), -1);
  if (frame_of_id[id.value] >= 0) return static_cast<uint32_t>(frame_of_id[id.value]);
  const snapshot::Frame& f = tables->GetFrame(id);
  std::string label = snapshot::FormatFrame(*tables, id);
  auto [it, inserted] = frame_index.try_emplace(label, static_cast<uint32_t>(profile.frames.size()));
  if (inserted)
    profile.frames.push_back(FlameFrame{FlameNodeKind::kFrame, std::string(tables->String(f.filename)),
                                        std::string(tables->String(f.name)), f.line, std::move(label)});
  frame_of_id[id.value] = it->second;
  return it->second;
}

// Every (device, stack) with a weight becomes a FlameStack of visible frames;
// stacks equal once plumbing is hidden are merged.
void FlameSink::State::BuildProfile(std::map<uint32_t, ByStack>& at) {
  // Hash of (device, frame indices) -> stacks with that hash; the paths
  // themselves are compared on a hit, so nothing but 12 bytes per stack is
  // kept twice (100,000 stacks of depth 50: ~1 MB, not ~25 MB of keys).
  std::unordered_multimap<uint64_t, uint32_t> merged;
  std::vector<FrameId> visible;
  std::vector<uint32_t> path;
  const uint32_t no_frames = InternGroup(FlameNodeKind::kFrame, "<no frames>");
  auto add = [&](uint32_t device, int64_t stack, const Weight& live_w, const Weight& alloc_w) {
    path.clear();
    if (stack != kNoStack) {
      VisibleFrames(classifier, tables->GetStack(StackId{static_cast<uint32_t>(stack)}), &visible);
      for (FrameId f : visible) path.push_back(InternFrame(f));
    }
    if (path.empty()) path.push_back(no_frames);
    uint64_t h = 1469598103934665603ULL ^ device;  // FNV-1a over the indices
    for (uint32_t f : path) h = (h ^ f) * 1099511628211ULL;
    int64_t found = -1;
    for (auto [it, end] = merged.equal_range(h); it != end && found < 0; ++it) {
      const FlameStack& c = profile.stacks[it->second];
      if (c.device == device && c.frames == path) found = it->second;
    }
    if (found < 0) {
      found = static_cast<int64_t>(profile.stacks.size());
      merged.emplace(h, static_cast<uint32_t>(found));
      profile.stacks.push_back(FlameStack{device, path, 0, 0, 0, 0});
    }
    FlameStack& s = profile.stacks[static_cast<size_t>(found)];
    WrapAddTo(&s.bytes, live_w.bytes);
    s.count += live_w.count;
    WrapAddTo(&s.alloc_bytes, alloc_w.bytes);
    s.alloc_count += alloc_w.count;
  };
  for (auto& [device, by_stack] : at) {
    for (const auto& [stack, w] : by_stack) add(device, stack, w, Weight{});
    if (auto a = allocs.find(device); options.with_allocs && a != allocs.end())
      for (const auto& [stack, w] : a->second.ToMap()) add(device, stack, Weight{}, w);
  }
}

// flame-segments: stream / segment / block state / the block's frames, one
// path per block, weighted by the block's size; bytes of a segment its
// blocks do not cover are free.
void FlameSink::State::BuildSegments() {
  std::unordered_map<uint64_t, std::vector<const BlockInfo*>> by_segment;
  for (const BlockInfo& b : segment_blocks) by_segment[b.segment_id].push_back(&b);
  std::vector<FrameId> visible;
  for (uint64_t id : segment_order) {
    const SegmentInfo& s = segments[id];
    if (!Tracks(s.device)) continue;
    const uint32_t stream = InternGroup(FlameNodeKind::kStream, fmt::format("stream {}", s.stream));
    const uint32_t seg = InternGroup(FlameNodeKind::kSegment, fmt::format("segment {:#x}", s.address));
    int64_t covered = 0;
    auto& list = by_segment[id];
    std::sort(list.begin(), list.end(), [](const BlockInfo* a, const BlockInfo* b) { return a->address < b->address; });
    for (const BlockInfo* b : list) {
      FlameStack st{s.device, {stream, seg}, b->size, 1, 0, 0};
      const bool free = b->state == BlockState::kInactive;
      st.frames.push_back(
          InternGroup(free ? FlameNodeKind::kFree : FlameNodeKind::kState, std::string(StateName(b->state))));
      if (!free && b->stack != kNoStack) {
        VisibleFrames(classifier, tables->GetStack(StackId{static_cast<uint32_t>(b->stack)}), &visible);
        for (FrameId f : visible) st.frames.push_back(InternFrame(f));
      }
      WrapAddTo(&covered, b->size);
      profile.stacks.push_back(std::move(st));
    }
    if (covered < s.total)
      profile.stacks.push_back(FlameStack{
          s.device, {stream, seg, InternGroup(FlameNodeKind::kFree, "free")}, WrapSub(s.total, covered), 0, 0, 0});
  }
}

Status FlameSink::State::Finish() {
  std::map<uint32_t, ByStack> at;
  std::map<uint32_t, FlameDevice> devices;
  const Instant::Kind kind = options.at.kind;
  if (options.device && !has_data.contains(*options.device)) {
    std::string list;
    for (const auto& [device, yes] : has_data) list += (list.empty() ? "" : ", ") + std::to_string(device);
    return InvalidInput(
        fmt::format("no data for device {} (devices: {})", *options.device, list.empty() ? "none" : list));
  }
  if (options.segments) {
    BuildSegments();
    for (const auto& [id, s] : segments)
      if (Tracks(s.device)) devices[s.device].device = s.device;
  } else if (kind == Instant::kPeak) {
    for (timeline::DevicePeak& p : peaks.Finish()) {
      if (!Tracks(p.device)) continue;
      ByStack& m = at[p.device];
      for (const timeline::LiveElement& e : p.live_at_peak) m[StackKey(e.stack)].Add(e.size);
      FlameDevice& d = devices[p.device];
      d.device = p.device;
      d.event_idx = p.peak.event_idx;
      d.time_us = p.peak.time_us;
    }
  } else if (kind == Instant::kAll) {
    for (auto& [device, m] : allocs) {
      at[device] = m.ToMap();
      devices[device].device = device;
    }
    for (const auto& [device, n] : trace_events)
      if (Tracks(device)) devices[device].device = device;
  } else {
    if (kind == Instant::kEvent) {
      // --live-at-event names one trace: the device's, or the only one.
      std::vector<uint32_t> traced;
      for (const auto& [device, n] : trace_events) traced.push_back(device);
      std::string list;
      for (uint32_t d : traced) list += (list.empty() ? "" : ", ") + std::to_string(d);
      if (!options.device && traced.size() > 1)
        return UsageError(
            fmt::format("event {} of which trace? name one with --device (devices: {})", options.at.value, list));
      const uint32_t device = options.device ? *options.device : traced.empty() ? 0 : traced.front();
      auto t = trace_events.find(device);
      if (t == trace_events.end() || static_cast<int64_t>(t->second) <= options.at.value)
        return InvalidInput(fmt::format("event {} is past the end of device {}'s trace ({} events)", options.at.value,
                                        device, t == trace_events.end() ? 0 : t->second));
    }
    if (kind == Instant::kEventId) {
      if (!id_device)
        return InvalidInput(
            fmt::format("no event with id {} (ids count trace events over every device from 0)", options.at.value));
      std::erase_if(live, [&](const auto& kv) { return kv.first != *id_device; });
    }
    for (auto& [device, d] : live)
      if (!d.passed) Pass(d);
    // Untraced active blocks are live throughout, unless their address is
    // allocated-and-live at the end (then the trace already counts them).
    for (const snapshot::Block& b : blocks) {
      const uint32_t device = static_cast<uint32_t>(b.device);
      if ((kind == Instant::kEvent || kind == Instant::kEventId) && !live.contains(device)) continue;
      LiveDevice& d = live[device];
      if (d.live.Find(b.address) != nullptr) continue;
      d.at[StackKey(b.stack)].Add(b.requested_size != 0 ? b.requested_size : b.size);
    }
    for (auto& [device, d] : live) {
      at[device] = std::move(d.at);
      FlameDevice& fd = devices[device];
      fd.device = device;
      fd.event_idx = d.at_idx;
      fd.time_us = d.at_time;
    }
  }
  if (options.segments && options.device && !devices.contains(*options.device))
    return InvalidInput(fmt::format("no segments for device {}", *options.device));
  // An event names one device's instant; other instants cover every device.
  if (!options.segments && kind != Instant::kEvent && kind != Instant::kEventId)
    for (const auto& [device, yes] : has_data)
      if (Tracks(device)) devices[device].device = device;
  if (!options.segments) BuildProfile(at);
  // Deterministic order: by device, then by the frames' text.
  std::vector<size_t> order(profile.stacks.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (!options.segments) {
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const FlameStack& x = profile.stacks[a];
      const FlameStack& y = profile.stacks[b];
      if (x.device != y.device) return x.device < y.device;
      return std::lexicographical_compare(
          x.frames.begin(), x.frames.end(), y.frames.begin(), y.frames.end(),
          [&](uint32_t f, uint32_t g) { return profile.frames[f].label < profile.frames[g].label; });
    });
  } else {
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return profile.stacks[a].device < profile.stacks[b].device; });
  }
  std::vector<FlameStack> sorted;
  sorted.reserve(order.size());
  for (size_t i : order) sorted.push_back(std::move(profile.stacks[i]));
  profile.stacks = std::move(sorted);
  for (const FlameStack& s : profile.stacks) {
    FlameDevice& d = devices[s.device];
    WrapAddTo(&d.bytes, s.bytes);
    d.count += s.count;
    WrapAddTo(&d.alloc_bytes, s.alloc_bytes);
    d.alloc_count += s.alloc_count;
  }
  for (auto& [device, d] : devices) {
    auto t = trace_events.find(device);
    d.events = t == trace_events.end() ? 0 : t->second;
    profile.devices.push_back(d);
  }
  return OkStatus();
}

FlameSink::FlameSink(const FlameOptions& options, snapshot::FrameRules rules)
    : state_(std::make_unique<State>(options, std::move(rules))) {}
FlameSink::~FlameSink() = default;

Status FlameSink::OnBegin(const snapshot::Tables& t) {
  state_->tables = &t;
  state_->classifier.Reset(&t);
  return OkStatus();
}

Status FlameSink::OnSegment(const snapshot::Segment& s) {
  if (s.host || s.device < 0 || s.device > UINT32_MAX) return OkStatus();
  State& st = *state_;
  const uint32_t device = static_cast<uint32_t>(s.device);
  st.has_data[device] = true;
  if (st.options.segments) {
    st.segments[s.id] = SegmentInfo{device, s.address, s.total_size, s.stream};
    st.segment_order.push_back(s.id);
  }
  return OkStatus();
}

Status FlameSink::OnBlock(const snapshot::Block& b) {
  State& st = *state_;
  if (b.host || b.device < 0 || b.device > UINT32_MAX) return OkStatus();
  if (st.options.segments) {
    st.segment_blocks.push_back(BlockInfo{b.segment_id, b.address, b.size, b.state, StackKey(b.stack)});
    return OkStatus();
  }
  if (st.options.at.kind == Instant::kPeak) {
    st.peaks.OnBlock(b);
  } else if (st.LiveKind() && b.state == BlockState::kActiveAllocated && st.Tracks(static_cast<uint32_t>(b.device))) {
    st.blocks.push_back(b);
    st.blocks.back().extra = {};  // points into the reader's buffer
  }
  return OkStatus();
}

Status FlameSink::OnDeviceTrace(uint32_t device, bool host) {
  if (!host) state_->trace_events.try_emplace(device, 0);
  return OkStatus();
}

Status FlameSink::OnEvent(const snapshot::TraceEvent& e) {
  if (e.host) return OkStatus();
  State& st = *state_;
  State::Cache& c = st.cache;
  if (e.device != c.device || c.events == nullptr) {
    // Traces come device by device: the maps are consulted once per switch.
    c.device = e.device;
    st.has_data[e.device] = true;
    c.events = &st.trace_events[e.device];
    const bool tracked = st.Tracks(e.device) && !st.options.segments;
    c.allocs =
        tracked && (st.options.with_allocs || st.options.at.kind == Instant::kAll) ? &st.allocs[e.device] : nullptr;
    c.live = tracked && st.LiveKind() ? &st.live[e.device] : nullptr;
    c.peak = tracked && st.options.at.kind == Instant::kPeak;
  }
  ++*c.events;
  if (c.allocs && e.action == Action::kAlloc) c.allocs->Add(StackKey(e.stack), e.size);
  if (c.peak)
    st.peaks.OnEvent(e);
  else if (c.live)
    st.OnLiveEvent(*c.live, e);
  return OkStatus();
}

Status FlameSink::OnEnd(const snapshot::ReadSummary& s) {
  summary_ = s;
  // The reader's tables die with it: the profile is built now, errors kept
  // for Take() (which names the source).
  state_->error = state_->Finish();
  return OkStatus();
}

StatusOr<FlameProfile> FlameSink::Take(const std::string& source) {
  if (!state_->error.ok()) return state_->error.WithContext(source);
  return std::move(state_->profile);
}

StatusOr<FlameProfile> BuildFlameProfile(const std::string& path, const FlameOptions& options) {
  ASSIGN_OR_RETURN(snapshot::FrameRules rules, snapshot::FrameRules::Make(options.frames));
  FlameSink sink(options, std::move(rules));
  // Every device is read (not only options.device) so that a device without
  // data is named beside the ones that have some.
  RETURN_IF_ERROR(store::ReadInput(path, &sink, {}, {.event_details = false}));
  return sink.Take(path);
}

}  // namespace memtk::analysis
