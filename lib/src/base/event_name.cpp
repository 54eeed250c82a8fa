#include "memtk/base/event_name.h"

#include <fmt/format.h>

#include <charconv>

#include "memtk/base/escape.h"

namespace memtk {

std::string DeviceEventName(uint64_t device, uint64_t idx) { return fmt::format("d{}:{}", device, idx); }

namespace {

bool ParseU64(std::string_view s, uint64_t* v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

StatusOr<EventName> ParseEventName(std::string_view text, std::string_view flag) {
  EventName n;
  if (ParseU64(text, &n.number)) return n;
  if (text.size() > 1 && (text[0] == 'd' || text[0] == 'D')) {
    const size_t colon = text.find(':');
    uint64_t device = 0;
    if (colon != std::string_view::npos && ParseU64(text.substr(1, colon - 1), &device) && device <= UINT32_MAX &&
        ParseU64(text.substr(colon + 1), &n.number)) {
      n.device = static_cast<uint32_t>(device);
      return n;
    }
  }
  return UsageError(fmt::format("{} {}: expected an event id (6866) or a device and an index in its trace (d1:421)",
                                flag, EscapeControl(text)));
}

}  // namespace memtk
