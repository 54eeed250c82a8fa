#include "memtk/base/format.h"

#include <fmt/core.h>

#include <cmath>

namespace memtk {

std::string FormatBytes(int64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while ((v >= 1024.0 || v <= -1024.0) && u < 6) {
    v /= 1024.0;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, kUnits[u]);
}

std::string FormatDuration(double seconds) {
  const char* sign = seconds < 0 ? "-" : "";
  double s = std::fabs(seconds);
  if (s < 1.0) return fmt::format("{}{:.0f} ms", sign, s * 1000.0);
  if (s < 60.0) return fmt::format("{}{:.2f} s", sign, s);
  if (s < 3600.0) {
    const int m = static_cast<int>(s / 60.0);
    return fmt::format("{}{}m {:04.1f}s", sign, m, s - m * 60.0);
  }
  const int64_t total = static_cast<int64_t>(std::llround(s));
  return fmt::format("{}{}h {:02}m {:02}s", sign, total / 3600, total / 60 % 60, total % 60);
}

}  // namespace memtk
