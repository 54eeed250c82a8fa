// DiffJson: the keys are a contract (docs/DIFF_JSON.md); the text is not.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "base/json_put.h"
#include "memtk/present/diff.h"

namespace memtk::present {

namespace {

using json::Key;
using json::Put;
using json::PutArray;
using json::PutObject;
using json::PutObjects;
using JsonWriter = json::Writer;

std::string_view UnitName(analysis::Unit u) {
  switch (u) {
    case analysis::Unit::kBytes:
      return "bytes";
    case analysis::Unit::kBytesPerHour:
      return "bytes_per_hour";
    case analysis::Unit::kMilliseconds:
      return "ms";
    case analysis::Unit::kCount:
      break;
  }
  return "count";
}

void Metrics(JsonWriter& w, const std::vector<analysis::MetricRow>& rows) {
  PutObject(w, "metrics", [&](JsonWriter& o) {
    for (const analysis::MetricRow& r : rows)
      PutObject(o, analysis::MetricName(r.metric), [&](JsonWriter& m) {
        Put(m, "base", r.base);
        Put(m, "new", r.next);
        Put(m, "change", r.change());
        Put(m, "percent", r.percent());
      });
  });
}

// Not stats' Point: diff's JSON has no event_id (ids are per file).
void Point(JsonWriter& w, std::string_view key, const timeline::PeakPoint& p) {
  PutObject(w, key, [&](JsonWriter& o) {
    Put(o, "bytes", p.bytes);
    Put(o, "event_idx", p.event_idx);
    Put(o, "time_us", p.time_us);
  });
}

void SiteList(JsonWriter& w, std::string_view key, const std::vector<analysis::SiteChange>& v) {
  PutObjects(w, key, v, [](JsonWriter& o, const analysis::SiteChange& c) {
    Put(o, "site", c.site);
    Put(o, "base_bytes", c.base_bytes);
    Put(o, "base_count", c.base_count);
    Put(o, "new_bytes", c.next_bytes);
    Put(o, "new_count", c.next_count);
    Put(o, "change", c.change());
  });
}

void Device(JsonWriter& w, const analysis::DeviceDiff& d) {
  w.StartObject();
  Put(w, "device", d.device);
  Put(w, "in_base", d.in_base);
  Put(w, "in_new", d.in_next);
  Metrics(w, d.metrics);
  Point(w, "base_peak", d.base_peak);
  Point(w, "new_peak", d.next_peak);
  Put(w, "base_first_time_us", d.base_first_time_us);
  Put(w, "new_first_time_us", d.next_first_time_us);
  const analysis::SiteChanges& s = d.sites;
  PutObject(w, "sites", [&](JsonWriter& o) {
    SiteList(o, "grown", s.grown);
    SiteList(o, "shrunk", s.shrunk);
    SiteList(o, "new", s.added);
    SiteList(o, "gone", s.gone);
    PutObject(o, "totals", [&](JsonWriter& t) {
      Put(t, "grown", s.grown_total);
      Put(t, "shrunk", s.shrunk_total);
      Put(t, "new", s.added_total);
      Put(t, "gone", s.gone_total);
      Put(t, "unchanged", s.unchanged);
    });
  });
  PutObjects(w, "only_in_new", d.only_in_next, [](JsonWriter& o, const analysis::NewAllocation& a) {
    Put(o, "site", a.site);
    Put(o, "size", a.size);
    Put(o, "count", a.count);
    Put(o, "first_event_idx", a.event_idx);
    Put(o, "first_time_us", a.time_us);
  });
  Put(w, "only_in_new_total", d.only_in_next_total);
  w.EndObject();
}

void Pair(JsonWriter& w, const analysis::PairDiff& p) {
  w.StartObject();
  Put(w, "name", p.name);
  Put(w, "base", p.base_path);
  Put(w, "new", p.next_path);
  Put(w, "kind", p.kind == analysis::InputKind::kSnapshot ? "snapshot" : "memlog");
  if (p.memlog) {
    const analysis::MemlogDiff& m = *p.memlog;
    PutObject(w, "memlog", [&](JsonWriter& o) {
      Put(o, "base_column", m.base_column);
      Put(o, "new_column", m.next_column);
      Metrics(o, m.metrics);
      Put(o, "base_peak_s", m.base_peak_s);
      Put(o, "new_peak_s", m.next_peak_s);
    });
  } else {
    PutArray(w, "devices", p.devices, Device);
  }
  w.EndObject();
}

}  // namespace

std::string DiffJson(const analysis::DiffReport& r) {
  return json::ObjectText([&](JsonWriter& w) {
    Put(w, "base", r.base);
    Put(w, "new", r.next);
    Put(w, "directories", r.directories);
    PutArray(w, "pairs", r.pairs, Pair);
    PutArray(w, "only_in_base", r.only_in_base, [](JsonWriter& o, const std::string& s) { json::Value(o, s); });
    PutArray(w, "only_in_new", r.only_in_next, [](JsonWriter& o, const std::string& s) { json::Value(o, s); });
    PutObject(w, "gate", [&](JsonWriter& g) {
      Put(g, "failed", r.gate.failed());
      PutArray(g, "missing_in_new", r.gate.missing_in_next,
               [](JsonWriter& o, const std::string& s) { json::Value(o, s); });
      PutObjects(g, "checks", r.gate.checks, [](JsonWriter& o, const analysis::GateCheck& c) {
        analysis::MetricRow row{c.gate.metric, c.base, c.next};
        Put(o, "expr", c.gate.text);
        Put(o, "metric", analysis::MetricName(c.gate.metric));
        if (c.gate.percent) {
          Put(o, "limit", static_cast<double>(c.gate.limit) / 1e6);
          Put(o, "limit_unit", "percent");
        } else {
          Put(o, "limit", c.gate.limit);
          Put(o, "limit_unit", UnitName(analysis::MetricUnit(c.gate.metric)));
        }
        Put(o, "pair", c.pair);
        Put(o, "device", c.device);
        Put(o, "base", c.base);
        Put(o, "new", c.next);
        Put(o, "change", row.change());
        Put(o, "percent", row.percent());
        Put(o, "failed", c.failed);
      });
    });
  });
}

}  // namespace memtk::present
