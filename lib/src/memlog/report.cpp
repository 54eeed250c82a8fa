// memlog CSV -> MemlogReport, streamed (see report.h for the memory bound).
#include "memtk/memlog/report.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <iterator>

#include "memtk/base/format.h"
#include "base/scoped.h"
#include "csv/reader.h"
#include "memlog/columns.h"
#include "memtk/memlog/recorder.h"
#include "time_format.h"

namespace memtk::memlog {

namespace {

constexpr size_t kBuckets = 1024;
constexpr int64_t kMaxValue = int64_t{1} << 53;
constexpr double kMaxUnix = 1e12;  // year 33658: anything beyond is not a time

// Count, means and co-moments of (t, v), mergeable exactly (Chan et al.):
// a least-squares fit over any run of buckets costs one merge per bucket.
struct Moments {
  double n = 0, mt = 0, mv = 0, ctt = 0, cvv = 0, ctv = 0;
  void Merge(const Moments& b) {
    if (b.n == 0) return;
    if (n == 0) {
      *this = b;
      return;
    }
    const double total = n + b.n, dt = b.mt - mt, dv = b.mv - mv, w = n * b.n / total;
    mt += dt * b.n / total;
    mv += dv * b.n / total;
    ctt += b.ctt + dt * dt * w;
    cvv += b.cvv + dv * dv * w;
    ctv += b.ctv + dt * dv * w;
    n = total;
  }
};

struct Bucket {
  Moments m;
  double t_first = 0, t_last = 0;
  int64_t v_min = 0, v_max = 0;
  void Add(double t, double v_rel, int64_t v) {
    if (m.n == 0) {
      t_first = t;
      v_min = v_max = v;
    }
    t_last = t;
    v_min = std::min(v_min, v);
    v_max = std::max(v_max, v);
    // Welford's update: one division per sample instead of a general merge.
    m.n += 1;
    const double inv = 1.0 / m.n, dt = t - m.mt, dv = v_rel - m.mv;
    m.mt += dt * inv;
    m.mv += dv * inv;
    m.ctt += dt * (t - m.mt);
    m.cvv += dv * (v_rel - m.mv);
    m.ctv += dt * (v_rel - m.mv);
  }
  void Merge(const Bucket& b) {
    if (b.m.n == 0) return;
    if (m.n == 0) {
      *this = b;
      return;
    }
    t_last = b.t_last;
    v_min = std::min(v_min, b.v_min);
    v_max = std::max(v_max, b.v_max);
    m.Merge(b.m);
  }
};

// A rise between consecutive samples, possibly over several samples.
struct Rise {
  double from_s = 0, to_s = 0, from_unix = 0, to_unix = 0;
  int64_t from = 0, to = 0;
};

// Streams the primary column: peak, buckets, jumps.
class SeriesAnalyzer {
 public:
  explicit SeriesAnalyzer(size_t jumps) : top_(jumps) {}

  void Add(double t, double unix_s, int64_t v) {
    if (n_ == 0) {
      v0_ = v;
      peak_ = v;
      peak_t_ = t;
      peak_unix_ = unix_s;
      min_ = v;
    } else {
      if (v > prev_v_) {
        if (!rising_) {
          rising_ = true;
          run_ = Rise{prev_t_, t, prev_unix_, unix_s, prev_v_, v};
        } else {
          run_.to = v;
          run_.to_s = t;
          run_.to_unix = unix_s;
        }
      } else if (rising_) {
        // A flat sample ends the rise too: two loads seconds apart are two jumps.
        Offer(run_);
        rising_ = false;
      }
      if (v > peak_) {
        peak_ = v;
        peak_t_ = t;
        peak_unix_ = unix_s;
      }
      min_ = std::min(min_, v);
    }
    prev_v_ = v;
    prev_t_ = t;
    prev_unix_ = unix_s;
    if (buckets_.empty() || buckets_.back().m.n >= span_) {
      if (buckets_.size() == kBuckets) Halve();
      buckets_.emplace_back();
    }
    // Values relative to the first sample keep the co-moments well conditioned.
    buckets_.back().Add(t, static_cast<double>(v - v0_), v);
    ++n_;
  }

  void Finish() {
    if (rising_) Offer(run_);
    rising_ = false;
    std::sort(top_.begin(), top_.begin() + static_cast<std::ptrdiff_t>(used_),
              [](const Rise& a, const Rise& b) { return a.to - a.from > b.to - b.from; });
  }

