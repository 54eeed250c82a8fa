// The text presenters' tables size their columns from the data: a review
// found `diff`'s "+185572.22%" running into the change column and several-
// input `stats` rows shifting after a long `when` cell.
#include "present/text_table.h"

#include <catch2/catch.hpp>

namespace memtk::present {
namespace {

using Align = TextTable::Align;

TEST_CASE("TextTable widens a column to its widest cell, header included") {
  TextTable t("  ", {{.header = "metric", .align = Align::kLeft},
                     {.header = "change", .min_width = 8},
                     {.header = "%", .min_width = 9}});
  t.AddRow({"peak", "+1 GiB", "+777.64%"});
  t.AddRow({"allocs", "+66806", "+185572.22%"});
  CHECK(t.Render() ==
        "  metric   change           %\n"
        "  peak     +1 GiB    +777.64%\n"
        "  allocs   +66806 +185572.22%\n");
}

TEST_CASE("TextTable leaves a left-aligned last column unpadded, after its gap") {
  TextTable t("", {{.header = "when", .align = Align::kLeft},
                   {.header = "ooms"},
                   {.header = "top site", .align = Align::kLeft, .gap = 2}});
  t.AddRow({"event d0:11205 (id 11205, +1.622 s)", "0", "client.py:176:reset_model"});
  t.AddRow({"-", "12", "x"});
  CHECK(t.Render() ==
        "when                                ooms  top site\n"
        "event d0:11205 (id 11205, +1.622 s)    0  client.py:176:reset_model\n"
        "-                                     12  x\n");
}

TEST_CASE("TextTable: a short row ends in a note that widens nothing") {
  TextTable t("    ", {{.header = "", .align = Align::kLeft, .min_width = 7},
                       {.header = "change", .min_width = 6},
                       {.header = "site", .align = Align::kLeft, .gap = 2}});
  t.AddRow({"new", "+3 GiB", "a.py:1:f"});
  t.AddRow({"new", "... 164 more"});
  CHECK(t.Render() ==
        "            change  site\n"
        "    new     +3 GiB  a.py:1:f\n"
        "    new     ... 164 more\n");
}

TEST_CASE("TextTable counts code points and escapes what the input brought") {
  TextTable t("", {{.header = "site", .align = Align::kLeft}, {.header = "n"}});
  t.AddRow({"a\u2192b", "1"});
  t.AddRow({"x\x1b[2J", "2"});
  CHECK(t.Render() ==
        "site     n\n"
        "a\u2192b      1\n"
        "x\\x1b[2J 2\n");
}

}  // namespace
}  // namespace memtk::present
