// Human-readable numbers shared by every report.
#pragma once

#include <cstdint>
#include <string>

namespace memtk {

/// "1.5 GiB", "512 B": binary units, one decimal.
std::string FormatBytes(int64_t bytes);
/// "35 ms", "4.21 s", "2m 13.2s", "1h 02m 03s".
std::string FormatDuration(double seconds);

}  // namespace memtk