  uint64_t n() const { return n_; }
  int64_t v0() const { return v0_; }
  int64_t last() const { return prev_v_; }
  int64_t peak() const { return peak_; }
  int64_t min() const { return min_; }
  double peak_t() const { return peak_t_; }
  double peak_unix() const { return peak_unix_; }
  const std::vector<Bucket>& buckets() const { return buckets_; }
  std::span<const Rise> jumps() const { return {top_.data(), used_}; }

 private:
  void Offer(const Rise& r) {
    if (top_.empty()) return;
    const int64_t rise = r.to - r.from;
    if (used_ < top_.size()) {
      top_[used_++] = r;
      return;
    }
    // Replace the smallest kept rise if this one is larger (K is tiny).
    size_t smallest = 0;
    for (size_t i = 1; i < used_; ++i)
      if (top_[i].to - top_[i].from < top_[smallest].to - top_[smallest].from) smallest = i;
    if (rise > top_[smallest].to - top_[smallest].from) top_[smallest] = r;
  }
  void Halve() {
    for (size_t i = 0; i < buckets_.size() / 2; ++i) {
      Bucket b = buckets_[2 * i];
      b.Merge(buckets_[2 * i + 1]);
      buckets_[i] = b;
    }
    buckets_.resize(buckets_.size() / 2);
    span_ *= 2;
  }

  std::vector<Bucket> buckets_ = [] {
    std::vector<Bucket> v;
    v.reserve(kBuckets);
    return v;
  }();
  double span_ = 1;  // samples per bucket
  uint64_t n_ = 0;
  int64_t v0_ = 0, prev_v_ = 0, peak_ = 0, min_ = 0;
  double prev_t_ = 0, prev_unix_ = 0, peak_t_ = 0, peak_unix_ = 0;
  bool rising_ = false;
  Rise run_;
  std::vector<Rise> top_;
  size_t used_ = 0;
};

// A row whose field count differs from its header's. Points at the first
// extra field, or at the last one present.
Status FieldCountError(const csv::Row& row, size_t expected) {
  return InvalidInput(fmt::format("{}: expected {} fields as in the header, found {}",
                                  row.Where(std::min(row.size() - 1, expected)), expected, row.size()));
}

Status NotANumber(const csv::Row& row, size_t i, std::string_view column) {
  return InvalidInput(
      fmt::format("{}: {}: expected a number, found \"{}\"", row.Where(i), column, row[i].substr(0, 40)));
}

class MemlogSink : public csv::RowSink {
 public:
  MemlogSink(const MemlogReportOptions& o, MemlogReport* r) : o_(o), r_(r), series_(o.jumps) {}

  Status OnRow(const csv::Row& row) override {
    if (header_.empty()) return OnHeader(row);
    if (row.size() != header_.size()) {
      // A writer killed mid-row leaves a short last line: counted, not fatal.
      if (!row.terminated()) {
        ++r_->truncated_rows;
        return OkStatus();
      }
      return FieldCountError(row, header_.size());
    }
    double unix_s = 0, elapsed = 0;
    if (!csv::ParseDouble(row[1], &unix_s) || !(std::fabs(unix_s) < kMaxUnix)) return NotANumber(row, 1, header_[1]);
    if (row[2].empty()) {
      elapsed = samples_ == 0 ? 0 : unix_s - unix0_ + elapsed0_;  // a --mark-style row without elapsed
    } else if (!csv::ParseDouble(row[2], &elapsed) || !(std::fabs(elapsed) < kMaxUnix)) {
      return NotANumber(row, 2, header_[2]);
    }
    if (samples_ == 0) {
      unix0_ = unix_s;
      elapsed0_ = elapsed;
      r_->start_utc = std::string(row[0]);
      r_->start_elapsed_s = elapsed;
    } else {
      if (elapsed < prev_elapsed_)
        return InvalidInput(
            fmt::format("{}: elapsed_s goes backwards ({} after {})", row.Where(2), row[2], prev_elapsed_));
      r_->max_gap_s = std::max(r_->max_gap_s, elapsed - prev_elapsed_);
    }
    prev_elapsed_ = elapsed;
    last_unix_ = unix_s;
    // The last row's time, kept without a string assignment per row.
    last_utc_len_ = std::min(row[0].size(), sizeof last_utc_);
    std::memcpy(last_utc_, row[0].data(), last_utc_len_);
    for (size_t i = 3; i < row.size(); ++i) {
      if (row[i].empty()) continue;
      int64_t v = 0;
      if (!csv::ParseInt64(row[i], &v)) {
        double d = 0;
        if (!csv::ParseDouble(row[i], &d)) return NotANumber(row, i, header_[i]);
        if (!(std::fabs(d) <= kMaxValue)) return OutOfRange(row, i);
        v = static_cast<int64_t>(std::llround(d));
      }
      // Beyond 2^53 (8 PiB) a value is not memory; and sums/differences of
      // values within it can neither overflow nor lose precision as doubles.
      if (v > kMaxValue || v < -kMaxValue) return OutOfRange(row, i);
      ColumnSummary& c = r_->columns[i - 3];
      if (c.present == 0) {
        c.min = c.max = c.first = v;
        c.max_s = elapsed;
      } else if (v > c.max) {
        c.max = v;
        c.max_s = elapsed;
      }
      c.min = std::min(c.min, v);
      c.last = v;
      ++c.present;
      if (i == primary_) series_.Add(elapsed, unix_s, v);
    }
    ++samples_;
    return OkStatus();
  }

