// The -o rule's safety checks (memtk/io/output_file.h): an output never
// replaces a file the run reads, two inputs never share one output, and
// -o DIR/ makes its missing parents (and takes back what it made when
// nothing is written).
#include "memtk/io/output_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "io/atomic_output.h"
#include "memtk/io/cleanup.h"
#include "test_util.h"

using namespace memtk;
namespace fs = std::filesystem;

namespace {

using memtk::test::TempDir;

void Touch(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f != nullptr);
  std::fputs("input", f);
  std::fclose(f);
}

// Everything under `dir`, relative, for "nothing was left" checks.
std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.push_back(fs::relative(e.path(), dir).string());
  return out;
}

}  // namespace

TEST_CASE("SameFile compares files by device and inode, names when neither exists", "[output_file]") {
  TempDir d;
  const std::string a = d.path + "/a.pickle", b = d.path + "/b.pickle";
  Touch(a);
  Touch(b);
  CHECK(io::SameFile(a, a));
  CHECK_FALSE(io::SameFile(a, b));
  REQUIRE(::link(a.c_str(), (d.path + "/hard.pickle").c_str()) == 0);
  REQUIRE(::symlink("a.pickle", (d.path + "/soft.pickle").c_str()) == 0);
  CHECK(io::SameFile(d.path + "/hard.pickle", a));
  CHECK(io::SameFile(a, d.path + "/soft.pickle"));
  CHECK(io::SameFile(d.path + "/./a.pickle", a));
  // Not made yet (memlog's outputs before a recording): by name.
  CHECK(io::SameFile(d.path + "/new.csv", d.path + "/sub/../new.csv"));
  CHECK_FALSE(io::SameFile(d.path + "/new.csv", d.path + "/new.log.csv"));
  CHECK_FALSE(io::SameFile(d.path + "/new.csv", a));
}

// Issue: `stats X -o X`, `render-png X -o X`, `diff A B -o A`, `query X.db
// -o X.db` replaced their input with the report; only convert refused.
TEST_CASE("an output that is one of the files read is a usage error", "[output_file]") {
  TempDir d;
  const std::string in = d.path + "/run.pickle", log = d.path + "/run.log.csv";
  Touch(in);
  Touch(log);
  REQUIRE(::symlink("run.pickle", (d.path + "/link.pickle").c_str()) == 0);
  for (const std::string& out :
       {in, d.path + "/link.pickle", d.path + "/../" + fs::path(d.path).filename().string() + "/run.pickle"}) {
    Status s = io::CheckNotAnInput(out, {in});
    CHECK(s.code() == StatusCode::kUsage);
    CHECK(s.message() == out + ": the output would overwrite the input");
  }
  CHECK(io::CheckNotAnInput(log, {in, log}).message() == log + ": the output would overwrite the input");
  CHECK(io::CheckNotAnInput(d.path + "/run.stats.txt", {in, log}).ok());
  CHECK(io::CheckNotAnInput("-", {in}).ok());
  CHECK(io::CheckNotAnInput("", {in}).ok());
  // A DIR/ output whose file is the input itself: query run.json -o DIR/.
  CHECK(io::CheckNotAnInput(io::OutputPathFor(in, d.path + "/", ".pickle"), {in}).code() == StatusCode::kUsage);
}

TEST_CASE("PlanOutputs refuses two inputs written to one file", "[output_file]") {
  TempDir d;
  fs::create_directories(d.path + "/dA");
  fs::create_directories(d.path + "/dB");
  const std::vector<std::string> same_name = {d.path + "/dA/cs.pickle", d.path + "/dB/cs.pickle"};
  for (const std::string& in : same_name) Touch(in);
  auto plan = io::PlanOutputs(d.path + "/out/", same_name, ".png", same_name);
  REQUIRE_FALSE(plan.ok());
  CHECK(plan.status().code() == StatusCode::kUsage);
  CHECK(plan.status().message() == "two inputs would both be written to " + d.path + "/out/cs.png");
  // Beside their inputs: a.pickle and ./a.json both make a.png.
  const std::vector<std::string> stems = {d.path + "/a.pickle", d.path + "/./a.json"};
  CHECK(io::PlanOutputs("", stems, ".png", stems).status().message() ==
        "two inputs would both be written to " + d.path + "/./a.png");
  auto fine = io::PlanOutputs(d.path + "/out/", {d.path + "/dA/cs.pickle", d.path + "/dB/other.pickle"}, ".png", {});
  REQUIRE(fine.ok());
  CHECK(*fine == std::vector<std::string>{d.path + "/out/cs.png", d.path + "/out/other.png"});
  CHECK_FALSE(fs::exists(d.path + "/out"));  // planning makes nothing
}

