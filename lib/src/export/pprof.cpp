// `convert --to pprof`: a gzip'd perftools.profiles.Profile (export/profile.proto).
//
// One pass: analysis::FlameSink follows the peak of every device (the same
// PeakTracker as `memtk stats`) and adds up every alloc event per stack, so
// memory is flat in the number of events. Each distinct (device, visible
// stack) becomes one Sample with four values:
//   inuse_space / inuse_objects   live at that device's peak
//   alloc_space / alloc_objects   every allocation of the trace
// and a "device" label ("cuda:N"), so `-tagfocus device=cuda:1` (pprof) or a
// label selector (Pyroscope) picks a device; across devices inuse_space adds
// peaks reached at different instants, which the comments say. Strings,
// functions (one per name and file) and locations (one per distinct frame)
// are interned, so the profile is as large as the distinct stacks, not the
// trace. The encoding is protobuf's own (profile.pb.h, from profile.proto by
// Debian's protoc).
#include "export/pprof.h"

#include <fmt/format.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <map>
#include <unordered_map>

#include "export/json_file.h"
#include "memtk/base/escape.h"
#include "memtk/base/format.h"

namespace memtk::exports {

namespace {

class StringTable {
 public:
  explicit StringTable(pb::Profile* p) : p_(p) { Get(""); }
  // proto3 strings must be UTF-8 (a parser refuses the file otherwise), and
  // a profile viewer is a terminal of sorts: bytes that are not valid UTF-8
  // and control characters are escaped as everywhere else (\xNN).
  int64_t Get(const std::string& s) {
    auto [it, inserted] = index_.try_emplace(s, p_->string_table_size());
    if (inserted) p_->add_string_table(NeedsEscape(s) ? EscapeControl(s) : s);
    return it->second;
  }

 private:
  pb::Profile* p_;
  std::unordered_map<std::string, int64_t> index_;
};

}  // namespace

bool WritePprof(const analysis::FlameProfile& flame, google::protobuf::io::ZeroCopyOutputStream* out,
                PprofCounts* counts) {
  // Everything but the samples goes in one message first; then each sample
  // as a message of its own. Serialized protobuf messages concatenate into
  // their merge (repeated fields append), so the file is one Profile while
  // memory holds one sample at a time, not a copy of every stack.
  pb::Profile head;
  pb::Profile* profile = &head;
  StringTable strings(profile);
  for (const char* type : {"inuse_space", "inuse_objects", "alloc_space", "alloc_objects"}) {
    pb::ValueType* vt = profile->add_sample_type();
    vt->set_type(strings.Get(type));
    vt->set_unit(strings.Get(std::string_view(type).ends_with("space") ? "bytes" : "count"));
  }
  profile->set_default_sample_type(strings.Get("inuse_space"));
  pb::ValueType* period = profile->mutable_period_type();
  period->set_type(strings.Get("space"));
  period->set_unit(strings.Get("bytes"));
  profile->set_period(1);
  for (const analysis::FlameDevice& d : flame.devices) {
    std::string at = d.event_idx ? fmt::format("after event {}", *d.event_idx) : "before the first event";
    profile->add_comment(strings.Get(fmt::format("cuda:{}: inuse at its peak ({}, {} bytes), {} allocations of {}",
                                                 d.device, at, d.bytes, d.alloc_count, FormatBytes(d.alloc_bytes))));
  }
  // Locations and functions per distinct frame; ids are 1-based.
  std::vector<uint64_t> location_of(flame.frames.size(), 0);
  std::map<std::pair<std::string, std::string>, uint64_t> functions;  // (name, file) -> id
  auto location = [&](uint32_t frame) {
    if (location_of[frame]) return location_of[frame];
    const analysis::FlameFrame& f = flame.frames[frame];
    // A frame without a file (the "<no frames>" placeholder) is named by its label.
    const std::string name = f.filename.empty() && f.name.empty() ? f.label : f.name;
    auto [it, inserted] = functions.try_emplace({name, f.filename}, functions.size() + 1);
    if (inserted) {
      pb::Function* fn = profile->add_function();
      fn->set_id(it->second);
      fn->set_name(strings.Get(name));
      fn->set_system_name(fn->name());
      fn->set_filename(strings.Get(f.filename));
    }
    pb::Location* loc = profile->add_location();
    loc->set_id(static_cast<uint64_t>(profile->location_size()));
    pb::Line* line = loc->add_line();
    line->set_function_id(it->second);
    line->set_line(f.line);
    return location_of[frame] = loc->id();
  };
  auto empty = [](const analysis::FlameStack& s) {
    return s.bytes == 0 && s.count == 0 && s.alloc_bytes == 0 && s.alloc_count == 0;
  };
  const int64_t device_key = strings.Get("device");
  std::map<uint32_t, int64_t> device_value;
  for (const analysis::FlameStack& s : flame.stacks) {
    if (empty(s)) continue;
    for (auto it = s.frames.rbegin(); it != s.frames.rend(); ++it) location(*it);
    auto [dv, inserted] = device_value.try_emplace(s.device, 0);
    if (inserted) dv->second = strings.Get(fmt::format("cuda:{}", s.device));
  }
  counts->locations = head.location_size();
  if (!head.SerializeToZeroCopyStream(out)) return false;
  head.Clear();
  pb::Profile one;
  pb::Sample* sample = one.add_sample();
  for (const analysis::FlameStack& s : flame.stacks) {
    if (empty(s)) continue;
    sample->Clear();
    for (auto it = s.frames.rbegin(); it != s.frames.rend(); ++it) sample->add_location_id(location_of[*it]);
    sample->add_value(s.bytes);
    sample->add_value(static_cast<int64_t>(s.count));
    sample->add_value(s.alloc_bytes);
    sample->add_value(static_cast<int64_t>(s.alloc_count));
    pb::Label* label = sample->add_label();
    label->set_key(device_key);
    label->set_str(device_value[s.device]);
    if (!one.SerializeToZeroCopyStream(out)) return false;
    ++counts->samples;
  }
  return true;
}

void FlameToPprof(const analysis::FlameProfile& flame, pb::Profile* profile) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    PprofCounts counts;
    WritePprof(flame, &out, &counts);
  }
  profile->ParseFromString(bytes);
}