  Status Finish(const std::string& path) {
    if (header_.empty()) return InvalidInput(fmt::format("{}: empty file (no memlog header)", path));
    if (series_.n() == 0)
      return InvalidInput(fmt::format("{}: no samples with a value in {}", path, header_[primary_]));
    series_.Finish();
    r_->end_utc.assign(last_utc_, last_utc_len_);
    r_->samples = samples_;
    r_->duration_s = prev_elapsed_ - elapsed0_;
    r_->mean_interval_s = samples_ > 1 ? r_->duration_s / static_cast<double>(samples_ - 1) : 0;
    return OkStatus();
  }

  const SeriesAnalyzer& series() const { return series_; }
  double unix0() const { return unix0_; }
  double elapsed0() const { return elapsed0_; }
  const std::vector<std::string>& header() const { return header_; }

 private:
  Status OnHeader(const csv::Row& row) {
    static constexpr std::string_view kFirst[] = {"time_utc", "unix_s", "elapsed_s"};
    for (size_t i = 0; i < 3; ++i) {
      if (i >= row.size() || row[i] != kFirst[i])
        return InvalidInput(fmt::format("{}: not a memtk memlog CSV (the header must start with {})",
                                        row.Where(std::min(i, row.size() - 1)), kTimeHeader));
    }
    for (size_t i = 0; i < row.size(); ++i) header_.emplace_back(row[i]);
    if (header_.size() == 3) return InvalidInput(fmt::format("{}: the header has no value columns", row.Where(2)));
    primary_ = 0;
    auto find = [&](std::string_view name) {
      for (size_t i = 3; i < header_.size(); ++i)
        if (header_[i] == name) return i;
      return size_t{0};
    };
    if (!o_.column.empty()) {
      primary_ = find(o_.column);
      if (primary_ == 0) {
        std::string names;
        for (size_t i = 3; i < header_.size(); ++i) names += (i > 3 ? ", " : "") + header_[i];
        return UsageError(fmt::format("{}: no column {} (columns: {})", row.Where(0), o_.column, names));
      }
    }
    if (primary_ == 0) primary_ = find("rss_bytes");
    if (primary_ == 0) primary_ = find("used_bytes");
    for (size_t i = 3; i < header_.size() && primary_ == 0; ++i)
      if (header_[i].ends_with("_bytes")) primary_ = i;
    if (primary_ == 0) primary_ = 3;
    r_->column = header_[primary_];
    for (size_t i = 3; i < header_.size(); ++i) r_->columns.push_back(ColumnSummary{header_[i]});
    return OkStatus();
  }
  Status OutOfRange(const csv::Row& row, size_t i) const {
    return InvalidInput(
        fmt::format("{}: {}: {} is out of range (more than 2^53)", row.Where(i), header_[i], row[i].substr(0, 40)));
  }

