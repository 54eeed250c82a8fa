#include "export/chrome_trace.h"

#include <rapidjson/writer.h>

#include <algorithm>
#include <vector>

#include "export/json_file.h"
#include "memtk/base/flat_map.h"
#include "memtk/base/wrap.h"
#include "memtk/snapshot/frame_rules.h"
#include "memtk/version.h"

namespace memtk::exports {

namespace {

using snapshot::Action;
using Writer = rapidjson::Writer<io::OutputStream>;

// What one device's counters start from, learned in the first pass.
struct DeviceBase {
  uint64_t events = 0;
  uint64_t annotations = 0;
  bool has_segments = false;
  int64_t final_reserved = 0, final_allocated = 0;  // from `segments`
  int64_t net_reserved = 0, net_allocated = 0;      // change over the trace
  int64_t min_reserved = 0, min_allocated = 0;      // lowest running change
  int64_t start_reserved = 0, start_allocated = 0;  // the result
};

// The counter deltas of one event: (allocated, reserved).
std::pair<int64_t, int64_t> Delta(const snapshot::TraceEvent& e) {
  switch (e.action) {
    case Action::kAlloc:
      return {e.size, 0};
    case Action::kFreeCompleted:
    case Action::kFree:
      return {WrapSub(0, e.size), 0};
    case Action::kSegmentAlloc:
    case Action::kSegmentMap:
      return {0, e.size};
    case Action::kSegmentFree:
    case Action::kSegmentUnmap:
      return {0, WrapSub(0, e.size)};
    default:
      return {0, 0};
  }
}

bool Wanted(const ChromeTraceOptions& o, int64_t device) { return !o.device || *o.device == device; }

// Pass 1: per device, the segments' final totals and the trace's net change.
class BaseSink : public snapshot::SnapshotSink {
 public:
  explicit BaseSink(const ChromeTraceOptions& o) : o_(o) {}

  Status OnSegment(const snapshot::Segment& s) override {
    if (s.host || s.device < 0 || !Wanted(o_, s.device)) return OkStatus();
    DeviceBase& d = devices_.FindOrInsert(static_cast<uint64_t>(s.device));
    d.has_segments = true;
    WrapAddTo(&d.final_reserved, s.total_size);
    WrapAddTo(&d.final_allocated, s.allocated_size);
    return OkStatus();
  }
  Status OnEvent(const snapshot::TraceEvent& e) override {
    if (e.host || !Wanted(o_, e.device)) return OkStatus();
    DeviceBase& d = devices_.FindOrInsert(e.device);
    ++d.events;
    if (e.time_us) has_time_ = true;
    auto [da, dr] = Delta(e);
    WrapAddTo(&d.net_allocated, da);
    WrapAddTo(&d.net_reserved, dr);
    d.min_allocated = std::min(d.min_allocated, d.net_allocated);
    d.min_reserved = std::min(d.min_reserved, d.net_reserved);
    return OkStatus();
  }
  Status OnAnnotation(const snapshot::Annotation& a) override {
    int64_t device = a.device.value_or(0);
    if (device >= 0 && Wanted(o_, device)) ++devices_.FindOrInsert(static_cast<uint64_t>(device)).annotations;
    return OkStatus();
  }

  FlatMap<DeviceBase>& devices() { return devices_; }
  bool has_time() const { return has_time_; }

 private:
  const ChromeTraceOptions& o_;
  FlatMap<DeviceBase> devices_;
  bool has_time_ = false;
};

// Pass 2: the trace events, written as they come.
class TraceSink : public snapshot::SnapshotSink {
 public:
  TraceSink(JsonFile* file, const ChromeTraceOptions& o, std::vector<std::pair<uint64_t, DeviceBase>> devices,
            bool has_time, std::string input, ChromeTraceSummary* summary)
      : out_(file->stream()), w_(out_), o_(o), has_time_(has_time), input_(std::move(input)), summary_(summary) {
    for (auto& [id, base] : devices) {
      State& s = state_.FindOrInsert(id);
      s.base = base;
      s.allocated = base.start_allocated;
      s.reserved = base.start_reserved;
    }
    devices_ = std::move(devices);
  }

  Status OnBegin(const snapshot::Tables& t) override {
    t_ = &t;
    frames_.Reset(&t);
    w_.StartObject();
    w_.Key("traceEvents");
    w_.StartArray();
    for (const auto& [id, base] : devices_) {
      Metadata("process_name", id, -1, fmt::format("cuda:{}", id));
      Metadata("process_sort_index", id, -1, "", static_cast<int64_t>(id));
      if (base.events) Metadata("thread_name", id, 0, "allocator events");
      if (base.annotations) Metadata("thread_name", id, 1, "annotations");
    }
    return OkStatus();
  }

