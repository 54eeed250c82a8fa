// Human-readable numbers shared by every report.
#pragma once

#include <cstdint>
#include <string>

namespace memtk {

inline constexpr int64_t kMiB = int64_t{1} << 20;

/// "1.5 GiB", "512 B": binary units, one decimal.
std::string FormatBytes(int64_t bytes);
/// "35 ms", "4.21 s", "2m 13.2s", "1h 02m 03s".
std::string FormatDuration(double seconds);

}  // namespace memtk
