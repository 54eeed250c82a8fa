// RowWriter: streams the rows of SQLite statements as an aligned table, CSV
// or JSON lines, through a caller-supplied output function.
//
// Rows are never collected: CSV and JSON go out as they come (in ~64 KiB
// writes); the table keeps only its first kTableProbeRows rows to size the
// columns, then streams the rest at those widths. So a query returning 10^7
// rows runs in constant memory, and an output function that reports a closed
// pipe stops the query at once.
#pragma once

#include <sqlite3.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "memtk/base/status.h"
#include "memtk/io/output_stream.h"

namespace memtk::store {

enum class RowFormat { kTable, kCsv, kJson };

/// Receives output bytes. A non-ok Status stops the query; ClosedPipe()
/// says the reader went away (`| head`), which callers treat as success.
using OutputFn = std::function<Status(std::string_view)>;

inline constexpr size_t kTableProbeRows = 256;
/// A table cell wider than this, in any column but the last, is cut in the
/// middle ("/opt/conda/lib/…/module.py:393:forward") so the columns after
/// it stay aligned; CSV and JSON always carry the whole value.
inline constexpr size_t kMaxTableCellWidth = 60;

/// How a table shows values to people (CSV and JSON stay raw): called once
/// with the column names, then per row with the escaped cell texts and
/// whether each is right-aligned, which it may rewrite (sizes in KiB/MiB,
/// times from the trace's start: store/table_units.h).
class TableCellFormat {
 public:
  virtual ~TableCellFormat() = default;
  virtual void Columns(const std::vector<std::string>& names) = 0;
  virtual void Row(sqlite3_stmt* stmt, std::vector<std::string>* cells, std::vector<bool>* right) = 0;
};

class RowWriter {
 public:
  RowWriter(RowFormat format, OutputFn out) : format_(format), out_(std::move(out)) {}

  /// Table cells of later Run()s pass through `f` (not owned; null = raw).
  void SetTableFormat(TableCellFormat* f) { table_format_ = f; }

  /// Steps `stmt` to the end (or `limit` rows), writing every row. Returns
  /// the number of rows written. A failing step reads "<source>: SQL error: ...".
  StatusOr<uint64_t> Run(sqlite3* db, sqlite3_stmt* stmt, uint64_t limit = UINT64_MAX,
                         std::string_view source = "database");
  /// Writes text as is (table-mode headings); flushed in order with rows.
  Status Text(std::string_view text);
  /// Writes what is buffered.
  Status Flush();

 private:
  Status WriteTableRow(const std::vector<std::string>& cells, const std::vector<bool>& numeric);
  Status MaybeFlush();

  RowFormat format_;
  OutputFn out_;
  std::string buf_;
  std::vector<size_t> widths_;
  TableCellFormat* table_format_ = nullptr;
};

/// The closed-pipe Status an OutputFn returns; Run() ends quietly on it
/// (io::ClosedPipe, the same for every output).
using io::ClosedPipe;
using io::IsClosedPipe;

}  // namespace memtk::store