  Status OnEvent(const snapshot::TraceEvent& e) override {
    if (out_.closed()) return io::ClosedPipe();  // `-o - | head`: the rest would be written nowhere
    if (e.host || !Wanted(o_, e.device)) return OkStatus();
    State* s = state_.Find(e.device);
    if (s == nullptr) return OkStatus();  // cannot happen: pass 1 saw it
    int64_t ts = has_time_ ? (e.time_us ? *e.time_us : s->last_ts) : static_cast<int64_t>(e.index);
    s->last_ts = ts;
    if (!s->started) {
      // The tracks start at the derived baseline, at the first event.
      s->started = true;
      Counter("allocated", e.device, ts, s->allocated, nullptr);
      Counter("reserved", e.device, ts, s->reserved, nullptr);
    }
    auto [da, dr] = Delta(e);
    if (da) {
      WrapAddTo(&s->allocated, da);
      Counter("allocated", e.device, ts, s->allocated, o_.with_stacks ? &e : nullptr);
    }
    if (dr) {
      WrapAddTo(&s->reserved, dr);
      Counter("reserved", e.device, ts, s->reserved, nullptr);
    }
    if (e.action == Action::kOom || e.action == Action::kSnapshot || e.action == Action::kAnnotate) {
      Instant(e, ts);
    }
    return OkStatus();
  }

  Status OnAnnotation(const snapshot::Annotation& a) override {
    int64_t device = a.device.value_or(0);
    if (device < 0 || !Wanted(o_, device) || !a.time_us) return OkStatus();
    std::string_view stage = t_->String(a.stage);
    const char* ph = stage == "START" ? "B" : stage == "END" ? "E" : nullptr;
    if (ph == nullptr) return OkStatus();
    w_.StartObject();
    w_.Key("name");
    String(a.name == snapshot::kNoString ? "annotation" : t_->String(a.name));
    w_.Key("ph");
    w_.String(ph);
    w_.Key("pid");
    w_.Int64(device);
    w_.Key("tid");
    w_.Int(1);
    w_.Key("ts");
    w_.Int64(*a.time_us);
    w_.EndObject();
    if (*ph == 'B') ++summary_->slices;
    return OkStatus();
  }

  Status OnEnd(const snapshot::ReadSummary& read) override {
    summary_->read = read;
    w_.EndArray();
    w_.Key("displayTimeUnit");
    w_.String("ms");
    w_.Key("otherData");
    w_.StartObject();
    w_.Key("source");
    String(input_);
    w_.Key("generator");
    w_.String(fmt::format("memtk {}", kMemtkVersion).c_str());
    w_.Key("ts");
    w_.String(has_time_ ? "time_us" : "event index in its device trace");
    w_.EndObject();
    w_.EndObject();
    return OkStatus();
  }

 private:
  struct State {
    DeviceBase base;
    int64_t allocated = 0, reserved = 0;
    int64_t last_ts = 0;
    bool started = false;
  };

