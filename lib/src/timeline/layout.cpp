#include "timeline/layout.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "io/atomic_output.h"

namespace memtk::timeline {

// ---------------------------------------------------------------- StepLog

StepLog::StepLog(size_t memory_budget_bytes)
    : budget_steps_(std::max<size_t>(1024, memory_budget_bytes / sizeof(Step))) {}

StepLog::StepLog(StepLog&&) noexcept = default;
StepLog& StepLog::operator=(StepLog&&) noexcept = default;
StepLog::~StepLog() = default;

Status StepLog::Spill() {
  if (fd_.get() < 0) {
    // Unlinked at once: the file vanishes with the process, even on kill -9.
    const char* dir = std::getenv("TMPDIR");
    std::string templ = fmt::format("{}/memtk-steps-XXXXXX", dir && *dir ? dir : "/tmp");
    fd_.reset(::mkostemp(templ.data(), O_CLOEXEC));
    if (fd_.get() < 0) return IoError(fmt::format("{}: cannot create temp file: {}", templ, std::strerror(errno)));
    ::unlink(templ.c_str());
  }
  RETURN_IF_ERROR(io::WriteAll(
      fd_.get(), std::string_view(reinterpret_cast<const char*>(tail_.data()), tail_.size() * sizeof(Step)),
      "timeline temp file"));
  spilled_ += tail_.size();
  tail_.clear();
  return OkStatus();
}

bool StepLog::Cursor::Next(Step* s) {
  if (pos_ < buffer_.size()) {
    *s = buffer_[pos_++];
    return true;
  }
  if (file_next_ < log_->spilled_) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kSpillChunk, log_->spilled_ - file_next_));
    buffer_.resize(n);
    char* p = reinterpret_cast<char*>(buffer_.data());
    size_t want = n * sizeof(Step);
    off_t off = static_cast<off_t>(file_next_ * sizeof(Step));
    while (want > 0) {
      ssize_t r = ::pread(log_->fd_.get(), p, want, off);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        status_ =
            IoError(fmt::format("timeline temp file: read failed: {}", r < 0 ? std::strerror(errno) : "short file"));
        return false;
      }
      p += r;
      off += r;
      want -= static_cast<size_t>(r);
    }
    file_next_ += n;
    pos_ = 0;
    return Next(s);
  }
  if (tail_next_ < log_->tail_.size()) {
    *s = log_->tail_[tail_next_++];
    return true;
  }
  return false;
}

// ---------------------------------------------------------------- colours

render::Rgb SiteColor(std::string_view label) {
  if (label == "<no frames>") return {160, 160, 160};
  // FNV-1a: stable across runs, machines and memtk versions (std::hash is not).
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : label) h = (h ^ c) * 1099511628211ULL;
  h ^= h >> 31;
  // Hue anywhere on the wheel; saturation and value from a few steps that
  // keep every colour readable against white and against its neighbours.
  double hue = static_cast<double>(h % 3600) / 10.0;
  static constexpr double kSat[4] = {0.45, 0.58, 0.70, 0.82};
  static constexpr double kVal[3] = {0.72, 0.84, 0.95};
  double s = kSat[(h >> 12) % 4], v = kVal[(h >> 16) % 3];
  double c = v * s, hp = hue / 60.0, x = c * (1 - std::fabs(std::fmod(hp, 2.0) - 1)), m = v - c;
  double r = 0, g = 0, b = 0;
  switch (static_cast<int>(hp)) {
    case 0:
      r = c, g = x;
      break;
    case 1:
      r = x, g = c;
      break;
    case 2:
      g = c, b = x;
      break;
    case 3:
      g = x, b = c;
      break;
    case 4:
      r = x, b = c;
      break;
    default:
      r = c, b = x;
      break;
  }
  auto byte = [m](double channel) { return static_cast<uint8_t>(std::lround((channel + m) * 255.0)); };
  return {byte(r), byte(g), byte(b)};
}

// ---------------------------------------------------------------- builder

struct TimelineBuilder::Device {
  struct Live {
    uint32_t number = 0;
    uint32_t site = 0;
    int64_t size = 0;
  };
  struct Candidate {
    uint64_t addr = 0;
    int64_t size = 0;
    uint32_t site = 0;
  };
  // A live range of a segment_map (expandable segments), keyed by start.
  struct Mapped {
    uint64_t end = 0;
    uint32_t number = 0;  // the band: its allocation number
    uint32_t site = 0;
  };
  explicit Device(size_t budget) { t.steps = StepLog(budget); }
  Timeline t;
  bool has_events = false, has_segments = false;
  FlatMap<Live> live;
  std::map<uint64_t, Mapped> mapped;          // segments view only
  std::vector<InitialElement> initial_frees;  // trace order
  std::vector<Candidate> candidates;          // untraced blocks or segments, file order
  uint32_t next_alloc = 0;

