#include "export/snapshot_json.h"

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>
#include <functional>
#include <vector>

#include "export/json_file.h"
#include "memtk/base/format.h"

namespace memtk::exports {

namespace {

using snapshot::Tables;
using Writer = rapidjson::Writer<io::OutputStream>;

// Copies the members of a JSON object text (the `extra` of a record) into
// the object being written, dropping its braces. Inside a block's `history`
// entries, "stack_id": N (how the reader stores their frames) becomes
// "frames": [...] again.
class MemberCopier {
 public:
  MemberCopier(Writer* w, std::function<void(uint32_t)>* write_stack) : w_(w), write_stack_(write_stack) {}

  bool Null() {
    if (pending_stack_) {
      pending_stack_ = false;
      return w_->StartArray() && w_->EndArray();
    }
    return w_->Null();
  }
  bool Bool(bool b) { return w_->Bool(b); }
  bool Int(int i) { return w_->Int(i); }
  bool Uint(unsigned u) { return w_->Uint(u); }
  bool Int64(int64_t i) { return w_->Int64(i); }
  bool Uint64(uint64_t u) { return w_->Uint64(u); }
  bool Double(double d) { return w_->Double(d); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    if (pending_stack_) {
      pending_stack_ = false;
      uint32_t id = 0;
      std::from_chars(s, s + n, id);
      (*write_stack_)(id);
      return true;
    }
    // Verbatim: keeps integers beyond 64 bits and float spellings exact.
    return w_->RawValue(s, n, rapidjson::kNumberType);
  }
  bool String(const char* s, rapidjson::SizeType n, bool) { return w_->String(s, n); }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    std::string_view k(s, n);
    if (depth_ == 1) in_history_ = k == "history";
    if (in_history_ && depth_ == 3 && k == "stack_id") {
      pending_stack_ = true;
      return w_->Key("frames");
    }
    return w_->Key(s, n);
  }
  bool StartObject() { return depth_++ == 0 || w_->StartObject(); }
  bool EndObject(rapidjson::SizeType) { return --depth_ == 0 || w_->EndObject(); }
  bool StartArray() {
    ++depth_;
    return w_->StartArray();
  }
  bool EndArray(rapidjson::SizeType) {
    --depth_;
    return w_->EndArray();
  }

 private:
  Writer* w_;
  std::function<void(uint32_t)>* write_stack_;
  int depth_ = 0;
  bool in_history_ = false;
  bool pending_stack_ = false;
};

class JsonSink : public snapshot::SnapshotSink {
 public:
  JsonSink(JsonFile* file, std::string input, snapshot::ReadSummary* read)
      : file_(file), w_(file->stream()), input_(std::move(input)), read_(read) {
    write_stack_ = [this](uint32_t id) { WriteStack(StackId{id}); };
  }

  Status OnBegin(const Tables& t) override {
    t_ = &t;
    w_.StartObject();
    return OkStatus();
  }

  Status OnSegment(const snapshot::Segment& s) override {
    Enter(s.host ? kHostSegments : kSegments);
    CloseSegment();
    w_.StartObject();
    KeyInt("device", s.device);
    KeyUint("address", s.address);
    KeyInt("total_size", s.total_size);
    KeyInt("allocated_size", s.allocated_size);
    KeyInt("active_size", s.active_size);
    KeyInt("requested_size", s.requested_size);
    KeyInt("stream", s.stream);
    if (s.segment_type != snapshot::kNoString) {
      KeyString("segment_type", t_->String(s.segment_type));
    }
    if (!s.pool_id.empty()) {
      w_.Key("segment_pool_id");
      w_.RawValue(s.pool_id.data(), s.pool_id.size(), rapidjson::kArrayType);
    }
    if (s.is_expandable) {
      w_.Key("is_expandable");
      w_.Bool(*s.is_expandable);
    }
    if (s.stack) {
      w_.Key("frames");
      WriteStack(*s.stack);
    }
    CopyMembers(s.extra);
    // The blocks follow as their own records; the object stays open.
    w_.Key("blocks");
    w_.StartArray();
    segment_open_ = true;
    return OkStatus();
  }

  Status OnBlock(const snapshot::Block& b) override {
    w_.StartObject();
    if (!b.address_derived) {
      KeyUint("address", b.address);
    }
    KeyInt("size", b.size);
    KeyInt("requested_size", b.requested_size);
    if (b.state_name != snapshot::kNoString) {
      KeyString("state", t_->String(b.state_name));
    }
    // With a history, the reader took the block's stack from it; writing it
    // again as "frames" would add a key the input did not have.
    bool has_history = b.extra.find("\"history\":") != std::string_view::npos;
    if (b.stack && !has_history) {
      w_.Key("frames");
      WriteStack(*b.stack);
    }
    CopyMembers(b.extra);
    w_.EndObject();
    return OkStatus();
  }