  void String(std::string_view s) { w_.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

  void Metadata(const char* name, uint64_t pid, int tid, std::string_view value, int64_t sort_index = -1) {
    w_.StartObject();
    w_.Key("name");
    w_.String(name);
    w_.Key("ph");
    w_.String("M");
    w_.Key("pid");
    w_.Uint64(pid);
    if (tid >= 0) {
      w_.Key("tid");
      w_.Int(tid);
    }
    w_.Key("args");
    w_.StartObject();
    if (sort_index >= 0) {
      w_.Key("sort_index");
      w_.Int64(sort_index);
    } else {
      w_.Key("name");
      String(value);
    }
    w_.EndObject();
    w_.EndObject();
  }

  void Counter(const char* name, uint64_t pid, int64_t ts, int64_t bytes, const snapshot::TraceEvent* site_of) {
    w_.StartObject();
    w_.Key("name");
    w_.String(name);
    w_.Key("ph");
    w_.String("C");
    w_.Key("pid");
    w_.Uint64(pid);
    w_.Key("ts");
    w_.Int64(ts);
    w_.Key("args");
    w_.StartObject();
    w_.Key("bytes");
    w_.Int64(bytes);
    if (site_of && site_of->stack) {
      w_.Key("site");
      String(Site(*site_of->stack));
    }
    w_.EndObject();
    w_.EndObject();
    ++summary_->counter_events;
  }

  void Instant(const snapshot::TraceEvent& e, int64_t ts) {
    w_.StartObject();
    w_.Key("name");
    String(t_->String(e.action_name));
    w_.Key("ph");
    w_.String("i");
    w_.Key("s");
    w_.String("p");
    w_.Key("pid");
    w_.Uint64(e.device);
    w_.Key("tid");
    w_.Int(0);
    w_.Key("ts");
    w_.Int64(ts);
    w_.Key("args");
    w_.StartObject();
    if (e.action == Action::kOom) {
      w_.Key("size");
      w_.Int64(e.size);
      if (e.device_free) {
        w_.Key("device_free");
        w_.Int64(*e.device_free);
      }
    }
    if (!e.user_metadata.empty()) {
      w_.Key("user_metadata");
      w_.RawValue(e.user_metadata.data(), e.user_metadata.size(), rapidjson::kObjectType);
    }
    if (e.stack && o_.with_stacks) {
      w_.Key("site");
      String(Site(*e.stack));
    }
    w_.EndObject();
    w_.EndObject();
    ++summary_->instant_events;
  }

  // Call sites are worked out once per distinct stack.
  std::string_view Site(StackId id) {
    if (id.value >= site_at_.size()) site_at_.resize(id.value + 1, {0, 0});
    auto& [at, len] = site_at_[id.value];
    if (len == 0) {
      // The built-in rule's user site (snapshot/frame_rules.h), as `stats` names it.
      const snapshot::Site& site = frames_.SiteOf(id);
      std::string text = site.frame ? frames_.SiteFrameLabel(site) : "?";
      at = sites_.size();
      sites_ += text;
      len = text.size();
    }
    return std::string_view(sites_).substr(at, len);
  }

  io::OutputStream& out_;
  Writer w_;
  const ChromeTraceOptions& o_;
  bool has_time_;
  std::string input_;
  ChromeTraceSummary* summary_;
  const snapshot::Tables* t_ = nullptr;
  snapshot::FrameClassifier frames_;
  std::vector<std::pair<uint64_t, DeviceBase>> devices_;
  FlatMap<State> state_;
  std::string sites_;
  std::vector<std::pair<uint64_t, uint32_t>> site_at_;
};

class ChromeTraceExporter : public Exporter {
 public:
  ChromeTraceExporter(std::string input, std::string write_path, std::string target, const ChromeTraceOptions& o)
      : input_(std::move(input)), write_path_(std::move(write_path)), target_(std::move(target)), o_(o), base_(o_) {}

  int passes() const override { return 2; }

  StatusOr<snapshot::SnapshotSink*> Pass(int pass) override {
    if (pass == 0) return &base_;
    std::vector<std::pair<uint64_t, DeviceBase>> devices;
    base_.devices().ForEach([&](uint64_t id, DeviceBase& d) {
      if (d.events == 0 && d.annotations == 0) return;
      // Before the trace = at the end minus what the trace changed; and never
      // so low that a running value would go negative.
      d.start_allocated =
          std::max(d.has_segments ? WrapSub(d.final_allocated, d.net_allocated) : 0, WrapSub(0, d.min_allocated));
      d.start_reserved =
          std::max(d.has_segments ? WrapSub(d.final_reserved, d.net_reserved) : 0, WrapSub(0, d.min_reserved));
      devices.emplace_back(id, d);
    });
    std::sort(devices.begin(), devices.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    if (o_.device && devices.empty())
      return InvalidInput(fmt::format("{}: device {} has no trace events", input_, *o_.device));
    summary_.devices = devices.size();
    summary_.time_from_index = !base_.has_time();
    ASSIGN_OR_RETURN(file_, JsonFile::Open(write_path_, target_));
    trace_ = std::make_unique<TraceSink>(file_.get(), o_, std::move(devices), base_.has_time(), input_, &summary_);
    return trace_.get();
  }

  Status Finish(ExportReport* report) override {
    RETURN_IF_ERROR(file_->Finish(&summary_.json_bytes, &summary_.file_bytes));
    const ChromeTraceSummary& s = summary_;
    report->detail =
        fmt::format("{} devices, {} counter events, {} instants, {} slices{}", s.devices, s.counter_events,
                    s.instant_events, s.slices, s.time_from_index ? " (no time_us: ts is the event index)" : "");
    return OkStatus();
  }
  const snapshot::ReadSummary& read() const override { return summary_.read; }

 private:
  std::string input_, write_path_, target_;
  ChromeTraceOptions o_;
  BaseSink base_;
  ChromeTraceSummary summary_;
  std::unique_ptr<JsonFile> file_;
  std::unique_ptr<TraceSink> trace_;
};

}  // namespace

std::unique_ptr<Exporter> MakeChromeTraceExporter(const std::string& input, const std::string& write_path,
                                                  const std::string& target, const ExportOptions& options) {
  ChromeTraceOptions o;
  o.device = options.device;
  o.with_stacks = options.with_stacks;
  return std::make_unique<ChromeTraceExporter>(input, write_path, target, o);
}

}  // namespace memtk::exports
