// Terminal-safe text: what memtk prints that came from an input file.
//
// Strings inside a snapshot (pickle GLOBAL names, frame filenames, keys)
// and file names on the command line are attacker-controlled. Printed raw,
// an ESC or CR can rewrite the terminal or forge a line such as
// "memtk convert: x -> y: ok". Every message and human-readable report line
// goes through EscapeControl before it is printed; JSON and CSV outputs
// escape by their own rules instead.
#pragma once

#include <string>
#include <string_view>

namespace memtk {

/// Returns `text` with every character a terminal may interpret escaped:
/// C0 controls and DEL as \n, \r, \t or \xNN; C1 controls (U+0080-U+009F)
/// and the bidirectional overrides (U+202A-U+202E, U+2066-U+2069) as \uNNNN;
/// bytes that are not valid UTF-8 as \xNN. Printable ASCII and valid UTF-8
/// pass unchanged, so ordinary messages are byte-identical. A backslash is
/// not doubled: the aim is a safe terminal, not a reversible encoding.
///
/// Example: EscapeControl("a\x1b[2Jb\r") == "a\\x1b[2Jb\\r"
std::string EscapeControl(std::string_view text);

/// True if EscapeControl(text) would change `text` (fast path for callers).
bool NeedsEscape(std::string_view text);

/// JSON text (from a writer that escapes C0 controls already) with the
/// other code points a terminal interprets written as JSON escapes: C1
/// controls and bidirectional overrides as \uNNNN, which stays valid JSON
/// (only strings hold non-ASCII). Bytes that are not UTF-8 pass unchanged.
///
/// Example: EscapeJsonText("{\"s\":\"a\u009b[2J\"}") holds "a\\u009b[2J"
std::string EscapeJsonText(std::string_view json);

/// EscapeControl of each line of a whole text output, its line ends kept:
/// for presenters whose every piece may carry input text (file, site and
/// column names), escaped once at the boundary instead of per field.
///
/// Example: EscapeControlLines("a\x1b\nb\n") == "a\\x1b\nb\n"
std::string EscapeControlLines(std::string_view text);

}  // namespace memtk