  Status OnDeviceTrace(uint32_t device, bool host) override {
    Enter(host ? kHostTraces : kDeviceTraces);
    int64_t& open = host ? host_device_ : device_;
    if (open >= 0) w_.EndArray();
    w_.StartArray();
    open = device;
    return OkStatus();
  }

  Status OnEvent(const snapshot::TraceEvent& e) override {
    // `-o - | head`: the rest of the read would be written nowhere.
    if (file_->stream().closed()) return io::ClosedPipe();
    w_.StartObject();
    KeyString("action", t_->String(e.action_name));
    if (e.has_addr) {
      KeyUint("addr", e.addr);
    }
    KeyInt("size", e.size);
    KeyInt("stream", e.stream);
    if (e.time_us) {
      KeyInt("time_us", *e.time_us);
    }
    if (e.device_free) {
      KeyInt("device_free", *e.device_free);
    }
    if (e.compile_context != snapshot::kNoString) {
      KeyString("compile_context", t_->String(e.compile_context));
    }
    if (!e.user_metadata.empty()) {
      w_.Key("user_metadata");
      w_.RawValue(e.user_metadata.data(), e.user_metadata.size(), rapidjson::kObjectType);
    }
    if (!e.pool_id.empty()) {
      w_.Key("pool_id");
      w_.RawValue(e.pool_id.data(), e.pool_id.size(), rapidjson::kArrayType);
    }
    if (e.stack) {
      w_.Key("frames");
      WriteStack(*e.stack);
    }
    if (e.forward_stack) {
      w_.Key("forward_frames");
      WriteStack(*e.forward_stack);
    }
    CopyMembers(e.extra);
    w_.EndObject();
    return OkStatus();
  }

  Status OnAnnotation(const snapshot::Annotation& a) override {
    Enter(kAnnotations);
    w_.StartObject();
    if (a.device) {
      KeyInt("device", *a.device);
    }
    if (a.stage != snapshot::kNoString) {
      KeyString("stage", t_->String(a.stage));
    }
    if (a.name != snapshot::kNoString) {
      KeyString("name", t_->String(a.name));
    }
    if (a.time_us) {
      KeyInt("time_us", *a.time_us);
    }
    CopyMembers(a.extra);
    w_.EndObject();
    return OkStatus();
  }

  Status OnTopLevel(std::string_view key, std::string_view json) override {
    // Kept for OnEnd, which closes the open list first.
    top_level_.emplace_back(key, json);
    return OkStatus();
  }

  Status OnEnd(const snapshot::ReadSummary& read) override {
    *read_ = read;
    // Lists that were present but empty had no record to open them; the
    // summary's "top" key list says which were there.
    std::string_view keys = read.keys_json;
    size_t top = keys.find("\"top\":[");
    keys = top == std::string_view::npos ? std::string_view() : keys.substr(top, keys.find(']', top) - top);
    for (Section s : {kSegments, kDeviceTraces, kAnnotations, kHostSegments, kHostTraces})
      if (!opened_[s] && keys.find(fmt::format("\"{}\"", kSectionKeys[s])) != std::string_view::npos) Enter(s);
    Enter(kNone);
    for (const auto& [key, json] : top_level_) {
      w_.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
      w_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
    }
    w_.EndObject();
    return OkStatus();
  }

 private:
  enum Section { kNone, kSegments, kDeviceTraces, kAnnotations, kHostSegments, kHostTraces, kNumSections };
  static constexpr const char* kSectionKeys[kNumSections] = {
      "", "segments", "device_traces", "external_annotations", "host_segments", "host_traces"};

  void String(std::string_view s) { w_.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }
  void KeyInt(const char* key, int64_t v) {
    w_.Key(key);
    w_.Int64(v);
  }
  void KeyUint(const char* key, uint64_t v) {
    w_.Key(key);
    w_.Uint64(v);
  }
  void KeyString(const char* key, std::string_view v) {
    w_.Key(key);
    String(v);
  }

