// RowPipe: rows recorded on the decoding thread, inserted into SQLite on a
// writer thread.
//
// Converting a snapshot is two jobs of about the same size: decoding the
// pickle and running SQLite's per-row VM. The pipe lets them overlap on two
// cores. Rows are recorded as typed cells into fixed-size batches (text is
// copied into the batch, so the writer never touches the decoder's string
// pool); a bounded queue of batches keeps memory flat. The writer groups
// consecutive rows of one table into multi-row INSERT statements, which
// costs SQLite one statement execution per kRowsPerInsert rows instead of
// one per row.
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "memtk/base/status.h"
#include "store/sqlite.h"

namespace memtk::store {

/// One table the pipe inserts into; its columns are read from the schema.
struct PipeTable {
  std::string_view name;
  std::string_view verb = "INSERT";  ///< or "INSERT OR REPLACE"
  /// When > 0: rows whose columns from here on are all NULL are inserted by
  /// a statement that leaves them out (SQLite pays per bound parameter).
  int short_columns = 0;
  /// Column 0 is an INTEGER PRIMARY KEY usually assigned 0, 1, 2, ...: a row
  /// whose id is the table's largest + 1 lets SQLite assign it, which takes
  /// its append path instead of a B-tree search.
  bool dense_ids = false;
};

class RowPipe {
 public:
  /// Rows per multi-row INSERT (and per SQLite statement execution).
  static constexpr int kRowsPerInsert = 32;

  RowPipe() = default;
  ~RowPipe();
  RowPipe(const RowPipe&) = delete;
  RowPipe& operator=(const RowPipe&) = delete;

  /// Prepares the statements for `tables` on `db` and starts the writer
  /// thread. `db` must not be used by anyone else until Finish() returns.
  Status Start(sqlite3* db, std::vector<PipeTable> tables);

  /// Row recording (decoding thread). Every column of the table is given,
  /// in schema order.
  RowPipe& Begin(int table) {
    cur_->rows.push_back(static_cast<uint8_t>(table));
    return *this;
  }
  RowPipe& Int(int64_t v) {
    cur_->cells.push_back(Cell{v, 0, 0, kInt});
    return *this;
  }
  RowPipe& Int(std::optional<int64_t> v) { return v ? Int(*v) : Null(); }
  /// Ids and counters: stored as SQLite's (signed) INTEGER.
  RowPipe& UInt(std::optional<uint64_t> v) { return v ? Int(static_cast<int64_t>(*v)) : Null(); }
  RowPipe& Null() {
    cur_->cells.push_back(Cell{0, 0, 0, kNull});
    return *this;
  }
  /// Empty text is NULL when `null_if_empty`.
  RowPipe& Text(std::string_view v, bool null_if_empty = true);
  /// Ends a row; hands the batch to the writer when it is full. Returns the
  /// writer's error, if it has failed (the caller should stop).
  Status End();

  /// Flushes, waits for the writer and returns its status. After this the
  /// caller owns `db` again.
  Status Finish();
  /// Finalizes the statements (before the database is closed).
  void Release() { tables_.clear(); }

 private:
  enum CellType : uint8_t { kNull, kInt, kText };
  struct Cell {
    int64_t i;
    uint32_t off;
    uint32_t len;
    uint8_t type;
  };
  struct Batch {
    std::vector<uint8_t> rows;  // table of each row
    std::vector<Cell> cells;
    std::string text;
    void Clear() {
      rows.clear();
      cells.clear();
      text.clear();
    }
  };
  // Statement variants: bit 0 = short (trailing NULLs left out), bit 1 =
  // id left to SQLite.
  enum Variant : int { kFull = 0, kShort = 1, kAutoId = 2, kVariants = 4 };
  struct Table {
    PipeTable spec;
    int columns = 0;
    ScopedStmt one[kVariants], many[kVariants];  // 1-row and kRowsPerInsert-row INSERTs
    int64_t max_id = 0;                          // largest id inserted so far (0 when empty: SQLite starts at 1)
  };

  void Send();
  void WriterLoop();
  Status Write(const Batch& b);
  int VariantOf(Table& t, const Cell* row) const;
  void Bind(sqlite3_stmt* s, int first_param, const Batch& b, const Cell* row, int first, int last);
  Status Flush(Table& t, int variant, const Batch& b, const uint32_t* rows, size_t n);

  sqlite3* db_ = nullptr;
  std::vector<Table> tables_;
  std::unique_ptr<Batch> cur_;
  std::thread writer_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Batch>> full_;   // guarded by mu_
  std::vector<std::unique_ptr<Batch>> free_;  // guarded by mu_
  bool closing_ = false;                      // guarded by mu_
  Status writer_status_;                      // guarded by mu_ until joined
  bool failed_ = false;                       // guarded by mu_
  // Scratch for grouping a batch's rows by table (writer thread only).
  std::vector<std::vector<uint32_t>> by_table_;
};

}  // namespace memtk::store