  Status Append(Step s, bool timed) {
    if (!timed) ++t.untimed_steps;
    return t.steps.Append(s);
  }
  // Takes [lo, hi) out of the mapped ranges; `cut(number, bytes)` hears
  // each piece. Ranges are split where the cut falls inside them.
  template <class Cut>
  Status Unmap(uint64_t lo, uint64_t hi, Cut cut) {
    auto it = mapped.upper_bound(lo);
    if (it != mapped.begin() && std::prev(it)->second.end > lo) --it;
    while (it != mapped.end() && it->first < hi) {
      const uint64_t start = it->first;
      const Mapped m = it->second;
      const uint64_t a = std::max(lo, start), b = std::min(hi, m.end);
      it = mapped.erase(it);
      if (start < a) mapped.emplace(start, Mapped{a, m.number, m.site});
      if (b < m.end) it = mapped.emplace(b, Mapped{m.end, m.number, m.site}).first;
      RETURN_IF_ERROR(cut(m.number, static_cast<int64_t>(b - a)));
    }
    return OkStatus();
  }
  // Bytes of [lo, hi) inside mapped ranges.
  uint64_t MappedBytes(uint64_t lo, uint64_t hi) const {
    uint64_t n = 0;
    auto it = mapped.upper_bound(lo);
    if (it != mapped.begin() && std::prev(it)->second.end > lo) --it;
    for (; it != mapped.end() && it->first < hi; ++it) n += std::min(hi, it->second.end) - std::max(lo, it->first);
    return n;
  }
};

namespace {

// The end of [addr, addr + size), clamped to the address space.
uint64_t RangeEnd(uint64_t addr, int64_t size) {
  const uint64_t n = size > 0 ? static_cast<uint64_t>(size) : 0;
  return addr > UINT64_MAX - n ? UINT64_MAX : addr + n;
}

}  // namespace

TimelineBuilder::TimelineBuilder(View view, std::optional<uint32_t> only_device, size_t memory_budget_bytes)
    : view_(view), only_(only_device), budget_(memory_budget_bytes) {
  InternSite("<no frames>");
}

TimelineBuilder::~TimelineBuilder() = default;

uint32_t TimelineBuilder::InternSite(std::string_view label) {
  auto [it, inserted] = site_ids_.try_emplace(std::string(label), static_cast<uint32_t>(sites_.size()));
  if (inserted) sites_.push_back({std::string(label), SiteColor(label)});
  return it->second;
}

void TimelineBuilder::SetStackSite(StackId stack, uint32_t site) {
  if (stack.value >= stack_site_.size()) stack_site_.resize(stack.value + 1, 0);
  stack_site_[stack.value] = site;
}

uint32_t TimelineBuilder::StackSite(const std::optional<StackId>& stack) const {
  if (!stack || stack->value >= stack_site_.size()) return 0;
  return stack_site_[stack->value];
}

TimelineBuilder::Device* TimelineBuilder::Get(uint32_t device, bool data) {
  if (only_ && *only_ != device) {
    // Remembered for the error message when only_device has no data.
    if (data && std::find(filtered_out_.begin(), filtered_out_.end(), device) == filtered_out_.end())
      filtered_out_.push_back(device);
    return nullptr;
  }
  // Consecutive events almost always belong to the same device.
  if (last_ && last_device_ == device) return last_;
  auto& d = devices_[device];
  if (!d) {
    d = std::make_unique<Device>(budget_);
    d->t.device = device;
    d->t.view = view_;
  }
  last_device_ = device;
  return last_ = d.get();
}