  // Records arrive grouped by top-level key; a new group closes the last.
  void Enter(Section s) {
    if (s == section_) return;
    if (section_ == kSegments || section_ == kHostSegments) CloseSegment();
    if (section_ == kDeviceTraces && device_ >= 0) w_.EndArray();
    if (section_ == kHostTraces && host_device_ >= 0) w_.EndArray();
    if (section_ != kNone) w_.EndArray();
    section_ = s;
    if (s == kNone) return;
    opened_[s] = true;
    w_.Key(kSectionKeys[s]);
    w_.StartArray();
  }

  void CloseSegment() {
    if (!segment_open_) return;
    w_.EndArray();
    w_.EndObject();
    segment_open_ = false;
  }

  // A frame's JSON is made once and reused: stacks repeat the same frames
  // many times over, and the text is all the writer needs.
  void WriteStack(StackId id) {
    w_.StartArray();
    for (FrameId f : t_->GetStack(id)) {
      std::string_view text = FrameText(f);
      w_.RawValue(text.data(), text.size(), rapidjson::kObjectType);
    }
    w_.EndArray();
  }

  std::string_view FrameText(FrameId id) {
    if (id.value >= frame_at_.size()) frame_at_.resize(id.value + 1, {0, 0});
    auto& [at, len] = frame_at_[id.value];
    if (len == 0) {
      const snapshot::Frame& f = t_->GetFrame(id);
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> fw(buf);
      fw.StartObject();
      fw.Key("filename");
      std::string_view file = t_->String(f.filename);
      fw.String(file.data(), static_cast<rapidjson::SizeType>(file.size()));
      fw.Key("line");
      fw.Int64(f.line);
      if (f.name != snapshot::kNoString) {
        fw.Key("name");
        std::string_view name = t_->String(f.name);
        fw.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
      }
      fw.EndObject();
      std::string_view text(buf.GetString(), buf.GetSize());
      at = frames_.size();
      if (f.extra != snapshot::kNoString) {
        // {"filename":..} + the extra object's members: splice the texts.
        std::string_view extra = t_->String(f.extra);
        frames_.append(text.substr(0, text.size() - 1));
        if (extra.size() > 2)
          frames_.append(",").append(extra.substr(1));
        else
          frames_.append("}");
      } else {
        frames_.append(text);
      }
      len = frames_.size() - at;
    }
    return std::string_view(frames_).substr(at, len);
  }

  void CopyMembers(std::string_view extra) {
    if (extra.empty()) return;
    MemberCopier copier(&w_, &write_stack_);
    rapidjson::Reader reader;
    rapidjson::MemoryStream ms(extra.data(), extra.size());
    reader.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseNanAndInfFlag>(ms, copier);
  }

  JsonFile* file_;
  Writer w_;
  std::string input_;
  snapshot::ReadSummary* read_;
  const Tables* t_ = nullptr;
  std::function<void(uint32_t)> write_stack_;
  Section section_ = kNone;
  bool opened_[kNumSections] = {};
  bool segment_open_ = false;
  int64_t device_ = -1, host_device_ = -1;
  std::vector<std::pair<std::string, std::string>> top_level_;
  std::string frames_;                                   // every frame's JSON, once
  std::vector<std::pair<uint64_t, uint32_t>> frame_at_;  // FrameId -> (offset, length) in frames_
};

class SnapshotJsonExporter : public Exporter {
 public:
  SnapshotJsonExporter(std::string input, std::string write_path, std::string target)
      : input_(std::move(input)), write_path_(std::move(write_path)), target_(std::move(target)) {}

  StatusOr<snapshot::SnapshotSink*> Pass(int) override {
    ASSIGN_OR_RETURN(file_, JsonFile::Open(write_path_, target_));
    sink_ = std::make_unique<JsonSink>(file_.get(), input_, &read_);
    return sink_.get();
  }

  Status Finish(ExportReport* report) override {
    uint64_t json_bytes = 0, file_bytes = 0;
    RETURN_IF_ERROR(file_->Finish(&json_bytes, &file_bytes));
    report->detail = fmt::format("{} of JSON{}", FormatBytes(json_bytes),
                                 file_->gzip() ? fmt::format(", {} gzip'd", FormatBytes(file_bytes)) : "");
    return OkStatus();
  }
  const snapshot::ReadSummary& read() const override { return read_; }

 private:
  std::string input_, write_path_, target_;
  snapshot::ReadSummary read_;
  std::unique_ptr<JsonFile> file_;
  std::unique_ptr<JsonSink> sink_;
};

}  // namespace

std::unique_ptr<Exporter> MakeSnapshotJsonExporter(const std::string& input, const std::string& write_path,
                                                   const std::string& target) {
  return std::make_unique<SnapshotJsonExporter>(input, write_path, target);
}

}  // namespace memtk::exports
