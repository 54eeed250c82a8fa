#include "memtk/store/row_writer.h"

#include <fmt/format.h>

#include <cmath>
#include <deque>

#include "memtk/base/escape.h"

namespace memtk::store {

namespace {

constexpr size_t kFlushBytes = 64 * 1024;
// A table column never pads wider than this (longer cells are cut in the
// middle, but for the last column's).
constexpr size_t kMaxColumnWidth = kMaxTableCellWidth;

// One cell as text: integers exactly, reals round-trippable, NULL empty.
std::string CellText(sqlite3_stmt* s, int col) {
  switch (sqlite3_column_type(s, col)) {
    case SQLITE_NULL:
      return {};
    case SQLITE_INTEGER:
      return fmt::format("{}", sqlite3_column_int64(s, col));
    case SQLITE_FLOAT:
      return fmt::format("{}", sqlite3_column_double(s, col));
    case SQLITE_BLOB: {
      const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(s, col));
      std::string hex;
      for (int i = 0, n = sqlite3_column_bytes(s, col); i < n; ++i)
        fmt::format_to(std::back_inserter(hex), "{:02x}", p[i]);
      return hex;
    }
    default: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
      return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, col))) : std::string();
    }
  }
}

void AppendCsv(std::string* o, std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) {
    o->append(v);
    return;
  }
  o->push_back('"');
  for (char c : v) {
    if (c == '"') o->push_back('"');
    o->push_back(c);
  }
  o->push_back('"');
}

void AppendJsonString(std::string* o, std::string_view v) {
  const size_t start = o->size();
  o->push_back('"');
  for (unsigned char c : v) {
    switch (c) {
      case '"':
        *o += "\\\"";
        break;
      case '\\':
        *o += "\\\\";
        break;
      case '\n':
        *o += "\\n";
        break;
      case '\r':
        *o += "\\r";
        break;
      case '\t':
        *o += "\\t";
        break;
      default:
        if (c < 0x20)
          fmt::format_to(std::back_inserter(*o), "\\u{:04x}", c);
        else
          o->push_back(static_cast<char>(c));
    }
  }
  o->push_back('"');
  // C1 controls and bidi overrides as \uNNNN too (the loop did C0).
  if (NeedsEscape(std::string_view(*o).substr(start))) {
    const std::string json = EscapeJsonText(std::string_view(*o).substr(start));
    o->replace(start, std::string::npos, json);
  }
}

// Display width of UTF-8 text: code points, not bytes.
size_t Width(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Keeps the first and last code points of a cell wider than `width`, with
// "…" between: the start and the end of a path say most (the package and
// the file, line and function).
std::string CutMiddle(const std::string& s, size_t width) {
  const size_t n = Width(s);
  if (n <= width || width < 3) return s;
  const size_t keep_end = (width - 1) / 2, keep_start = width - 1 - keep_end;
  // Byte offsets of code point boundaries.
  size_t start_bytes = 0;
  for (size_t cps = 0; cps < keep_start && start_bytes < s.size(); ++cps) {
    ++start_bytes;
    while (start_bytes < s.size() && (static_cast<unsigned char>(s[start_bytes]) & 0xC0) == 0x80) ++start_bytes;
  }
  size_t end_bytes = s.size();
  for (size_t cps = 0; cps < keep_end && end_bytes > start_bytes;) {
    --end_bytes;
    if ((static_cast<unsigned char>(s[end_bytes]) & 0xC0) != 0x80) ++cps;
  }
  return s.substr(0, start_bytes) + "\u2026" + s.substr(end_bytes);
}

}  // namespace

Status RowWriter::MaybeFlush() { return buf_.size() >= kFlushBytes ? Flush() : OkStatus(); }

Status RowWriter::Flush() {
  if (buf_.empty()) return OkStatus();
  Status s = out_(buf_);
  buf_.clear();
  return s;
}

Status RowWriter::Text(std::string_view text) {
  buf_.append(text);
  return MaybeFlush();
}

Status RowWriter::WriteTableRow(const std::vector<std::string>& cells, const std::vector<bool>& numeric) {
  for (size_t i = 0; i < cells.size(); ++i) {
    const size_t w = i < widths_.size() ? widths_[i] : 0;
    const size_t pad = w > Width(cells[i]) ? w - Width(cells[i]) : 0;
    const bool last = i + 1 == cells.size();
    if (i) buf_ += "  ";
    if (numeric[i]) buf_.append(pad, ' ');
    buf_ += cells[i];
    if (!numeric[i] && !last) buf_.append(pad, ' ');
  }
  buf_ += '\n';
  return MaybeFlush();
}

