// DiffSnapshots / DiffMemlogs / gates: two summaries in, plain structs out.
#include "memtk/analysis/diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <unordered_map>

namespace memtk::analysis {

namespace {

int64_t Saturate(__int128 v) {
  if (v > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  if (v < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

struct MetricInfo {
  Metric metric;
  std::string_view name;
  Unit unit;
};
constexpr MetricInfo kMetrics[] = {
    {Metric::kPeak, "peak", Unit::kBytes},
    {Metric::kReserved, "reserved", Unit::kBytes},
    {Metric::kAllocated, "allocated", Unit::kBytes},
    {Metric::kFragmentation, "fragmentation", Unit::kBytes},
    {Metric::kAllocs, "allocs", Unit::kCount},
    {Metric::kAllocBytes, "alloc_bytes", Unit::kBytes},
    {Metric::kOom, "oom", Unit::kCount},
    {Metric::kStartup, "startup", Unit::kBytes},
    {Metric::kGrowth, "growth", Unit::kBytesPerHour},
    {Metric::kFinal, "final", Unit::kBytes},
    {Metric::kDuration, "duration", Unit::kMilliseconds},
};

bool IsSnapshotMetric(Metric m) {
  const auto& v = SnapshotMetrics();
  return std::find(v.begin(), v.end(), m) != v.end();
}

std::string MetricList(const std::vector<Metric>& v) {
  std::string s;
  for (Metric m : v) s += (s.empty() ? "" : ", ") + std::string(MetricName(m));
  return s;
}

}  // namespace

std::string_view MetricName(Metric m) { return kMetrics[static_cast<size_t>(m)].name; }
Unit MetricUnit(Metric m) { return kMetrics[static_cast<size_t>(m)].unit; }

std::optional<Metric> MetricFromName(std::string_view name) {
  for (const MetricInfo& i : kMetrics)
    if (i.name == name) return i.metric;
  return std::nullopt;
}

const std::vector<Metric>& SnapshotMetrics() {
  static const std::vector<Metric> v = {
      Metric::kPeak,   Metric::kReserved,   Metric::kAllocated, Metric::kFragmentation,
      Metric::kAllocs, Metric::kAllocBytes, Metric::kOom};
  return v;
}

const std::vector<Metric>& MemlogMetrics() {
  static const std::vector<Metric> v = {Metric::kPeak, Metric::kStartup, Metric::kGrowth, Metric::kFinal,
                                        Metric::kDuration};
  return v;
}

int64_t MetricRow::change() const { return Saturate(static_cast<__int128>(next) - base); }

std::optional<double> MetricRow::percent() const {
  if (base == 0) return next == 0 ? std::optional<double>(0.0) : std::nullopt;
  return 100.0 * (static_cast<double>(next) - static_cast<double>(base)) / std::fabs(static_cast<double>(base));
}

int64_t SiteChange::change() const { return Saturate(static_cast<__int128>(next_bytes) - base_bytes); }

const MetricRow* DeviceDiff::Row(Metric m) const {
  for (const MetricRow& r : metrics)
    if (r.metric == m) return &r;
  return nullptr;
}

const MetricRow* MemlogDiff::Row(Metric m) const {
  for (const MetricRow& r : metrics)
    if (r.metric == m) return &r;
  return nullptr;
}

std::string_view InputKindName(InputKind k) { return k == InputKind::kSnapshot ? "snapshot" : "memlog CSV"; }

// --- AllocationSites --------------------------------------------------------

std::string SiteOf(snapshot::FrameClassifier& frames, std::optional<StackId> stack) {
  // The same rule and spelling as `stats`' top call sites (analysis/snapshot_stats.cpp).
  if (!stack) return "<no frames>";
  return frames.SiteFrameLabel(frames.SiteOf(*stack));
}

Status AllocationSites::OnBegin(const snapshot::Tables& t) {
  tables_ = &t;
  frames_.Reset(&t);
  return OkStatus();
}

Status AllocationSites::OnEnd(const snapshot::ReadSummary&) {
  // Stacks are folded while the reader's tables are alive; many stacks share
  // a site, so each stack's site string is made once.
  std::unordered_map<int64_t, std::string> site_of;
  by_stack_.ForEach([&](const StackKey& key, const Entry& x) {  // table order; sites_ orders
    const auto& [size, stack, device] = key;
    auto it = site_of.find(stack);
    if (it == site_of.end()) {
      std::optional<StackId> st;
      if (stack >= 0) st = StackId{static_cast<uint32_t>(stack)};
      it = site_of.emplace(stack, SiteOf(frames_, st)).first;
    }
    Entry& y = sites_[{device, it->second, size}];
    if (y.count == 0 || x.first_event_idx < y.first_event_idx) {
      y.first_event_idx = x.first_event_idx;
      y.first_time_us = x.first_time_us;
    }
    y.count += x.count;
  });
  by_stack_ = {};
  return OkStatus();
}

// --- Snapshots --------------------------------------------------------------

namespace {

std::vector<MetricRow> SnapshotRows(const DeviceReport* b, const DeviceReport* n) {
  auto value = [](const DeviceReport* r, Metric m) -> int64_t {
    if (!r) return 0;
    switch (m) {
      case Metric::kPeak:
        return r->peak.peak.bytes;
      case Metric::kReserved:
        return r->segments.reserved;
      case Metric::kAllocated:
        return r->segments.allocated;
      case Metric::kFragmentation:
        return r->segments.free();
      case Metric::kAllocs:
        return static_cast<int64_t>(std::min<uint64_t>(r->allocs, INT64_MAX));
      case Metric::kAllocBytes:
        return r->alloc_bytes;
      case Metric::kOom:
        return static_cast<int64_t>(r->oom_total);
      default:
        return 0;
    }
  };
  std::vector<MetricRow> rows;
  for (Metric m : SnapshotMetrics()) rows.push_back(MetricRow{m, value(b, m), value(n, m)});
  return rows;
}

SiteChanges CompareSites(const DeviceReport* b, const DeviceReport* n, size_t top) {
  // Sites are compared by name: frame ids are per file. Two frames that print
  // alike (same file, line and function) are one site.
  std::map<std::string, SiteChange> by_site;
  if (b)
    for (const SiteUsage& u : b->peak_by_site) {
      SiteChange& c = by_site[u.site];
      c.base_bytes += u.bytes;
      c.base_count += u.count;
    }
  if (n)
    for (const SiteUsage& u : n->peak_by_site) {
      SiteChange& c = by_site[u.site];
      c.next_bytes += u.bytes;
      c.next_count += u.count;
    }
  SiteChanges out;
  for (auto& [site, c] : by_site) {
    c.site = site;
    bool in_b = c.base_count > 0 || c.base_bytes != 0, in_n = c.next_count > 0 || c.next_bytes != 0;
    if (in_b && !in_n) {
      out.gone.push_back(c);
    } else if (in_n && !in_b) {
      out.added.push_back(c);
    } else if (c.change() > 0) {
      out.grown.push_back(c);
    } else if (c.change() < 0) {
      out.shrunk.push_back(c);
    } else {
      ++out.unchanged;
    }
  }
  auto rank = [top](std::vector<SiteChange>& v, uint64_t* total) {
    *total = v.size();
    std::sort(v.begin(), v.end(), [](const SiteChange& x, const SiteChange& y) {
      __int128 ax = x.change(), ay = y.change();
      if (ax < 0) ax = -ax;
      if (ay < 0) ay = -ay;
      return ax != ay ? ax > ay : x.site < y.site;
    });
    if (v.size() > top) v.resize(top);
  };
  rank(out.grown, &out.grown_total);
  rank(out.shrunk, &out.shrunk_total);
  rank(out.added, &out.added_total);
  rank(out.gone, &out.gone_total);
  return out;
}

void OnlyInNext(uint32_t device, const AllocationSites* base, const AllocationSites* next, size_t top, DeviceDiff* d) {
  if (!next) return;
  const AllocationSites::Map& n = next->sites();
  auto lo = n.lower_bound({device, std::string(), std::numeric_limits<int64_t>::min()});
  std::vector<NewAllocation> found;
  for (auto it = lo; it != n.end() && std::get<0>(it->first) == device; ++it) {
    if (base && base->sites().count(it->first)) continue;
    const auto& [dev, site, size] = it->first;
    found.push_back(NewAllocation{site, size, it->second.count, it->second.first_event_idx, it->second.first_time_us});
  }
  d->only_in_next_total = found.size();
  std::sort(found.begin(), found.end(), [](const NewAllocation& x, const NewAllocation& y) {
    if (x.size != y.size) return x.size > y.size;
    if (x.count != y.count) return x.count > y.count;
    return x.site < y.site;
  });
  if (found.size() > top) found.resize(top);
  d->only_in_next = std::move(found);
}

}  // namespace

std::vector<DeviceDiff> DiffSnapshots(const SnapshotSide& base, const SnapshotSide& next,
                                      const CompareOptions& options) {
  std::map<uint32_t, std::pair<const DeviceReport*, const DeviceReport*>> devices;
  if (base.report)
    for (const DeviceReport& r : base.report->devices) devices[r.device].first = &r;
  if (next.report)
    for (const DeviceReport& r : next.report->devices) devices[r.device].second = &r;
  std::vector<DeviceDiff> out;
  for (const auto& [device, sides] : devices) {
    if (options.device && device != *options.device) continue;
    const auto& [b, n] = sides;
    DeviceDiff d;
    d.device = device;
    d.in_base = b != nullptr;
    d.in_next = n != nullptr;
    d.metrics = SnapshotRows(b, n);
    if (b) {
      d.base_peak = b->peak.peak;
      d.base_first_time_us = b->first_time_us;
    }
    if (n) {
      d.next_peak = n->peak.peak;
      d.next_first_time_us = n->first_time_us;
    }
    d.sites = CompareSites(b, n, options.top);
    OnlyInNext(device, base.sites, next.sites, options.top, &d);
    out.push_back(std::move(d));
  }
  return out;
}

// --- memlog -----------------------------------------------------------------

MemlogDiff DiffMemlogs(const memlog::MemlogReport& base, const memlog::MemlogReport& next) {
  auto value = [](const memlog::MemlogReport& r, Metric m) -> int64_t {
    switch (m) {
      case Metric::kPeak:
        return r.peak_bytes;
      case Metric::kStartup:
        return r.plateau ? r.startup_bytes : 0;
      case Metric::kGrowth:
        return r.steady ? static_cast<int64_t>(std::llround(r.growth_bytes_per_hour)) : 0;
      case Metric::kFinal:
        return r.end_bytes;
      case Metric::kDuration:
        return static_cast<int64_t>(std::llround(r.duration_s * 1000.0));
      default:
        return 0;
    }
  };
  MemlogDiff d;
  d.base_column = base.column;
  d.next_column = next.column;
  d.base_peak_s = base.peak_s - base.start_elapsed_s;
  d.next_peak_s = next.peak_s - next.start_elapsed_s;
  for (Metric m : MemlogMetrics()) d.metrics.push_back(MetricRow{m, value(base, m), value(next, m)});
  return d;
}

// --- Gates ------------------------------------------------------------------

bool Gate::Exceeded(int64_t base, int64_t next) const {
  __int128 change = static_cast<__int128>(next) - base;
  if (!percent) return change > limit;
  if (base == 0) return change > 0;  // any growth from nothing is an infinite percentage
  __int128 magnitude = base < 0 ? -static_cast<__int128>(base) : base;
  // change / |base| * 100 > limit / 1e6, kept in integers so the limit itself passes.
  return change * 100 * 1000000 > static_cast<__int128>(limit) * magnitude;
}

namespace {

// "12", "12.5": a non-negative decimal as an integer scaled by 10^decimals
// (rounded down past `decimals` places); false if it is not such a number.
bool ParseDecimal(std::string_view s, int decimals, __int128* out) {
  if (s.empty()) return false;
  __int128 v = 0;
  int seen = -1;  // digits after the point; -1 before it
  bool any = false;
  for (char c : s) {
    if (c == '.') {
      if (seen >= 0) return false;
      seen = 0;
      continue;
    }
    if (c < '0' || c > '9') return false;
    any = true;
    if (seen >= decimals) continue;
    v = v * 10 + (c - '0');
    if (v > (static_cast<__int128>(1) << 100)) return false;
    if (seen >= 0) ++seen;
  }
  if (!any) return false;
  for (int i = std::max(seen, 0); i < decimals; ++i) v *= 10;
  *out = v;
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

StatusOr<Gate> ParseGate(std::string_view text) {
  auto bad = [&](std::string_view why) { return UsageError(fmt::format("--fail-on '{}': {}", text, why)); };
  size_t gt = text.find('>');
  if (gt == std::string_view::npos) return bad("expected METRIC>LIMIT, e.g. peak>5% or peak>256MiB");
  std::string_view name = Trim(text.substr(0, gt));
  std::string_view limit = Trim(text.substr(gt + 1));
  std::optional<Metric> m = MetricFromName(name);
  if (!m)
    return bad(fmt::format("unknown metric '{}' (snapshots: {}; memlog CSVs: {})", name, MetricList(SnapshotMetrics()),
                           MetricList(MemlogMetrics())));
  if (!limit.empty() && limit.front() == '=') return bad("only '>' is supported: the limit itself passes");
  Gate g;
  g.text = std::string(text);
  g.metric = *m;
  __int128 v = 0;
  if (!limit.empty() && limit.back() == '%') {
    if (!ParseDecimal(Trim(limit.substr(0, limit.size() - 1)), 6, &v))
      return bad("the limit must be a non-negative number, e.g. 5% or 0.5%");
    g.percent = true;
  } else {
    // The number, then a unit suffix.
    size_t end = 0;
    while (end < limit.size() && ((limit[end] >= '0' && limit[end] <= '9') || limit[end] == '.')) ++end;
    std::string_view number = limit.substr(0, end), suffix = Trim(limit.substr(end));
    struct Suffix {
      std::string_view name;
      int64_t scale;
    };
    static constexpr Suffix kBytes[] = {{"", 1},
                                        {"B", 1},
                                        {"KiB", int64_t{1} << 10},
                                        {"MiB", int64_t{1} << 20},
                                        {"GiB", int64_t{1} << 30},
                                        {"TiB", int64_t{1} << 40},
                                        {"kB", 1000},
                                        {"KB", 1000},
                                        {"MB", 1000000},
                                        {"GB", 1000000000},
                                        {"TB", 1000000000000}};
    static constexpr Suffix kCount[] = {{"", 1}};
    static constexpr Suffix kTime[] = {{"", 1000}, {"ms", 1}, {"s", 1000}, {"min", 60000}, {"h", 3600000}};
    std::span<const Suffix> allowed;
    std::string_view unit_help;
    Unit unit = MetricUnit(*m);
    if (unit == Unit::kBytes || unit == Unit::kBytesPerHour) {
      if (unit == Unit::kBytesPerHour && suffix.size() >= 2 && suffix.substr(suffix.size() - 2) == "/h")
        suffix.remove_suffix(2);
      allowed = kBytes;
      unit_help = "bytes, optionally with B, KiB, MiB, GiB, TiB, kB, MB, GB or TB";
    } else if (unit == Unit::kCount) {
      allowed = kCount;
      unit_help = "a whole count";
    } else {
      allowed = kTime;
      unit_help = "seconds, or a number with ms, s, min or h";
    }
    const Suffix* found = nullptr;
    for (const Suffix& s : allowed)
      if (s.name == suffix) found = &s;
    __int128 scaled = 0;
    if (!found || !ParseDecimal(number, 6, &scaled))
      return bad(fmt::format("the limit must be a percentage (5%) or {} ", unit_help) +
                 fmt::format("for {}", MetricName(*m)));
    if (unit == Unit::kCount && scaled % 1000000 != 0) return bad("a count limit must be a whole number");
    v = scaled * found->scale / 1000000;
  }
  if (v > std::numeric_limits<int64_t>::max()) return bad("the limit is too large");
  g.limit = static_cast<int64_t>(v);
  return g;
}

bool GateResult::failed() const {
  return !missing_in_next.empty() ||
         std::any_of(checks.begin(), checks.end(), [](const GateCheck& c) { return c.failed; });
}

StatusOr<GateResult> EvaluateGates(const std::vector<PairDiff>& pairs, const std::vector<Gate>& gates,
                                   std::optional<uint32_t> device) {
  GateResult out;
  for (const Gate& g : gates) {
    for (const PairDiff& p : pairs) {
      bool snapshot_metric = IsSnapshotMetric(g.metric);
      bool memlog_metric = p.kind == InputKind::kMemlog &&
                           std::find(MemlogMetrics().begin(), MemlogMetrics().end(), g.metric) != MemlogMetrics().end();
      if (p.kind == InputKind::kSnapshot && !snapshot_metric)
        return UsageError(fmt::format("--fail-on '{}': {} is a memlog metric; snapshot metrics are {}", g.text,
                                      MetricName(g.metric), MetricList(SnapshotMetrics())));
      if (p.kind == InputKind::kMemlog && !memlog_metric)
        return UsageError(fmt::format("--fail-on '{}': {} is a snapshot metric; memlog metrics are {}", g.text,
                                      MetricName(g.metric), MetricList(MemlogMetrics())));
      if (p.memlog) {
        const MetricRow* r = p.memlog->Row(g.metric);
        out.checks.push_back(GateCheck{g, p.name, std::nullopt, r->base, r->next, g.Exceeded(r->base, r->next)});
        continue;
      }
      for (const DeviceDiff& d : p.devices) {
        if (device && d.device != *device) continue;
        const MetricRow* r = d.Row(g.metric);
        out.checks.push_back(GateCheck{g, p.name, d.device, r->base, r->next, g.Exceeded(r->base, r->next)});
      }
    }
  }
  return out;
}

}  // namespace memtk::analysis
