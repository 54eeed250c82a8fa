// RunDiff: orchestration only. Reading goes through the analyses `stats`
// runs, comparing through analysis/diff.h, text through present/diff.h.
#include "memtk/commands/diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <memory>
#include <set>
#include <string_view>
#include <thread>

#include "commands/files_read.h"
#include "io/input_file.h"
#include "memtk/analysis/diff.h"
#include "memtk/analysis/snapshot_stats.h"
#include "memtk/memlog/report.h"
#include "memtk/present/diff.h"
#include "snapshot/tee_sink.h"
#include "store/replay.h"

namespace memtk::commands {

namespace {

namespace fs = std::filesystem;
using analysis::InputKind;

struct SnapshotRead {
  explicit SnapshotRead(const snapshot::FrameRules& rules) : sites(rules) {}
  analysis::SnapshotReport report;
  analysis::AllocationSites sites;
};

// `stats`' own analysis, with diff's AllocationSites on the same read.
StatusOr<std::unique_ptr<SnapshotRead>> ReadSnapshotSide(const std::string& path, const snapshot::FrameRules& rules) {
  auto r = std::make_unique<SnapshotRead>(rules);
  analysis::SnapshotStatsOptions o;
  o.frames = rules;
  o.top = 0;  // the lists diff does not show cost nothing
  o.top_sites = std::numeric_limits<size_t>::max();
  analysis::SnapshotStats stats(o);
  snapshot::TeeSink tee(stats.sink(), &r->sites);
  snapshot::ReadOptions read;
  // On two cores the two sides already keep both busy; a pre-pass thread
  // per side, or list hints found on the read-ahead threads, would only
  // contend with them. With four or more, each side reads as `stats` does.
  if (std::thread::hardware_concurrency() < 4) read.ShareCores();
  RETURN_IF_ERROR(store::ReadInput(path, &tee, read));
  ASSIGN_OR_RETURN(r->report, stats.Take(path));
  return r;
}

// Runs read(base) on a second thread and read(next) on this one: the two
// inputs are read side by side. A BASE error is reported first.
template <class T, class F>
StatusOr<std::pair<T, T>> BothSides(const std::string& base, const std::string& next, F read) {
  std::optional<StatusOr<T>> b;
  std::thread t([&] { b.emplace(read(base)); });
  StatusOr<T> n = read(next);
  t.join();
  if (!b->ok()) return b->status();
  if (!n.ok()) return n.status();
  return std::pair<T, T>(std::move(**b), std::move(*n));
}

InputKind KindOf(const std::string& path) {
  return memlog::IsMemlogCsv(path) ? InputKind::kMemlog : InputKind::kSnapshot;
}

StatusOr<analysis::PairDiff> DiffPair(const DiffOptions& o, std::string name, const std::string& base,
                                      const std::string& next, std::vector<std::pair<std::string, Stats>>* warnings) {
  analysis::PairDiff p;
  p.name = std::move(name);
  p.base_path = base;
  p.next_path = next;
  InputKind kb = KindOf(base), kn = KindOf(next);
  if (kb != kn)
    return InvalidInput(fmt::format("{} is a {} and {} is a {}: BASE and NEW must be of one kind", base,
                                    analysis::InputKindName(kb), next, analysis::InputKindName(kn)));
  p.kind = kb;
  if (kb == InputKind::kMemlog) {
    if (o.device) return UsageError("--device is for snapshots; a memlog CSV has no devices");
    memlog::MemlogReportOptions mo;
    mo.column = o.column;
    mo.jumps = 0;
    ASSIGN_OR_RETURN(auto sides, (BothSides<memlog::MemlogReport>(base, next, [&](const std::string& path) {
                       return memlog::BuildMemlogReport(path, mo);
                     })));
    p.memlog = analysis::DiffMemlogs(sides.first, sides.second);
    return p;
  }
  if (!o.column.empty()) return UsageError("--column is for memlog CSVs");
  ASSIGN_OR_RETURN(snapshot::FrameRules rules, snapshot::FrameRules::Make(o.frames));
  ASSIGN_OR_RETURN(auto sides, (BothSides<std::unique_ptr<SnapshotRead>>(base, next, [&](const std::string& path) {
                     return ReadSnapshotSide(path, rules);
                   })));
  warnings->emplace_back(base, sides.first->report.stats);
  warnings->emplace_back(next, sides.second->report.stats);
  analysis::CompareOptions co;
  co.top = o.top;
  co.device = o.device;
  p.devices = analysis::DiffSnapshots({&sides.first->report, &sides.first->sites},
                                      {&sides.second->report, &sides.second->sites}, co);
  return p;
}

bool IsDir(const std::string& path) {
  std::error_code ec;
  return path != "-" && fs::is_directory(path, ec);
}

// The files of a directory that can be inputs: regular files (or links to
// them), not hidden, not a memlog CSV's log (NAME.log.csv rides along with
// NAME.csv), by name.
StatusOr<std::set<std::string>> ListInputs(const std::string& dir) {
  std::set<std::string> names;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  if (ec) return IoError(fmt::format("{}: cannot list: {}", dir, ec.message()));
  for (; it != end; it.increment(ec)) {
    if (ec) return IoError(fmt::format("{}: cannot list: {}", dir, ec.message()));
    std::string n = it->path().filename().string();
    std::error_code fe;
    if (n.empty() || n[0] == '.' || !fs::is_regular_file(it->path(), fe)) continue;
    if (n.size() > 8 && n.compare(n.size() - 8, 8, ".log.csv") == 0) continue;
    names.insert(n);
  }
  return names;
}

// A file memtk would have compared (a snapshot, a database, a memlog CSV),
// by its content: what the gate may find missing from NEW. A README, a log
// or a report written into BASE (diff --json -o BASE/) is not.
bool LooksLikeInput(const std::string& path) {
  if (store::IsSqliteFile(path) || memlog::IsMemlogCsv(path)) return true;
  auto in = io::InputFile::Open(path);
  if (!in.ok()) return false;
  if ((*in)->format() == io::ContentFormat::kPickle) return true;
  if ((*in)->format() != io::ContentFormat::kJson) return false;
  // A JSON snapshot names its lists near the top; a report does not.
  std::string head(64 << 10, '\0');
  size_t got = 0;
  if (!(*in)->Read(reinterpret_cast<uint8_t*>(head.data()), head.size(), &got).ok()) return false;
  const std::string_view h(head.data(), got);
  return h.find("\"device_traces\"") != std::string_view::npos || h.find("\"segments\"") != std::string_view::npos;
}

}  // namespace

std::string_view DiffExtension(DiffFormat format) {
  switch (format) {
    case DiffFormat::kJson:
      return ".diff.json";
    case DiffFormat::kMarkdown:
      return ".diff.md";
    case DiffFormat::kText:
      break;
  }
  return ".diff.txt";
}

StatusOr<DiffOutcome> RunDiff(const DiffOptions& o) {
  analysis::DiffReport r;
  r.base = o.base;
  r.next = o.next;
  for (const std::string& e : o.fail_on) {
    ASSIGN_OR_RETURN(analysis::Gate g, analysis::ParseGate(e));
    r.gates.push_back(std::move(g));
  }
  if (o.base == "-" && o.next == "-") return UsageError("BASE and NEW cannot both be '-' (stdin)");
  RETURN_IF_ERROR(snapshot::FrameRules::Make(o.frames).status());  // a bad regex is usage, whatever the inputs
  DiffOutcome out;
  bool db = IsDir(o.base), dn = IsDir(o.next);
  if (db != dn)
    return InvalidInput(fmt::format("{} is {} and {} is {}: give two files or two directories", o.base,
                                    db ? "a directory" : "not a directory", o.next, dn ? "a directory" : "not"));
  // The pairs first, then the -o check against every file they read, then
  // the reads: a report never replaces what it compares.
  struct Pair {
    std::string name, base, next;
  };
  std::vector<Pair> pairs;
  if (!db) {
    pairs.push_back({"", o.base, o.next});
  } else {
    r.directories = true;
    ASSIGN_OR_RETURN(std::set<std::string> bn, ListInputs(o.base));
    ASSIGN_OR_RETURN(std::set<std::string> nn, ListInputs(o.next));
    for (const std::string& n : bn)
      if (!nn.count(n)) r.only_in_base.push_back(n);
    for (const std::string& n : nn)
      if (!bn.count(n)) r.only_in_next.push_back(n);
    for (const std::string& n : bn)
      if (nn.count(n)) pairs.push_back({n, (fs::path(o.base) / n).string(), (fs::path(o.next) / n).string()});
    if (pairs.empty())
      return InvalidInput(fmt::format("{} and {}: no file name in both directories ({} and {} files)", o.base, o.next,
                                      bn.size(), nn.size()));
  }
  std::vector<std::string> reads;
  for (const Pair& p : pairs) {
    AddFilesRead(p.base, "", &reads);
    AddFilesRead(p.next, "", &reads);
  }
  RETURN_IF_ERROR(CheckReportOutput(o.output, o.next, DiffExtension(o.format), reads));
  for (const Pair& pair : pairs) {
    ASSIGN_OR_RETURN(analysis::PairDiff p, DiffPair(o, pair.name, pair.base, pair.next, &out.warnings));
    r.pairs.push_back(std::move(p));
  }
  if (o.device) {
    bool seen = false;
    for (const analysis::PairDiff& p : r.pairs) seen = seen || !p.devices.empty();
    if (!seen) return InvalidInput(fmt::format("no data for device {} in {} or {}", *o.device, o.base, o.next));
  }
  ASSIGN_OR_RETURN(r.gate, analysis::EvaluateGates(r.pairs, r.gates, o.device));
  if (!r.gates.empty())
    for (const std::string& n : r.only_in_base)
      if (LooksLikeInput((fs::path(o.base) / n).string())) r.gate.missing_in_next.push_back(n);
  out.gate_failed = r.gate.failed();
  out.gate_failures = present::GateFailureLines(r.gate);
  switch (o.format) {
    case DiffFormat::kText:
      out.output = present::DiffText(r);
      break;
    case DiffFormat::kJson:
      out.output = present::DiffJson(r);
      break;
    case DiffFormat::kMarkdown:
      out.output = present::DiffMarkdown(r);
      break;
  }
  return out;
}

}  // namespace memtk::commands
