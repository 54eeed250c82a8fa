// Time columns and CSV quoting shared by the memlog writers (samples, log
// lines, marks). Appending to a std::string whose capacity is kept means no
// allocation per row.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace memtk::memlog {

/// Appends "2026-11-22T10:00:00.123Z,1763805600.123456,12.345678" for a
/// CLOCK_REALTIME time and elapsed nanoseconds (elapsed < 0: empty field).
void AppendTimes(std::string& out, int64_t wall_ns, int64_t elapsed_ns);
/// Appends `text` as one quoted CSV field ('"' doubled).
void AppendQuoted(std::string& out, std::string_view text);
/// "2026-11-22T10:00:00.123Z" for unix seconds.
std::string IsoUtc(double unix_s);

}  // namespace memtk::memlog
