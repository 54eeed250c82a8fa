// Spelling shared by the diff presenters: values by unit, signed changes,
// percentages, the headline and the gate line.
#pragma once

#include <optional>
#include <string>

#include "memtk/analysis/diff.h"

namespace memtk::present {

/// "1.5 GiB", "1200", "12.0 MiB/h", "2m 13.2s".
std::string FormatValue(analysis::Unit unit, int64_t v);
/// Same with a sign: "+1.5 GiB", "-3", "0 B".
std::string FormatChange(analysis::Unit unit, int64_t v);
/// "+8.30%", "-0.01%", "0.00%", or "new" when the base is zero.
std::string FormatPercent(const std::optional<double>& p);
/// "peak +1.2 GiB (+8.30%) on device 0"; "peak unchanged (1.0 GiB) on device 0".
std::string PeakHeadline(const analysis::DeviceDiff& d);
/// The same for a memlog pair: "peak +12.0 MiB (+3.10%) (rss_bytes)".
std::string MemlogHeadline(const analysis::MemlogDiff& d);
/// Devices of a pair, largest absolute peak change first (ties by device).
std::vector<const analysis::DeviceDiff*> ByPeakChange(const analysis::PairDiff& p);
/// "peak>5% failed on device 0: base 1.0 GiB, new 1.2 GiB (+204.8 MiB, +20.00%)".
std::string GateLine(const analysis::GateCheck& c);
/// "rank3.pickle: failed: only in BASE, NEW has no file to compare": a
/// BASE file without a NEW one, with gates (GateResult::missing_in_next).
std::string MissingGateLine(const std::string& name);
/// "at event 123 (+1.234 s)" or "-" when there is no such event.
std::string PeakWhen(const timeline::PeakPoint& p, const std::optional<int64_t>& first_time_us, uint32_t device);

}  // namespace memtk::present
