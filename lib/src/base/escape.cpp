#include "memtk/base/escape.h"

#include <fmt/format.h>

#include <cstdint>

namespace memtk {

namespace {

// Length of the valid UTF-8 sequence at s[i] (1 for ASCII), or 0 if the
// bytes there are not one (overlong, surrogate, truncated, > U+10FFFF);
// `cp` receives the code point.
size_t Utf8Length(std::string_view s, size_t i, uint32_t* cp) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  size_t n;
  uint32_t v;
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if (c >= 0xC2 && c <= 0xDF) {
    n = 2, v = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, v = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, v = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b(k) & 0x3F);
  }
  if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return n;
}

bool Unsafe(uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

bool NeedsEscape(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    size_t n = Utf8Length(text, i, &cp);
    if (n == 0 || Unsafe(cp)) return true;
    i += n;
  }
  return false;
}

namespace {

// `text` copied code point by code point: bytes that are not UTF-8 through
// `bad(out, byte)`, code points a terminal interprets through
// `unsafe(out, cp, bytes)`; the rest as they are. The one walk behind every
// escaping here.
template <class Bad, class UnsafeCp>
std::string Rewrite(std::string_view text, Bad bad, UnsafeCp unsafe) {
  if (!NeedsEscape(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 16);
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    const size_t n = Utf8Length(text, i, &cp);
    if (n == 0) {
      bad(out, static_cast<unsigned char>(text[i++]));
      continue;
    }
    if (Unsafe(cp))
      unsafe(out, cp, text.substr(i, n));
    else
      out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

}  // namespace

std::string EscapeJsonText(std::string_view json) {
  return Rewrite(
      json, [](std::string& out, unsigned char b) { out.push_back(static_cast<char>(b)); },  // as the writer left it
      [](std::string& out, uint32_t cp, std::string_view raw) {
        // C0 controls are the writer's to escape (inside strings they never
        // stand raw); C1 and bidi overrides become JSON escapes.
        if (cp < 0x80)
          out.append(raw);
        else
          out += fmt::format("\\u{:04x}", cp);
      });
}

std::string EscapeControlLines(std::string_view text) {
  if (!NeedsEscape(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 16);
  for (size_t at = 0; at < text.size();) {
    const size_t nl = text.find('\n', at);
    const size_t end = nl == std::string_view::npos ? text.size() : nl;
    out += EscapeControl(text.substr(at, end - at));
    if (nl == std::string_view::npos) break;
    out += '\n';
    at = nl + 1;
  }
  return out;
}

std::string EscapeControl(std::string_view text) {
  return Rewrite(
      text, [](std::string& out, unsigned char b) { out += fmt::format("\\x{:02x}", b); },
      [](std::string& out, uint32_t cp, std::string_view) {
        if (cp == '\n') {
          out += "\\n";
        } else if (cp == '\r') {
          out += "\\r";
        } else if (cp == '\t') {
          out += "\\t";
        } else if (cp < 0x80) {
          out += fmt::format("\\x{:02x}", cp);
        } else {
          out += fmt::format("\\u{:04x}", cp);
        }
      });
}

}  // namespace memtk
