// Folded stacks from a FlameProfile.
#include "present/folded.h"

#include <fmt/format.h>

#include <string>
#include <vector>

namespace memtk::present {

Status WriteFolded(const analysis::FlameProfile& profile, const store::OutputFn& out) {
  // Each frame's text once, not once per stack it appears in.
  std::vector<std::string> fields;
  fields.reserve(profile.frames.size());
  for (const analysis::FlameFrame& f : profile.frames) fields.push_back(analysis::FoldedField(f.label));
  const bool device_frames = profile.devices.size() > 1;
  std::string buf;
  for (const analysis::FlameStack& s : profile.stacks) {
    if (s.bytes == 0) continue;
    if (device_frames) fmt::format_to(std::back_inserter(buf), "device {};", s.device);
    for (size_t i = 0; i < s.frames.size(); ++i) {
      if (i) buf += ';';
      buf += fields[s.frames[i]];
    }
    fmt::format_to(std::back_inserter(buf), " {}\n", s.bytes);
    if (buf.size() >= (64u << 10)) {
      RETURN_IF_ERROR(out(buf));
      buf.clear();
    }
  }
  return buf.empty() ? OkStatus() : out(buf);
}

}  // namespace memtk::present
