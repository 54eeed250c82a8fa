#include "export/snapviewer.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "base/scoped.h"
#include "io/atomic_output.h"
#include "memtk/base/flat_map.h"
#include "memtk/base/format.h"
#include "memtk/io/output_stream.h"
#include "memtk/timeline/snapviewer.h"
#include "store/sqlite.h"

namespace memtk::exports {

namespace {

using snapshot::Action;
using timeline::SnapViewerLayout;

constexpr const char* kAllocationsName = "allocations.json";
constexpr const char* kElementsName = "elements.db";

Status WriteAllocationsJson(const SnapViewerLayout& layout, const std::string& path, const std::string& name,
                            size_t budget, uint64_t* bytes) {
  ScopedFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (fd.get() < 0) return IoError(fmt::format("{}: cannot write: {}", name, std::strerror(errno)));
  ASSIGN_OR_RETURN(io::OutputStream out, io::OutputStream::Open(fd.get(), name, /*gzip=*/false));
  RETURN_IF_ERROR(layout.WriteJson(&out, budget));
  *bytes = out.bytes();
  return out.Finish();
}

// elements.db: SnapViewer's schema, byte for byte the CREATE statement of
// convert_snap.py (SnapViewer shows the table to the user as is).
Status WriteElementsDb(const SnapViewerLayout& layout, const snapshot::Tables& tables, const std::string& path,
                       const std::string& name) {
  // AtomicOutput made the empty file (an empty file is an empty database to
  // SQLite) under the cleanup lock: no unlink and no create here, which could
  // re-create a file that an interrupt's cleanup had just removed.
  ASSIGN_OR_RETURN(store::ScopedDb db, store::OpenDb(path, /*create=*/false, /*read_only=*/false));
  // A temp file renamed on success: no journal needed for crash safety.
  RETURN_IF_ERROR(store::Exec(db.get(), "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;").WithContext(name));
  RETURN_IF_ERROR(store::Exec(db.get(), R"(CREATE TABLE allocs (
    idx INTEGER PRIMARY KEY,
    size INTEGER,
    start_time INTEGER,
    end_time INTEGER,
    callstack TEXT
);)")
                      .WithContext(name));
  RETURN_IF_ERROR(store::Exec(db.get(), "BEGIN").WithContext(name));
  ASSIGN_OR_RETURN(store::ScopedStmt ins, store::Prepare(db.get(), "INSERT INTO allocs VALUES (?, ?, ?, ?, ?)"));
  std::string stack;
  for (size_t j = 0; j < layout.size(); ++j) {
    const SnapViewerLayout::Element& e = layout[j];
    stack.clear();
    if (e.stack != SnapViewerLayout::kNoStack) {
      size_t i = 0;
      for (FrameId f : tables.GetStack(StackId{e.stack})) {
        const snapshot::Frame& fr = tables.GetFrame(f);
        if (i) stack.push_back('\n');
        fmt::format_to(std::back_inserter(stack), "({}) {}:{}:{}", i++, tables.String(fr.filename), fr.line,
                       tables.String(fr.name));
      }
    }
    sqlite3_stmt* s = ins.get();
    sqlite3_bind_int64(s, 1, static_cast<sqlite3_int64>(j));
    sqlite3_bind_int64(s, 2, e.size);
    sqlite3_bind_int64(s, 3, static_cast<sqlite3_int64>(e.start));
    sqlite3_bind_int64(s, 4, static_cast<sqlite3_int64>(e.end));
    sqlite3_bind_text(s, 5, stack.data(), static_cast<int>(stack.size()), SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) return IoError(fmt::format("{}: writing: {}", name, sqlite3_errmsg(db.get())));
    sqlite3_reset(s);
  }
  RETURN_IF_ERROR(store::Exec(db.get(), "COMMIT").WithContext(name));
  return OkStatus();
}

void DiscardZip(zip_t* z) { zip_discard(z); }
using ScopedZip = ScopedResource<zip_t*, DiscardZip, nullptr>;

Status ZipError(const std::string& name, zip_t* z) {
  return IoError(fmt::format("{}: writing zip: {}", name, zip_strerror(z)));
}

// Packs the two finished files into `zip_path`. libzip streams each member
// from its file when the archive is closed, so nothing is held in memory.
Status WriteZip(const std::string& zip_path, const std::string& name,
                const std::vector<std::pair<std::string, const char*>>& members, int level) {
  int err = 0;
  ScopedZip z(zip_open(zip_path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err));
  if (!z) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    Status st = IoError(fmt::format("{}: cannot create zip: {}", name, zip_error_strerror(&ze)));
    zip_error_fini(&ze);
    return st;
  }
  for (const auto& [path, member] : members) {
    zip_source_t* src = zip_source_file(z.get(), path.c_str(), 0, -1);
    if (src == nullptr) return ZipError(name, z.get());
    zip_int64_t idx = zip_file_add(z.get(), member, src, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
      zip_source_free(src);
      return ZipError(name, z.get());
    }
    if (zip_set_file_compression(z.get(), static_cast<zip_uint64_t>(idx), level > 0 ? ZIP_CM_DEFLATE : ZIP_CM_STORE,
                                 static_cast<zip_uint32_t>(level)) != 0)
      return ZipError(name, z.get());
  }
  if (zip_close(z.get()) != 0) return ZipError(name, z.get());
  z.release();  // closed: nothing left to discard
  return OkStatus();
}

// Collects the chosen device's alloc/free events; everything is written from
// OnEnd, while the reader's frame tables are still alive.
class BundleSink : public snapshot::SnapshotSink {
 public:
  BundleSink(std::string input, std::string output, const SnapViewerOptions& o, SnapViewerSummary* s)
      : output_(std::move(output)), o_(o), summary_(s), input_(std::move(input)) {}

