// `memtk stats --json` of a snapshot: the keys are a contract
// (docs/STATS_JSON.md), the text presenter's layout is not.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "base/json_put.h"
#include "memtk/base/event_name.h"
#include "memtk/present/snapshot_stats.h"

namespace memtk::present {

using namespace memtk::analysis;  // NOLINT: report types only
using namespace memtk::snapshot;  // NOLINT: ActionName, kNumActions

namespace {

using JsonWriter = json::Writer;
using json::Key;
using json::Put;
using json::PutArray;
using json::PutObject;
using json::PutObjects;

void Point(JsonWriter& w, std::string_view key, const timeline::PeakPoint& p) {
  PutObject(w, key, [&](JsonWriter& o) {
    Put(o, "bytes", p.bytes);
    Put(o, "event_idx", p.event_idx);
    Put(o, "event_id", p.event_id);
    Put(o, "time_us", p.time_us);
  });
}

// --site user: the library frame a user site called ("file:line:function",
// full path), null when the site is not a user frame or called nothing.
void PutCalled(JsonWriter& w, const std::string& called) {
  Put(w, "called", called.empty() ? std::optional<std::string>() : std::optional<std::string>(called));
}

void SiteFields(JsonWriter& o, const SiteUsage& u, bool stack) {
  Put(o, "site", u.site);
  PutCalled(o, u.called);
  Put(o, stack ? "stack_id" : "frame_id", stack ? u.stack_id : u.frame_id);
  if (!stack) Put(o, "called_others", u.called_others);
  Put(o, "bytes", u.bytes);
  Put(o, "count", u.count);
}

void Usage(JsonWriter& w, std::string_view key, const std::vector<SiteUsage>& v, bool stack) {
  PutObjects(w, key, v, [&](JsonWriter& o, const SiteUsage& u) { SiteFields(o, u, stack); });
}

void EventFields(JsonWriter& o, const EventRef& e, bool oom) {
  Put(o, "event_idx", e.event_idx);
  Put(o, "event_id", e.event_id);
  Put(o, "time_us", e.time_us);
  if (oom) {
    Put(o, "requested_bytes", e.size);
    Put(o, "device_free", e.device_free);
  }
}

void Events(JsonWriter& w, std::string_view key, const std::vector<EventRef>& v) {
  PutObjects(w, key, v, [&](JsonWriter& o, const EventRef& e) { EventFields(o, e, false); });
}

// The OOMs of every device, in the order `stats` numbers them (`n`, what
// `query --at-oom` takes), with what was live at each.
void Ooms(JsonWriter& w, const SnapshotReport& r) {
  uint64_t total = 0;
  for (const DeviceReport& d : r.devices) total += d.oom_total;
  Put(w, "ooms_total", total);
  std::vector<const OomRef*> ooms = OomsInOrder(r.devices);
  if (ooms.size() > r.top) ooms.resize(r.top);
  size_t n = 0;
  PutObjects(w, "ooms", ooms, [&](JsonWriter& o, const OomRef* m) {
    Put(o, "n", ++n);
    Put(o, "device", m->device);
    Put(o, "event", DeviceEventName(m->device, m->event.event_idx));
    EventFields(o, m->event, true);
    Put(o, "live_bytes", m->live_bytes);
    Put(o, "live_allocations", m->live_count);
    Usage(o, "live_by_site", m->live_by_site, false);
    if (m->request_site) {
      PutObject(o, "request_site", [&](JsonWriter& s) { SiteFields(s, *m->request_site, false); });
    } else {
      Key(o, "request_site");
      o.Null();
    }
  });
}

void Group(JsonWriter& w, const SegmentGroup& g, bool with_key) {
  w.StartObject();
  if (with_key) {
    Put(w, "key", g.key);
  }
  Put(w, "count", g.segments);
  Put(w, "reserved", g.reserved);
  // Both meanings of "allocated", named (docs/STATS_JSON.md); the bare
  // names stay for readers of earlier versions.
  Put(w, "allocated_rounded", g.allocated);
  Put(w, "allocated_requested", g.requested);
  Put(w, "free_rounded", g.free());
  Put(w, "free_requested", g.free_requested());
  Put(w, "allocated", g.allocated);
  Put(w, "active", g.active);
  Put(w, "requested", g.requested);
  Put(w, "free", g.free());
  Put(w, "largest_free_block", g.largest_free_block);
  w.EndObject();
}

void Groups(JsonWriter& w, std::string_view key, const std::vector<SegmentGroup>& v) {
  PutArray(w, key, v, [](JsonWriter& o, const SegmentGroup& g) { Group(o, g, true); });
}

void Device(JsonWriter& w, const DeviceReport& r) {
  const timeline::DevicePeak& p = r.peak;
  w.StartObject();
  Put(w, "device", r.device);
  Point(w, "peak", p.peak);
  Point(w, "trace_peak", p.trace_peak);
  Put(w, "end_bytes", p.end_bytes);
  Put(w, "before_recording_bytes", p.before_recording_bytes);
  Put(w, "segment_block_bytes", p.segment_block_bytes);
  Put(w, "timeline_actions", p.actions);
  Put(w, "live_at_peak", r.live_at_peak);
  Put(w, "events", r.events);
  PutObject(w, "events_by_action", [&](JsonWriter& o) {
    for (int a = 0; a < kNumActions - 1; ++a)
      if (r.by_action[a]) Put(o, ActionName(static_cast<Action>(a)), r.by_action[a]);
    for (const auto& [name, n] : r.unknown_actions) Put(o, name, n);
  });
  Put(w, "allocs", r.allocs);
  Put(w, "frees", r.frees);
  Put(w, "alloc_bytes", r.alloc_bytes);
  Put(w, "first_time_us", r.first_time_us);
  Put(w, "last_time_us", r.last_time_us);
  Usage(w, "peak_by_site", r.peak_by_site, false);
  Usage(w, "peak_by_stack", r.peak_by_stack, true);
  PutObjects(w, "largest_allocations", r.largest, [](JsonWriter& o, const AllocationRef& a) {
    Put(o, "event_idx", a.event_idx);
    Put(o, "event_id", a.event_id);
    Put(o, "addr", a.addr);
    Put(o, "size", a.size);
    Put(o, "time_us", a.time_us);
    Put(o, "site", a.site);
    PutCalled(o, a.called);
  });
  PutObjects(w, "size_histogram", r.size_histogram, [](JsonWriter& o, const auto& bucket) {
    const auto& [k, v] = bucket;
    Put(o, "min_bytes", k < 0 ? 0 : int64_t{1} << k);
    Put(o, "count", v.first);
    Put(o, "bytes", v.second);
  });
  PutObjects(w, "ooms", r.ooms, [](JsonWriter& o, const OomRef& m) { EventFields(o, m.event, true); });
  Put(w, "ooms_total", r.oom_total);
  Events(w, "snapshots", r.snapshots);
  Put(w, "snapshots_total", r.snapshot_total);
  Put(w, "annotate_events", r.annotate_events);
  PutObject(w, "annotations", [&](JsonWriter& o) {
    Put(o, "total", r.annotations_total);
    PutObjects(o, "first", r.annotations, [](JsonWriter& a, const auto& annotation) {
      Put(a, "text", annotation.first);
      Put(a, "time_us", annotation.second);
    });
  });
  Key(w, "segments");
  Group(w, r.segments, false);
  Put(w, "expandable_segments", r.expandable_segments);
  PutObject(w, "blocks", [&](JsonWriter& o) {
    Put(o, "total", r.blocks);
    static constexpr const char* kStates[] = {"active_allocated", "active_pending_free", "inactive", "other"};
    for (int i = 0; i < 4; ++i) Put(o, kStates[i], r.block_states[i]);
  });
  Groups(w, "segments_by_stream", r.by_stream);
  Groups(w, "segments_by_type", r.by_type);
  Groups(w, "segments_by_pool", r.by_pool);
  PutObjects(w, "most_free_segments", r.most_free, [](JsonWriter& o, const SegmentRef& g) {
    Put(o, "segment_id", g.id);
    Put(o, "address", g.address);
    Put(o, "reserved", g.total);
    Put(o, "allocated_rounded", g.allocated);
    Put(o, "allocated_requested", g.requested);
    Put(o, "allocated", g.allocated);
    Put(o, "largest_free_block", g.largest_free_block);
    Put(o, "segment_type", g.segment_type);
    Put(o, "stream", g.stream);
  });
  Put(w, "segments_with_free", r.segments_with_free);
  w.EndObject();
}

}  // namespace

std::string SnapshotReportJson(const SnapshotReport& r) {
  return json::ObjectText([&](JsonWriter& w) {
    Put(w, "source", r.source);
    Put(w, "format", r.format);
    Ooms(w, r);  // the answer first, as in the text
    Put(w, "bare_segment_list", r.bare_segment_list);
    Put(w, "events", r.events);
    Put(w, "host_events", r.host_events);
    Put(w, "segments", r.segments);
    Put(w, "blocks", r.blocks);
    PutArray(w, "devices", r.devices, Device);
    PutObject(w, "data_problems", [&](JsonWriter& o) {
      for (size_t i = 0; i < static_cast<size_t>(Stat::kCount); ++i) {
        uint64_t v = r.stats.Get(static_cast<Stat>(i));
        if (v == 0) continue;
        Put(o, GetStatInfo(static_cast<Stat>(i)).name, v);
      }
    });
  });
}

}  // namespace memtk::present
