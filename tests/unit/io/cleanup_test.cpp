// The registry behind "interrupted runs leave nothing" (issue #16); the
// signals themselves are sent by tests/interrupt_cli.py.
#include "memtk/io/cleanup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "io/atomic_output.h"
#include "test_util.h"

using namespace memtk;
namespace fs = std::filesystem;

namespace {

using memtk::test::TempDir;

}  // namespace

TEST_CASE("an uncommitted output is registered until it is renamed or dropped", "[cleanup]") {
  TempDir d;
  const size_t before = io::RegisteredCount();
  std::string temp;
  {
    auto out = io::AtomicOutput::Create(d.path + "/a.db");
    REQUIRE(out.ok());
    temp = out->temp_path();
    CHECK(fs::exists(temp));
    CHECK(io::RegisteredCount() == before + 1);
  }
  CHECK_FALSE(fs::exists(temp));
  CHECK(io::RegisteredCount() == before);
  auto out = io::AtomicOutput::Create(d.path + "/b.db");
  REQUIRE(out.ok());
  REQUIRE(out->Commit().ok());
  CHECK(fs::exists(d.path + "/b.db"));
  CHECK(io::RegisteredCount() == before);
}

TEST_CASE("a failed rename keeps the temp file registered", "[cleanup]") {
  TempDir d;
  std::string templ = d.path + "/x-XXXXXX";
  io::CleanupId id = 0;
  auto fd = io::CreateRegisteredTemp(&templ, &id);
  REQUIRE(fd.ok());
  ::close(*fd);
  const size_t n = io::RegisteredCount();
  CHECK(io::RenameAndUnregister(templ, d.path + "/no/such/dir/y", id) == ENOENT);
  CHECK(io::RegisteredCount() == n);
  io::RemoveAndUnregister(id);
  CHECK_FALSE(fs::exists(templ));
  CHECK(io::RegisteredCount() == n - 1);
}

TEST_CASE("an output directory made here goes if unused; an existing one never", "[cleanup]") {
  TempDir d;
  {
    auto made = io::OutputDirectory::Create(d.path + "/bundle");
    REQUIRE(made.ok());
    CHECK(fs::is_directory(d.path + "/bundle"));
  }
  CHECK_FALSE(fs::exists(d.path + "/bundle"));
  {
    auto made = io::OutputDirectory::Create(d.path + "/kept");
    REQUIRE(made.ok());
    made->Keep();
  }
  CHECK(fs::is_directory(d.path + "/kept"));
  {
    auto existing = io::OutputDirectory::Create(d.path + "/kept");
    REQUIRE(existing.ok());
  }
  CHECK(fs::is_directory(d.path + "/kept"));
  auto file = io::OutputDirectory::Create(d.path);  // exists: fine
  CHECK(file.ok());
  std::string f = d.path + "/plain";
  fs::create_directory(f);
  fs::remove(f);
  {
    std::FILE* p = std::fopen(f.c_str(), "w");
    std::fclose(p);
  }
  auto clash = io::OutputDirectory::Create(f);
  REQUIRE_FALSE(clash.ok());
  CHECK(clash.status().message() == f + ": cannot create directory: File exists");
}
