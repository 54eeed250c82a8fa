// `memtk query --format folded`: folded stacks (flame graphs) straight from
// the input, without the query database.
//
// The questions that have a flame: --at-peak (each device at its peak: the
// weights add up to `memtk stats`' peak), --live-at-event N (one device's
// trace, after event N), --live-at-us T, and no question at all (every
// allocation of the trace, weighted by its size). The input is streamed once
// through analysis::FlameSink; memory is flat in the number of events.
#pragma once

#include "memtk/commands/query.h"

namespace memtk::commands {

/// Usage errors for questions without a flame (--sql, --alloc, --frame,
/// --top) and for --limit.
Status RunFoldedQuery(const QueryOptions& options, const store::OutputFn& out);

}  // namespace memtk::commands