  const MemlogReportOptions& o_;
  MemlogReport* r_;
  SeriesAnalyzer series_;
  std::vector<std::string> header_;
  size_t primary_ = 0;
  uint64_t samples_ = 0;
  double unix0_ = 0, elapsed0_ = 0, prev_elapsed_ = 0, last_unix_ = 0;
  char last_utc_[40] = {};
  size_t last_utc_len_ = 0;
};

// The log CSV, streamed after the samples: keeps the few lines near each jump
// and before the peak, and the first marks.
class LogSink : public csv::RowSink {
 public:
  struct Window {
    double from_unix, to_unix;
    Jump* jump;
  };
  LogSink(MemlogReport* r, std::vector<Window> windows, double peak_unix, double unix0, double elapsed0,
          size_t per_jump)
      : r_(r),
        windows_(std::move(windows)),
        peak_unix_(peak_unix),
        unix0_(unix0),
        elapsed0_(elapsed0),
        per_jump_(per_jump) {}

  Status OnRow(const csv::Row& row) override {
    if (!header_seen_) {
      header_seen_ = true;
      if (row.size() != 5 || row[0] != "time_utc" || row[3] != "stream" || row[4] != "line")
        return InvalidInput(
            fmt::format("{}: not a memtk memlog log CSV (expected header {})", row.Where(0), kLogHeader));
      return OkStatus();
    }
    if (row.size() != 5) {
      if (!row.terminated()) return OkStatus();  // cut by a kill mid-write
      return FieldCountError(row, 5);
    }
    double unix_s = 0;
    if (!csv::ParseDouble(row[1], &unix_s) || !(std::fabs(unix_s) < kMaxUnix)) return NotANumber(row, 1, "unix_s");
    ++r_->log_lines;
    if (row[3] == "mark") {
      ++r_->mark_count;
      if (r_->marks.size() < MemlogReport::kMaxMarks) Fill(&r_->marks.emplace_back(), row, unix_s);
    }
    for (const Window& w : windows_) {
      if (unix_s > w.to_unix) continue;
      if (unix_s >= w.from_unix) {
        // Keep the last per_jump_ lines of the window: shift, reuse strings.
        std::vector<LogLine>& lines = w.jump->lines;
        if (lines.size() < per_jump_) {
          lines.emplace_back();
        } else if (!lines.empty()) {
          std::rotate(lines.begin(), lines.begin() + 1, lines.end());
        }
        if (!lines.empty()) Fill(&lines.back(), row, unix_s);
      } else {
        if (!w.jump->before) w.jump->before.emplace();
        Fill(&*w.jump->before, row, unix_s);
      }
    }
    if (unix_s <= peak_unix_) {
      if (!r_->before_peak) r_->before_peak.emplace();
      Fill(&*r_->before_peak, row, unix_s);
    }
    return OkStatus();
  }

 private:
  void Fill(LogLine* l, const csv::Row& row, double unix_s) const {
    double e = 0;
    l->elapsed_s =
        !row[2].empty() && csv::ParseDouble(row[2], &e) && std::fabs(e) < kMaxUnix ? e : unix_s - unix0_ + elapsed0_;
    l->time_utc.assign(row[0]);
    l->stream.assign(row[3]);
    l->text.assign(row[4]);
  }

