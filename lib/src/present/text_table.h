// TextTable: the aligned tables of the text presenters (`diff`, `stats` of
// several inputs). Widths come from the data: a value longer than any
// before it ("+185572.22%", "event d0:11205 (id 11205, +1.622 s)") widens
// its column for every row instead of pushing into its neighbour.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace memtk::present {

/// A table of text cells for people: a header line, then one line per row.
/// Every column but the last is as wide as its widest cell over the header
/// and all rows (and at least `min_width`), and columns are separated by at
/// least `gap` spaces, so no two cells ever touch. A left-aligned last
/// column is not padded, so it can be long (a call site). Cells pass through EscapeControl
/// (strings from the input may hold terminal controls) and are measured in
/// code points, so "→" or "…" count as one.
///
/// Example:
///   TextTable t("  ", {{.header = "metric", .align = TextTable::Align::kLeft},
///                      {.header = "%", .min_width = 9}});
///   t.AddRow({"allocs", "+185572.22%"});
///   t.Render() == "  metric           %\n"
///                 "  allocs +185572.22%\n"
class TextTable {
 public:
  enum class Align : uint8_t { kLeft, kRight };
  struct Column {
    std::string header;
    Align align = Align::kRight;
    size_t min_width = 0;  ///< at least this wide, so small tables keep a steady shape
    size_t gap = 1;        ///< spaces before this column (none before the first)
  };

  /// `indent` starts every line.
  TextTable(std::string indent, std::vector<Column> columns);

  /// A row with one cell per column. A row with fewer cells ends in a note:
  /// its last cell is written as is from its column's start and does not
  /// widen that column ("grown", "... 3 more" under a label column).
  void AddRow(std::vector<std::string> cells);

  /// The header line and the rows, each ending in '\n'.
  std::string Render() const;

 private:
  std::string indent_;
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace memtk::present
