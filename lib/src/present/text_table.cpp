// TextTable: widths over all rows first, then one pass that writes them.
#include "present/text_table.h"

#include <algorithm>

#include "memtk/base/escape.h"

namespace memtk::present {

namespace {

// Terminal columns of UTF-8 text, as one per code point: what fmt's own
// padding assumes for the text these tables hold (no wide CJK in numbers
// or labels; sites, which may have them, sit in the unpadded last column).
size_t Width(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

}  // namespace

TextTable::TextTable(std::string indent, std::vector<Column> columns)
    : indent_(std::move(indent)), columns_(std::move(columns)) {}

void TextTable::AddRow(std::vector<std::string> cells) {
  cells.resize(std::min(cells.size(), columns_.size()));
  for (std::string& c : cells) c = EscapeControl(c);
  rows_.push_back(std::move(cells));
}

std::string TextTable::Render() const {
  const size_t n = columns_.size();
  std::vector<size_t> width(n);
  for (size_t i = 0; i < n; ++i) width[i] = std::max(columns_[i].min_width, Width(columns_[i].header));
  for (const std::vector<std::string>& row : rows_)
    for (size_t i = 0; i + (row.size() < n ? 1 : 0) < row.size(); ++i) width[i] = std::max(width[i], Width(row[i]));

  std::string o;
  auto line = [&](auto cell_of, size_t cells) {
    o += indent_;
    for (size_t i = 0; i < cells; ++i) {
      const std::string& c = cell_of(i);
      if (i > 0) o.append(columns_[i].gap, ' ');
      const bool note = i + 1 == cells && cells < n;
      const bool last_left = i + 1 == n && columns_[i].align == Align::kLeft;
      const size_t pad = note || last_left ? 0 : width[i] - std::min(width[i], Width(c));
      if (columns_[i].align == Align::kRight) o.append(pad, ' ');
      o += c;
      if (columns_[i].align == Align::kLeft) o.append(pad, ' ');
    }
    o += '\n';
  };
  line([&](size_t i) -> const std::string& { return columns_[i].header; }, n);
  for (const std::vector<std::string>& row : rows_)
    line([&](size_t i) -> const std::string& { return row[i]; }, row.size());
  return o;
}

}  // namespace memtk::present
