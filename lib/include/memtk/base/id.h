// Strongly typed 32-bit ids (after heaptrack's Index<Base>): a FrameId cannot
// be passed where a StackId is expected, and each costs 4 bytes in records.
#pragma once

#include <cstdint>
#include <functional>

namespace memtk {

/// A dense index into one interning table. Value 0 is a real id; "no id" is
/// spelled std::optional or a separate flag by the user of the type.
template <class Tag>
struct Id {
  uint32_t value = 0;
  friend bool operator==(Id a, Id b) { return a.value == b.value; }
  friend bool operator!=(Id a, Id b) { return a.value != b.value; }
  friend bool operator<(Id a, Id b) { return a.value < b.value; }
};

using StringId = Id<struct StringTag>;
using FrameId = Id<struct FrameTag>;
using StackId = Id<struct StackTag>;

}  // namespace memtk

template <class Tag>
struct std::hash<memtk::Id<Tag>> {
  size_t operator()(memtk::Id<Tag> id) const noexcept { return std::hash<uint32_t>()(id.value); }
};
