#include "memtk/commands/convert.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "export/exporter.h"
#include "io/atomic_output.h"
#include "memtk/io/output_file.h"

namespace memtk::commands {

namespace {

std::string Stem(const std::string& path) {
  auto slash = path.rfind('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  for (const char* ext : {".gz", ".pickle", ".pkl", ".json", ".pt"}) {
    std::string e(ext);
    if (base.size() > e.size() && base.compare(base.size() - e.size(), e.size(), e) == 0)
      base.resize(base.size() - e.size());
  }
  return base;
}

bool IsDir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

const char* Extension(OutputFormat f) {
  switch (f) {
    case OutputFormat::kDb:
      return ".db";
    case OutputFormat::kSnapViewer:
      return ".zip";
    case OutputFormat::kJson:
      return ".snapshot.json.gz";  // not .json.gz: that may be the input's own name
    case OutputFormat::kChromeTrace:
      return ".trace.json";
    case OutputFormat::kPprof:
      return ".pb.gz";
  }
  return "";
}

}  // namespace

std::optional<OutputFormat> OutputFormatFromName(std::string_view name) {
  if (name == "db") return OutputFormat::kDb;
  if (name == "snapviewer") return OutputFormat::kSnapViewer;
  if (name == "json") return OutputFormat::kJson;
  if (name == "chrome-trace") return OutputFormat::kChromeTrace;
  if (name == "pprof") return OutputFormat::kPprof;
  return std::nullopt;
}

std::string DefaultOutputPath(const std::string& input, OutputFormat format) {
  auto slash = input.rfind('/');
  std::string dir = slash == std::string::npos ? "" : input.substr(0, slash + 1);
  return dir + Stem(input) + Extension(format);
}

std::string DefaultDbPath(const std::string& input) { return DefaultOutputPath(input, OutputFormat::kDb); }

namespace {

exports::Format ExportFormat(OutputFormat f) {
  switch (f) {
    case OutputFormat::kDb:
      return exports::Format::kDb;
    case OutputFormat::kSnapViewer:
      return exports::Format::kSnapViewer;
    case OutputFormat::kJson:
      return exports::Format::kJson;
    case OutputFormat::kChromeTrace:
      return exports::Format::kChromeTrace;
    case OutputFormat::kPprof:
      return exports::Format::kPprof;
  }
  return exports::Format::kDb;
}

}  // namespace

ConvertResult ConvertOne(const std::string& input, const std::string& output, const ConvertOptions& options) {
  ConvertResult r;
  r.input = input;
  r.output = output;
  auto start = std::chrono::steady_clock::now();
  r.status = [&]() -> Status {
    // One frame for every format: a temp file renamed on success (stdout and
    // a SnapViewer directory excepted, see export/exporter.h), the reads with
    // progress on the last, --strict, then the rename.
    const bool bundle_dir = options.to == OutputFormat::kSnapViewer && !output.ends_with(".zip");
    std::optional<io::AtomicOutput> out;
    if (output != "-" && !bundle_dir) {
      ASSIGN_OR_RETURN(io::AtomicOutput o, io::AtomicOutput::Create(output));
      // SQLite and libzip read back and seek in what they write: a device or
      // FIFO written in place cannot hold a database or a zip.
      if (o.in_place() && (options.to == OutputFormat::kDb || options.to == OutputFormat::kSnapViewer))
        return UsageError(fmt::format("{}: a {} is written to a regular file, not a device or FIFO", output,
                                      options.to == OutputFormat::kDb ? "database" : "SnapViewer zip"));
      out.emplace(std::move(o));
    }
    exports::ExportOptions eo{.device = options.device,
                              .with_stacks = options.with_stacks,
                              .zip_level = options.zip_level,
                              .all_frames = options.all_frames};
    ASSIGN_OR_RETURN(
        std::unique_ptr<exports::Exporter> exporter,
        exports::MakeExporter(ExportFormat(options.to), input, out ? out->temp_path() : output, output, eo));
    for (int pass = 0; pass < exporter->passes(); ++pass) {
      snapshot::ReadOptions ro;
      // Inputs converted side by side (-j) keep the cores busy already: a
      // memo pre-pass thread per input, or list hints on its read-ahead
      // thread, would only contend with them (as in stats -j).
      if (options.jobs > 1 && options.inputs.size() > 1) ro.ShareCores();
      if (options.progress && pass + 1 == exporter->passes())
        ro.progress = [&](uint64_t done, uint64_t total) { options.progress(input, done, total); };
      ASSIGN_OR_RETURN(snapshot::SnapshotSink * sink, exporter->Pass(pass));
      RETURN_IF_ERROR(snapshot::ReadSnapshot(input, sink, ro));
    }
    r.summary = exporter->read();
    r.stats = exporter->problems().value_or(r.summary.stats);
    if (options.strict) RETURN_IF_ERROR(CheckStrict(input, r.stats));
    exports::ExportReport report;
    RETURN_IF_ERROR(exporter->Finish(&report));
    r.detail = std::move(report.detail);
    r.allocations = report.allocations;
    return out ? out->Commit() : OkStatus();
  }();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

StatusOr<std::vector<ConvertResult>> RunConvert(const ConvertOptions& options) {
  if (options.inputs.empty()) return UsageError("no input files");
  if (options.jobs < 1) return UsageError("-j must be at least 1");
  std::vector<std::string> outputs;
  bool several = options.inputs.size() > 1;
  // -o DIR/ (trailing slash) names a directory even for one input, made if
  // missing; a SnapViewer bundle directory is the exception (-o bundle/).
  const bool slash_dir = !options.output.empty() && options.output.back() == '/' && options.output != "/" &&
                         options.to != OutputFormat::kSnapViewer;
  for (const std::string& in : options.inputs) {
    if (in == "-" && options.output.empty())
      return UsageError(fmt::format("reading stdin needs -o OUT{}", Extension(options.to)));
    std::string out;
    // A SnapViewer bundle may itself be a directory: -o DIR names it
    // unless there are several inputs.
    bool into_dir =
        (several && !options.output.empty()) || slash_dir || (!options.output.empty() && IsDir(options.output) && options.to != OutputFormat::kSnapViewer);
    if (into_dir) {
      out = options.output + (options.output.back() == '/' ? "" : "/") + Stem(in == "-" ? "stdin" : in) +
            Extension(options.to);
    } else {
      out = options.output.empty() ? DefaultOutputPath(in, options.to) : options.output;
    }
    if (out == "-" && (options.to == OutputFormat::kDb || options.to == OutputFormat::kSnapViewer))
      return UsageError("-o - (stdout) works for --to json, chrome-trace and pprof only");
    outputs.push_back(out);
  }
  // Usage first, before anything is made or read: no output shared by two
  // inputs, none replacing an input.
  RETURN_IF_ERROR(io::CheckOutputs(outputs, options.inputs));
  // A directory made for several outputs (and its missing parents) goes
  // again if it stays empty (every input failed, an interrupt). Several
  // inputs without -o: each output beside its input, as for one.
  std::optional<io::OutputDirectory> made;
  if ((several && !options.output.empty()) || slash_dir) {
    ASSIGN_OR_RETURN(io::OutputDirectory dir, io::OutputDirectory::Create(options.output));
    made.emplace(std::move(dir));
  }
  std::vector<ConvertResult> results(options.inputs.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < options.inputs.size();)
      results[i] = ConvertOne(options.inputs[i], outputs[i], options);
  };
  size_t n = std::min<size_t>(static_cast<size_t>(options.jobs), options.inputs.size());
  std::vector<std::thread> threads;
  for (size_t t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  for (const ConvertResult& r : results)
    if (made && r.status.ok()) made->Keep();
  return results;
}

}  // namespace memtk::commands