TEST_CASE("OutputFile::Open refuses one of `reads` before making anything", "[output_file]") {
  TempDir d;
  const std::string in = d.path + "/run.json";
  Touch(in);
  auto out = io::OutputFile::Open(d.path + "/", in, ".json", {in});
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().message() == d.path + "/run.json: the output would overwrite the input");
  CHECK(Entries(d.path) == std::vector<std::string>{"run.json"});
}

// Issue: `-o mem/base/` failed when mem/ did not exist (convert: exit 2
// with no reason; the others: exit 1, "No such file or directory").
TEST_CASE("-o DIR/ makes missing parents and takes back only what it made", "[output_file]") {
  TempDir d;
  const size_t before = io::RegisteredCount();
  {
    auto out = io::OutputFile::Open(d.path + "/a/b/c/", "run.pickle", ".stats.txt");
    REQUIRE(out.ok());
    CHECK(out->path() == d.path + "/a/b/c/run.stats.txt");
    CHECK(fs::is_directory(d.path + "/a/b/c"));
    REQUIRE(out->Write("text").ok());
    // Not committed: the temp file and all three levels go again.
  }
  CHECK(Entries(d.path).empty());
  CHECK(io::RegisteredCount() == before);
  fs::create_directories(d.path + "/a");
  {
    auto out = io::OutputFile::Open(d.path + "/a/b//c/", "run.pickle", ".stats.txt");
    REQUIRE(out.ok());
  }
  CHECK(Entries(d.path) == std::vector<std::string>{"a"});  // a existed: it stays
  {
    auto out = io::OutputFile::Open(d.path + "/a/b/c/", "run.pickle", ".stats.txt");
    REQUIRE(out.ok());
    REQUIRE(out->Write("text").ok());
    REQUIRE(out->Commit().ok());
  }
  CHECK(fs::exists(d.path + "/a/b/c/run.stats.txt"));
  CHECK(io::RegisteredCount() == before);
}

TEST_CASE("a directory that cannot be made is an I/O error with the reason", "[output_file]") {
  TempDir d;
  const std::string file = d.path + "/afile";
  Touch(file);
  const size_t before = io::RegisteredCount();
  auto in_the_way = io::OutputDirectory::Create(file + "/");
  REQUIRE_FALSE(in_the_way.ok());
  CHECK(in_the_way.status().code() == StatusCode::kIoError);
  CHECK(in_the_way.status().message() == file + ": cannot create directory: File exists");
  auto below = io::OutputFile::Open(file + "/x/", "run.pickle", ".png");
  REQUIRE_FALSE(below.ok());
  CHECK(below.status().code() == StatusCode::kIoError);
  CHECK(below.status().message() == file + "/x: cannot create directory: Not a directory");
  // Made levels are taken back when a deeper one fails.
  fs::create_directories(d.path + "/ro");
  ::chmod((d.path + "/ro").c_str(), 0555);
  if (::access((d.path + "/ro").c_str(), W_OK) != 0) {  // not as root
    auto denied = io::OutputDirectory::Create(d.path + "/ro/x/y");
    REQUIRE_FALSE(denied.ok());
    CHECK(denied.status().message() == d.path + "/ro/x/y: cannot create directory: Permission denied");
  }
  ::chmod((d.path + "/ro").c_str(), 0755);
  CHECK(io::RegisteredCount() == before);
}

TEST_CASE("CreateRegisteredDirs registers each level it makes, outermost first", "[cleanup]") {
  TempDir d;
  const size_t before = io::RegisteredCount();
  std::vector<io::CleanupId> ids;
  REQUIRE(io::CreateRegisteredDirs(d.path + "/p/q/r/", &ids).ok());
  CHECK(ids.size() == 3);
  CHECK(io::RegisteredCount() == before + 3);
  // Outermost first, so removing newest first empties r, then q, then p.
  for (size_t i = ids.size(); i-- > 0;) io::RemoveAndUnregister(ids[i]);
  CHECK(Entries(d.path).empty());
  REQUIRE(io::CreateRegisteredDirs(d.path, &ids).ok());  // exists: nothing made, nothing registered
  CHECK(ids.empty());
  CHECK(io::RegisteredCount() == before);
}
