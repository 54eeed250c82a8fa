#include "store/table_units.h"

#include <fmt/format.h>

#include <algorithm>

#include "memtk/base/event_name.h"
#include "memtk/base/format.h"

namespace memtk::store {

StatusOr<std::unique_ptr<TableUnits>> TableUnits::Load(const Db& d) {
  auto u = std::make_unique<TableUnits>();
  ASSIGN_OR_RETURN(ScopedStmt st,
                   Prepare(d, "SELECT device, host, first_event, events FROM traces ORDER BY first_event"));
  while (sqlite3_step(st.get()) == SQLITE_ROW)
    u->traces_.push_back(Trace{sqlite3_column_int64(st.get(), 0), sqlite3_column_int64(st.get(), 2),
                               sqlite3_column_int64(st.get(), 3), sqlite3_column_int64(st.get(), 1) != 0});
  // `stats` measures time from the first event of a device's trace that
  // has one (a primary-key range: a few rows read per trace).
  ASSIGN_OR_RETURN(ScopedStmt first,
                   Prepare(d,
                           "SELECT time_us FROM events WHERE id >= ?1 AND id < ?2 AND time_us IS NOT NULL "
                           "ORDER BY id LIMIT 1"));
  for (const Trace& t : u->traces_) {
    if (t.host) continue;
    sqlite3_reset(first.get());
    sqlite3_bind_int64(first.get(), 1, t.first_event);
    sqlite3_bind_int64(first.get(), 2, t.first_event + t.events);
    if (sqlite3_step(first.get()) == SQLITE_ROW) u->start_[t.device] = sqlite3_column_int64(first.get(), 0);
  }
  return u;
}

void TableUnits::Columns(const std::vector<std::string>& names) {
  units_.clear();
  device_column_ = -1;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& n = names[i];
    Unit unit = Unit::kRaw;
    if (n == "size" || n == "bytes" || n == "device_free" || n.ends_with("_bytes") || n.ends_with("_size"))
      unit = Unit::kBytes;
    else if (n == "time_us" || n.ends_with("_time_us"))
      unit = Unit::kTime;
    else if (n == "event_id" || n.ends_with("_event"))
      unit = Unit::kEvent;
    else if (n == "addr" || n == "address")
      unit = Unit::kAddress;
    else if (n == "device")
      device_column_ = static_cast<int>(i);
    units_.push_back(unit);
  }
}

std::string TableUnits::EventText(int64_t id) const {
  auto it =
      std::upper_bound(traces_.begin(), traces_.end(), id, [](int64_t v, const Trace& t) { return v < t.first_event; });
  if (it == traces_.begin()) return fmt::format("{}", id);
  --it;
  if (it->host || id >= it->first_event + it->events) return fmt::format("{}", id);
  return fmt::format("{} ({})", id,
                     DeviceEventName(static_cast<uint64_t>(it->device), static_cast<uint64_t>(id - it->first_event)));
}

std::string TableUnits::TimeText(int64_t time_us, std::optional<int64_t> device) const {
  std::optional<int64_t> start;
  if (device) {
    if (auto it = start_.find(*device); it != start_.end()) start = it->second;
  }
  if (!start)
    for (const auto& [dev, t] : start_) start = start ? std::min(*start, t) : t;
  if (!start) return fmt::format("{}", time_us);
  return fmt::format("{:+.6f} s", static_cast<double>(time_us - *start) / 1e6);
}

void TableUnits::Row(sqlite3_stmt* stmt, std::vector<std::string>* cells, std::vector<bool>* right) {
  std::optional<int64_t> device;
  if (device_column_ >= 0 && sqlite3_column_type(stmt, device_column_) == SQLITE_INTEGER)
    device = sqlite3_column_int64(stmt, device_column_);
  for (size_t i = 0; i < units_.size() && i < cells->size(); ++i) {
    if (units_[i] == Unit::kRaw || sqlite3_column_type(stmt, static_cast<int>(i)) != SQLITE_INTEGER) continue;
    const int64_t v = sqlite3_column_int64(stmt, static_cast<int>(i));
    switch (units_[i]) {
      case Unit::kBytes:
        (*cells)[i] = FormatBytes(v);
        break;
      case Unit::kTime:
        (*cells)[i] = TimeText(v, device);
        break;
      case Unit::kEvent:
        (*cells)[i] = EventText(v);
        break;
      case Unit::kAddress:
        (*cells)[i] = fmt::format("{:#x}", static_cast<uint64_t>(v));
        break;
      case Unit::kRaw:
        break;
    }
    (*right)[i] = true;
  }
}

}  // namespace memtk::store