namespace {

// protobuf's copying stream over memtk's OutputStream (whose errors are
// sticky and reported by Finish()).
class StreamAdaptor : public google::protobuf::io::CopyingOutputStream {
 public:
  explicit StreamAdaptor(io::OutputStream* out) : out_(out) {}
  bool Write(const void* buffer, int size) override {
    out_->Append(std::string_view(static_cast<const char*>(buffer), static_cast<size_t>(size)));
    return true;
  }

 private:
  io::OutputStream* out_;
};

class PprofExporter : public Exporter {
 public:
  PprofExporter(std::string input, std::string write_path, std::string target, const ExportOptions& o,
                snapshot::FrameRules rules)
      : input_(std::move(input)),
        write_path_(std::move(write_path)),
        target_(std::move(target)),
        sink_(Options(o), std::move(rules)) {}

  StatusOr<snapshot::SnapshotSink*> Pass(int) override { return &sink_; }

  Status Finish(ExportReport* report) override {
    ASSIGN_OR_RETURN(analysis::FlameProfile flame, sink_.Take(input_));
    // pprof files are gzip'd whatever their name (the format says so). The
    // encoding streams into the buffered gzip writer.
    ASSIGN_OR_RETURN(auto file, JsonFile::Open(write_path_, target_, /*gzip=*/true));
    PprofCounts counts;
    {
      StreamAdaptor sink(&file->stream());
      google::protobuf::io::CopyingOutputStreamAdaptor out(&sink);
      if (!WritePprof(flame, &out, &counts)) return IoError(fmt::format("{}: cannot encode the profile", target_));
    }
    const uint64_t samples = counts.samples, locations = counts.locations;
    uint64_t raw = 0, written = 0;
    RETURN_IF_ERROR(file->Finish(&raw, &written));
    report->detail = fmt::format("pprof profile: {} samples, {} locations, {}", samples, locations,
                                 written ? FormatBytes(static_cast<int64_t>(written)) + " gzip'd"
                                         : FormatBytes(static_cast<int64_t>(raw)) + " before gzip");
    return OkStatus();
  }

  const snapshot::ReadSummary& read() const override { return sink_.summary(); }

 private:
  static analysis::FlameOptions Options(const ExportOptions& o) {
    analysis::FlameOptions fo;
    fo.at = {analysis::Instant::kPeak, 0};
    fo.with_allocs = true;
    if (o.device) fo.device = static_cast<uint32_t>(*o.device);
    fo.frames.all_frames = o.all_frames;
    return fo;
  }

  std::string input_, write_path_, target_;
  analysis::FlameSink sink_;
};

}  // namespace

StatusOr<std::unique_ptr<Exporter>> MakePprofExporter(const std::string& input, const std::string& write_path,
                                                      const std::string& target, const ExportOptions& options) {
  analysis::FlameOptions fo;
  fo.frames.all_frames = options.all_frames;
  ASSIGN_OR_RETURN(snapshot::FrameRules rules, snapshot::FrameRules::Make(fo.frames));
  return std::unique_ptr<Exporter>(std::make_unique<PprofExporter>(input, write_path, target, options, rules));
}

}  // namespace memtk::exports
