// The columns of a memlog CSV and of its log CSV.
//
// A memlog CSV starts with `time_utc,unix_s,elapsed_s` and then the value
// columns its sampler could fill, in the order of `Col`; a column whose
// source is absent on this machine (NVML, a readable cgroup) is left out, a
// value that could not be read at one instant is an empty field. The unit is
// the suffix of the name: `_bytes`, `_s`, `_percent`, or none for counts.
// Values are integers, except `cpu_percent`, written with one decimal (the
// sampler keeps it in tenths of a percent; see kTenths).
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

namespace memtk::memlog {

enum class Col : uint8_t {
  // A process tree (a launched command or --pid).
  kRss,       ///< Sum of VmRSS over the tree.
  kHwm,       ///< Sum of VmHWM (each process's own RSS high-water mark).
  kSwap,      ///< Sum of VmSwap.
  kPss,       ///< --detail: sum of Pss (smaps_rollup).
  kUss,       ///< --detail: sum of Private_Clean + Private_Dirty.
  kPssAnon,   ///< --detail: Pss_Anon.
  kPssFile,   ///< --detail: Pss_File.
  kPssShmem,  ///< --detail: Pss_Shmem.
  kProcs,     ///< Processes in the tree at this sample.
  kGpu,       ///< NVML: GPU memory used by processes of the tree.
  // The whole machine (no target).
  kUsed,       ///< MemTotal - MemAvailable.
  kMemFree,    ///< MemFree.
  kBuffCache,  ///< Buffers + Cached + SReclaimable (what free(1) calls buff/cache).
  kSwapUsed,   ///< SwapTotal - SwapFree.
  kGpuUsed,    ///< NVML: used memory of all GPUs.
  // Both.
  kCpu,  ///< CPU use in % of one core over the last >= 100 ms: the tree's utime+stime (or the machine's busy time).
  kMemAvailable,  ///< MemAvailable of the machine.
  kCgroup,        ///< memory.current (v2) or memory.usage_in_bytes (v1) of the target's cgroup.
  kCount
};

struct ColumnInfo {
  std::string_view name;  ///< CSV header name, unit as suffix
  std::string_view description;
};

const ColumnInfo& GetColumnInfo(Col c);

/// True for the columns whose sampled values are tenths of their unit and
/// are written with one decimal ("12.5").
inline constexpr bool IsTenths(Col c) { return c == Col::kCpu; }

/// An unreadable value (written as an empty field).
inline constexpr int64_t kMissing = std::numeric_limits<int64_t>::min();

/// The first columns of every memlog CSV.
inline constexpr std::string_view kTimeHeader = "time_utc,unix_s,elapsed_s";
/// The header of the log CSV (`stream` is stdout, stderr or mark).
inline constexpr std::string_view kLogHeader = "time_utc,unix_s,elapsed_s,stream,line";

}  // namespace memtk::memlog
