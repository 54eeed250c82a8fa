// memlog recording: sample memory over time into a CSV, beside the output
// lines of the command being watched.
//
// Three targets: a command memtk launches (its whole process tree, with memtk
// as child subreaper so double-forked children stay in it), a running PID
// (and its descendants), or the machine. Samples follow an absolute schedule
// (a CLOCK_MONOTONIC timerfd: no drift), and each row is written with one
// write(2) as soon as it is sampled, so a `kill -9` of memtk loses at most the
// row being written. The CSV is therefore written in place, not through a
// temp file: it is a log that others (`--mark`, `tail -f`) read while it grows.
//
// Example:
//   RecordOptions o;
//   o.csv_path = "train.csv";
//   o.command = {"python3", "train.py"};
//   ASSIGN_OR_RETURN(RecordResult r, Record(o, [](std::string_view) {}));
//   return r.exit_status;  // the command's own status
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "memtk/base/status.h"

namespace memtk::memlog {

struct RecordOptions {
  std::string csv_path;
  /// Log CSV of the command's output lines; "" = DefaultLogPath(csv_path).
  std::string log_path;
  /// Launch this command (argv, PATH lookup) and watch its process tree.
  std::vector<std::string> command;
  /// Without a command: watch this PID (and descendants); 0 = the machine.
  pid_t pid = 0;
  /// Include descendants (of the command; of --pid). Off: the process alone.
  bool children = true;
  bool detail = false;
  bool gpu = true;
  int64_t interval_ns = 100'000'000;
  /// Stop after this long (--pid and machine targets only); 0 = no limit.
  int64_t duration_ns = 0;
  /// Where the command's stdout and stderr are passed on, byte for byte.
  int out_fd = 1;
  int err_fd = 2;
  /// Set PYTHONUNBUFFERED=1 for the command unless it is set: a Python
  /// program writing to a pipe would otherwise hold its lines back for
  /// kilobytes and their timestamps would be late.
  bool python_unbuffered = true;
  std::string proc_root = "/proc";
};

struct RecordResult {
  /// The command's exit status, or 128 + signal; 126/127 if it could not be
  /// started (spawn_error says why); 0 for --pid and machine targets.
  int exit_status = 0;
  std::string spawn_error;
  uint64_t samples = 0;
  /// Deadlines missed because memtk was not scheduled in time (no row for them).
  uint64_t late_samples = 0;
  uint64_t log_lines = 0;
  /// The CSV or log became unwritable midway (a full disk): recording
  /// stopped, the command ran on undisturbed. Its exit status is still
  /// exit_status; the CLI exits non-zero (the command's status, else 1).
  Status write_error;
  /// Descendants of the command still running when it exited ("pid 123
  /// (name)"): no longer recorded, left running, and reported.
  std::vector<std::string> outlived;
};

/// Called for one-line notices while recording (no NVML, samples late, ...).
using NoticeFn = std::function<void(std::string_view)>;

/// Records until the target ends (the command exits, the PID exits), the
/// duration passes, or SIGINT/SIGTERM/SIGHUP arrive. With a command, those
/// signals, when sent by another process, are forwarded to it and recording
/// goes on until it exits (a terminal's Ctrl-C reaches it directly).
///
/// The command's output reaches the terminal through memtk's pipes, so the
/// command dies with memtk: if memtk is killed (kill -9 included) the
/// command gets SIGTERM (PR_SET_PDEATHSIG) instead of writing on into pipes
/// nobody reads. Its own children are not signalled; a write of theirs to
/// the closed pipe ends them by SIGPIPE, as in any shell pipeline.
StatusOr<RecordResult> Record(const RecordOptions& options, const NoticeFn& notice);

/// Appends a `mark` row with `text` to the log CSV of a recording, which may
/// be running: one O_APPEND write, so it never interleaves with memlog's own
/// rows. Creates the log CSV if it does not exist yet.
Status AppendMark(const std::string& csv_path, const std::string& log_path, std::string_view text);

/// "run.csv" -> "run.log.csv"; other names get ".log.csv" appended.
std::string DefaultLogPath(const std::string& csv_path);

/// Parses "10ms", "0.5s", "2m", "1h", "250us" or plain seconds ("0.1").
bool ParseDuration(std::string_view text, int64_t* ns);

}  // namespace memtk::memlog
