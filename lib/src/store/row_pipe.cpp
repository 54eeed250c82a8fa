#include "store/row_pipe.h"

#include <fmt/format.h>

namespace memtk::store {

namespace {

// ~1 MB of cells per batch: large enough that handing a batch over costs
// nothing per row, small enough that two queued batches are noise. (Three
// queued: 2 MB more of `convert`'s peak RSS on fresh lists / 10^5 stacks,
// no faster: the writer is the slower side, docs/BENCHMARKS.md "Fifth pass".)
constexpr size_t kBatchRows = 4096;
constexpr size_t kBatchText = 1u << 20;
constexpr size_t kMaxQueued = 2;

// INSERT for `rows` rows binding columns [first, last) of `table`.
std::string InsertSql(const PipeTable& table, const std::vector<std::string>& names, int first, int last, int rows) {
  std::string cols, one = "(";
  for (int c = first; c < last; ++c) {
    cols += (c > first ? "," : "") + names[static_cast<size_t>(c)];
    one += c > first ? ",?" : "?";
  }
  one += ")";
  std::string sql = fmt::format("{} INTO {}({}) VALUES", table.verb, table.name, cols);
  for (int r = 0; r < rows; ++r) {
    if (r) sql += ',';
    sql += one;
  }
  return sql;
}

}  // namespace

RowPipe::~RowPipe() {
  if (writer_.joinable()) {
    // Abandoned (an error upstream): stop the writer without flushing.
    {
      std::lock_guard<std::mutex> lock(mu_);
      closing_ = true;
      full_.clear();
    }
    cv_.notify_all();
    writer_.join();
  }
}

Status RowPipe::Start(sqlite3* db, std::vector<PipeTable> tables) {
  db_ = db;
  tables_.resize(tables.size());
  by_table_.resize(tables.size());
  for (size_t t = 0; t < tables.size(); ++t) {
    Table& tb = tables_[t];
    tb.spec = tables[t];
    // Column names from the schema, so the statements cannot drift from it.
    std::vector<std::string> names;
    ASSIGN_OR_RETURN(ScopedStmt info, Prepare(db, fmt::format("PRAGMA table_info({})", tb.spec.name)));
    while (sqlite3_step(info.get()) == SQLITE_ROW)
      names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(info.get(), 1)));
    if (names.empty()) return IoError(fmt::format("row pipe: no table {}", tb.spec.name));
    tb.columns = static_cast<int>(names.size());
    for (int v = 0; v < kVariants; ++v) {
      if ((v & kShort) && tb.spec.short_columns == 0) continue;
      if ((v & kAutoId) && !tb.spec.dense_ids) continue;
      const int first = (v & kAutoId) ? 1 : 0;
      const int last = (v & kShort) ? tb.spec.short_columns : tb.columns;
      ASSIGN_OR_RETURN(tb.one[v], Prepare(db, InsertSql(tb.spec, names, first, last, 1)));
      ASSIGN_OR_RETURN(tb.many[v], Prepare(db, InsertSql(tb.spec, names, first, last, kRowsPerInsert)));
    }
  }
  cur_ = std::make_unique<Batch>();
  writer_ = std::thread([this] { WriterLoop(); });
  return OkStatus();
}

RowPipe& RowPipe::Text(std::string_view v, bool null_if_empty) {
  if (v.empty() && null_if_empty) return Null();
  cur_->cells.push_back(Cell{0, static_cast<uint32_t>(cur_->text.size()), static_cast<uint32_t>(v.size()), kText});
  cur_->text.append(v);
  return *this;
}

Status RowPipe::End() {
  if (cur_->rows.size() < kBatchRows && cur_->text.size() < kBatchText) return OkStatus();
  Send();
  std::lock_guard<std::mutex> lock(mu_);
  return failed_ ? writer_status_ : OkStatus();
}

void RowPipe::Send() {
  std::unique_lock<std::mutex> lock(mu_);
  // Back-pressure: the decoder waits rather than queueing without bound.
  cv_.wait(lock, [&] { return full_.size() < kMaxQueued || failed_; });
  if (failed_) {
    cur_->Clear();
    return;
  }
  full_.push_back(std::move(cur_));
  if (!free_.empty()) {
    cur_ = std::move(free_.back());
    free_.pop_back();
  } else {
    cur_ = std::make_unique<Batch>();
  }
  lock.unlock();
  cv_.notify_all();
}

