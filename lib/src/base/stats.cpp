#include "memtk/base/stats.h"

#include <fmt/format.h>

namespace memtk {

namespace {
const StatInfo kInfos[] = {
#define MEMTK_STAT_INFO(name, sev, desc) {#name, Severity::sev, desc},
    MEMTK_STATS(MEMTK_STAT_INFO)
#undef MEMTK_STAT_INFO
};
}  // namespace

const StatInfo& GetStatInfo(Stat s) { return kInfos[static_cast<size_t>(s)]; }

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kError:
      return "error";
  }
  return "?";
}

bool Stats::HasErrors() const {
  for (size_t i = 0; i < values_.size(); ++i)
    if (values_[i] != 0 && kInfos[i].severity == Severity::kError) return true;
  return false;
}

Status CheckStrict(std::string_view input, const Stats& stats) {
  for (size_t i = 0; i < static_cast<size_t>(Stat::kCount); ++i) {
    const StatInfo& info = GetStatInfo(static_cast<Stat>(i));
    if (info.severity == Severity::kError && stats.Get(static_cast<Stat>(i)))
      return InvalidInput(fmt::format("{}: --strict: {} × {}: {}", input, stats.Get(static_cast<Stat>(i)), info.name,
                                      info.description));
  }
  return OkStatus();
}

}  // namespace memtk