Status TimelineBuilder::OnEvent(const snapshot::TraceEvent& e) {
  using snapshot::Action;
  if (e.host) return OkStatus();
  Device* d = Get(e.device, true);
  if (!d) return OkStatus();
  Timeline& t = d->t;
  d->has_events = true;
  t.events = std::max(t.events, e.index + 1);
  const int64_t time = e.time_us.value_or(kNoTime);
  if (e.time_us) {
    if (t.first_time_us == kNoTime || *e.time_us < t.first_time_us) t.first_time_us = *e.time_us;
    if (t.last_time_us == kNoTime || *e.time_us > t.last_time_us) t.last_time_us = *e.time_us;
  }
  const bool segments = view_ == View::kSegments;
  if (segments && (e.action == Action::kSegmentMap || e.action == Action::kSegmentUnmap)) {
    // Expandable segments grow and shrink by mapping pages: reserved memory
    // follows each mapped range, and an unmap takes bytes from the ranges
    // it covers (from before recording where it covers none).
    const Step base{.idx = e.index, .time_us = time};
    const uint64_t end = RangeEnd(e.addr, e.size);
    if (e.size <= 0) return OkStatus();
    if (e.action == Action::kSegmentMap) {
      // Mapping a range that is mapped already: the older band stays, as
      // with an alloc at a live address.
      if (d->MappedBytes(e.addr, end) > 0) {
        ++t.alloc_over_live;
        RETURN_IF_ERROR(d->Unmap(e.addr, end, [](uint32_t, int64_t) { return OkStatus(); }));
      }
      if (d->next_alloc == UINT32_MAX)
        return InvalidInput(fmt::format("device {}: more than 4 billion allocations", e.device));
      const uint32_t site = StackSite(e.stack);
      d->mapped.emplace(e.addr, Device::Mapped{end, d->next_alloc++, site});
      ++t.allocs;
      Step s = base;
      s.size = e.size;
      s.ref = site;
      s.kind = Step::kAlloc;
      return d->Append(s, e.time_us.has_value());
    }
    // One step per mapped range it cuts, all but the last marked partial:
    // the picture has no instant inside one event.
    int64_t before_recording = e.size;
    std::optional<Step> held;
    auto emit = [&](Step s) {
      Status st = OkStatus();
      if (held) {
        held->partial = 1;
        st = d->Append(*held, e.time_us.has_value());
      }
      held = s;
      return st;
    };
    RETURN_IF_ERROR(d->Unmap(e.addr, end, [&](uint32_t number, int64_t bytes) {
      before_recording -= bytes;
      Step s = base;
      s.size = bytes;
      s.ref = number;
      s.kind = Step::kShrink;
      return emit(s);
    }));
    ++t.frees;
    if (before_recording > 0) {
      Step s = base;
      s.size = before_recording;
      s.ref = static_cast<uint32_t>(d->initial_frees.size());
      s.kind = Step::kFreeInitial;
      d->initial_frees.push_back({before_recording, StackSite(e.stack)});
      RETURN_IF_ERROR(emit(s));
    }
    return d->Append(*held, e.time_us.has_value());
  }
  const bool is_alloc = e.action == (segments ? Action::kSegmentAlloc : Action::kAlloc);
  const bool is_free =
      segments ? e.action == Action::kSegmentFree : (e.action == Action::kFreeCompleted || e.action == Action::kFree);
  if (is_alloc || is_free) {
    if (!e.time_us) ++t.untimed_steps;
    Step s{.idx = e.index, .time_us = time, .size = e.size};
    if (is_alloc) {
      bool inserted = false;
      Device::Live& l = d->live.FindOrInsert(e.addr, &inserted);
      // As in the viewer: a second alloc at a live address replaces the
      // address's entry; the older band is never freed.
      if (!inserted) ++t.alloc_over_live;
      if (d->next_alloc == UINT32_MAX)
        return InvalidInput(fmt::format("device {}: more than 4 billion allocations", e.device));
      l = {d->next_alloc++, StackSite(e.stack), e.size};
      s.kind = Step::kAlloc;
      s.ref = l.site;
      ++t.allocs;
    } else if (Device::Live* l = d->live.Find(e.addr)) {
      s.kind = Step::kFree;
      s.ref = l->number;
      s.size = l->size;  // the band that leaves is the one that was allocated
      d->live.Erase(e.addr);
      ++t.frees;
    } else {
      s.kind = Step::kFreeInitial;
      s.ref = static_cast<uint32_t>(d->initial_frees.size());
      d->initial_frees.push_back({e.size, StackSite(e.stack)});
      ++t.frees;
    }
    return t.steps.Append(s);
  }
  Marker m{.idx = e.index, .time_us = time};
  switch (e.action) {
    case Action::kOom:
      m.kind = Marker::Kind::kOom;
      m.label = "OOM";
      break;
    case Action::kSnapshot:
      m.kind = Marker::Kind::kSnapshot;
      m.label = "snapshot";
      break;
    case Action::kAnnotate:
      m.kind = Marker::Kind::kAnnotate;
      m.label = std::string(e.user_metadata.empty() ? "annotate" : e.user_metadata);
      break;
    default:
      return OkStatus();
  }
  t.markers.push_back(std::move(m));
  return OkStatus();
}

