// csv::Reader: same rows at every chunk boundary, exact error text, and no
// allocation per row (issue #3).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "alloc_counter.h"
#include "csv/reader.h"

using namespace memtk;

namespace {

struct Collect : csv::RowSink {
  std::vector<std::vector<std::string>> rows;
  std::vector<uint64_t> lines;
  std::vector<bool> terminated;
  Status OnRow(const csv::Row& row) override {
    auto& r = rows.emplace_back();
    for (size_t i = 0; i < row.size(); ++i) r.emplace_back(row[i]);
    lines.push_back(row.line());
    terminated.push_back(row.terminated());
    return OkStatus();
  }
};

// Feeds `text` in chunks of `chunk` bytes (0 = one chunk).
Status Parse(std::string_view text, Collect* sink, size_t chunk = 0) {
  csv::Reader r("in.csv", sink);
  if (chunk == 0) chunk = text.size() + 1;
  for (size_t pos = 0; pos < text.size(); pos += chunk) RETURN_IF_ERROR(r.Feed(text.substr(pos, chunk)));
  return r.Finish();
}

std::string ParseError(std::string_view text) {
  Collect sink;
  Status s = Parse(text, &sink);
  REQUIRE(!s.ok());
  return s.message();
}

}  // namespace

TEST_CASE("CSV rows are the same at every chunk boundary", "[csv]") {
  const std::string text =
      "a,b,c\r\n"
      "1,,\"x\"\n"
      "\n"  // blank lines are skipped
      "\"with, comma\",\"with \"\"quotes\"\"\",\"two\nlines\"\n"
      "\"\",plain,\"\"\"\"\r\n"
      "last,row,no newline";
  Collect whole;
  REQUIRE(Parse(text, &whole).ok());
  const std::vector<std::vector<std::string>> expected = {{"a", "b", "c"},
                                                          {"1", "", "x"},
                                                          {"with, comma", "with \"quotes\"", "two\nlines"},
                                                          {"", "plain", "\""},
                                                          {"last", "row", "no newline"}};
  CHECK(whole.rows == expected);
  CHECK(whole.lines == std::vector<uint64_t>{1, 2, 4, 6, 7});
  CHECK(whole.terminated == std::vector<bool>{true, true, true, true, false});
  // Every split point, as 2 chunks, and every chunk size.
  for (size_t split = 1; split < text.size(); ++split) {
    Collect two;
    csv::Reader r("in.csv", &two);
    REQUIRE(r.Feed(std::string_view(text).substr(0, split)).ok());
    REQUIRE(r.Feed(std::string_view(text).substr(split)).ok());
    REQUIRE(r.Finish().ok());
    CHECK(two.rows == expected);
    CHECK(two.lines == whole.lines);
  }
  for (size_t chunk = 1; chunk <= 8; ++chunk) {
    Collect c;
    REQUIRE(Parse(text, &c, chunk).ok());
    CHECK(c.rows == expected);
  }
}

TEST_CASE("CSV errors name line and column", "[csv]") {
  CHECK(ParseError("a,b\n1,\"open\n") == "in.csv:2:3: unterminated quoted field");
  CHECK(ParseError("a,b\n1,x\"y\n") == "in.csv:2:4: quote inside an unquoted field");
  CHECK(ParseError("a,b\n\"q\"x,1\n") == "in.csv:2:4: expected ',' or end of line after a closing quote");
  CHECK(ParseError("a,b\n\"two\nlines\"z\n") == "in.csv:3:7: expected ',' or end of line after a closing quote");
  CHECK(ParseError("a\rb\n") == "in.csv:1:2: carriage return not followed by a line feed");
}

TEST_CASE("CSV rows longer than the limit are an error, not unbounded growth", "[csv]") {
  Collect sink;
  csv::Reader r("big.csv", &sink, 1 << 20);
  std::string junk(3 << 20, 'x');
  Status s = r.Feed(junk);
  if (s.ok()) s = r.Finish();
  REQUIRE(!s.ok());
  CHECK(s.message() == "big.csv:1:1: row longer than 1048576 bytes");
}

TEST_CASE("CSV reading allocates nothing per row", "[csv]") {
  struct Count : csv::RowSink {
    uint64_t fields = 0;
    Status OnRow(const csv::Row& row) override {
      fields += row.size();
      return OkStatus();
    }
  };
  const std::string row = "2026-11-22T10:00:00.123Z,1795300000.123456,1.500000,123456789,\"quoted \"\"x\"\"\",,7\n";
  auto allocations_for = [&](size_t rows) {
    Count sink;
    const uint64_t before = testing::AllocationCount();
    {
      csv::Reader r("in.csv", &sink);
      for (size_t i = 0; i < rows; ++i) REQUIRE(r.Feed(row).ok());
      REQUIRE(r.Finish().ok());
    }
    CHECK(sink.fields == rows * 7);
    return testing::AllocationCount() - before;
  };
  CHECK(allocations_for(1000) == allocations_for(100000));
}

TEST_CASE("CSV number parsing is strict", "[csv]") {
  int64_t i = 0;
  double d = 0;
  CHECK((csv::ParseInt64("123456789012", &i) && i == 123456789012));
  CHECK((csv::ParseInt64("-5", &i) && i == -5));
  CHECK((csv::ParseInt64("9223372036854775807", &i) && i == INT64_MAX));
  CHECK_FALSE(csv::ParseInt64("", &i));
  CHECK_FALSE(csv::ParseInt64("12a", &i));
  CHECK_FALSE(csv::ParseInt64("99999999999999999999", &i));
  CHECK((csv::ParseDouble("1795300000.123456", &d) && d == 1795300000.123456));
  CHECK((csv::ParseDouble("0.1", &d) && d == 0.1));
  CHECK((csv::ParseDouble("-2.5", &d) && d == -2.5));
  CHECK((csv::ParseDouble("1e3", &d) && d == 1000.0));
  CHECK((csv::ParseDouble("12345678901234567.5", &d) && d == 12345678901234567.5));
  CHECK_FALSE(csv::ParseDouble("", &d));
  CHECK_FALSE(csv::ParseDouble("-", &d));
  CHECK_FALSE(csv::ParseDouble("1.2.3", &d));
  CHECK_FALSE(csv::ParseDouble("1,5", &d));
}
