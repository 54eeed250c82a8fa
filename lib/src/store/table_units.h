// TableUnits: `memtk query`'s tables in the units `memtk stats` prints.
//
// By column name (the memtk schema's): sizes (`size`, `bytes`, `*_bytes`,
// `*_size`, `device_free`) in B/KiB/MiB/GiB; times (`time_us`, `*_time_us`)
// in seconds from the start of the row's device trace ("+1.451426 s", the
// `device` column naming the trace; without one, the earliest trace);
// events (`*_event`, `event_id`) as "6866 (d1:421)", the id and the index
// in its device's trace; addresses (`addr`, `address`) in hex. CSV and
// JSON stay raw: only table cells pass through here.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "memtk/base/status.h"
#include "memtk/store/row_writer.h"
#include "store/query_db.h"

namespace memtk::store {

class TableUnits : public TableCellFormat {
 public:
  /// Reads the traces (first event, first time_us) of `d`: a few rows.
  static StatusOr<std::unique_ptr<TableUnits>> Load(const Db& d);

  void Columns(const std::vector<std::string>& names) override;
  void Row(sqlite3_stmt* stmt, std::vector<std::string>* cells, std::vector<bool>* right) override;

  /// "6866 (d1:421)", or "6866" when no device trace holds the id.
  std::string EventText(int64_t id) const;
  /// "+1.451426 s" from the start of `device`'s trace (the earliest trace
  /// without a device); the raw number when no trace has a time.
  std::string TimeText(int64_t time_us, std::optional<int64_t> device) const;

 private:
  enum class Unit { kRaw, kBytes, kTime, kEvent, kAddress };
  struct Trace {
    int64_t device = 0, first_event = 0, events = 0;
    bool host = false;
  };
  std::vector<Trace> traces_;         // by first_event
  std::map<int64_t, int64_t> start_;  // device -> its trace's first time_us
  std::vector<Unit> units_;
  int device_column_ = -1;
};

}  // namespace memtk::store
