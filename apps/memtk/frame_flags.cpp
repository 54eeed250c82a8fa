#include "frame_flags.h"

namespace memtk::cli {

void AddFrameFlags(CLI::App* sub, snapshot::FrameRulesOptions* out, bool all_frames) {
  sub->add_option_function<std::string>(
         "--site",
         [out](const std::string& name) {
           // IsMember below has already refused anything else.
           out->site = snapshot::SiteModeFromName(name).value_or(snapshot::SiteMode::kUser);
         },
         "What names an allocation's origin: user (default: the innermost frame of your code, with the library "
         "function it called), innermost (the innermost Python frame), stack (the whole filtered stack)")
      ->check(CLI::IsMember({"user", "innermost", "stack"}));
  sub->add_option("--user-code", out->user_code,
                  "Regex (ECMAScript, searched in file:line:function): frames that are your code, whatever their path")
      ->envname(snapshot::kUserCodeEnv);
  sub->add_option("--library", out->library,
                  "Regex: frames that are library code, not yours (--user-code wins where both match)")
      ->envname(snapshot::kLibraryEnv);
  if (all_frames)
    sub->add_flag("--all-frames", out->all_frames,
                  "Print every frame, also the plumbing hidden by default (CPython, allocator, dispatcher); with "
                  "--format folded, keep them in the stacks");
}

std::string FrameFlagsHelp() {
  return R"(Attribution: frames PyTorch's viewer hides (CPython's eval loop, unwinding), `??`,
the caching allocator and the dispatcher are plumbing; site-packages, dist-packages,
the Python standard library, torch's own files and generated code (FX, inductor) are
library code, Windows paths too; the rest is your code. A site is the innermost frame
of your code and the library function it called (`models.py:181:forward →
torch/nn/functional.py:1701:relu`); stacks without one keep the innermost Python frame.
Set --user-code/--library once for CI with MEMTK_USER_CODE / MEMTK_LIBRARY.)";
}

}  // namespace memtk::cli
