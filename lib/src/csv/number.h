// Number parsing for CSV fields, inline: `stats` of a memlog CSV parses
// eight numbers per row, and a call per field was a fifth of its time.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace memtk::csv {

namespace detail {

// Eight ASCII digits at once (the SWAR trick of simdjson's
// parse_eight_digits_unrolled): the byte loop was a fifth of `stats` time.
inline bool EightDigits(const char* p, uint64_t* out) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  if ((((v & 0xF0F0F0F0F0F0F0F0) | (((v + 0x0606060606060606) & 0xF0F0F0F0F0F0F0F0) >> 4)) != 0x3333333333333333))
    return false;
  v -= 0x3030303030303030;
  v = (v * 10) + (v >> 8);
  v = (((v & 0x000000FF000000FF) * 0x000F424000000064) + (((v >> 16) & 0x000000FF000000FF) * 0x0000271000000001)) >> 32;
  *out = v;
  return true;
}

// Up to 18 digits, all of [p, end); false on anything else.
inline bool Digits(const char* p, const char* end, uint64_t* out) {
  if (p == end || end - p > 18) return false;
  uint64_t v = 0, eight;
  for (; end - p >= 8; p += 8) {
    if (!EightDigits(p, &eight)) return false;
    v = v * 100000000 + eight;
  }
  for (; p < end; ++p) {
    const unsigned d = static_cast<unsigned>(*p - '0');
    if (d > 9) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

}  // namespace detail

/// Strict: optional '-', digits, nothing else (no spaces).
inline bool ParseInt64(std::string_view s, int64_t* out) {
  const char* p = s.data();
  const char* end = p + s.size();
  const bool neg = p < end && *p == '-';
  if (neg) ++p;
  uint64_t v = 0;
  if (!detail::Digits(p, end, &v)) {
    // Empty, junk, or long enough to overflow: let from_chars judge.
    auto r = std::from_chars(s.data(), end, *out);
    return r.ec == std::errc() && r.ptr == end;
  }
  *out = neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  return true;
}

/// Decimal numbers as memtk writes them ("12.345", "-1"); anything else
/// ("1e3", long mantissas) through std::from_chars.
inline bool ParseDouble(std::string_view s, double* out) {
  // Fast path for what memtk writes: [-]digits[.digits]. The integer and the
  // fraction are exact integers (< 2^53 for up to 15 digits); with more
  // digits the sum may be one unit in the last place from correctly rounded,
  // far below the microseconds memtk writes.
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                                      1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};
  const char* p = s.data();
  const char* end = p + s.size();
  const bool neg = p < end && *p == '-';
  if (neg) ++p;
  const char* dot = static_cast<const char*>(std::memchr(p, '.', end - p));
  uint64_t ip = 0, fp = 0;
  bool ok = false;
  if (dot == nullptr) {
    ok = detail::Digits(p, end, &ip) && end - p <= 15;
  } else if (dot > p && dot + 1 < end && detail::Digits(p, dot, &ip) && detail::Digits(dot + 1, end, &fp)) {
    ok = ip < (uint64_t{1} << 53) && fp < (uint64_t{1} << 53);
  }
  if (ok) {
    double v = static_cast<double>(ip);
    if (dot != nullptr) v += static_cast<double>(fp) / kPow10[end - dot - 1];
    *out = neg ? -v : v;
    return true;
  }
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), end, *out);
  return r.ec == std::errc() && r.ptr == end;
}

}  // namespace memtk::csv
