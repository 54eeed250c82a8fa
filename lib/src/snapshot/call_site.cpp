#include "snapshot/call_site.h"

#include <fmt/format.h>

#include <array>

#include "snapshot/viewer_filter.h"

namespace memtk::snapshot {

namespace {

// Allocator, dispatcher and runtime namespaces: never the answer to
// "which code allocated this".
constexpr std::array<std::string_view, 11> kPlumbingPrefixes = {
    "c10::",   "at::",  "torch::cuda::", "torch::unwind", "torch::CapturedTraceback", "std::", "pthread",
    "__clone", "clone", "_start",        "__libc"};

}  // namespace

bool IsPlumbingFrame(std::string_view filename, std::string_view name) {
  if (name.empty()) return true;
  if (ViewerOmitsFunction(name) || ViewerOmitsFile(filename)) return true;
  for (std::string_view p : kPlumbingPrefixes)
    if (name.substr(0, p.size()) == p) return true;
  return false;
}

std::optional<FrameId> CallSiteFrame(const Tables& tables, StackId stack) {
  return CallSiteFrame(tables, tables.GetStack(stack));
}

std::optional<FrameId> CallSiteFrame(const Tables& tables, std::span<const FrameId> frames) {
  if (frames.empty()) return std::nullopt;
  for (FrameId f : frames)
    if (tables.String(tables.GetFrame(f).filename).ends_with(".py")) return f;
  for (FrameId f : frames) {
    const Frame& fr = tables.GetFrame(f);
    if (!IsPlumbingFrame(tables.String(fr.filename), tables.String(fr.name))) return f;
  }
  return frames.front();
}

std::string FormatFrame(const Tables& tables, FrameId frame) {
  const Frame& f = tables.GetFrame(frame);
  return fmt::format("{}:{}:{}", tables.String(f.filename), f.line, tables.String(f.name));
}

}  // namespace memtk::snapshot