  Status OnBegin(const snapshot::Tables& t) override {
    tables_ = &t;
    return OkStatus();
  }

  Status OnEvent(const snapshot::TraceEvent& e) override {
    if (e.host) return OkStatus();
    ++events_per_device_.FindOrInsert(e.device);
    if (static_cast<int64_t>(e.device) != o_.device) return OkStatus();
    uint32_t stack = e.stack ? e.stack->value : SnapViewerLayout::kNoStack;
    if (e.action == Action::kAlloc) {
      layout_.Alloc(e.addr, e.size, stack);
    } else if (e.action == Action::kFreeCompleted || e.action == Action::kFree) {
      layout_.Free(e.addr, e.size, stack);
    }
    return OkStatus();
  }

  Status OnEnd(const snapshot::ReadSummary& read) override {
    summary_->read = read;
    const uint64_t* n = o_.device >= 0 ? events_per_device_.Find(static_cast<uint64_t>(o_.device)) : nullptr;
    summary_->device_events = n ? *n : 0;
    if (n == nullptr) {
      std::vector<uint64_t> devices;
      events_per_device_.ForEach([&](uint64_t d, uint64_t) { devices.push_back(d); });
      std::sort(devices.begin(), devices.end());
      std::string with;
      for (uint64_t d : devices) with += fmt::format("{}{}", with.empty() ? "" : ", ", d);
      return InvalidInput(fmt::format("{}: device {} has no trace events (devices with trace events: {})", input_,
                                      o_.device, with.empty() ? "none" : with));
    }
    RETURN_IF_ERROR(layout_.Finish());
    summary_->elements = layout_.size();
    summary_->points = layout_.total_points();
    // The members are written now, while the reader's frame tables are
    // alive, to temp files that Finish commits (a directory) or deflates
    // into the zip (removed unless committed).
    const bool zip = output_.ends_with(".zip");
    std::string prefix = output_ + ".";
    if (!zip) {
      // A directory made here goes again if the bundle cannot be written
      // (a full disk, an interrupt): no empty directory is left behind.
      ASSIGN_OR_RETURN(io::OutputDirectory made, io::OutputDirectory::Create(output_));
      made_.emplace(std::move(made));
      prefix = output_ + (output_.back() == '/' ? "" : "/");
    }
    ASSIGN_OR_RETURN(io::AtomicOutput json, io::AtomicOutput::Create(prefix + kAllocationsName));
    ASSIGN_OR_RETURN(io::AtomicOutput db, io::AtomicOutput::Create(prefix + kElementsName));
    json_.emplace(std::move(json));
    db_.emplace(std::move(db));
    const std::string& json_name = zip ? output_ : json_->target();
    const std::string& db_name = zip ? output_ : db_->target();
    RETURN_IF_ERROR(
        WriteAllocationsJson(layout_, json_->temp_path(), json_name, o_.budget_bytes, &summary_->json_bytes));
    return WriteElementsDb(layout_, *tables_, db_->temp_path(), db_name);
  }

  /// A directory: renames the members into place. A zip: deflates them into
  /// `zip_path` (the frame renames it).
  Status Finish(const std::string& zip_path) {
    if (!output_.ends_with(".zip")) {
      RETURN_IF_ERROR(json_->Commit());
      // Half a bundle is no bundle: allocations.json goes again if
      // elements.db cannot follow it (or a signal comes in between).
      io::CleanupId half = io::RegisterForCleanup(json_->target(), /*is_dir=*/false);
      if (Status s = db_->Commit(); !s.ok()) {
        io::RemoveAndUnregister(half);
        return s;
      }
      io::Unregister(half);
      made_->Keep();
      return OkStatus();
    }
    return WriteZip(zip_path, output_, {{json_->temp_path(), kAllocationsName}, {db_->temp_path(), kElementsName}},
                    o_.zip_level);
  }

 private:
  std::optional<io::OutputDirectory> made_;  // a bundle directory made here, removed unless it is written
  std::optional<io::AtomicOutput> json_, db_;
  std::string output_;
  SnapViewerOptions o_;
  SnapViewerSummary* summary_;
  std::string input_;
  const snapshot::Tables* tables_ = nullptr;
  FlatMap<uint64_t> events_per_device_;  // device -> trace events
  SnapViewerLayout layout_;
};

class SnapViewerExporter : public Exporter {
 public:
  SnapViewerExporter(const std::string& input, std::string write_path, const std::string& target,
                     const SnapViewerOptions& o)
      : write_path_(std::move(write_path)), sink_(input, target, o, &summary_) {}

  StatusOr<snapshot::SnapshotSink*> Pass(int) override { return &sink_; }
  const snapshot::ReadSummary& read() const override { return summary_.read; }

  Status Finish(ExportReport* report) override {
    RETURN_IF_ERROR(sink_.Finish(write_path_));
    report->detail = fmt::format("device {}: {} elements, {} points, allocations.json {}", device_, summary_.elements,
                                 summary_.points, FormatBytes(summary_.json_bytes));
    return OkStatus();
  }
  void set_device(int64_t d) { device_ = d; }

 private:
  std::string write_path_;
  SnapViewerSummary summary_;
  BundleSink sink_;
  int64_t device_ = 0;
};

}  // namespace

std::unique_ptr<Exporter> MakeSnapViewerExporter(const std::string& input, const std::string& write_path,
                                                 const std::string& target, const ExportOptions& options) {
  SnapViewerOptions o;
  o.device = options.device.value_or(0);
  o.zip_level = options.zip_level;
  auto e = std::make_unique<SnapViewerExporter>(input, write_path, target, o);
  e->set_device(o.device);
  return e;
}

}  // namespace memtk::exports