StatusOr<uint64_t> RowWriter::Run(sqlite3* db, sqlite3_stmt* stmt, uint64_t limit, std::string_view source) {
  const int ncol = sqlite3_column_count(stmt);
  std::vector<std::string> names;
  for (int i = 0; i < ncol; ++i) names.emplace_back(sqlite3_column_name(stmt, i));
  uint64_t rows = 0;
  // Table: the first rows wait here until the widths are known.
  std::deque<std::pair<std::vector<std::string>, std::vector<bool>>> probe;
  bool widths_fixed = false;
  auto fix_widths = [&]() -> Status {
    widths_.assign(static_cast<size_t>(ncol), 0);
    for (int i = 0; i < ncol; ++i) {
      names[i] = EscapeControl(names[i]);
      widths_[i] = Width(names[i]);
    }
    for (const auto& [cells, numeric] : probe)
      for (int i = 0; i < ncol; ++i) widths_[i] = std::max(widths_[i], std::min(Width(cells[i]), kMaxColumnWidth));
    std::vector<bool> right(static_cast<size_t>(ncol), false);
    for (int i = 0; i < ncol; ++i) {
      bool all_numeric = !probe.empty();
      for (const auto& row : probe) all_numeric &= row.second[i] || row.first[i].empty();
      right[i] = all_numeric;
    }
    RETURN_IF_ERROR(WriteTableRow(names, right));
    std::vector<std::string> rule;
    for (int i = 0; i < ncol; ++i) rule.emplace_back(widths_[i], '-');
    RETURN_IF_ERROR(WriteTableRow(rule, std::vector<bool>(static_cast<size_t>(ncol), false)));
    for (const auto& [cells, numeric] : probe) RETURN_IF_ERROR(WriteTableRow(cells, numeric));
    probe.clear();
    widths_fixed = true;
    return OkStatus();
  };
  if (format_ == RowFormat::kTable && table_format_) table_format_->Columns(names);
  if (format_ == RowFormat::kCsv) {
    for (int i = 0; i < ncol; ++i) {
      if (i) buf_ += ',';
      AppendCsv(&buf_, names[i]);
    }
    buf_ += '\n';
  }
  int rc = SQLITE_DONE;
  Status st;
  while (rows < limit && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    ++rows;
    switch (format_) {
      case RowFormat::kCsv:
        for (int i = 0; i < ncol; ++i) {
          if (i) buf_ += ',';
          AppendCsv(&buf_, CellText(stmt, i));
        }
        buf_ += '\n';
        st = MaybeFlush();
        break;
      case RowFormat::kJson:
        buf_ += '{';
        for (int i = 0; i < ncol; ++i) {
          if (i) buf_ += ',';
          AppendJsonString(&buf_, names[i]);
          buf_ += ':';
          const int type = sqlite3_column_type(stmt, i);
          if (type == SQLITE_NULL) {
            buf_ += "null";
          } else if (type == SQLITE_INTEGER) {
            fmt::format_to(std::back_inserter(buf_), "{}", sqlite3_column_int64(stmt, i));
          } else if (type == SQLITE_FLOAT && std::isfinite(sqlite3_column_double(stmt, i))) {
            fmt::format_to(std::back_inserter(buf_), "{}", sqlite3_column_double(stmt, i));
          } else {
            AppendJsonString(&buf_, CellText(stmt, i));
          }
        }
        buf_ += "}\n";
        st = MaybeFlush();
        break;
      case RowFormat::kTable: {
        std::vector<std::string> cells;
        std::vector<bool> numeric;
        for (int i = 0; i < ncol; ++i) {
          const int type = sqlite3_column_type(stmt, i);
          numeric.push_back(type == SQLITE_INTEGER || type == SQLITE_FLOAT);
          // A table is for a terminal: control characters in a cell
          // (a frame's filename from the snapshot) are shown escaped.
          cells.push_back(EscapeControl(CellText(stmt, i)));
        }
        if (table_format_) table_format_->Row(stmt, &cells, &numeric);
        for (int i = 0; i + 1 < ncol; ++i) cells[i] = CutMiddle(cells[i], kMaxColumnWidth);
        if (widths_fixed) {
          st = WriteTableRow(cells, numeric);
        } else {
          probe.emplace_back(std::move(cells), std::move(numeric));
          if (probe.size() >= kTableProbeRows) st = fix_widths();
        }
        break;
      }
    }
    if (!st.ok()) return st;
  }
  if (rows < limit && rc != SQLITE_DONE) return InvalidInput(fmt::format("{}: SQL error: {}", source, sqlite3_errmsg(db)));
  if (format_ == RowFormat::kTable && !widths_fixed) RETURN_IF_ERROR(fix_widths());
  RETURN_IF_ERROR(Flush());
  return rows;
}

}  // namespace memtk::store