  MemlogReport* r_;
  std::vector<Window> windows_;
  double peak_unix_, unix0_, elapsed0_;
  size_t per_jump_;
  bool header_seen_ = false;
};

// Whether the steady slope means something (rules: docs/MEMLOG.md). A
// 5-second run extrapolated to MiB/hour, or noise around a flat line, is
// not growth worth a number.
void JudgeGrowth(MemlogReport* r) {
  constexpr uint64_t kMinSamples = 10;
  constexpr double kMinSeconds = 1.0, kMinRSquared = 0.5;
  const double seconds = r->steady_to_s - r->steady_from_s;
  const double change = r->growth_bytes_per_hour / 3600.0 * seconds;
  const bool pct = r->column.ends_with("_percent");
  const double unit = pct ? 1.0 : static_cast<double>(kMiB);
  const double noise = std::max(2 * r->residual_rms_bytes, unit);
  auto amount = [&](double v) {
    return pct ? fmt::format("{:.1f}%", v) : FormatBytes(static_cast<int64_t>(v));
  };
  r->growth_meaningful = false;
  if (r->steady_samples < kMinSamples) {
    r->growth_why_not = fmt::format("too few samples ({}, need {})", r->steady_samples, kMinSamples);
  } else if (seconds < kMinSeconds) {
    r->growth_why_not = fmt::format("too short ({:.2f} s)", seconds);
  } else if (std::fabs(change) < noise) {
    r->growth_why_not = fmt::format("no growth beyond the noise (fitted change {}{}, noise ±{})",
                                    change < 0 ? "-" : "+", amount(std::fabs(change)), amount(noise));
  } else if (r->r_squared < kMinRSquared) {
    r->growth_why_not = fmt::format("poor fit (R² {:.2f}): memory moved, but not along a line", r->r_squared);
  } else {
    r->growth_meaningful = true;
    r->growth_why_not.clear();
  }
}

// Start-up, steady phase and final drop from the buckets (rules: docs/MEMLOG.md).
void AnalysePhases(const SeriesAnalyzer& s, MemlogReport* r) {
  const std::vector<Bucket>& b = s.buckets();
  const size_t nb = b.size();
  auto mean = [&](size_t i) { return static_cast<double>(s.v0()) + b[i].m.mv; };
  const double t0 = b.front().t_first, t_end = b.back().t_last, duration = t_end - t0;

  // Final drop: walk back from the end while memory was not lower before
  // (noise of 1% of the peak allowed), i.e. over everything since the last
  // rise; the drop starts at the last bucket within 10% of that stretch's
  // highest level above the final value.
  size_t drop_start = nb;
  if (nb >= 2) {
    const double noise = std::max(static_cast<double>(kMiB), 0.01 * static_cast<double>(s.peak()));
    size_t k = nb - 1;
    while (k > 0 && mean(k - 1) >= mean(k) - noise) --k;
    const double end_v = static_cast<double>(s.last());
    double high = end_v;
    for (size_t i = k; i < nb; ++i) high = std::max(high, mean(i));
    size_t from = nb - 1;
    while (from > k && mean(from) < end_v + 0.9 * (high - end_v)) --from;
    const int64_t from_v = b[from].v_max;
    if (from < nb - 1 && from_v - s.last() >= std::max<int64_t>(kMiB, s.peak() / 20)) {
      drop_start = from;
      r->drop = true;
      r->drop_from_bytes = from_v;
      r->drop_to_bytes = s.last();
      r->drop_from_s = b[from].t_last;
      r->drop_to_s = t_end;
    }
  }

  // Start-up: the first bucket from which memory stays within 5% of the
  // start-up rise for a window of 10% of the run (at least 3 buckets).
  const double rise = static_cast<double>(s.peak() - s.v0());
  size_t plateau = nb;
  if (rise < std::max(static_cast<double>(kMiB), 0.02 * static_cast<double>(s.peak()))) {
    plateau = 0;  // no start-up rise to speak of
  } else {
    const double window = std::max(0.10 * duration, 3 * (duration / static_cast<double>(nb)));
    const double tol = std::max(0.05 * rise, static_cast<double>(kMiB));
    for (size_t i = 0; i < drop_start && plateau == nb; ++i) {
      if (b[i].t_first + window > t_end) break;
      double lo = mean(i), hi = lo;
      size_t j = i;
      for (; j < nb && b[j].t_first <= b[i].t_first + window; ++j) {
        lo = std::min(lo, mean(j));
        hi = std::max(hi, mean(j));
      }
      if (hi - lo <= tol && j - i >= 2) plateau = i;
    }
  }
  if (plateau < nb) {
    r->plateau = true;
    r->startup_s = b[plateau].t_first - t0;
    r->startup_bytes = static_cast<int64_t>(std::llround(mean(plateau))) - s.v0();
  }
  // Steady phase: everything between the plateau and the drop; with no
  // plateau (a leak that never levels off) the growth of the whole run is
  // still the number the user wants.
  const size_t steady_start = plateau < nb ? plateau : 0;
  {
    Moments m;
    for (size_t i = steady_start; i < drop_start; ++i) m.Merge(b[i].m);
    if (drop_start > steady_start && drop_start - steady_start >= 2 && m.ctt > 0) {
      r->steady = true;
      r->steady_from_s = b[steady_start].t_first;
      r->steady_to_s = b[drop_start - 1].t_last;
      const double slope = m.ctv / m.ctt;
      r->growth_bytes_per_hour = slope * 3600.0;
      r->r_squared = m.cvv > 0 ? (m.ctv * m.ctv) / (m.ctt * m.cvv) : 1.0;
      r->residual_rms_bytes = std::sqrt(std::max(0.0, m.cvv - m.ctv * slope) / m.n);
      r->steady_samples = static_cast<uint64_t>(m.n);
      JudgeGrowth(r);
    }
  }
}

}  // namespace

GrowthRate GrowthInFittingUnit(const MemlogReport& r) {
  const double seconds = r.steady_to_s - r.steady_from_s;
  const bool pct = r.column.ends_with("_percent");
  const double per_s = r.growth_bytes_per_hour / 3600.0 / (pct ? 1.0 : static_cast<double>(kMiB));
  if (seconds < 120) return {per_s, pct ? "%/s" : "MiB/s"};
  if (seconds < 3 * 3600) return {per_s * 60, pct ? "%/min" : "MiB/min"};
  return {per_s * 3600, pct ? "%/hour" : "MiB/hour"};
}

bool IsMemlogCsv(const std::string& path) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  char head[32];
  ssize_t n = ::pread(fd.get(), head, sizeof head, 0);
  return n >= static_cast<ssize_t>(kTimeHeader.size()) &&
         std::string_view(head, static_cast<size_t>(n)).starts_with(kTimeHeader);
}

