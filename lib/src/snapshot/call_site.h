// The call site of a stack: the frame a person would name as "where this
// allocation comes from".
//
// PyTorch stacks start (position 0) in the allocator and C++ dispatch
// plumbing. The call site is the innermost Python frame (`*.py`); a stack
// without one (C++-only, e.g. the autograd engine's threads) gets its
// innermost frame that is neither hidden by PyTorch's viewer (frameFilter in
// MemoryViz.js) nor in allocator/dispatch namespaces (c10::, at::,
// torch::cuda::, torch::unwind, std::, libc start-up); failing that, frame 0.
#pragma once

#include <optional>
#include <string>

#include "memtk/snapshot/snapshot.h"

namespace memtk::snapshot {

/// The call-site frame of `stack`, or nullopt for an empty stack.
std::optional<FrameId> CallSiteFrame(const Tables& tables, StackId stack);
/// Same, for the frames of a stack (innermost first).
std::optional<FrameId> CallSiteFrame(const Tables& tables, std::span<const FrameId> frames);

/// "filename:line:name" as the viewer prints frames.
std::string FormatFrame(const Tables& tables, FrameId frame);

/// True for frames PyTorch's viewer hides or that belong to the allocator
/// and dispatcher (see above).
bool IsPlumbingFrame(std::string_view filename, std::string_view name);

}  // namespace memtk::snapshot
