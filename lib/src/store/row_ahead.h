// ForEachRowAhead: a query stepped on a second thread, its rows consumed on
// this one.
//
// Reading a large table is mostly SQLite decoding records (about half of
// `render-png` from a database); the consumer's own work can run beside it
// on another core. The reader opens its own read-only connection (one
// connection is never shared between threads), decodes each row into a T
// and hands rows over in batches; at most kDepth batches are in flight, so
// memory does not grow with the table.
//
// Example:
//   struct Ev { int64_t idx; int64_t size; };
//   Status s = store::ForEachRowAhead<Ev>(
//       "snap.db", "SELECT idx, size FROM events ORDER BY id",
//       [](sqlite3_stmt* st, Ev* e) { e->idx = sqlite3_column_int64(st, 0);
//                                     e->size = sqlite3_column_int64(st, 1); return OkStatus(); },
//       [&](const Ev& e) { total += e.size; return OkStatus(); });
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "store/sqlite.h"

namespace memtk::store {

template <class T>
class RowAhead {
 public:
  static constexpr size_t kBatch = 4096;
  static constexpr size_t kDepth = 4;

  using Decode = std::function<Status(sqlite3_stmt*, T*)>;
  using Consume = std::function<Status(const T&)>;

  /// Runs the whole query; the first error (reader's or consumer's) wins.
  static Status Run(const std::string& path, const std::string& sql, const Decode& decode, const Consume& consume) {
    RowAhead r;
    std::thread reader;
    try {
      reader = std::thread([&] { r.Read(path, sql, decode); });
    } catch (...) {  // no thread to be had: step the rows here
      ASSIGN_OR_RETURN(ScopedDb db, OpenDb(path, false, true));
      T row;
      return ForEachRow(db.get(), path, sql, [&](sqlite3_stmt* s) {
        RETURN_IF_ERROR(decode(s, &row));
        return consume(row);
      });
    }
    Status s = r.Drain(consume);
    {
      std::lock_guard<std::mutex> lk(r.mu_);
      r.stop_ = true;
    }
    r.cv_.notify_all();
    reader.join();
    return s;
  }

 private:
  // Reader thread: fills batches, waits while kDepth are queued.
  void Read(const std::string& path, const std::string& sql, const Decode& decode) {
    std::vector<T> batch;
    // Queues a full batch and takes a drained one back (or a new one).
    auto hand_over = [&] {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stop_ || ready_.size() < kDepth; });
      if (stop_) return false;
      ready_.push_back(std::move(batch));
      batch.clear();
      if (!spare_.empty()) {
        batch = std::move(spare_.back());
        spare_.pop_back();
        batch.clear();
      }
      cv_.notify_all();
      return true;
    };
    Status s = [&]() -> Status {
      ASSIGN_OR_RETURN(ScopedDb db, OpenDb(path, false, true));
      batch.reserve(kBatch);
      return ForEachRow(db.get(), path, sql, [&](sqlite3_stmt* st) -> Status {
        batch.emplace_back();
        RETURN_IF_ERROR(decode(st, &batch.back()));
        if (batch.size() == kBatch && !hand_over()) return UsageError("stopped");  // never seen
        return OkStatus();
      });
    }();
    std::lock_guard<std::mutex> lk(mu_);
    if (!s.ok()) {
      error_ = std::move(s);
      batch.clear();
    }
    if (!stop_) {
      ready_.push_back(std::move(batch));
      done_ = true;
    }
    cv_.notify_all();
  }

  // Consumer side: every row in order, then the reader's status.
  Status Drain(const Consume& consume) {
    std::vector<T> batch;
    for (;;) {
      bool last;
      {
        std::unique_lock<std::mutex> lk(mu_);
        if (batch.capacity()) spare_.push_back(std::move(batch));  // back to the reader
        cv_.wait(lk, [&] { return !ready_.empty(); });
        batch = std::move(ready_.front());
        ready_.pop_front();
        last = done_ && ready_.empty();
        cv_.notify_all();
      }
      for (const T& row : batch) RETURN_IF_ERROR(consume(row));
      if (last) {
        std::lock_guard<std::mutex> lk(mu_);
        return error_;
      }
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<T>> ready_;
  std::vector<std::vector<T>> spare_;
  bool done_ = false, stop_ = false;
  Status error_;
};

/// RowAhead<T>::Run: see the top of this file.
template <class T>
Status ForEachRowAhead(const std::string& path, const std::string& sql, const typename RowAhead<T>::Decode& decode,
                       const typename RowAhead<T>::Consume& consume) {
  return RowAhead<T>::Run(path, sql, decode, consume);
}

}  // namespace memtk::store
