// What a timeline picture shows and along which axis: the choices
// `render-png --view` and `--x` name.
#pragma once

#include <cstdint>

namespace memtk::timeline {

/// kActive: allocations (alloc / free_completed); kSegments: reserved
/// memory per segment (segment_alloc / segment_free), and with expandable
/// segments per mapped range (segment_map / segment_unmap: an unmap may
/// take part of a mapped range, or pieces of several).
enum class View : uint8_t { kActive, kSegments };
/// kEvent: the event's index in its device's trace; kTime: seconds since
/// the device's first timed event.
enum class XAxis : uint8_t { kEvent, kTime };

}  // namespace memtk::timeline
