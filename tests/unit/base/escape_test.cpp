// Strings from input files reach the terminal only escaped (issue #16: an
// ESC/CR-laden pickle global name forged a "memtk convert: ... ->" line).
#include "memtk/base/escape.h"

#include <catch2/catch.hpp>

using memtk::EscapeControl;

TEST_CASE("control characters are escaped, text is not", "[escape]") {
  CHECK(EscapeControl("plain: file.pickle at byte 12") == "plain: file.pickle at byte 12");
  CHECK(EscapeControl("a\x1b[2Jb\r") == "a\\x1b[2Jb\\r");
  CHECK(EscapeControl("x\ny\tz") == "x\\ny\\tz");
  CHECK(EscapeControl(std::string_view("nul\0!", 5)) == "nul\\x00!");
  CHECK(EscapeControl("del\x7f") == "del\\x7f");
  CHECK(EscapeControl("back\\slash") == "back\\slash");
}

TEST_CASE("UTF-8 passes; C1, bidi overrides and invalid bytes do not", "[escape]") {
  CHECK(EscapeControl("caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80") == "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80");
  CHECK(EscapeControl("csi\xc2\x9b"
                      "2J") == "csi\\u009b2J");
  CHECK(EscapeControl("rlo\xe2\x80\xae") == "rlo\\u202e");
  CHECK(EscapeControl("raw\x9b"
                      "2J") == "raw\\x9b2J");
  CHECK(EscapeControl("cut\xe2\x86") == "cut\\xe2\\x86");
  CHECK(EscapeControl("overlong\xc0\xaf") == "overlong\\xc0\\xaf");
  CHECK(EscapeControl("surrogate\xed\xa0\x80") == "surrogate\\xed\\xa0\\x80");
}

TEST_CASE("EscapeControlLines keeps the line ends and escapes the rest", "[escape]") {
  CHECK(memtk::EscapeControlLines("plain\ntext\n") == "plain\ntext\n");
  CHECK(memtk::EscapeControlLines("a\x1b[2J\nb\r\n\n") == "a\\x1b[2J\nb\\r\n\n");
  CHECK(memtk::EscapeControlLines("no end\x07") == "no end\\x07");
  CHECK(memtk::EscapeControlLines("") == "");
}

TEST_CASE("EscapeJsonText writes C1 controls and bidi overrides as JSON escapes", "[escape]") {
  CHECK(memtk::EscapeJsonText("{\"s\":\"plain \\u001b é\"}") == "{\"s\":\"plain \\u001b é\"}");
  CHECK(memtk::EscapeJsonText("{\"s\":\"a\xc2\x9b[2J\"}") == "{\"s\":\"a\\u009b[2J\"}");
  CHECK(memtk::EscapeJsonText("[\"\xe2\x80\xae\"]") == "[\"\\u202e\"]");
  CHECK(memtk::EscapeJsonText("[\"\xff\"]") == "[\"\xff\"]");  // not UTF-8: left as written
}
