// BinSeries: the CSV streamed into pixel columns (min, max, last per
// column and series), the log CSV into a count per column.
#include "memlog/series_bins.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "csv/number.h"
#include "csv/reader.h"

namespace memtk::memlog {

namespace {

class SeriesSink : public csv::RowSink {
 public:
  SeriesSink(const std::vector<std::string>& columns, double x0, double x1, int width)
      : names_(columns), x0_(x0), x1_(x1), width_(width), bins_(columns.size(), std::vector<Bin>(width)) {}
  Status OnRow(const csv::Row& row) override {
    if (row.line() == 1 || !header_done_) return Header(row);
    if (!row.terminated() || row.size() != fields_) return OkStatus();  // cut last row: stats counts it
    double t;
    if (!csv::ParseDouble(row[elapsed_], &t)) return InvalidInput(row.Where(elapsed_) + ": elapsed_s is not a number");
    if (t < x0_ || t > x1_) return OkStatus();
    int c = std::min(width_ - 1, static_cast<int>((t - x0_) / (x1_ - x0_) * width_));
    for (size_t s = 0; s < index_.size(); ++s) {
      std::string_view v = row[index_[s]];
      if (v.empty()) continue;
      int64_t n;
      if (IsPercentColumn(names_[s])) {
        double d;
        if (!csv::ParseDouble(v, &d) || !(std::fabs(d) < 1e15))
          return InvalidInput(row.Where(index_[s]) + ": " + names_[s] + " is not a number");
        n = std::llround(d * 10);
      } else if (!csv::ParseInt64(v, &n)) {
        return InvalidInput(row.Where(index_[s]) + ": " + names_[s] + " is not an integer");
      }
      Bin& b = bins_[s][static_cast<size_t>(c)];
      if (!b.any) b.first = n;
      b.lo = std::min(b.lo, n);
      b.hi = std::max(b.hi, n);
      b.last = n;
      ++b.count;
      b.any = true;
    }
    ++samples_;
    return OkStatus();
  }
  const std::vector<std::vector<Bin>>& bins() const { return bins_; }
  uint64_t samples() const { return samples_; }

 private:
  Status Header(const csv::Row& row) {
    header_done_ = true;
    fields_ = row.size();
    for (size_t i = 0; i < row.size(); ++i)
      if (row[i] == "elapsed_s") elapsed_ = i;
    for (const std::string& n : names_) {
      size_t i = 0;
      while (i < row.size() && row[i] != n) ++i;
      if (i == row.size()) return UsageError(fmt::format("{}: no column '{}'", row.Where(0), n));
      index_.push_back(i);
    }
    return OkStatus();
  }
  std::vector<std::string> names_;
  double x0_, x1_;
  int width_;
  std::vector<std::vector<Bin>> bins_;
  std::vector<size_t> index_;
  size_t elapsed_ = 2, fields_ = 0;
  bool header_done_ = false;
  uint64_t samples_ = 0;
};

// Log lines per pixel column: a rug along the bottom of the plot.
class LogRugSink : public csv::RowSink {
 public:
  LogRugSink(double x0, double x1, int width) : x0_(x0), x1_(x1), counts_(static_cast<size_t>(width)) {}
  Status OnRow(const csv::Row& row) override {
    if (row.line() == 1 || row.size() < 3 || !row.terminated()) return OkStatus();
    double t;
    if (!csv::ParseDouble(row[2], &t) || t < x0_ || t > x1_) return OkStatus();
    size_t c = std::min(counts_.size() - 1, static_cast<size_t>((t - x0_) / (x1_ - x0_) * counts_.size()));
    ++counts_[c];
    return OkStatus();
  }
  const std::vector<uint32_t>& counts() const { return counts_; }

 private:
  double x0_, x1_;
  std::vector<uint32_t> counts_;
};

}  // namespace

StatusOr<SeriesBins> BinSeries(const std::string& csv_path, const std::string& log_path,
                               const std::vector<std::string>& columns, double x0, double x1, int width) {
  SeriesBins out;
  SeriesSink series(columns, x0, x1, width);
  {
    csv::Reader reader(csv_path, &series);
    RETURN_IF_ERROR(csv::ReadFile(csv_path, reader));
  }
  out.series = series.bins();
  out.samples = series.samples();
  if (!log_path.empty()) {
    LogRugSink sink(x0, x1, width);
    csv::Reader reader(log_path, &sink);
    RETURN_IF_ERROR(csv::ReadFile(log_path, reader));
    out.log_lines = sink.counts();
  }
  return out;
}

}  // namespace memtk::memlog
