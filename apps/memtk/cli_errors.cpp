#include "cli_errors.h"

#include <fmt/core.h>
#include <sqlite3.h>
#include <zip.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <regex>

#include "memtk/base/escape.h"
#include "memtk/version.h"

namespace memtk::cli {

namespace {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

std::string Quote(std::string_view s) { return "'" + EscapeControl(s) + "'"; }

std::vector<std::string> OptionNames(const CLI::App& sub) {
  std::vector<std::string> names;
  for (const CLI::Option* o : sub.get_options()) {
    for (const std::string& l : o->get_lnames()) names.push_back("--" + l);
    for (const std::string& s : o->get_snames()) names.push_back("-" + s);
  }
  return names;
}

// The first argument after the subcommand's name that names no option of
// it: "--tpo" of `memtk stats x --tpo 5`.
std::string UnknownOption(const CLI::App& sub, int argc, char** argv) {
  bool in_sub = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (!in_sub) {
      in_sub = a == sub.get_name();
      continue;
    }
    if (a == "--") break;
    if (a.size() < 2 || a[0] != '-' || (a[1] >= '0' && a[1] <= '9') || a[1] == '.') continue;
    std::string name(a.substr(0, a.find('=')));
    if (name.size() > 2 && name[1] != '-') name = name.substr(0, 2);  // -j4
    if (name == "-h" || name == "--help") continue;
    if (sub.get_option_no_throw(name) == nullptr) return name;
  }
  return "";
}

// CLI11's message about a value, in plain words: what the flag expects.
std::string PlainValueMessage(const std::string& what) {
  std::smatch m;
  static const std::regex kRange(R"(^(-[-\w]+): Value (.*) not in range (\S+) to (\S+)$)");
  static const std::regex kConvert(R"(^Could not convert: (-[-\w]+) = (.*)$)");
  static const std::regex kMember(R"(^(-[-\w]+): (.*) not in \{(.*)\}$)");
  auto is_number = [](const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == '-'; });
  };
  static const std::regex kMissing(R"(^(-[-\w]+): \d+ required (\S+).* missing$)");
  if (std::regex_match(what, m, kMissing)) {
    const std::string flag = m[1], type = m[2];
    const bool number = type.find("INT") != std::string::npos || type.find("FLOAT") != std::string::npos;
    return fmt::format("{} needs {} after it", flag, number ? "a number" : "a value");
  }
  if (std::regex_match(what, m, kRange)) {
    const std::string flag = m[1], value = m[2], lo = m[3], hi = m[4];
    if (flag == "--device")
      return fmt::format("--device {}: not a device number (0, 1, 2, ...)", Quote(value));
    if (!is_number(value)) return fmt::format("{} needs a number ({} to {}), not {}", flag, lo, hi, Quote(value));
    return fmt::format("{} {}: out of range (from {} to {})", flag, value, lo, hi);
  }
  if (std::regex_match(what, m, kConvert)) {
    const std::string flag = m[1], value = m[2];
    if (flag == "--device")
      return fmt::format("--device {}: not a device number (0, 1, 2, ...)", Quote(value));
    return fmt::format("{} needs a number, not {}", flag, Quote(value));
  }
  if (std::regex_match(what, m, kMember)) {
    const std::string flag = m[1], value = m[2];
    std::vector<std::string> choices;
    std::string list = m[3];
    for (size_t start = 0; start <= list.size();) {
      size_t comma = std::min(list.find(',', start), list.size());
      choices.push_back(list.substr(start, comma - start));
      start = comma + 1;
    }
    std::string joined;
    for (size_t i = 0; i < choices.size(); ++i) joined += (i ? ", " : "") + choices[i];
    std::string msg = fmt::format("{} {}: expected one of {}", flag, Quote(value), joined);
    if (std::string near = ClosestMatch(value, choices); !near.empty()) msg += fmt::format("; did you mean {}?", near);
    return msg;
  }
  return what;
}

}  // namespace

std::string ClosestMatch(std::string_view typo, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = SIZE_MAX;
  std::vector<std::string> prefixed;
  for (const std::string& c : candidates) {
    if (c.size() > typo.size() && c.starts_with(typo)) prefixed.push_back(c);
    const size_t d = EditDistance(typo, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  // Letters that count: "--" or "-" is not part of the word.
  size_t letters = typo.size() - std::min(typo.find_first_not_of('-'), typo.size());
  if (best_d <= 2 && best_d * 2 < letters) return best;
  if (prefixed.size() == 1 && letters >= 2) return prefixed.front();
  return "";
}

int ReportParseError(CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  std::vector<CLI::App*> parsed = app.get_subcommands();
  CLI::App* sub = parsed.empty() ? nullptr : parsed.front();
  std::string msg = e.what();
  if (sub == nullptr) {
    // No subcommand recognised: the first word that is not an option is
    // the one the user meant as a subcommand.
    std::vector<std::string> names;
    for (const CLI::App* s : app.get_subcommands({})) names.push_back(s->get_name());
    std::string word;
    for (int i = 1; i < argc && word.empty(); ++i)
      if (argv[i][0] != '-') word = argv[i];
    if (!word.empty()) {
      msg = fmt::format("unknown subcommand {}", Quote(word));
      if (std::string near = ClosestMatch(word, names); !near.empty()) msg += fmt::format("; did you mean {}?", near);
    } else if (msg == "A subcommand is required") {
      msg = "a subcommand is required: " + [&] {
        std::string list;
        for (size_t i = 0; i < names.size(); ++i) list += (i ? ", " : "") + names[i];
        return list;
      }();
    }
    fmt::print(stderr, "memtk: {}\nRun 'memtk --help' for usage.\n", EscapeControl(msg));
    return 2;
  }
  if (msg.find("not expected") != std::string::npos) {
    if (std::string unknown = UnknownOption(*sub, argc, argv); !unknown.empty()) {
      msg = fmt::format("unknown option {}", EscapeControl(unknown));
      if (std::string near = ClosestMatch(unknown, OptionNames(*sub)); !near.empty())
        msg += fmt::format("; did you mean {}?", near);
    }
  } else {
    msg = PlainValueMessage(msg);
  }
  fmt::print(stderr, "memtk {}: {}\nRun 'memtk {} --help' for usage.\n", sub->get_name(), EscapeControl(msg),
             sub->get_name());
  return 2;
}

std::string VersionText() {
  const char* build = kMemtkBuildType[0] ? kMemtkBuildType : "unspecified";
  return fmt::format("memtk {} ({} build)\nSQLite {}, zlib {}, libzip {}", kMemtkVersion, build, sqlite3_libversion(),
                     zlibVersion(), zip_libzip_version());
}

}  // namespace memtk::cli
