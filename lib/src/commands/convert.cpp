#include "memtk/commands/convert.h"

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "memtk/io/atomic_output.h"
#include "memtk/store/snapshot_db.h"

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

}  // namespace

std::string DefaultDbPath(const std::string& input) {
  auto slash = input.rfind('/');
  std::string dir = slash == std::string::npos ? "" : input.substr(0, slash + 1);
  return dir + Stem(input) + ".db";
}

ConvertResult ConvertOne(const std::string& input, const std::string& output, const ConvertOptions& options) {
  ConvertResult r;
  r.input = input;
  r.output = output;
  auto start = std::chrono::steady_clock::now();
  r.status = [&]() -> Status {
    ASSIGN_OR_RETURN(io::AtomicOutput out, io::AtomicOutput::Create(output));
    ASSIGN_OR_RETURN(auto writer, store::SnapshotDbWriter::Create(out.temp_path(), input));
    snapshot::ReadOptions ro;
    if (options.progress) ro.progress = [&](uint64_t done, uint64_t total) { options.progress(input, done, total); };
    RETURN_IF_ERROR(snapshot::ReadSnapshot(input, writer.get(), ro));
    RETURN_IF_ERROR(writer->Close());
    r.summary = writer->summary();
    r.stats = writer->stats();
    r.allocations = writer->allocations();
    if (options.strict && r.stats.HasErrors()) {
      for (size_t i = 0; i < static_cast<size_t>(Stat::kCount); ++i) {
        const StatInfo& info = GetStatInfo(static_cast<Stat>(i));
        if (info.severity == Severity::kError && r.stats.Get(static_cast<Stat>(i)))
          return InvalidInput(fmt::format("{}: --strict: {} × {}: {}", input, r.stats.Get(static_cast<Stat>(i)),
                                          info.name, info.description));
      }
    }
    return out.Commit();
  }();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

StatusOr<std::vector<ConvertResult>> RunConvert(const ConvertOptions& options) {
  if (options.inputs.empty()) return UsageError("no input files");
  if (options.jobs < 1) return UsageError("-j must be at least 1");
  std::vector<std::string> outputs;
  bool several = options.inputs.size() > 1;
  if (several) {
    if (options.output.empty()) return UsageError("several inputs need -o DIR");
    if (!IsDir(options.output) && ::mkdir(options.output.c_str(), 0777) != 0)
      return UsageError(fmt::format("{}: cannot create output directory", options.output));
  }
  std::set<std::string> seen;
  for (const std::string& in : options.inputs) {
    if (in == "-" && options.output.empty()) return UsageError("reading stdin needs -o OUT.db");
    std::string out;
    if (several || (!options.output.empty() && IsDir(options.output))) {
      out = options.output + (options.output.back() == '/' ? "" : "/") + Stem(in == "-" ? "stdin" : in) + ".db";
    } else {
      out = options.output.empty() ? DefaultDbPath(in) : options.output;
    }
    if (!seen.insert(out).second)
      return UsageError(fmt::format("two inputs would both be written to {}", out));
    outputs.push_back(out);
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
  return results;
}

}  // namespace memtk::commands
