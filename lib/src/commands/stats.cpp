// `memtk stats`: pick the analysis by the input's kind, present its result.
#include "memtk/commands/stats.h"

#include "commands/files_read.h"
#include "memtk/analysis/snapshot_stats.h"
#include "memtk/memlog/report.h"
#include "memtk/present/memlog_stats.h"
#include "memtk/present/snapshot_stats.h"

namespace memtk::commands {

namespace {

StatusOr<StatsOutput> MemlogStats(const StatsOptions& o) {
  if (o.device) return UsageError("--device is for snapshots; a memlog CSV has no devices");
  memlog::MemlogReportOptions mo;
  mo.column = o.column;
  mo.log_path = o.log_path;
  if (o.top) mo.jumps = *o.top;
  ASSIGN_OR_RETURN(memlog::MemlogReport report, memlog::BuildMemlogReport(o.input, mo));
  return StatsOutput{o.json ? present::MemlogReportJson(report) : present::FormatMemlogReport(report), {}};
}

}  // namespace

std::string_view StatsExtension(bool json) { return json ? ".stats.json" : ".stats.txt"; }

StatusOr<StatsOutput> RunStats(const StatsOptions& o) {
  std::vector<std::string> reads;
  AddFilesRead(o.input, o.log_path, &reads);
  RETURN_IF_ERROR(CheckReportOutput(o.output, o.input, StatsExtension(o.json), reads));
  if (o.input != "-" && memlog::IsMemlogCsv(o.input)) return MemlogStats(o);
  if (!o.column.empty() || !o.log_path.empty()) return UsageError("--column and --log are for memlog CSVs");
  analysis::SnapshotStatsOptions so;
  so.device = o.device;
  so.top = o.top.value_or(so.top);
  ASSIGN_OR_RETURN(so.frames, snapshot::FrameRules::Make(o.frames));
  ASSIGN_OR_RETURN(analysis::SnapshotReport report, analysis::BuildSnapshotReport(o.input, so));
  return StatsOutput{o.json ? present::SnapshotReportJson(report) : present::FormatSnapshotReport(report),
                     report.stats};
}

}  // namespace memtk::commands
