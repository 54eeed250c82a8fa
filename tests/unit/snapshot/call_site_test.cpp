// CallSiteFrame: the innermost Python frame, else the first non-plumbing one.
#include "snapshot/call_site.h"

#include <catch2/catch.hpp>

using namespace memtk;
using namespace memtk::snapshot;

namespace {

StackId AddStack(Tables& t, std::initializer_list<std::pair<const char*, const char*>> frames) {
  t.stack_offsets.push_back(t.stack_frames.size());
  for (auto [file, name] : frames) {
    Frame f;
    f.filename = t.strings.Intern(file);
    f.name = t.strings.Intern(name);
    f.line = 7;
    t.stack_frames.push_back(FrameId{static_cast<uint32_t>(t.frames.size())});
    t.frames.push_back(f);
  }
  return StackId{static_cast<uint32_t>(t.stack_offsets.size() - 1)};
}

}  // namespace

TEST_CASE("call site: Python frame first, then non-plumbing C++, then frame 0", "[call_site]") {
  Tables t;
  StackId py = AddStack(t, {{"??", "torch::unwind::unwind()"},
                            {"CUDACachingAllocator.cpp", "c10::cuda::CUDACachingAllocator::malloc"},
                            {"/src/model.py", "forward"},
                            {"/src/train.py", "main"}});
  StackId cpp = AddStack(t, {{"??", "torch::CapturedTraceback::gather(bool, bool, bool)"},
                             {"RegisterCUDA_0.cpp", "at::empty_strided"},
                             {"Functions.cpp", "torch::autograd::generated::MmBackward0::apply"},
                             {"??", "__clone"}});
  StackId plumbing = AddStack(t, {{"??", "c10::cuda::malloc"}, {"??", "at::native::empty"}});
  StackId empty = AddStack(t, {});
  CHECK(FormatFrame(t, *CallSiteFrame(t, py)) == "/src/model.py:7:forward");
  CHECK(FormatFrame(t, *CallSiteFrame(t, cpp)) == "Functions.cpp:7:torch::autograd::generated::MmBackward0::apply");
  CHECK(FormatFrame(t, *CallSiteFrame(t, plumbing)) == "??:7:c10::cuda::malloc");
  CHECK(!CallSiteFrame(t, empty));
}
