// commands::RunMemlog: the flag rules of `memtk memlog`, without the CLI.
#include "memtk/commands/memlog.h"

#include <fmt/format.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace memtk;

namespace {

std::string UsageOf(const commands::MemlogOptions& o) {
  auto r = commands::RunMemlog(o, [](std::string_view) {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kUsage);
  return r.status().message();
}

}  // namespace

TEST_CASE("memlog flag combinations that cannot work are usage errors", "[memlog][commands]") {
  commands::MemlogOptions o;
  o.mark = "epoch";
  CHECK(UsageOf(o) == "--mark needs --into CSV (the recording to mark)");
  o.into = "run.csv";
  o.output = "other.csv";
  CHECK(UsageOf(o) == "--mark only appends a marker; it takes no -o, --pid, --machine, --plot or command");

  commands::MemlogOptions r;
  CHECK(UsageOf(r) == "-o OUT.csv is required");
  r.output = "x.csv";
  r.pid = 1;
  r.command = {"true"};
  CHECK(UsageOf(r) == "give either --pid or a command, not both");
  r.pid = 0;
  r.interval = "0.5ms";
  CHECK(UsageOf(r) == "--interval 0.5ms: expected a duration of at least 1ms (10ms, 0.5s, 2m)");
  r.interval = "10ms";
  r.duration = "10s";
  CHECK(UsageOf(r) == "--duration is for --pid and the machine; a command is watched until it exits");
}

// Issue #17: no target used to mean the whole machine, silently, until Ctrl-C.
TEST_CASE("memlog needs a command, --pid or --machine; -o - is refused", "[memlog][commands]") {
  commands::MemlogOptions r;
  r.output = "x.csv";
  CHECK(UsageOf(r) ==
        "nothing to record: give a command (memtk memlog -o OUT.csv -- CMD ...), --pid PID, or --machine for the "
        "whole machine");
  r.machine = true;
  r.pid = 7;
  CHECK(UsageOf(r) == "--machine records the whole machine; it takes no --pid or command");
  r.pid = 0;
  r.output = "-";
  CHECK(UsageOf(r).starts_with("-o - (stdout) is not supported: "));
  r.output = "x.csv";
  r.plot = "x.csv";
  CHECK(UsageOf(r) == "--plot and -o name the same file");
}

// `memlog -o m.csv --log m.csv` recorded samples and log lines into one file,
// a CSV nothing could read back. The three files are compared as files.
TEST_CASE("memlog's CSV, log CSV and --plot PNG must be three files", "[memlog][commands]") {
  commands::MemlogOptions r;
  r.command = {"true"};
  r.output = "m2.csv";
  r.log = "m2.csv";
  CHECK(UsageOf(r) == "--log and -o name the same file");
  r.log = "./m2.csv";
  CHECK(UsageOf(r) == "--log and -o name the same file");
  r.log = "m3.csv";
  r.plot = "sub/../m3.csv";
  CHECK(UsageOf(r) == "--log and --plot name the same file");
  r.log.clear();
  r.plot = "m2.log.csv";
  CHECK(UsageOf(r) == "the log CSV m2.log.csv and --plot name the same file");
  r.plot = "./m2.csv";
  CHECK(UsageOf(r) == "--plot and -o name the same file");

  commands::MemlogOptions m;
  m.mark = "epoch";
  m.into = "run.csv";
  m.log = "./run.csv";
  CHECK(UsageOf(m) == "--log and --into name the same file");
}

// Issue #15: a successful mark used to reach the error printer as an ok
// Status; it must come back as a result with exit status 0.
TEST_CASE("a mark into a recording succeeds with exit status 0", "[memlog][commands]") {
  const std::string dir = fmt::format("/tmp/memtk-unit-{}-mark", ::getpid());
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(std::string(MEMTK_DATA_DIR) + "/memlog/train.csv", dir + "/train.csv",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(std::string(MEMTK_DATA_DIR) + "/memlog/train.log.csv", dir + "/train.log.csv",
                             std::filesystem::copy_options::overwrite_existing);
  commands::MemlogOptions o;
  o.mark = "epoch 2";
  o.into = dir + "/train.csv";
  auto r = commands::RunMemlog(o, [](std::string_view) {});
  REQUIRE(r.ok());
  CHECK(r->record.exit_status == 0);
  std::ifstream log(dir + "/train.log.csv");
  std::stringstream text;
  text << log.rdbuf();
  CHECK(text.str().find("mark,\"epoch 2\"") != std::string::npos);
  std::filesystem::remove_all(dir);
}
