#include "timeline/timeline_sink.h"

#include "snapshot/call_site.h"

namespace memtk::timeline {

Status TimelineSink::OnBegin(const snapshot::Tables& t) {
  tables_ = &t;
  return OkStatus();
}

Status TimelineSink::OnStack(StackId id, std::span<const FrameId> frames) {
  std::optional<FrameId> site = snapshot::CallSiteFrame(*tables_, frames);
  if (!site) return OkStatus();
  if (site->value >= frame_site_.size()) frame_site_.resize(site->value + 1);
  std::optional<uint32_t>& s = frame_site_[site->value];
  if (!s) s = b_->InternSite(snapshot::FormatFrame(*tables_, *site));
  b_->SetStackSite(id, *s);
  return OkStatus();
}

Status TimelineSink::OnSegment(const snapshot::Segment& s) {
  b_->OnSegment(s);
  return OkStatus();
}

Status TimelineSink::OnBlock(const snapshot::Block& b) {
  b_->OnBlock(b);
  return OkStatus();
}

Status TimelineSink::OnEvent(const snapshot::TraceEvent& e) { return b_->OnEvent(e); }

Status TimelineSink::OnAnnotation(const snapshot::Annotation& a) {
  b_->OnAnnotation(a, tables_->String(a.stage), tables_->String(a.name));
  return OkStatus();
}

}  // namespace memtk::timeline