void TimelineBuilder::OnSegment(const snapshot::Segment& s) {
  if (s.host || s.device < 0 || s.device > UINT32_MAX) return;
  Device* d = Get(static_cast<uint32_t>(s.device), true);
  if (!d) return;
  d->has_segments = true;
  if (view_ == View::kSegments) d->candidates.push_back({s.address, s.total_size, StackSite(s.stack)});
}

void TimelineBuilder::OnBlock(const snapshot::Block& b) {
  if (b.host || view_ != View::kActive || b.device < 0 || b.device > UINT32_MAX) return;
  if (b.state != snapshot::BlockState::kActiveAllocated) return;
  Device* d = Get(static_cast<uint32_t>(b.device), false);
  // The viewer draws an untraced active block at its requested size.
  if (d) d->candidates.push_back({b.address, b.requested_size, StackSite(b.stack)});
}

void TimelineBuilder::OnAnnotation(const snapshot::Annotation& a, std::string_view stage, std::string_view name) {
  Marker m{.kind = stage == "END" ? Marker::Kind::kAnnotationEnd : Marker::Kind::kAnnotationStart,
           .time_us = a.time_us.value_or(kNoTime),
           .label = std::string(name)};
  if (!a.device) {
    all_device_markers_.push_back(std::move(m));
  } else if (*a.device >= 0 && *a.device <= UINT32_MAX) {
    if (Device* d = Get(static_cast<uint32_t>(*a.device), false)) d->t.markers.push_back(std::move(m));
  }
}

bool TimelineBuilder::Empty() const {
  if (!filtered_out_.empty()) return false;
  for (const auto& [id, dev] : devices_)
    if (dev->has_events || dev->has_segments) return false;
  return true;
}

StatusOr<Timeline> TimelineBuilder::Finish(std::optional<uint32_t> device) {
  std::string have;
  Device* d = nullptr;
  for (auto& [id, dev] : devices_) {
    if (!dev->has_events && !dev->has_segments) continue;
    have += fmt::format("{}{}", have.empty() ? "" : ", ", id);
    if (device ? id == *device : (!d || (dev->has_events && !d->has_events))) d = dev.get();
  }
  std::sort(filtered_out_.begin(), filtered_out_.end());
  for (uint32_t id : filtered_out_) have += fmt::format("{}{}", have.empty() ? "" : ", ", id);
  if (have.empty()) return InvalidInput("no trace events or segments to draw");
  if (!d || (device && d->t.device != *device))
    return InvalidInput(fmt::format("device {} has no trace events or segments (devices: {})", *device, have));
  Timeline& t = d->t;
  // The viewer's initially_allocated list is [frees without alloc in trace
  // order..., untraced blocks in file order...], reversed before stacking:
  // bottom to top, the last block first and the first such free on top.
  for (auto it = d->candidates.rbegin(); it != d->candidates.rend(); ++it) {
    if (d->live.Find(it->addr)) continue;  // allocated in the trace and still live: drawn from there
    // An expandable segment's pages mapped in the trace are drawn from their
    // segment_map; only the rest was there from the start.
    const int64_t rest = it->size - static_cast<int64_t>(d->MappedBytes(it->addr, RangeEnd(it->addr, it->size)));
    if (rest <= 0) continue;
    t.initial.push_back({rest, it->site});
    ++t.initial_blocks;
  }
  t.initial_frees = d->initial_frees.size();
  for (auto it = d->initial_frees.rbegin(); it != d->initial_frees.rend(); ++it) t.initial.push_back(*it);
  for (Marker& m : all_device_markers_) t.markers.push_back(std::move(m));
  t.sites = std::move(sites_);
  return std::move(t);
}

// ---------------------------------------------------------------- raster

namespace {

// The live stack during replay: bands in stack order in slots, with a
// Fenwick tree of bytes and bytes × colour so any byte offset's band and the
// colour mass below it are found in O(log n). Slots are handed out in
// stacking order; when they run out, live bands are compacted to the front,
// so memory follows the live count, not the allocation count.
class Stack {
 public:
  explicit Stack(const std::vector<Site>& sites) : sites_(sites) { Reset(1024); }

