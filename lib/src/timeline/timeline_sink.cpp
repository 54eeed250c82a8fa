#include "timeline/timeline_sink.h"

namespace memtk::timeline {

Status TimelineSink::OnBegin(const snapshot::Tables& t) {
  tables_ = &t;
  frames_.Reset(&t);
  return OkStatus();
}

Status TimelineSink::OnStack(StackId id, std::span<const FrameId>) {
  // The stack is in the tables already (the reader interns it first): its
  // site is computed there once and cached by id.
  const snapshot::Site& site = frames_.SiteOf(id);
  if (!site.frame) return OkStatus();
  auto [it, fresh] = site_ids_.try_emplace(site.Key(), 0);
  if (fresh) it->second = b_->InternSite(frames_.SiteFrameLabel(site));
  b_->SetStackSite(id, it->second);
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