namespace {

using Feed = std::function<Status(csv::Reader&)>;

// The whole report, with the two inputs coming from files or from memory.
StatusOr<MemlogReport> Build(const std::string& csv_name, const Feed& feed_csv, const std::string& log_name,
                             const Feed& feed_log, const MemlogReportOptions& options) {
  MemlogReport r;
  r.path = csv_name;
  MemlogSink sink(options, &r);
  csv::Reader reader(csv_name, &sink);
  RETURN_IF_ERROR(feed_csv(reader));
  RETURN_IF_ERROR(sink.Finish(csv_name));
  const SeriesAnalyzer& s = sink.series();
  r.start_bytes = s.v0();
  r.end_bytes = s.last();
  r.min_bytes = s.min();
  r.peak_bytes = s.peak();
  r.peak_s = s.peak_t();
  r.peak_utc = IsoUtc(s.peak_unix());
  for (const ColumnSummary& c : r.columns)
    if (c.name == "hwm_bytes" && c.present > 0) r.hwm_max = c.max;
  AnalysePhases(s, &r);

  std::vector<LogSink::Window> windows;
  r.jumps.reserve(s.jumps().size());
  for (const Rise& rise : s.jumps()) {
    Jump& j = r.jumps.emplace_back();
    j.from_s = rise.from_s;
    j.to_s = rise.to_s;
    j.to_utc = IsoUtc(rise.to_unix);
    j.from_bytes = rise.from;
    j.to_bytes = rise.to;
    // From one sampling interval before the rise began, to its top.
    windows.push_back({rise.from_unix - r.mean_interval_s, rise.to_unix, nullptr});
  }
  for (size_t i = 0; i < windows.size(); ++i) windows[i].jump = &r.jumps[i];
  if (feed_log) {
    r.log_path = log_name;
    LogSink log(&r, std::move(windows), s.peak_unix(), sink.unix0(), sink.elapsed0(), options.lines_per_jump);
    csv::Reader log_reader(log_name, &log);
    RETURN_IF_ERROR(feed_log(log_reader));
  }
  return r;
}

}  // namespace

std::string LogPathToRead(const std::string& csv_path, const std::string& log_path) {
  if (!log_path.empty()) return log_path;
  std::string default_path = DefaultLogPath(csv_path);
  // Only a regular file rides along unasked: a FIFO (or a device) that
  // happens to sit at NAME.log.csv would block the open, or never end.
  struct stat st;
  if (::stat(default_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || ::access(default_path.c_str(), R_OK) != 0)
    return std::string();
  return default_path;
}

StatusOr<MemlogReport> BuildMemlogReport(const std::string& csv_path, const MemlogReportOptions& options) {
  const std::string log_path = LogPathToRead(csv_path, options.log_path);
  Feed feed_log;
  if (!log_path.empty()) feed_log = [&](csv::Reader& r) { return csv::ReadFile(log_path, r); };
  return Build(
      csv_path, [&](csv::Reader& r) { return csv::ReadFile(csv_path, r); }, log_path, feed_log, options);
}

StatusOr<MemlogReport> BuildMemlogReportFromMemory(std::string_view csv, std::string_view log,
                                                   const MemlogReportOptions& options) {
  auto feed = [](std::string_view text) {
    return [text](csv::Reader& r) {
      RETURN_IF_ERROR(r.Feed(text));
      return r.Finish();
    };
  };
  Feed feed_log;
  if (!log.empty()) feed_log = feed(log);
  return Build("memlog.csv", feed(csv), "memlog.log.csv", feed_log, options);
}

}  // namespace memtk::memlog
