// Folded stacks (Brendan Gregg's format, read by flamegraph.pl, inferno,
// speedscope): one line per stack, its frames outermost first joined by ';',
// a space and its weight in bytes.
//
//   train.py:12:<module>;model.py:40:forward;functional.py:1701:relu 2097152
//
// Frames are "filename:line:name" (analysis::FoldedField escapes ';' and
// control characters). When the profile covers more than one device, every
// line starts with a "device N" frame, so each device is its own tower and
// the weights under it add up to that device's total.
#pragma once

#include <string_view>

#include "analysis/flame.h"
#include "memtk/store/row_writer.h"

namespace memtk::present {

/// Writes `profile`'s stacks with a nonzero weight to `out` in chunks of
/// about 64 KiB; stops at the first error `out` returns.
Status WriteFolded(const analysis::FlameProfile& profile, const store::OutputFn& out);

}  // namespace memtk::present
