// `memtk memlog`: record memory over time (memlog/recorder.h), or append a
// mark to a recording. The flags' rules live here, not in the CLI, so they
// are tested without it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "memtk/base/status.h"
#include "memtk/memlog/recorder.h"

namespace memtk::commands {

struct MemlogOptions {
  std::string output;  ///< -o CSV (required to record)
  std::string log;     ///< --log CSV (default OUT.log.csv)
  std::vector<std::string> command;
  int64_t pid = 0;
  std::string interval = "100ms";
  std::string duration;  ///< "" = until the target ends (or Ctrl-C)
  bool children = false, no_children = false;
  bool detail = false, no_gpu = false;
  std::string mark;  ///< with `into`: append this mark instead of recording
  std::string into;
};

/// Checks the flags (usage errors name them), then records, or appends the
/// mark (an empty RecordResult). Notices (what is recorded, how to stop) go
/// to `notice`.
StatusOr<memlog::RecordResult> RunMemlog(const MemlogOptions& options, const memlog::NoticeFn& notice);

}  // namespace memtk::commands