  // `logical` must grow with each push: it is the band's stacking rank.
  void Push(uint64_t logical, int64_t size, uint32_t site) {
    if (next_ == cap_) Compact();
    size_t slot = next_++;
    logical_[slot] = logical;
    size_[slot] = size;
    site_[slot] = site;
    live_[slot] = true;
    ++live_count_;
    Add(slot, size, site);
    total_ += size;
  }
  // False if no live band has this rank (a free of a band never pushed).
  bool Pop(uint64_t logical) {
    auto end = logical_.begin() + static_cast<ptrdiff_t>(next_);
    auto it = std::lower_bound(logical_.begin(), end, logical);
    if (it == end || *it != logical) return false;
    size_t slot = static_cast<size_t>(it - logical_.begin());
    if (!live_[slot]) return false;
    live_[slot] = false;
    --live_count_;
    Add(slot, -size_[slot], site_[slot]);
    total_ -= size_[slot];
    size_[slot] = 0;
    return true;
  }
  // Takes up to `bytes` from a live band (a segment_unmap of part of a
  // mapped range); the band leaves when nothing is left. False if no live
  // band has this rank.
  bool Shrink(uint64_t logical, int64_t bytes) {
    auto end = logical_.begin() + static_cast<ptrdiff_t>(next_);
    auto it = std::lower_bound(logical_.begin(), end, logical);
    if (it == end || *it != logical) return false;
    size_t slot = static_cast<size_t>(it - logical_.begin());
    if (!live_[slot]) return false;
    bytes = std::min(bytes, size_[slot]);
    Add(slot, -bytes, site_[slot]);
    total_ -= bytes;
    size_[slot] -= bytes;
    if (size_[slot] == 0) {
      live_[slot] = false;
      --live_count_;
    }
    return true;
  }
  int64_t total() const { return total_; }

  struct Mass {
    int64_t r = 0, g = 0, b = 0;
  };
  // Colour mass (bytes × channel) of the stack from 0 up to byte `offset`.
  Mass Below(int64_t offset) const {
    size_t pos = 0;
    int64_t rem = offset;
    Mass m;
    for (size_t step = top_bit_; step; step >>= 1) {
      size_t next = pos + step;
      if (next <= cap_ && tree_[next].bytes <= rem) {
        pos = next;
        rem -= tree_[next].bytes;
        m.r += tree_[next].r;
        m.g += tree_[next].g;
        m.b += tree_[next].b;
      }
    }
    // Slots 1..pos lie wholly below `offset`; slot pos+1 covers the rest.
    if (rem > 0 && pos < cap_) {
      render::Rgb c = sites_[site_[pos]].color;
      m.r += rem * c.r;
      m.g += rem * c.g;
      m.b += rem * c.b;
    }
    return m;
  }
  // Bytes per site over the live bands.
  void BytesBySite(std::vector<int64_t>* out) const {
    out->assign(sites_.size(), 0);
    for (size_t i = 0; i < next_; ++i)
      if (live_[i]) (*out)[site_[i]] += size_[i];
  }

 private:
  struct Node {
    int64_t bytes = 0, r = 0, g = 0, b = 0;
  };
  void Add(size_t slot, int64_t bytes, uint32_t site) {
    render::Rgb c = sites_[site].color;
    for (size_t i = slot + 1; i <= cap_; i += i & (~i + 1)) {
      tree_[i].bytes += bytes;
      tree_[i].r += bytes * c.r;
      tree_[i].g += bytes * c.g;
      tree_[i].b += bytes * c.b;
    }
  }
  void Reset(size_t cap) {
    cap_ = cap;
    logical_.assign(cap, 0);
    size_.assign(cap, 0);
    site_.assign(cap, 0);
    live_.assign(cap, false);
    tree_.assign(cap + 1, Node{});
    top_bit_ = 1;
    while (top_bit_ * 2 <= cap_) top_bit_ *= 2;
  }
  void Compact() {
    std::vector<uint64_t> logical;
    std::vector<int64_t> size;
    std::vector<uint32_t> site;
    logical.reserve(live_count_);
    size.reserve(live_count_);
    site.reserve(live_count_);
    for (size_t i = 0; i < next_; ++i) {
      if (!live_[i]) continue;
      logical.push_back(logical_[i]);
      size.push_back(size_[i]);
      site.push_back(site_[i]);
    }
    Reset(std::max<size_t>(1024, 2 * live_count_ + 1024));
    next_ = logical.size();
    for (size_t i = 0; i < next_; ++i) {
      logical_[i] = logical[i];
      size_[i] = size[i];
      site_[i] = site[i];
      live_[i] = true;
      render::Rgb c = sites_[site[i]].color;
      tree_[i + 1] = {size[i], size[i] * c.r, size[i] * c.g, size[i] * c.b};
    }
    // Linear-time Fenwick build: each node passes its sum to its parent.
    for (size_t i = 1; i <= cap_; ++i) {
      size_t parent = i + (i & (~i + 1));
      if (parent > cap_) continue;
      tree_[parent].bytes += tree_[i].bytes;
      tree_[parent].r += tree_[i].r;
      tree_[parent].g += tree_[i].g;
      tree_[parent].b += tree_[i].b;
    }
  }

