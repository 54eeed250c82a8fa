// Named counters for recoverable data problems (after perfetto's stats.h).
//
// Readers never print per record: they count here and carry on. The CLI
// prints a summary of the non-zero counters, `convert` writes them to the
// `stats` table, and `--strict` turns any kError counter into a failure.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "memtk/base/status.h"

namespace memtk {

enum class Severity { kInfo, kWarning, kError };

// F(name, severity, description)
#define MEMTK_STATS(F)                                                                                                \
  F(unknown_key, kInfo, "Keys memtk does not model; kept as JSON in the `extra` column.")                             \
  F(unknown_action, kWarning, "Trace events with an action memtk does not know; kept as is.")                         \
  F(event_not_a_dict, kError, "A trace entry that is not a dict was skipped.")                                        \
  F(event_missing_action, kError, "A trace event without an `action` string was skipped.")                            \
  F(segment_not_a_dict, kError, "A segment that is not a dict was skipped.")                                          \
  F(block_not_a_dict, kError, "A block that is not a dict was skipped.")                                              \
  F(bad_frame, kError, "A frame that is not a {filename, line, name} dict was skipped.")                              \
  F(bad_field_type, kWarning, "A field had an unexpected type; stored in `extra` instead.")                           \
  F(free_without_alloc, kInfo, "Frees of blocks allocated before recording began (allocations with no alloc event).") \
  F(alloc_over_live, kWarning, "Allocs at an address that was still live; the older allocation was closed unfreed.")  \
  F(never_freed, kInfo, "Allocations still live at the end of the trace.")                                            \
  F(free_requested_unmatched, kInfo, "free_requested with no live allocation at that address.")                       \
  F(legacy_block_address, kInfo, "Block addresses derived from segment address + prior sizes.")                       \
  F(memo_full_retention, kInfo, "Input not seekable: every memo entry was kept (memory grows with the file).")      \
  F(value_not_kept, kWarning, "Strings or bytes over 64 KiB were skipped unread; a placeholder names their length.")

enum class Stat : uint8_t {
#define MEMTK_STAT_ENUM(name, sev, desc) k_##name,
  MEMTK_STATS(MEMTK_STAT_ENUM)
#undef MEMTK_STAT_ENUM
      kCount
};

struct StatInfo {
  std::string_view name;
  Severity severity;
  std::string_view description;
};

/// Static name, severity and description of a counter.
const StatInfo& GetStatInfo(Stat s);
std::string_view SeverityName(Severity s);

/// The counters of one run. Plain values: copy and add freely.
class Stats {
 public:
  void Increment(Stat s, uint64_t by = 1) { values_[static_cast<size_t>(s)] += by; }
  uint64_t Get(Stat s) const { return values_[static_cast<size_t>(s)]; }
  /// True if any counter of severity kError is non-zero.
  bool HasErrors() const;
  void Add(const Stats& other) {
    for (size_t i = 0; i < values_.size(); ++i) values_[i] += other.values_[i];
  }

 private:
  std::array<uint64_t, static_cast<size_t>(Stat::kCount)> values_{};
};

/// --strict: an error naming the first non-zero kError counter of `stats`
/// ("<input>: --strict: N × name: description"), or ok when there is none.
Status CheckStrict(std::string_view input, const Stats& stats);

}  // namespace memtk
