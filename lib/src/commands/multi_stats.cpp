// RunMultiStats: orchestration only: expand directories, read the inputs on
// `jobs` threads, summarise, present.
#include "memtk/commands/multi_stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "commands/files_read.h"
#include "memtk/analysis/multi_stats.h"
#include "memtk/analysis/snapshot_stats.h"
#include "memtk/commands/stats.h"
#include "memtk/memlog/report.h"
#include "memtk/present/multi_stats.h"
#include "store/replay.h"

namespace memtk::commands {

namespace {

namespace fs = std::filesystem;

bool IsDir(const std::string& path) {
  std::error_code ec;
  return path != "-" && fs::is_directory(path, ec);
}

// A directory stands for its regular, non-hidden files, by name.
StatusOr<std::vector<std::string>> Expand(const std::vector<std::string>& inputs) {
  std::vector<std::string> out;
  for (const std::string& in : inputs) {
    if (!IsDir(in)) {
      out.push_back(in);
      continue;
    }
    std::vector<std::string> names;
    std::error_code ec;
    fs::directory_iterator it(in, ec), end;
    if (ec) return IoError(fmt::format("{}: cannot list: {}", in, ec.message()));
    for (; it != end; it.increment(ec)) {
      if (ec) return IoError(fmt::format("{}: cannot list: {}", in, ec.message()));
      std::string n = it->path().filename().string();
      std::error_code fe;
      if (!n.empty() && n[0] != '.' && fs::is_regular_file(it->path(), fe)) names.push_back(it->path().string());
    }
    if (names.empty()) return InvalidInput(fmt::format("{}: no files in the directory", in));
    std::sort(names.begin(), names.end());
    out.insert(out.end(), names.begin(), names.end());
  }
  return out;
}

}  // namespace

bool IsMultiStats(const std::vector<std::string>& inputs) {
  return inputs.size() > 1 || (inputs.size() == 1 && IsDir(inputs[0]));
}

StatusOr<MultiStatsOutcome> RunMultiStats(const MultiStatsOptions& o) {
  ASSIGN_OR_RETURN(std::vector<std::string> paths, Expand(o.inputs));
  RETURN_IF_ERROR(CheckReportOutput(o.output, "stats", StatsExtension(o.json), paths));
  for (const std::string& p : paths)
    if (p != "-" && memlog::IsMemlogCsv(p))
      return UsageError(
          fmt::format("{} is a memlog CSV: several inputs are read as snapshots or databases; "
                      "run `memtk stats` on the CSV alone",
                      p));
  analysis::SnapshotStatsOptions so;
  so.top = 1;  // the table shows the top site only
  ASSIGN_OR_RETURN(so.frames, snapshot::FrameRules::Make(o.frames));
  unsigned jobs = std::max(1u, std::min<unsigned>(o.jobs, static_cast<unsigned>(paths.size())));
  snapshot::ReadOptions read;
  // With inputs side by side the cores are busy already; a memo pre-pass
  // thread per input, or list hints on its read-ahead thread, would only
  // contend with them.
  if (jobs > 1) read.ShareCores();
  auto build = [&](const std::string& path) -> StatusOr<analysis::SnapshotReport> {
    analysis::SnapshotStats stats(so);
    RETURN_IF_ERROR(store::ReadInput(path, stats.sink(), read));
    return stats.Take(path);
  };
  std::vector<analysis::SnapshotReport> results(paths.size());
  std::vector<Status> errors(paths.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < paths.size();) {
      StatusOr<analysis::SnapshotReport> r = build(paths[i]);
      if (r.ok()) {
        results[i] = std::move(*r);
      } else {
        errors[i] = r.status();
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned j = 1; j < jobs; ++j) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  MultiStatsOutcome out;
  std::vector<analysis::SnapshotReport> reports;
  // One bad rank file (cut by a full disk, a crash mid-dump) must not hide
  // the other ranks: it is named in the table's output and the exit status.
  std::vector<std::pair<std::string, std::string>> not_read;
  for (size_t i = 0; i < paths.size(); ++i) {
    if (!errors[i].ok()) {
      not_read.emplace_back(paths[i], errors[i].message());
      out.failed.push_back(errors[i]);
      continue;
    }
    out.warnings.emplace_back(paths[i], results[i].stats);
    analysis::SnapshotReport& r = results[i];
    // --device: an input without that device has no row, unless none has it.
    if (o.device) {
      std::erase_if(r.devices, [&](const analysis::DeviceReport& d) { return d.device != *o.device; });
      if (r.devices.empty()) continue;
    }
    reports.push_back(std::move(r));
  }
  if (out.failed.size() == paths.size()) return out;  // nothing to tabulate: the errors say it all
  if (o.device && reports.empty() && out.failed.empty())
    return InvalidInput(fmt::format("no data for device {} in any of the {} inputs", *o.device, paths.size()));
  analysis::MultiStats m = analysis::SummariseReports(reports);
  m.not_read = std::move(not_read);
  out.output = o.json ? present::MultiStatsJson(m) : present::MultiStatsText(m);
  return out;
}

}  // namespace memtk::commands
