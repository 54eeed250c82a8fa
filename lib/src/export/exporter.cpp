// MakeExporter, and the database as an exporter like the others.
#include "export/exporter.h"

#include <optional>

#include "snapshot/file_context.h"
#include "store/snapshot_db.h"

namespace memtk::exports {

namespace {

class DbExporter : public Exporter {
 public:
  DbExporter(std::string input, std::string write_path, std::string target)
      : input_(std::move(input)), write_path_(std::move(write_path)), target_(std::move(target)) {}

  // The database's own errors (SQLite: "database or disk is full") name the
  // output; the reader's name the input.
  StatusOr<snapshot::SnapshotSink*> Pass(int) override {
    auto writer = store::SnapshotDbWriter::Create(write_path_, input_);
    if (!writer.ok()) return writer.status().WithContext(target_);
    writer_ = std::move(writer).value();
    sink_.emplace(writer_.get(), target_);
    return &*sink_;
  }
  Status Finish(ExportReport* report) override {
    RETURN_IF_ERROR(writer_->Close().WithContext(target_));
    report->allocations = writer_->allocations();
    return OkStatus();
  }
  const snapshot::ReadSummary& read() const override { return writer_->summary(); }
  std::optional<Stats> problems() const override { return writer_->stats(); }

 private:
  std::string input_, write_path_, target_;
  std::unique_ptr<store::SnapshotDbWriter> writer_;
  std::optional<snapshot::FileContextSink> sink_;
};

}  // namespace

std::unique_ptr<Exporter> MakeDbExporter(const std::string& input, const std::string& write_path,
                                         const std::string& target) {
  return std::make_unique<DbExporter>(input, write_path, target);
}

StatusOr<std::unique_ptr<Exporter>> MakeExporter(Format format, const std::string& input, const std::string& write_path,
                                                 const std::string& target, const ExportOptions& options) {
  switch (format) {
    case Format::kDb:
      return MakeDbExporter(input, write_path, target);
    case Format::kSnapViewer:
      return MakeSnapViewerExporter(input, write_path, target, options);
    case Format::kJson:
      return MakeSnapshotJsonExporter(input, write_path, target);
    case Format::kChromeTrace:
      if (input == "-")
        return UsageError("--to chrome-trace reads its input twice and cannot read stdin; save it to a file first");
      return MakeChromeTraceExporter(input, write_path, target, options);
    case Format::kPprof:
      return MakePprofExporter(input, write_path, target, options);
  }
  return UsageError("unknown output format");
}

}  // namespace memtk::exports
