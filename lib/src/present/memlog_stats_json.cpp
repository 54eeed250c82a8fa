// `memtk stats --json` of a memlog CSV: keys in docs/MEMLOG.md (a contract).
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "base/json_put.h"
#include "memtk/base/format.h"
#include "memtk/present/memlog_stats.h"

namespace memtk::present {

using namespace memtk::memlog;  // NOLINT: report types only

namespace {

using JsonWriter = json::Writer;
using json::Key;
using json::Put;
using json::PutArray;
using json::PutObject;
using json::PutObjectOrNull;
using json::PutObjects;

void WriteLine(JsonWriter& w, const LogLine& l) {
  w.StartObject();
  Put(w, "elapsed_s", l.elapsed_s);
  Put(w, "time_utc", l.time_utc);
  Put(w, "stream", l.stream);
  Put(w, "line", l.text);
  w.EndObject();
}

}  // namespace

std::string MemlogReportJson(const MemlogReport& r) {
  return json::ObjectText([&](JsonWriter& w) {
    Put(w, "kind", std::string_view("memlog"));
    Put(w, "file", r.path);
    Key(w, "log_file");
    r.log_path.empty() ? w.Null() : w.String(r.log_path.c_str());
    Put(w, "column", r.column);
    Put(w, "samples", r.samples);
    Put(w, "truncated_rows", r.truncated_rows);
    Put(w, "duration_s", r.duration_s);
    Put(w, "mean_interval_s", r.mean_interval_s);
    Put(w, "max_gap_s", r.max_gap_s);
    Put(w, "start_utc", r.start_utc);
    Put(w, "end_utc", r.end_utc);
    Put(w, "start_bytes", r.start_bytes);
    Put(w, "end_bytes", r.end_bytes);
    Put(w, "min_bytes", r.min_bytes);
    PutObject(w, "peak", [&](JsonWriter& o) {
      Put(o, "bytes", r.peak_bytes);
      Put(o, "elapsed_s", r.peak_s - r.start_elapsed_s);
      Put(o, "time_utc", r.peak_utc);
      Put(o, "hwm_bytes", r.hwm_max);
      Key(o, "last_log_line");
      r.before_peak ? WriteLine(o, *r.before_peak) : void(o.Null());
    });
    PutObjectOrNull(w, "startup", r.plateau, [&](JsonWriter& o) {
      Put(o, "seconds", r.startup_s);
      Put(o, "bytes", r.startup_bytes);
    });
    PutObjectOrNull(w, "steady", r.steady, [&](JsonWriter& o) {
      Put(o, "from_s", r.steady_from_s - r.start_elapsed_s);
      Put(o, "to_s", r.steady_to_s - r.start_elapsed_s);
      Put(o, "growth_mib_per_hour", r.growth_bytes_per_hour / kMiB);
      Put(o, "r_squared", r.r_squared);
      Put(o, "residual_rms_bytes", r.residual_rms_bytes);
      Put(o, "samples", r.steady_samples);
      const GrowthRate g = GrowthInFittingUnit(r);
      Put(o, "growth_meaningful", r.growth_meaningful);
      PutObjectOrNull(o, "growth", r.growth_meaningful, [&](JsonWriter& gw) {
        Put(gw, "value", g.value);
        Put(gw, "unit", g.unit);
      });
      Key(o, "growth_why_not");
      r.growth_meaningful ? o.Null() : o.String(r.growth_why_not.c_str());
    });
    PutObjectOrNull(w, "final_drop", r.drop, [&](JsonWriter& o) {
      Put(o, "from_s", r.drop_from_s - r.start_elapsed_s);
      Put(o, "to_s", r.drop_to_s - r.start_elapsed_s);
      Put(o, "from_bytes", r.drop_from_bytes);
      Put(o, "to_bytes", r.drop_to_bytes);
      Put(o, "bytes", r.drop_from_bytes - r.drop_to_bytes);
    });
    PutObjects(w, "jumps", r.jumps, [&](JsonWriter& o, const Jump& j) {
      Put(o, "bytes", j.rise());
      Put(o, "from_s", j.from_s - r.start_elapsed_s);
      Put(o, "to_s", j.to_s - r.start_elapsed_s);
      Put(o, "to_utc", j.to_utc);
      Put(o, "from_bytes", j.from_bytes);
      Put(o, "to_bytes", j.to_bytes);
      PutArray(o, "log_lines", j.lines, WriteLine);
      Key(o, "last_line_before");
      j.before&& j.lines.empty() ? WriteLine(o, *j.before) : void(o.Null());
    });
    Put(w, "log_lines", r.log_lines);
    Put(w, "marks_total", r.mark_count);
    PutArray(w, "marks", r.marks, WriteLine);
    PutObjects(w, "columns", r.columns, [&](JsonWriter& o, const ColumnSummary& c) {
      Put(o, "name", c.name);
      Put(o, "samples", c.present);
      if (c.present > 0) {
        Put(o, "min", c.min);
        Put(o, "max", c.max);
        Put(o, "max_at_s", c.max_s - r.start_elapsed_s);
        Put(o, "first", c.first);
        Put(o, "last", c.last);
      }
    });
  });
}

}  // namespace memtk::present
