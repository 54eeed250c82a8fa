#include "time_format.h"

#include <charconv>
#include <cmath>

namespace memtk::memlog {

namespace {

// Civil date from days since 1970-01-01 (Howard Hinnant's days_from_civil,
// inverted): no gmtime_r, so no time-zone lock and no allocation.
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

void Digits(std::string& out, int64_t v, int width) {
  char buf[24];
  char* end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  for (int pad = width - static_cast<int>(end - buf); pad > 0; --pad) out.push_back('0');
  out.append(buf, end);
}

// "123.456789" from nanoseconds, 6 decimals (microseconds).
void Seconds(std::string& out, int64_t ns) {
  if (ns < 0) {
    out.push_back('-');
    ns = -ns;
  }
  const int64_t us = (ns + 500) / 1000;
  Digits(out, us / 1'000'000, 1);
  out.push_back('.');
  Digits(out, us % 1'000'000, 6);
}

void AppendIso(std::string& out, int64_t wall_ms) {
  const int64_t secs = wall_ms >= 0 ? wall_ms / 1000 : (wall_ms - 999) / 1000;
  const int64_t ms = wall_ms - secs * 1000;
  const int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  const int64_t sod = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  Digits(out, y, 4);
  out.push_back('-');
  Digits(out, m, 2);
  out.push_back('-');
  Digits(out, d, 2);
  out.push_back('T');
  Digits(out, sod / 3600, 2);
  out.push_back(':');
  Digits(out, sod / 60 % 60, 2);
  out.push_back(':');
  Digits(out, sod % 60, 2);
  out.push_back('.');
  Digits(out, ms, 3);
  out.push_back('Z');
}

}  // namespace

void AppendTimes(std::string& out, int64_t wall_ns, int64_t elapsed_ns) {
  AppendIso(out, wall_ns / 1'000'000);
  out.push_back(',');
  Seconds(out, wall_ns);
  out.push_back(',');
  if (elapsed_ns >= 0) Seconds(out, elapsed_ns);
}

void AppendQuoted(std::string& out, std::string_view text) {
  out.push_back('"');
  for (size_t pos = 0;;) {
    const size_t q = text.find('"', pos);
    if (q == std::string_view::npos) {
      out.append(text.substr(pos));
      break;
    }
    out.append(text.substr(pos, q + 1 - pos));
    out.push_back('"');
    pos = q + 1;
  }
  out.push_back('"');
}

std::string IsoUtc(double unix_s) {
  std::string s;
  if (!(std::fabs(unix_s) < 1e15)) return "(not a time)";  // keeps the arithmetic below in range
  AppendIso(s, static_cast<int64_t>(std::floor(unix_s * 1000.0 + 0.5)));
  return s;
}

}  // namespace memtk::memlog
