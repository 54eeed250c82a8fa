// RunFoldedQuery: pick the instant, stream the input, write folded stacks.
#include "commands/query_folded.h"

#include <fmt/format.h>

#include "analysis/flame.h"
#include "memtk/base/event_name.h"
#include "present/folded.h"
#include "store/replay.h"

namespace memtk::commands {

Status RunFoldedQuery(const QueryOptions& o, const store::OutputFn& out) {
  if (!o.sql.empty() || o.alloc || o.top || !o.frame_regex.empty())
    return UsageError(
        "--format folded answers --at-peak, --live-at-event, --live-at-us, or no question (every allocation); "
        "not --sql, --alloc, --top or --frame");
  if (o.at_peak + o.live_at_event.has_value() + o.live_at_us.has_value() > 1)
    return UsageError("ask at most one of --at-peak, --live-at-event and --live-at-us");
  if (o.limit != UINT64_MAX) return UsageError("--limit does not apply to --format folded (pipe through head)");
  if (o.input == "-") return UsageError("query reads a file, not stdin: convert first or pass a path");
  analysis::FlameOptions fo;
  fo.device = o.device;
  fo.frames = o.frames;
  if (o.at_peak)
    fo.at = {analysis::Instant::kPeak, 0};
  else if (o.live_at_event) {
    // As the other questions read it: "6866" is an event id, "d1:421" index
    // 421 in device 1's trace (memtk/base/event_name.h).
    ASSIGN_OR_RETURN(EventName name, ParseEventName(*o.live_at_event, "--live-at-event"));
    if (name.device) {
      if (o.device && *o.device != *name.device)
        return UsageError(fmt::format("--live-at-event {} names device {}, --device says {}", *o.live_at_event,
                                      *name.device, *o.device));
      fo.device = name.device;
      fo.at = {analysis::Instant::kEvent, static_cast<int64_t>(name.number)};
    } else {
      if (o.device)
        return UsageError(fmt::format(
            "--live-at-event {0} with --device {1}: write d{1}:{0} for index {0} in device {1}'s trace, or {0} "
            "without --device for the event with id {0}",
            *o.live_at_event, *o.device));
      fo.at = {analysis::Instant::kEventId, static_cast<int64_t>(name.number)};
    }
  } else if (o.live_at_us)
    fo.at = {analysis::Instant::kTimeUs, *o.live_at_us};
  else
    fo.at = {analysis::Instant::kAll, 0};
  ASSIGN_OR_RETURN(analysis::FlameProfile profile, analysis::BuildFlameProfile(o.input, fo));
  Status s = present::WriteFolded(profile, out);
  return store::IsClosedPipe(s) ? OkStatus() : s;
}

}  // namespace memtk::commands
