// RunFoldedQuery: pick the instant, stream the input, write folded stacks.
#include "commands/query_folded.h"

#include "analysis/flame.h"
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
  fo.frames.all_frames = o.all_frames;
  if (o.at_peak)
    fo.at = {analysis::Instant::kPeak, 0};
  else if (o.live_at_event)
    fo.at = {analysis::Instant::kEvent, static_cast<int64_t>(*o.live_at_event)};
  else if (o.live_at_us)
    fo.at = {analysis::Instant::kTimeUs, *o.live_at_us};
  else
    fo.at = {analysis::Instant::kAll, 0};
  ASSIGN_OR_RETURN(analysis::FlameProfile profile, analysis::BuildFlameProfile(o.input, fo));
  Status s = present::WriteFolded(profile, out);
  return store::IsClosedPipe(s) ? OkStatus() : s;
}

}  // namespace memtk::commands
