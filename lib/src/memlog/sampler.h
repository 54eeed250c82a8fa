// Sampler: reads the memory of a process tree or of the machine from /proc.
//
// Cost is what matters here: memlog samples every 10 ms for days beside the
// program it watches. Every file read per sample stays open and is read with
// pread into a fixed buffer; the process table only grows with the number of
// processes on the machine. The tree is found afresh at every sample by
// parent PIDs (children forked by a non-main thread are missing from
// /proc/PID/task/*/children), but the directory scan of /proc is skipped when
// the kernel's last allocated PID (/proc/loadavg) has not moved: no process
// can have been created then, and exits and re-parenting show in the files
// already open. Processes are keyed by (pid, start time) so a reused PID
// never mixes two processes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "memtk/base/status.h"
#include "memlog/columns.h"

namespace memtk::memlog {

struct SamplerOptions {
  enum class Target {
    kMachine,      ///< /proc/meminfo (and NVML device totals).
    kTree,         ///< `pid` and, with `children`, its descendants.
    kDescendants,  ///< Every descendant of `pid` but not `pid` itself (memtk's launched command);
                   ///< without `children` only its direct children.
  };
  Target target = Target::kMachine;
  pid_t pid = 0;
  bool children = true;
  bool detail = false;  ///< smaps_rollup columns (costs ~13 us per process per sample).
  bool gpu = true;      ///< Try NVML (libnvidia-ml.so.1, loaded at run time).
  /// Read /proc/PID/status (VmHWM, VmSwap, PPid) every this many samples;
  /// RSS (statm) is read at every sample.
  uint64_t status_every = 1;
  std::string proc_root = "/proc";
};

class Sampler {
 public:
  /// Fails if /proc is unreadable or a kTree root does not exist. Notices
  /// (a missing NVML, an unreadable cgroup) go to `notices`.
  static StatusOr<std::unique_ptr<Sampler>> Create(const SamplerOptions& options, std::vector<std::string>* notices);
  virtual ~Sampler() = default;

  /// The value columns this sampler fills, in CSV order (fixed at Create).
  virtual std::span<const Col> columns() const = 0;
  /// One sample: values[i] for columns()[i], kMissing when unreadable.
  /// Performs no heap allocation unless the machine has more processes
  /// than ever before.
  virtual Status Sample(std::span<int64_t> values) = 0;
  /// kTree: false once the root process has exited.
  virtual bool target_alive() const = 0;
};

}  // namespace memtk::memlog
