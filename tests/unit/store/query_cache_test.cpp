// The query cache is bounded and least-recently-used (issue #16: it grew
// without limit, and --no-cache left a database next to the snapshot).
#include "store/query_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "memtk/version.h"
#include "test_util.h"

using namespace memtk;
using namespace memtk::store;
namespace fs = std::filesystem;

namespace {

using memtk::test::TempDir;

void Write(const std::string& path, size_t bytes, time_t mtime) {
  std::ofstream(path, std::ios::binary) << std::string(bytes, 'x');
  timespec ts[2] = {{mtime, 0}, {mtime, 0}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), ts, 0) == 0);
}

std::string Name(int i) { return CachedName("snap" + std::to_string(i), 0x1234abcd0000ULL + i, "0.1.0"); }

}  // namespace

TEST_CASE("cached names are recognised, nothing else is", "[query_cache]") {
  CHECK(CachedName("run", 0xabc, "0.1.0") == "run-0000000000000abc-memtk0.1.0.db");
  CHECK(IsCachedName("run-0000000000000abc-memtk0.1.0.db"));
  CHECK(IsCachedName("a-b-00000000deadbeef-memtk9.db"));
  CHECK_FALSE(IsCachedName("run.db"));
  CHECK_FALSE(IsCachedName("notes.txt"));
  CHECK_FALSE(IsCachedName("run-0000000000000ABC-memtk0.1.0.db"));
  CHECK_FALSE(IsCachedName("run-000000000000abc-memtk0.1.0.db"));
  CHECK_FALSE(IsCachedName("-0000000000000abc-memtk0.1.0.db"));
  CHECK_FALSE(IsCachedName("run-0000000000000abc-memtk.db"));
}

TEST_CASE("eviction removes least recently used first, down to the bound", "[query_cache]") {
  TempDir d;
  // snap1 oldest ... snap4 newest, 1000 bytes each; an unrelated file.
  for (int i = 1; i <= 4; ++i) Write(d.path + "/" + Name(i), 1000, 1'000'000 + i);
  Write(d.path + "/mine.db", 5000, 1);
  auto r = EvictLeastRecentlyUsed(d.path, 2500, "");
  REQUIRE(r.ok());
  CHECK(r->removed_files == 2);
  CHECK(r->removed_bytes == 2000);
  CHECK(r->kept_bytes == 2000);
  CHECK_FALSE(fs::exists(d.path + "/" + Name(1)));
  CHECK_FALSE(fs::exists(d.path + "/" + Name(2)));
  CHECK(fs::exists(d.path + "/" + Name(3)));
  CHECK(fs::exists(d.path + "/" + Name(4)));
  CHECK(fs::exists(d.path + "/mine.db"));
}

TEST_CASE("the database in use is kept even over the bound", "[query_cache]") {
  TempDir d;
  Write(d.path + "/" + Name(1), 1000, 10);
  Write(d.path + "/" + Name(2), 3000, 5);
  auto r = EvictLeastRecentlyUsed(d.path, 100, Name(2));
  REQUIRE(r.ok());
  CHECK(fs::exists(d.path + "/" + Name(2)));
  CHECK_FALSE(fs::exists(d.path + "/" + Name(1)));
  CHECK(r->kept_bytes == 3000);
}

TEST_CASE("stale temp files of killed conversions go, fresh ones stay", "[query_cache]") {
  TempDir d;
  const std::string stale = d.path + "/." + Name(1) + ".tmp-AbCdEf";
  const std::string fresh = d.path + "/." + Name(2) + ".tmp-GhIjKl";
  Write(stale, 700, ::time(nullptr) - 3 * 24 * 3600);
  Write(fresh, 700, ::time(nullptr));
  auto r = EvictLeastRecentlyUsed(d.path, uint64_t{1} << 40, "");
  REQUIRE(r.ok());
  CHECK_FALSE(fs::exists(stale));
  CHECK(fs::exists(fresh));
  CHECK(r->removed_bytes == 700);
}

TEST_CASE("a missing cache directory is empty", "[query_cache]") {
  auto r = EvictLeastRecentlyUsed("/nonexistent/memtk-cache", 0, "");
  REQUIRE(r.ok());
  CHECK(r->kept_bytes == 0);
}

TEST_CASE("Open: a miss converts, a hit refreshes the LRU clock, the bound holds", "[query_cache]") {
  TempDir d;
  const std::string input = d.path + "/in.pickle";
  Write(input, 64, 100);
  int conversions = 0;
  ConvertFn convert = [&](const std::string&, const std::string& db) {
    ++conversions;
    Write(db, 2000, ::time(nullptr));
    return OkStatus();
  };
  const std::string cache = d.path + "/cache/sub";
  // An old database of another snapshot, over the bound together with ours.
  fs::create_directories(cache);
  Write(cache + "/" + Name(9), 2000, 1000);
  std::string first;
  {
    auto q = QueryDatabase::Open(input, "in", cache, 3000, convert);
    REQUIRE(q.ok());
    first = q->path();
    CHECK(conversions == 1);
    CHECK(fs::exists(first));
    CHECK_FALSE(fs::exists(cache + "/" + Name(9)));  // evicted: least recently used
  }
  CHECK(fs::exists(first));  // a cached database outlives the query
  timespec old[2] = {{50, 0}, {50, 0}};
  REQUIRE(::utimensat(AT_FDCWD, first.c_str(), old, 0) == 0);
  auto q = QueryDatabase::Open(input, "in", cache, 3000, convert);
  REQUIRE(q.ok());
  CHECK(q->path() == first);
  CHECK(conversions == 1);
  struct stat st {};
  REQUIRE(::stat(first.c_str(), &st) == 0);
  CHECK(st.st_mtime > 50);
}

TEST_CASE("Open without a cache leaves nothing behind", "[query_cache]") {
  TempDir d;
  const std::string input = d.path + "/in.pickle";
  Write(input, 64, 100);
  ::setenv("TMPDIR", d.path.c_str(), 1);
  std::string path;
  {
    auto q = QueryDatabase::Open(input, "in", "", 0, [](const std::string&, const std::string& db) {
      Write(db, 100, ::time(nullptr));
      return OkStatus();
    });
    ::unsetenv("TMPDIR");
    REQUIRE(q.ok());
    path = q->path();
    CHECK(fs::exists(path));
    CHECK(path.rfind(d.path + "/memtk-query-", 0) == 0);
  }
  CHECK_FALSE(fs::exists(path));
  // Only the input is left in the folder.
  CHECK(std::distance(fs::directory_iterator(d.path), fs::directory_iterator()) == 1);
}

TEST_CASE("a failed conversion without a cache leaves nothing either", "[query_cache]") {
  TempDir d;
  const std::string input = d.path + "/in.pickle";
  Write(input, 64, 100);
  ::setenv("TMPDIR", d.path.c_str(), 1);
  auto q = QueryDatabase::Open(input, "in", "", 0,
                               [](const std::string&, const std::string&) { return IoError("disk full"); });
  ::unsetenv("TMPDIR");
  CHECK_FALSE(q.ok());
  CHECK(std::distance(fs::directory_iterator(d.path), fs::directory_iterator()) == 1);
}
