// Helpers shared by the unit tests: fixture loading and a sink that renders
// every record as text, so two reads can be compared exactly.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "memtk/snapshot/snapshot.h"

namespace memtk::test {

/// A fresh directory under /tmp, removed with all it holds when the test
/// ends (the temp directory every file-writing test needs).
struct TempDir {
  TempDir() {
    char templ[] = "/tmp/memtk-unit-XXXXXX";
    path = ::mkdtemp(templ);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  /// Writes `text` to path/name; returns that path.
  std::string File(const std::string& name, const std::string& text) const {
    std::string p = path + "/" + name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  std::string path;
};

inline std::string DataPath(const std::string& name) { return std::string(MEMTK_DATA_DIR) + "/" + name; }

inline std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

/// Renders records with frames resolved to text (ids differ between a JSON
/// and a pickle read; content must not).
class TextSink : public snapshot::SnapshotSink {
 public:
  Status OnBegin(const snapshot::Tables& t) override {
    t_ = &t;
    return OkStatus();
  }
  std::string Stack(const std::optional<StackId>& s) const {
    if (!s) return "-";
    std::string out;
    for (FrameId f : t_->GetStack(*s)) {
      const auto& fr = t_->GetFrame(f);
      out += fmt::format("{}:{}:{}{};", t_->String(fr.filename), fr.line, t_->String(fr.name), t_->String(fr.extra));
    }
    return out;
  }
  Status OnEvent(const snapshot::TraceEvent& e) override {
    text += fmt::format("E {} {} {} {} {} {} {} {} {} {} {}|{}|{}|{}\n", e.id, e.device, e.index,
                        t_->String(e.action_name), e.has_addr ? fmt::format("{}", e.addr) : "-", e.size, e.stream,
                        e.time_us ? *e.time_us : -1, e.device_free ? *e.device_free : -1, Stack(e.stack),
                        Stack(e.forward_stack), e.user_metadata, e.pool_id, e.extra);
    return OkStatus();
  }
  Status OnSegment(const snapshot::Segment& s) override {
    text += fmt::format("S {} {} {} {} {} {} {} {} {} {}|{}\n", s.id, s.device, s.address, s.total_size,
                        s.allocated_size, s.active_size, s.requested_size, t_->String(s.segment_type), s.pool_id,
                        Stack(s.stack), s.extra);
    return OkStatus();
  }
  Status OnBlock(const snapshot::Block& b) override {
    text += fmt::format("B {} {} {} {} {} {} {}|{}\n", b.id, b.segment_id, b.address, b.size, b.requested_size,
                        t_->String(b.state_name), Stack(b.stack), b.extra);
    return OkStatus();
  }
  Status OnAnnotation(const snapshot::Annotation& a) override {
    text += fmt::format("A {} {} {} {}\n", a.id, t_->String(a.stage), t_->String(a.name), a.time_us ? *a.time_us : -1);
    return OkStatus();
  }
  Status OnTopLevel(std::string_view k, std::string_view json) override {
    text += fmt::format("T {} {}\n", k, json);
    return OkStatus();
  }
  Status OnEnd(const snapshot::ReadSummary& s) override {
    summary = s;
    return OkStatus();
  }
  std::string text;
  snapshot::ReadSummary summary;

 private:
  const snapshot::Tables* t_ = nullptr;
};

/// `split` runs the memo pre-pass on two threads however small the input.
inline std::string Render(const std::string& fixture, size_t chunk = 256 * 1024, bool single_pass = false,
                          bool split = false) {
  auto bytes = ReadFile(DataPath(fixture));
  TextSink sink;
  snapshot::ReadOptions o;
  o.chunk_size = chunk;
  o.single_pass = single_pass;
  if (split) o.split_prepass_bytes = 0;
  Status s = snapshot::ReadSnapshotBytes(fixture, bytes, &sink, o);
  if (!s.ok()) return "ERROR " + s.message();
  return sink.text;
}

/// The error message for reading `bytes`, or "" if it read fine.
inline std::string ErrorOf(const std::vector<uint8_t>& bytes, size_t chunk = 256 * 1024, bool split = false) {
  snapshot::SnapshotSink sink;
  snapshot::ReadOptions o;
  o.chunk_size = chunk;
  if (split) o.split_prepass_bytes = 0;
  Status s = snapshot::ReadSnapshotBytes("in.pickle", bytes, &sink, o);
  return s.ok() ? "" : s.message();
}

/// A frame for AddStack: filename, line, function name.
using FrameSpec = std::tuple<const char*, int, const char*>;

/// Appends a stack (innermost first) to `t`, interning equal frames to one
/// FrameId as the reader does; returns its id.
inline StackId AddStack(snapshot::Tables& t, std::initializer_list<FrameSpec> frames) {
  t.stack_offsets.push_back(t.stack_frames.size());
  for (auto [file, line, name] : frames) {
    snapshot::Frame f;
    f.filename = t.strings.Intern(file);
    f.name = t.strings.Intern(name);
    f.line = line;
    FrameId id{static_cast<uint32_t>(t.frames.size())};
    for (uint32_t i = 0; i < t.frames.size(); ++i)
      if (t.frames[i].filename == f.filename && t.frames[i].name == f.name && t.frames[i].line == f.line)
        id = FrameId{i};
    if (id.value == t.frames.size()) t.frames.push_back(f);
    t.stack_frames.push_back(id);
  }
  return StackId{static_cast<uint32_t>(t.stack_offsets.size() - 1)};
}

}  // namespace memtk::test
