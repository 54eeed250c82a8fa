// Presenters for `memtk diff`: the same analysis::DiffReport as text for
// people, JSON for scripts (keys in docs/DIFF_JSON.md) and Markdown for
// pull-request comments and CI job summaries.
#pragma once

#include <string>
#include <vector>

#include "memtk/analysis/diff.h"

namespace memtk::present {

/// Aligned text; the most important line first ("peak +1.2 GiB (+8.3%) on
/// device 0"), then per device the metric table, the call sites at the peak
/// by change, the allocations only in NEW, and the gate checks.
std::string DiffText(const analysis::DiffReport& r);
/// One JSON object; keys in docs/DIFF_JSON.md.
std::string DiffJson(const analysis::DiffReport& r);
/// GitHub-flavoured Markdown: headline, gate verdict, one table per device,
/// site changes in a collapsed <details> block.
std::string DiffMarkdown(const analysis::DiffReport& r);

/// One line per failed gate check: "peak>5% failed on device 0: base 1.0
/// GiB, new 1.2 GiB (+204.8 MiB, +20.00%)" (with "rank0.pickle: " first in
/// directory mode).
std::vector<std::string> GateFailureLines(const analysis::GateResult& g);

}  // namespace memtk::present
