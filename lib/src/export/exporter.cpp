// MakeExporter, and the database as an exporter like the others.
#include "export/exporter.h"

#include "store/snapshot_db.h"

namespace memtk::exports {

namespace {

class DbExporter : public Exporter {
 public:
  DbExporter(std::string input, std::string write_path)
      : input_(std::move(input)), write_path_(std::move(write_path)) {}

  StatusOr<snapshot::SnapshotSink*> Pass(int) override {
    ASSIGN_OR_RETURN(writer_, store::SnapshotDbWriter::Create(write_path_, input_));
    return writer_.get();
  }
  Status Finish(ExportReport* report) override {
    RETURN_IF_ERROR(writer_->Close());
    report->allocations = writer_->allocations();
    return OkStatus();
  }
  const snapshot::ReadSummary& read() const override { return writer_->summary(); }
  std::optional<Stats> problems() const override { return writer_->stats(); }

 private:
  std::string input_, write_path_;
  std::unique_ptr<store::SnapshotDbWriter> writer_;
};

}  // namespace

std::unique_ptr<Exporter> MakeDbExporter(const std::string& input, const std::string& write_path) {
  return std::make_unique<DbExporter>(input, write_path);
}

StatusOr<std::unique_ptr<Exporter>> MakeExporter(Format format, const std::string& input, const std::string& write_path,
                                                 const std::string& target, const ExportOptions& options) {
  switch (format) {
    case Format::kDb:
      return MakeDbExporter(input, write_path);
    case Format::kSnapViewer:
      return MakeSnapViewerExporter(input, write_path, target, options);
    case Format::kJson:
      return MakeSnapshotJsonExporter(input, write_path, target);
    case Format::kChromeTrace:
      if (input == "-")
        return UsageError("--to chrome-trace reads its input twice and cannot read stdin; save it to a file first");
      return MakeChromeTraceExporter(input, write_path, target, options);
  }
  return UsageError("unknown output format");
}

}  // namespace memtk::exports
