// Flame data: the bytes of a snapshot grouped by call stack, at one instant
// of the Active Memory Timeline (or over every allocation of the trace), for
// folded stacks (`query --format folded`), pprof (`convert --to pprof`) and
// the flame pictures (`render-png --view flame|flame-segments`).
//
// FlameSink is a SnapshotSink that keeps, per device, only what the chosen
// instant needs: the peak through timeline::PeakTracker (so the weights at
// the peak add up to exactly the peak `memtk stats` reports), or for another
// instant the live allocations by address (one entry per live allocation,
// as the peak tracker) and a bytes-per-stack total when the instant passes.
// Accounting follows the viewer (timeline/peak.h): memory allocated before
// recording began is live until its free, untraced active blocks of
// `segments` are live throughout, an allocation overwritten at a live
// address stays live. Memory is flat in the number of events: per-stack
// totals, the reader's interned frames, and the live set.
//
// At the end (inside the reader, while its tables live) the stacks are
// turned into a self-contained FlameProfile: frames as text, plumbing frames
// hidden (VisibleFrames), stacks that become equal merged.
//
// Example:
//   FlameSink sink({.at = {Instant::kPeak}}, snapshot::FrameRules());
//   RETURN_IF_ERROR(store::ReadInput(path, &sink));
//   ASSIGN_OR_RETURN(FlameProfile p, sink.Take(path));
//   for (const FlameStack& s : p.stacks) use(s.frames, s.bytes);
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "memtk/base/status.h"
#include "memtk/snapshot/frame_rules.h"
#include "memtk/snapshot/snapshot.h"

namespace memtk::analysis {

/// Which instant's live bytes a flame shows.
struct Instant {
  enum Kind : uint8_t {
    kPeak,     ///< each device at its own peak (stats' peak)
    kEnd,      ///< after the last event of each device
    kEvent,    ///< after event `value` of one device's trace (index in its trace)
    kTimeUs,   ///< each device just before its first event with time_us > `value`
    kAll,      ///< not an instant: every alloc event of the trace, weighted by its size
    kEventId,  ///< after the event whose id (file order over every device) is `value`, on its device
  };
  Kind kind = kPeak;
  int64_t value = 0;
};

/// Parses `render-png --at`: "peak", "end", "event:N" or "us:T"; a usage
/// error naming the text otherwise.
StatusOr<Instant> ParseInstant(std::string_view text);
/// "peak", "end", "event 12", "time_us 3400", "all allocations".
std::string DescribeInstant(const Instant& at);

/// What a node of a flame is: a frame of a stack, or a grouping memtk adds.
enum class FlameNodeKind : uint8_t { kFrame, kStream, kSegment, kState, kFree };

struct FlameFrame {
  FlameNodeKind kind = FlameNodeKind::kFrame;
  std::string filename, name;  ///< kFrame; empty otherwise
  int64_t line = 0;
  /// "filename:line:name" as the viewer prints frames (FormatFrame), or the
  /// grouping's text ("stream 0", "segment 0x7f3a00000000",
  /// "active_allocated", "free").
  std::string label;
};

/// One distinct (device, visible stack), with its weights.
struct FlameStack {
  uint32_t device = 0;
  std::vector<uint32_t> frames;  ///< indices into FlameProfile::frames, outermost first
  int64_t bytes = 0;             ///< live at the instant (kAll: allocated)
  uint64_t count = 0;            ///< allocations behind `bytes`
  int64_t alloc_bytes = 0;       ///< every alloc event of the trace (with_allocs)
  uint64_t alloc_count = 0;
};

struct FlameDevice {
  uint32_t device = 0;
  int64_t bytes = 0;  ///< sum of the device's stacks' `bytes` (at the peak: stats' peak)
  uint64_t count = 0;
  int64_t alloc_bytes = 0;
  uint64_t alloc_count = 0;
  uint64_t events = 0;                ///< the device trace's length
  std::optional<uint64_t> event_idx;  ///< the instant: after this event; none = before the first
  std::optional<int64_t> time_us;     ///< of that event
};

struct FlameProfile {
  std::vector<FlameFrame> frames;  ///< distinct by label
  std::vector<FlameStack> stacks;  ///< by device, then by frame labels
  std::vector<FlameDevice> devices;
};

struct FlameOptions {
  Instant at;
  std::optional<uint32_t> device;  ///< only this device (error if it has no data)
  /// Which frames show (--all-frames keeps the hidden ones); checked by
  /// FrameRules::Make (a bad regex is a usage error).
  snapshot::FrameRulesOptions frames;
  bool with_allocs = false;  ///< also count every alloc event per stack (pprof)
  /// Instead of live bytes: reserved memory of `segments` as stream /
  /// segment / block state / frames, free space as "free" (flame-segments).
  bool segments = false;
};

/// The frames of `stack` a person reads, outermost first: those the
/// classifier shows (snapshot/frame_rules.h: hidden plumbing left out unless
/// --all-frames). A stack whose every frame is hidden keeps its innermost
/// site frame, so no stack loses its place in the flame.
void VisibleFrames(snapshot::FrameClassifier& classifier, std::span<const FrameId> stack, std::vector<FrameId>* out);

class FlameSink : public snapshot::SnapshotSink {
 public:
  /// `rules`: FrameRules::Make(options.frames), made by the caller so a
  /// bad regex is refused before any input is read.
  FlameSink(const FlameOptions& options, snapshot::FrameRules rules);
  ~FlameSink() override;
  FlameSink(const FlameSink&) = delete;
  FlameSink& operator=(const FlameSink&) = delete;

  Status OnBegin(const snapshot::Tables& t) override;
  Status OnSegment(const snapshot::Segment& s) override;
  Status OnBlock(const snapshot::Block& b) override;
  Status OnDeviceTrace(uint32_t device, bool host) override;
  Status OnEvent(const snapshot::TraceEvent& e) override;
  Status OnEnd(const snapshot::ReadSummary& s) override;

  /// The profile, once the reader has finished. Errors name `source`: a
  /// device without data, an event past the end of the trace, --live-at-event
  /// on several devices without one named (usage).
  StatusOr<FlameProfile> Take(const std::string& source);
  /// What the reader saw (valid after OnEnd).
  const snapshot::ReadSummary& summary() const { return summary_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  snapshot::ReadSummary summary_;
};

/// Reads `path` (snapshot or memtk database) into a FlameProfile.
StatusOr<FlameProfile> BuildFlameProfile(const std::string& path, const FlameOptions& options);

/// A frame label as one folded-stack field: ';' (the separator) as "\x3b",
/// control characters and invalid UTF-8 escaped (EscapeControl), so every
/// line of the output is one stack.
std::string FoldedField(std::string_view label);

}  // namespace memtk::analysis
