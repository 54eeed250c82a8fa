// Status::WithContext: how errors gain the file's name on their way up.
#include "memtk/base/status.h"

#include <catch2/catch.hpp>

using namespace memtk;

TEST_CASE("WithContext prefixes the message and keeps the code", "[status]") {
  Status s = UsageError("--top needs a number");
  Status c = s.WithContext("a.db");
  CHECK(c.code() == StatusCode::kUsage);
  CHECK(c.message() == "a.db: --top needs a number");
  CHECK(s.message() == "--top needs a number");  // the lvalue overload copies

  Status moved = InvalidInput("no events").WithContext("x.pickle").WithContext("memtk");
  CHECK(moved.code() == StatusCode::kInvalidInput);
  CHECK(moved.message() == "memtk: x.pickle: no events");
}

TEST_CASE("WithContext leaves an ok status ok", "[status]") {
  CHECK(OkStatus().WithContext("a.db").ok());
  Status ok;
  CHECK(ok.WithContext("a.db").message().empty());
}