Status RowPipe::Finish() {
  if (!writer_.joinable()) return OkStatus();
  if (!cur_->rows.empty()) Send();
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  writer_.join();
  return writer_status_;
}

void RowPipe::WriterLoop() {
  for (;;) {
    std::unique_ptr<Batch> b;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return !full_.empty() || closing_; });
      if (full_.empty()) return;  // closing and drained
      b = std::move(full_.front());
      full_.pop_front();
    }
    cv_.notify_all();  // room in the queue
    Status s = Write(*b);
    b->Clear();
    std::lock_guard<std::mutex> lock(mu_);
    if (!s.ok()) {
      writer_status_ = std::move(s);
      failed_ = true;
      full_.clear();
      cv_.notify_all();
      return;
    }
    free_.push_back(std::move(b));
  }
}

void RowPipe::Bind(sqlite3_stmt* s, int first_param, const Batch& b, const Cell* row, int first, int last) {
  for (int c = first; c < last; ++c) {
    const Cell& cell = row[c];
    const int param = first_param + c - first;
    switch (cell.type) {
      case kNull:
        sqlite3_bind_null(s, param);
        break;
      case kInt:
        sqlite3_bind_int64(s, param, cell.i);
        break;
      case kText:
        sqlite3_bind_text(s, param, b.text.data() + cell.off, static_cast<int>(cell.len), SQLITE_STATIC);
        break;
    }
  }
}

int RowPipe::VariantOf(Table& t, const Cell* row) const {
  int v = kFull;
  if (t.spec.short_columns > 0) {
    v |= kShort;
    for (int c = t.spec.short_columns; c < t.columns; ++c)
      if (row[c].type != kNull) {
        v = kFull;
        break;
      }
  }
  if (t.spec.dense_ids && row[0].type == kInt && row[0].i == t.max_id + 1) v |= kAutoId;
  if (row[0].type == kInt) t.max_id = std::max(t.max_id, row[0].i);
  return v;
}

Status RowPipe::Flush(Table& t, int variant, const Batch& b, const uint32_t* rows, size_t n) {
  const int first = (variant & kAutoId) ? 1 : 0;
  const int last = (variant & kShort) ? t.spec.short_columns : t.columns;
  const int width = last - first;
  auto step = [&](sqlite3_stmt* s) -> Status {
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return IoError(fmt::format("SQLite write failed: {}", sqlite3_errmsg(db_)));
    return OkStatus();
  };
  size_t i = 0;
  for (; i + kRowsPerInsert <= n; i += kRowsPerInsert) {
    sqlite3_stmt* s = t.many[variant].get();
    for (int r = 0; r < kRowsPerInsert; ++r)
      Bind(s, 1 + r * width, b, &b.cells[rows[i + static_cast<size_t>(r)]], first, last);
    RETURN_IF_ERROR(step(s));
  }
  for (; i < n; ++i) {
    sqlite3_stmt* s = t.one[variant].get();
    Bind(s, 1, b, &b.cells[rows[i]], first, last);
    RETURN_IF_ERROR(step(s));
  }
  return OkStatus();
}

Status RowPipe::Write(const Batch& b) {
  // Group rows by table (row ids are explicit or dense, so the order between
  // tables does not matter), then insert each table's runs of rows that
  // share a statement variant, kRowsPerInsert rows per statement.
  for (auto& v : by_table_) v.clear();
  uint32_t cell = 0;
  for (uint8_t t : b.rows) {
    by_table_[t].push_back(cell);
    cell += static_cast<uint32_t>(tables_[t].columns);
  }
  if (cell != b.cells.size()) return IoError("row pipe: cell count does not match the rows");
  for (size_t t = 0; t < tables_.size(); ++t) {
    Table& tb = tables_[t];
    const std::vector<uint32_t>& rows = by_table_[t];
    size_t run_start = 0;
    int run_variant = -1;
    for (size_t i = 0; i < rows.size(); ++i) {
      const int v = VariantOf(tb, &b.cells[rows[i]]);
      if (v != run_variant) {
        if (run_variant >= 0) RETURN_IF_ERROR(Flush(tb, run_variant, b, &rows[run_start], i - run_start));
        run_start = i;
        run_variant = v;
      }
    }
    if (run_variant >= 0) RETURN_IF_ERROR(Flush(tb, run_variant, b, &rows[run_start], rows.size() - run_start));
  }
  return OkStatus();
}

}  // namespace memtk::store