  const std::vector<Site>& sites_;
  size_t cap_ = 0, next_ = 0, live_count_ = 0, top_bit_ = 1;
  int64_t total_ = 0;
  std::vector<uint64_t> logical_;
  std::vector<int64_t> size_;
  std::vector<uint32_t> site_;
  std::vector<bool> live_;
  std::vector<Node> tree_;
};

// Where a column is drawn: the instant with the most live bytes in its span.
struct Instant {
  int64_t bytes = 0;
  int64_t step = -1;  // ordinal of the step after which it holds; -1 = initial state
  uint64_t idx = 0;
  int64_t time_us = kNoTime;
};

}  // namespace

std::string WindowFlags(const std::optional<double>& from, const std::optional<double>& to) {
  std::string given = from ? fmt::format("--from {}", *from) : "";
  if (to) given += fmt::format("{}--to {}", given.empty() ? "" : " ", *to);
  return given;
}

StatusOr<Raster> Rasterize(const Timeline& t, const RasterOptions& o) {
  const int width = o.width, height = o.height;
  if (width < 1 || height < 1 || width > render::kMaxImageSide || height > render::kMaxImageSide)
    return UsageError(fmt::format("plot area {}x{} is out of range", width, height));
  const bool by_time = o.x == XAxis::kTime;
  if (by_time && (t.untimed_steps > 0 || t.first_time_us == kNoTime))
    return InvalidInput(fmt::format("device {}: {} of {} allocations and frees have no time_us; use --x event",
                                    t.device, t.untimed_steps, t.steps.size()));

  // Axis units: event index, or seconds since the device's first timed event.
  Raster out;
  const double origin = by_time ? static_cast<double>(t.first_time_us) : 0.0;
  const double scale = by_time ? 1e-6 : 1.0;
  double full_end = by_time ? (t.last_time_us - t.first_time_us) * scale : static_cast<double>(t.events);
  if (full_end <= 0) full_end = 1;
  out.x0 = o.from.value_or(0.0);
  out.x1 = o.to.value_or(full_end);
  // A window that holds none of the trace (backwards, or wholly past its end
  // or before its start) is refused: drawn, it would be a flat picture of
  // nothing that looks like data.
  if (!(out.x1 > out.x0) || out.x0 >= full_end || out.x1 <= 0) {
    return UsageError(fmt::format("empty window: {}: device {}'s trace spans {}", WindowFlags(o.from, o.to), t.device,
                                  by_time ? fmt::format("0 to {:.3f} s (--x time)", full_end)
                                          : fmt::format("events 0 to {} (--x event)", full_end)));
  }
  const double per_column = (out.x1 - out.x0) / width;
  // Column of an axis value; -1 before the window, width after it.
  auto column = [&](double axis) -> int {
    if (axis < out.x0) return -1;
    if (axis > out.x1) return width;
    return std::min(width - 1, static_cast<int>((axis - out.x0) / per_column));
  };
  auto axis_of = [&](uint64_t idx, int64_t time_us) {
    return by_time ? (static_cast<double>(time_us) - origin) * scale : static_cast<double>(idx);
  };

  // Live bytes times a colour channel (< 2^8) must fit the stack's int64
  // sums; past 2^55 the sizes cannot be real anyway (the reader refuses one
  // above 2^50, but a database row or many never-freed ones could get here).
  constexpr int64_t kMaxLive = int64_t{1} << 55;
  auto refuse = [&](std::string_view what, std::optional<uint64_t> idx) {
    return InvalidInput(fmt::format("device {}: {} at {}: sizes that cannot be real", t.device, what,
                                    idx ? fmt::format("event {}", *idx) : std::string("the start")));
  };
  int64_t initial_bytes = 0;
  for (const InitialElement& e : t.initial) {
    if (e.size < 0) return refuse(fmt::format("size {}", e.size), std::nullopt);
    if (e.size > kMaxLive - initial_bytes) return refuse("more than 2^55 bytes (32 PiB) live", std::nullopt);
    initial_bytes += e.size;
  }

  // Pass 1 over the steps: each column's instant of most live bytes.
  // Columns are made monotone (a time that goes backwards stays in the
  // current column), so the chosen instants are in step order for pass 2.
  std::vector<Instant> best(static_cast<size_t>(width));
  // External annotations carry a time only; on the event axis they sit at
  // the first step at or after their time.
  std::vector<std::pair<int64_t, const Marker*>> untraced;
  if (!by_time) {
    for (const Marker& m : t.markers)
      if (!m.idx && m.time_us != kNoTime) untraced.emplace_back(m.time_us, &m);
    std::sort(untraced.begin(), untraced.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  std::vector<std::pair<uint64_t, const Marker*>> placed;
  size_t next_untraced = 0;
  {
    StepLog::Cursor cursor(t.steps);
    Step s;
    int64_t live = initial_bytes, k = -1;
    uint64_t last_idx = 0;
    int64_t last_time = kNoTime;
    int open = -1, c = -1;
    while (cursor.Next(&s)) {
      for (; next_untraced < untraced.size() && s.time_us != kNoTime && untraced[next_untraced].first <= s.time_us;
           ++next_untraced)
        placed.emplace_back(s.idx, untraced[next_untraced].second);
      const double axis = axis_of(s.idx, s.time_us);
      c = std::max(c, column(axis));
      if (c >= width) break;
      for (; open < c; ++open) {
        // A column is entered with the state before this step; that state
        // covers part of the column only if the step is past its left edge.
        // The initial state always counts for the first column of a window
        // that holds the first step: it is the memory held at the start,
        // an instant like any other (issue #16), even when the first step
        // sits on the left edge.
        const int entered = open + 1;
        const bool covers = entered < c || axis > out.x0 + entered * per_column || (k < 0 && entered == 0);
        best[static_cast<size_t>(entered)] = {covers ? live : INT64_MIN, k, last_idx, last_time};
      }
      // 0 <= live <= kMaxLive throughout, so nothing below overflows.
      if (s.size < 0) return refuse(fmt::format("size {}", s.size), s.idx);
      if (s.kind == Step::kAlloc) {
        if (s.size > kMaxLive - live) return refuse("more than 2^55 bytes (32 PiB) live", s.idx);
        live += s.size;
      } else {
        live -= s.size;
        if (live < 0) return refuse(fmt::format("{} bytes live", live), s.idx);
      }
      ++k;
      last_idx = s.idx;
      last_time = s.time_us;
      if (c >= 0) {
        out.steps_in_window += !s.partial;
        if (!s.partial && live > best[static_cast<size_t>(c)].bytes)
          best[static_cast<size_t>(c)] = {live, k, s.idx, s.time_us};
      }
    }
    RETURN_IF_ERROR(cursor.status());
    if (c < width) {
      // The whole trace was read: annotations after its last step sit at
      // its end (the right edge of a window that reaches it).
      for (; next_untraced < untraced.size(); ++next_untraced) placed.emplace_back(t.events, untraced[next_untraced].second);
    }
    for (; open < width - 1; ++open) best[static_cast<size_t>(open + 1)] = {live, k, last_idx, last_time};
  }
  out.column_bytes.resize(static_cast<size_t>(width));
  for (int c = 0; c < width; ++c) {
    out.column_bytes[static_cast<size_t>(c)] = best[static_cast<size_t>(c)].bytes;
    if (best[static_cast<size_t>(c)].bytes > out.peak_bytes) {
      out.peak_bytes = best[static_cast<size_t>(c)].bytes;
      out.peak_column = c;
    }
  }
  const Instant& peak = best[static_cast<size_t>(out.peak_column)];
  if (peak.step >= 0) {
    out.peak_idx = peak.idx;
    out.peak_time_us = peak.time_us;
  }
  // 5% headroom above the peak, and at least one byte per pixel row.
  out.y_max = std::max<int64_t>(height, out.peak_bytes + out.peak_bytes / 20);

  // Pass 2: replay with the stack; draw each column at its instant.
  out.plot = render::Image(width, height, o.background);
  std::vector<int64_t> bound(static_cast<size_t>(height) + 1);
  for (int r = 0; r <= height; ++r)
    bound[static_cast<size_t>(r)] = std::llround(static_cast<double>(out.y_max) * r / height);
  Stack stack(t.sites);
  const uint64_t base = t.initial.size();
  for (size_t i = 0; i < t.initial.size(); ++i) stack.Push(i, t.initial[i].size, t.initial[i].site);
  const render::Rgb bg = o.background;
  auto draw_column = [&](int c) {
    const int64_t total = std::max<int64_t>(0, stack.total());
    Stack::Mass lo = stack.Below(0);
    for (int r = 0; r < height && bound[static_cast<size_t>(r)] < total; ++r) {
      const int64_t b0 = bound[static_cast<size_t>(r)], b1 = bound[static_cast<size_t>(r) + 1];
      const int64_t top = std::min(b1, total);
      Stack::Mass hi = stack.Below(top);
      // Bytes-weighted blend of the bands in [b0, top), background above.
      const int64_t pixel = b1 - b0, empty = pixel - (top - b0);
      auto channel = [&](int64_t mass, uint8_t under) {
        return static_cast<uint8_t>((mass + empty * under + pixel / 2) / pixel);
      };
      uint8_t* p = out.plot.Row(height - 1 - r) + c * 3;
      p[0] = channel(hi.r - lo.r, bg.r);
      p[1] = channel(hi.g - lo.g, bg.g);
      p[2] = channel(hi.b - lo.b, bg.b);
      lo = hi;
    }
  };
  auto copy_column = [&](int from, int to) {
    for (int y = 0; y < height; ++y) std::memcpy(out.plot.Row(y) + to * 3, out.plot.Row(y) + from * 3, 3);
  };
  std::vector<int64_t> by_site;
  int next = 0;
  auto draw_due = [&](int64_t k) {
    for (; next < width && best[static_cast<size_t>(next)].step == k; ++next) {
      if (next > 0 && best[static_cast<size_t>(next - 1)].step == k) {
        copy_column(next - 1, next);
      } else {
        draw_column(next);
      }
      if (next == out.peak_column) stack.BytesBySite(&by_site);
    }
  };
  draw_due(-1);
  {
    StepLog::Cursor cursor(t.steps);
    Step s;
    int64_t k = -1;
    uint64_t allocs = 0;
    while (next < width && cursor.Next(&s)) {
      ++k;
      // Ranks: the initial bands first, then allocations in alloc order.
      if (s.kind == Step::kAlloc) {
        stack.Push(base + allocs++, s.size, s.ref);
      } else if (s.kind == Step::kFree) {
        stack.Pop(base + s.ref);
      } else if (s.kind == Step::kShrink) {
        stack.Shrink(base + s.ref, s.size);
      } else {
        stack.Pop(t.initial.size() - 1 - s.ref);  // initial frees sit on top, in reverse trace order
      }
      draw_due(k);
    }
    RETURN_IF_ERROR(cursor.status());
  }

  // Legend: the call sites holding most bytes at the peak.
  std::vector<std::pair<uint32_t, int64_t>> sites;
  for (uint32_t i = 0; i < by_site.size(); ++i)
    if (by_site[i] > 0) sites.emplace_back(i, by_site[i]);
  std::sort(sites.begin(), sites.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (sites.size() > o.legend) sites.resize(o.legend);
  out.peak_sites = std::move(sites);

  for (const Marker& m : t.markers) {
    if (by_time && m.time_us == kNoTime) continue;
    if (!by_time && !m.idx) continue;
    int c = column(axis_of(m.idx.value_or(0), m.time_us));
    if (by_time && !m.idx) {
      // An external annotation outside the trace's time span sits at the
      // trace's edge, as on the event axis, when the window reaches it.
      if (c < 0 && !o.from) c = 0;
      if (c >= width && !o.to) c = width - 1;
    }
    if (c >= 0 && c < width) out.markers.emplace_back(c, &m);
  }
  for (const auto& [idx, m] : placed) {
    int c = column(static_cast<double>(idx));
    if (c >= 0 && c < width) out.markers.emplace_back(c, m);
  }
  std::stable_sort(out.markers.begin(), out.markers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace memtk::timeline
