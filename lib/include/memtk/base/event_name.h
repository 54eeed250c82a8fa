// How memtk names a trace event to people, and reads such a name back.
//
// An event has two numbers: its index in its device's trace (what PyTorch's
// viewer shows, and `stats` used to print alone) and its id (events.id in a
// memtk database: file order over every device; an allocation's id is the
// id of its alloc event). Reports print both, "d1:421 (id 6866)", and
// `query --alloc` / `--live-at-event` accept either spelling: "6866" (an id)
// or "d1:421" (index 421 in device 1's trace).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "memtk/base/status.h"

namespace memtk {

/// "d1:421": index 421 in device 1's trace.
std::string DeviceEventName(uint64_t device, uint64_t idx);

/// An event as a user wrote it: an id, or a device and an index.
struct EventName {
  std::optional<uint32_t> device;  ///< set: `number` is an index in this device's trace
  uint64_t number = 0;             ///< events.id, or the index
};

/// Reads "6866" or "d1:421" (also "D1:421"); a usage error naming `flag`
/// and both spellings otherwise.
StatusOr<EventName> ParseEventName(std::string_view text, std::string_view flag);

}  // namespace memtk
