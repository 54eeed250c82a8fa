// csv::Reader: a push-based, allocation-free CSV reader (RFC 4180 plus CRLF).
//
// Why not getline + split: the memlog CSVs this reads are sampled every few
// milliseconds for days and reach gigabytes; a reader that allocates per row
// or per field spends more time in malloc than in parsing (the CSV-import seed
// article: 7.5 GB allocated to parse 300 MB). This reader keeps one buffer
// (grown only for a row longer than any seen before), hands each row to a
// sink as string_views into that buffer, and unescapes quoted fields into one
// reused scratch buffer. In steady state it performs no heap allocation.
//
// Chunks may split the input anywhere (inside a field, inside a quote pair,
// between CR and LF): a row is parsed only once it is complete; an incomplete
// tail is moved to the front of the buffer and waits for the next chunk.
//
// Errors name the input as `name:line:column` (1-based, column in bytes); the
// column is computed only when an error is reported.
//
// Example:
//   struct Sum : csv::RowSink {
//     Status OnRow(const csv::Row& row) override { ... row[0] ... }
//   } sink;
//   csv::Reader reader("data.csv", &sink);
//   RETURN_IF_ERROR(csv::ReadFile("data.csv", reader));
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "memtk/base/status.h"
#include "csv/number.h"

namespace memtk::csv {

/// One row, valid only during RowSink::OnRow.
class Row {
 public:
  size_t size() const { return size_; }
  std::string_view operator[](size_t i) const { return fields_[i]; }
  /// 1-based line on which the row starts.
  uint64_t line() const { return line_; }
  /// False for a last row that ended at end of input without a newline (a
  /// writer killed mid-row leaves one).
  bool terminated() const { return terminated_; }
  /// "name:line:col" of the start of field `i` (computed on call).
  std::string Where(size_t i) const;

 private:
  friend class Reader;
  const std::string_view* fields_ = nullptr;
  const uint32_t* starts_ = nullptr;  // raw offset of each field from the row start
  size_t size_ = 0;
  const char* raw_ = nullptr;                      // the row's bytes as read (quotes not removed)
  const std::string* name_ = nullptr;
  uint64_t line_ = 0;
  bool terminated_ = true;
};

/// Receives rows in input order. A non-ok Status stops the reader and is
/// returned from Feed/Finish unchanged (sinks build their own messages, with
/// Row::Where for the position).
class RowSink {
 public:
  virtual ~RowSink() = default;
  virtual Status OnRow(const Row& row) = 0;
};

class Reader {
 public:
  /// `name` is used in error messages. Rows longer than `max_row_bytes` are an
  /// error (a binary file fed by mistake must not grow the buffer unbounded).
  Reader(std::string name, RowSink* sink, size_t max_row_bytes = 16 << 20);
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  /// Parses every complete row in `chunk`; keeps the incomplete tail.
  Status Feed(std::span<const char> chunk);
  /// Zero-copy feeding: fill (part of) Space(), then Commit(bytes written).
  std::span<char> Space();
  Status Commit(size_t n);
  /// End of input: the tail (if any) is the last row.
  Status Finish();

  /// Rows delivered so far (blank lines are skipped and not counted).
  uint64_t rows() const { return rows_; }
  /// Bytes consumed so far.
  uint64_t bytes() const { return consumed_ + (end_ - begin_); }

 private:
  enum class Parse { kRow, kNeedMore, kError };
  bool ParsePlainRow(size_t* row_len);
  Parse ParseRow(bool at_eof, size_t* row_len, uint64_t* newlines);
  Status ParseAvailable(bool at_eof);
  Status Error(const char* at, std::string_view what) const;

  std::string name_;
  RowSink* sink_;
  size_t max_row_bytes_;
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;  // unparsed bytes are buf_[begin_, end_)
  uint64_t consumed_ = 0;       // bytes before buf_[0]
  uint64_t line_ = 1;           // line of buf_[begin_]
  uint64_t rows_ = 0;
  void AddField(std::string_view text, size_t start) {
    if (nfields_ == fields_.size()) {  // a row with more fields than ever before
      fields_.resize(fields_.size() * 2 + 16);
      starts_.resize(fields_.size());
    }
    fields_[nfields_] = text;
    starts_[nfields_++] = static_cast<uint32_t>(start);
  }

  std::vector<std::string_view> fields_;  // [0, nfields_) is the current row
  std::vector<uint32_t> starts_;
  size_t nfields_ = 0;
  std::string scratch_;  // unescaped quoted fields of the current row
  Status error_;         // sticky
};

/// Reads the file at `path` ("-" is stdin) through `reader` in 1 MiB reads,
/// then calls Finish().
Status ReadFile(const std::string& path, Reader& reader);

}  // namespace memtk::csv
