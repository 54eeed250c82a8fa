// Presenters of a memlog CSV's statistics (memlog/report.h): what
// `memtk stats run.csv` prints.
#pragma once

#include <string>

#include "memtk/memlog/report.h"

namespace memtk::present {

/// Text for people: the run, peak, phases, jumps with their log lines.
std::string FormatMemlogReport(const memlog::MemlogReport& r);
/// One JSON object and a newline; keys in docs/MEMLOG.md.
std::string MemlogReportJson(const memlog::MemlogReport& r);

}  // namespace memtk::present
