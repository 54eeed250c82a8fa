// AtomicOutput's two targets that a rename must not replace: a symbolic
// link (its file is written, the link stays) and a device, FIFO or socket
// (written in place: a rename over /dev/null made it a regular file for
// the whole machine, found by the hostile-input sweep).
#include "io/atomic_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include "test_util.h"

using namespace memtk;

namespace {

using memtk::test::TempDir;

std::string Slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

size_t Entries(const std::string& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST_CASE("a symbolic link as the output: its file is written and the link stays", "[io]") {
  TempDir d;
  const std::string file = d.path + "/real.txt", link = d.path + "/link.txt";
  std::ofstream(file) << "old";
  REQUIRE(::symlink(file.c_str(), link.c_str()) == 0);
  REQUIRE(io::WriteFileAtomically(link, "new").ok());
  struct stat st {};
  REQUIRE(::lstat(link.c_str(), &st) == 0);
  CHECK(S_ISLNK(st.st_mode));
  CHECK(Slurp(file) == "new");
  CHECK(Entries(d.path) == 2);  // no temp file left beside either
}

TEST_CASE("a FIFO as the output is written in place, never renamed over", "[io]") {
  TempDir d;
  const std::string fifo = d.path + "/pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // A reader first, so the writer's open does not wait for one.
  const int r = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  REQUIRE(r >= 0);
  REQUIRE(io::WriteFileAtomically(fifo, "through the pipe").ok());
  char buf[64] = {};
  const ssize_t n = ::read(r, buf, sizeof buf);
  ::close(r);
  CHECK(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0) == "through the pipe");
  struct stat st {};
  REQUIRE(::lstat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  CHECK(Entries(d.path) == 1);
}

TEST_CASE("a device as the output stays a device; an uncommitted one is not removed", "[io]") {
  // A private null device (root only, as CI runs): /dev/null itself is
  // never the test's target, should this regress.
  TempDir d;
  const std::string dev = d.path + "/null";
  if (::mknod(dev.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    WARN("mknod needs root: skipped");
    return;
  }
  REQUIRE(io::WriteFileAtomically(dev, "gone").ok());
  {
    auto out = io::AtomicOutput::Create(dev);
    REQUIRE(out.ok());
    CHECK(out->temp_path() == dev);
  }  // destroyed uncommitted: nothing is removed
  struct stat st {};
  REQUIRE(::lstat(dev.c_str(), &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
}

TEST_CASE("a link into another directory: the temp file sits beside the file, the link stays", "[io]") {
  TempDir d;
  std::filesystem::create_directories(d.path + "/real");
  std::filesystem::create_directories(d.path + "/links");
  const std::string file = d.path + "/real/out.txt", link = d.path + "/links/out.txt";
  std::ofstream(file) << "old";
  REQUIRE(::symlink(file.c_str(), link.c_str()) == 0);
  auto out = io::AtomicOutput::Create(link);
  REQUIRE(out.ok());
  CHECK(out->temp_path().rfind(d.path + "/real/.out.txt.tmp-", 0) == 0);  // same filesystem as the file
  {
    std::ofstream(out->temp_path()) << "new";
  }
  REQUIRE(out->Commit().ok());
  CHECK(Slurp(file) == "new");
  CHECK(std::filesystem::is_symlink(link));
  CHECK(Entries(d.path + "/links") == 1);
  CHECK(Entries(d.path + "/real") == 1);
}

TEST_CASE("/dev/stdout and friends are written through, appended to, never renamed over", "[io]") {
  // `-o /dev/stdout >> log`: /dev/stdout links to the log; a rename would
  // have replaced it, a truncating open emptied it.
  for (const char* p : {"/dev/stdout", "/dev/stderr", "/dev/fd/1", "/proc/self/fd/2"}) {
    CAPTURE(p);
    auto out = io::AtomicOutput::Create(p);
    REQUIRE(out.ok());
    CHECK(out->in_place());
    CHECK(out->temp_path() == p);
    CHECK((out->OpenFlags() & O_APPEND) != 0);
    CHECK((out->OpenFlags() & O_TRUNC) == 0);
  }
  auto regular = io::AtomicOutput::Create("/tmp/memtk-atomic-test-regular.txt");
  REQUIRE(regular.ok());
  CHECK_FALSE(regular->in_place());
  CHECK((regular->OpenFlags() & O_TRUNC) != 0);
}
