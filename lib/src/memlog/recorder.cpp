// memlog's event loop: one thread, poll(2) over a timerfd (the sampling
// schedule), a signalfd (child exits, signals to forward) and the command's
// stdout/stderr pipes. Everything the loop touches per sample or per line is
// allocated before the command starts.
#include "memtk/memlog/recorder.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

#include "base/scoped.h"
#include "csv/reader.h"
#include "io/atomic_output.h"
#include "memlog/columns.h"
#include "memlog/sampler.h"
#include "time_format.h"

extern char** environ;

namespace memtk::memlog {

namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
constexpr size_t kMaxLogLine = 16 << 10;  // longer lines are cut (and marked "…")
constexpr size_t kReadChunk = 64 << 10;
constexpr int64_t kDrainNs = 200'000'000;  // after the command exits, wait this long for its pipes

int64_t Now(clockid_t clock) {
  timespec ts;
  ::clock_gettime(clock, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

// Restores the signal mask memtk had before recording.
class ScopedSigmask {
 public:
  explicit ScopedSigmask(const sigset_t& block) { ::sigprocmask(SIG_BLOCK, &block, &old_); }
  ~ScopedSigmask() { ::sigprocmask(SIG_SETMASK, &old_, nullptr); }
  ScopedSigmask(const ScopedSigmask&) = delete;
  ScopedSigmask& operator=(const ScopedSigmask&) = delete;

 private:
  sigset_t old_;
};

// Cuts one stream of the command's output into lines ('\n', '\r\n' or a lone
// '\r', as progress bars redraw) in a fixed buffer.
struct LineSplitter {
  const char* stream;
  std::unique_ptr<char[]> line{new char[kMaxLogLine]};
  size_t len = 0;
  bool cut = false;       // the line was longer than kMaxLogLine
  bool after_cr = false;  // a '\n' right after '\r' ends no new line
  bool eof = false;
  bool pass = true;  // false once the reader of memtk's stdout/stderr went away
};

class Recorder {
 public:
  Recorder(const RecordOptions& o, const NoticeFn& notice) : o_(o), notice_(notice) {}
  StatusOr<RecordResult> Run();
  /// Removes what OpenOutputs created, unless recording has started: a
  /// run that fails before its first sample leaves no files.
  void RemoveUnstartedOutputs() const {
    if (started_) return;
    if (csv_) ::unlink(o_.csv_path.c_str());
    if (log_) ::unlink(log_path_.c_str());
  }

 private:
  Status OpenOutputs();
  Status Spawn();
  Status TakeSample();
  void OnOutput(LineSplitter& s, int fd, int pass_fd);
  void EmitLine(LineSplitter& s);
  void FlushLog();
  void ReapChildren();
  void StopWriting(Status s);

  const RecordOptions& o_;
  const NoticeFn& notice_;
  RecordResult result_;
  std::string log_path_;
  ScopedFd csv_, log_, out_r_, err_r_;
  std::unique_ptr<Sampler> sampler_;
  std::vector<int64_t> values_;
  size_t procs_col_ = SIZE_MAX;  // index of procs in values_ (process trees only)
  std::string row_;      // one CSV row; capacity reused
  std::string log_buf_;  // log rows of one read; capacity reused
  std::unique_ptr<char[]> chunk_{new char[kReadChunk]};
  LineSplitter out_{"stdout"}, err_{"stderr"};
  pid_t child_ = -1;
  bool child_done_ = false;
  bool writing_ = true;
  int64_t start_mono_ = 0;
  bool started_ = false;                 // the first sample is taken: from here on the CSV is a recording
  int64_t now_mono_ = 0, now_wall_ = 0;  // time of the current loop iteration
};

Status Recorder::OpenOutputs() {
  csv_.reset(::open(o_.csv_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!csv_) return IoError(fmt::format("{}: {}", o_.csv_path, std::strerror(errno)));
  if (o_.command.empty()) return OkStatus();
  log_path_ = o_.log_path.empty() ? DefaultLogPath(o_.csv_path) : o_.log_path;
  // O_APPEND: `memlog --mark` appends to the same file while we write.
  log_.reset(::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644));
  if (!log_) return IoError(fmt::format("{}: {}", log_path_, std::strerror(errno)));
  std::string header = fmt::format("{}\n", kLogHeader);
  return io::WriteAll(log_.get(), header, log_path_);
}

// PATH lookup done before fork, so the child only makes system calls.
std::string FindProgram(const std::string& name, const char* path_env) {
  if (name.find('/') != std::string::npos) return name;
  std::string_view path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
  std::string first_found;
  for (size_t start = 0; start <= path.size();) {
    size_t colon = std::min(path.find(':', start), path.size());
    std::string dir(path.substr(start, colon - start));
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (first_found.empty() && ::access(candidate.c_str(), F_OK) == 0) first_found = candidate;
    start = colon + 1;
  }
  // Not executable anywhere: exec the first match to get EACCES, else ENOENT.
  return first_found.empty() ? name : first_found;
}

Status Recorder::Spawn() {
  int out[2], err[2], report[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0 || ::pipe2(report, O_CLOEXEC) != 0)
    return IoError(fmt::format("pipe: {}", std::strerror(errno)));
  ScopedFd out_w(out[1]), err_w(err[1]), report_r(report[0]), report_w(report[1]);
  out_r_.reset(out[0]);
  err_r_.reset(err[0]);
  std::vector<char*> argv;
  for (const std::string& a : o_.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e) envp.push_back(*e);
  static char kUnbuffered[] = "PYTHONUNBUFFERED=1";
  if (o_.python_unbuffered && ::getenv("PYTHONUNBUFFERED") == nullptr) envp.push_back(kUnbuffered);
  envp.push_back(nullptr);
  const std::string program = FindProgram(o_.command[0], ::getenv("PATH"));
  const pid_t parent = ::getpid();
  child_ = ::fork();
  if (child_ < 0) return IoError(fmt::format("fork: {}", std::strerror(errno)));
  if (child_ == 0) {
    // Only system calls from here to exec. The command dies with memtk
    // (SIGTERM when memtk's thread ends, kill -9 included): its output goes
    // through memtk's pipes, which nobody would read any more. The check
    // after prctl closes the race with a memtk that died before it.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(128 + SIGTERM);
    // The command gets an empty signal mask and default dispositions for
    // what memtk blocks or ignores (SIGPIPE is ignored by memtk, not by it).
    for (int sig : kForwarded) ::signal(sig, SIG_DFL);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGCHLD, SIG_DFL);
    sigset_t empty;
    sigemptyset(&empty);
    ::sigprocmask(SIG_SETMASK, &empty, nullptr);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execve(program.c_str(), argv.data(), envp.data());
    int e = errno;
    [[maybe_unused]] ssize_t w = ::write(report[1], &e, sizeof e);
    ::_exit(e == ENOENT ? 127 : 126);
  }
  report_w.reset();
  int exec_errno = 0;
  ssize_t got;
  while ((got = ::read(report_r.get(), &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    int st = 0;
    ::waitpid(child_, &st, 0);
    child_ = -1;
    result_.exit_status = exec_errno == ENOENT ? 127 : 126;  // as shells, env and timeout report it
    result_.spawn_error = fmt::format("cannot run '{}': {}", o_.command[0], std::strerror(exec_errno));
    return OkStatus();
  }
  ::fcntl(out_r_.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(err_r_.get(), F_SETFL, O_NONBLOCK);
  return OkStatus();
}

// Processes whose parent is `pid`: "pid 123 (name)". As subreaper memtk is
// the parent of every orphan of the command's tree.
std::vector<std::string> ChildrenOf(const std::string& proc_root, pid_t pid) {
  std::vector<std::string> out;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(proc_root.c_str()), ::closedir);
  if (!d) return out;
  while (dirent* e = ::readdir(d.get())) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    ScopedFd fd(::open((proc_root + "/" + e->d_name + "/stat").c_str(), O_RDONLY | O_CLOEXEC));
    char buf[512];
    ssize_t n = fd ? ::read(fd.get(), buf, sizeof buf - 1) : -1;
    if (n <= 0) continue;
    std::string_view stat(buf, static_cast<size_t>(n));
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    size_t open = stat.find('('), close = stat.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close + 4 >= stat.size()) continue;
    int64_t ppid = 0;
    std::string_view rest = stat.substr(close + 4);
    if (std::from_chars(rest.data(), rest.data() + rest.size(), ppid).ec != std::errc() || ppid != pid) continue;
    out.push_back(fmt::format("pid {} ({})", e->d_name, stat.substr(open + 1, close - open - 1)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

void Recorder::StopWriting(Status s) {
  if (!writing_) return;
  writing_ = false;
  result_.write_error = std::move(s);
}

Status Recorder::TakeSample() {
  now_mono_ = Now(CLOCK_MONOTONIC);
  now_wall_ = Now(CLOCK_REALTIME);
  if (!writing_) return OkStatus();
  Status sampled = sampler_->Sample(values_);
  if (!sampled.ok()) {
    // /proc itself failed: stop recording; a launched command runs on.
    StopWriting(std::move(sampled));
    return OkStatus();
  }
  // A process tree with no process left (the command has exited, its exit
  // noticed before the next deadline) holds no memory, but its row would
  // read as "end 0 B, lowest 0 B": only the first row may say that.
  if (procs_col_ < values_.size() && values_[procs_col_] == 0 && result_.samples > 0) return OkStatus();
  row_.clear();
  AppendTimes(row_, now_wall_, now_mono_ - start_mono_);
  char num[24];
  const std::span<const Col> cols = sampler_->columns();
  for (size_t i = 0; i < values_.size(); ++i) {
    const int64_t v = values_[i];
    row_.push_back(',');
    if (v == kMissing) continue;
    if (IsTenths(cols[i])) {
      row_.append(num, std::to_chars(num, num + sizeof num, v / 10).ptr);
      row_.push_back('.');
      row_.push_back(static_cast<char>('0' + v % 10));
    } else {
      row_.append(num, std::to_chars(num, num + sizeof num, v).ptr);
    }
  }
  row_.push_back('\n');
  ++result_.samples;
  Status s = io::WriteAll(csv_.get(), row_, o_.csv_path);
  if (!s.ok()) StopWriting(std::move(s));
  return OkStatus();
}

void Recorder::EmitLine(LineSplitter& s) {
  if (writing_ && log_) {
    AppendTimes(log_buf_, now_wall_, now_mono_ - start_mono_);
    log_buf_.push_back(',');
    log_buf_.append(s.stream);
    log_buf_.push_back(',');
    AppendQuoted(log_buf_, std::string_view(s.line.get(), s.len));
    if (s.cut) log_buf_.insert(log_buf_.size() - 1, "…");
    log_buf_.push_back('\n');
  }
  ++result_.log_lines;
  s.len = 0;
  s.cut = false;
}

void Recorder::FlushLog() {
  if (log_buf_.empty()) return;
  if (writing_) {
    Status st = io::WriteAll(log_.get(), log_buf_, log_path_);
    if (!st.ok()) StopWriting(std::move(st));
  }
  log_buf_.clear();
}

void Recorder::OnOutput(LineSplitter& s, int fd, int pass_fd) {
  for (;;) {
    ssize_t n = ::read(fd, chunk_.get(), kReadChunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) {
        s.eof = true;
        if (s.len > 0 || s.cut) EmitLine(s);
      }
      break;
    }
    now_mono_ = Now(CLOCK_MONOTONIC);
    now_wall_ = Now(CLOCK_REALTIME);
    // Pass the bytes on first: the user's terminal must not wait for our log.
    if (s.pass && !io::WriteAll(pass_fd, std::string_view(chunk_.get(), static_cast<size_t>(n)), "").ok()) s.pass = false;
    for (const char* p = chunk_.get(); p < chunk_.get() + n; ++p) {
      const char c = *p;
      if (c == '\n' || c == '\r') {
        if (!(c == '\n' && s.after_cr)) EmitLine(s);
        s.after_cr = c == '\r';
        continue;
      }
      s.after_cr = false;
      if (s.len < kMaxLogLine) {
        s.line[s.len++] = c;
      } else {
        s.cut = true;
      }
    }
    if (static_cast<size_t>(n) < kReadChunk) break;
  }
  FlushLog();
}

void Recorder::ReapChildren() {
  // As subreaper, orphans of the tree become our children: reap them all,
  // keep the status of the command itself.
  for (;;) {
    int st = 0;
    pid_t p = ::waitpid(-1, &st, WNOHANG);
    if (p <= 0) break;
    if (p == child_) {
      child_done_ = true;
      result_.exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
  }
}

StatusOr<RecordResult> Recorder::Run() {
  const bool launch = !o_.command.empty();
  RETURN_IF_ERROR(OpenOutputs());
  SamplerOptions so;
  so.target = launch ? SamplerOptions::Target::kDescendants
                     : (o_.pid > 0 ? SamplerOptions::Target::kTree : SamplerOptions::Target::kMachine);
  so.pid = launch ? ::getpid() : o_.pid;
  so.children = o_.children;
  so.detail = o_.detail;
  so.gpu = o_.gpu;
  so.proc_root = o_.proc_root;
  // VmHWM/VmSwap/PPid from status at most every 50 ms: it costs 7x statm.
  so.status_every = static_cast<uint64_t>(std::max<int64_t>(1, 50'000'000 / o_.interval_ns));
  std::vector<std::string> notices;
  auto sampler = Sampler::Create(so, &notices);
  if (!sampler.ok()) return sampler.status();
  sampler_ = std::move(sampler).value();
  for (const std::string& n : notices) notice_(n);
  values_.assign(sampler_->columns().size(), 0);
  for (size_t i = 0; i < sampler_->columns().size(); ++i)
    if (sampler_->columns()[i] == Col::kProcs) procs_col_ = i;
  row_.reserve(1024);
  log_buf_.reserve(kReadChunk * 2);

  sigset_t mask;
  sigemptyset(&mask);
  for (int s : kForwarded) sigaddset(&mask, s);
  sigaddset(&mask, SIGCHLD);
  ScopedSigmask blocked(mask);
  ScopedFd sigfd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sigfd) return IoError(fmt::format("signalfd: {}", std::strerror(errno)));

  std::string header(kTimeHeader);
  for (Col c : sampler_->columns()) fmt::format_to(std::back_inserter(header), ",{}", GetColumnInfo(c).name);
  header.push_back('\n');
  RETURN_IF_ERROR(io::WriteAll(csv_.get(), header, o_.csv_path));

  if (launch) {
    // Orphans of the command's tree are re-parented to us, not to init, so
    // double-forked daemons stay in the tree.
    if (o_.children) ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    RETURN_IF_ERROR(Spawn());
    if (child_ < 0) return result_;
  }
  start_mono_ = Now(CLOCK_MONOTONIC);
  started_ = true;
  RETURN_IF_ERROR(TakeSample());

  // Absolute schedule: deadlines are start + k * interval whatever a sample cost.
  ScopedFd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!timer) return IoError(fmt::format("timerfd: {}", std::strerror(errno)));
  itimerspec its{};
  const int64_t first = start_mono_ + o_.interval_ns;
  its.it_value = {static_cast<time_t>(first / 1'000'000'000), static_cast<long>(first % 1'000'000'000)};
  its.it_interval = {static_cast<time_t>(o_.interval_ns / 1'000'000'000),
                     static_cast<long>(o_.interval_ns % 1'000'000'000)};
  if (::timerfd_settime(timer.get(), TFD_TIMER_ABSTIME, &its, nullptr) != 0)
    return IoError(fmt::format("timerfd: {}", std::strerror(errno)));

  bool stop = false;
  int64_t drain_until = 0;
  while (!stop) {
    pollfd fds[4] = {{sigfd.get(), POLLIN, 0}, {timer.get(), POLLIN, 0}, {-1, POLLIN, 0}, {-1, POLLIN, 0}};
    if (out_r_ && !out_.eof) fds[2].fd = out_r_.get();
    if (err_r_ && !err_.eof) fds[3].fd = err_r_.get();
    int timeout = -1;
    if (child_done_) {
      // The command is gone; its pipes may be held by a grandchild. Wait a
      // little for what it wrote last, not for the grandchild.
      const int64_t left = drain_until - Now(CLOCK_MONOTONIC);
      if (left <= 0 || (out_.eof && err_.eof)) break;
      timeout = static_cast<int>(left / 1'000'000) + 1;
      fds[1].fd = -1;
    }
    int n = ::poll(fds, 4, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError(fmt::format("poll: {}", std::strerror(errno)));
    }
    if (fds[2].revents) OnOutput(out_, out_r_.get(), o_.out_fd);
    if (fds[3].revents) OnOutput(err_, err_r_.get(), o_.err_fd);
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo si;
      while (::read(sigfd.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        const int sig = static_cast<int>(si.ssi_signo);
        if (sig == SIGCHLD) {
          ReapChildren();
        } else if (launch) {
          // A terminal's signals (SI_KERNEL) already reached the command in
          // the same process group; forward only what a process sent us.
          if (!child_done_ && si.ssi_code != SI_KERNEL) ::kill(child_, sig);
        } else if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
          stop = true;
        }
      }
      if (launch && child_done_ && drain_until == 0) {
        RETURN_IF_ERROR(TakeSample());  // what is left of the tree after the exit (no row if nothing)
        drain_until = Now(CLOCK_MONOTONIC) + kDrainNs;
      }
    }
    if (fds[1].fd >= 0 && (fds[1].revents & POLLIN)) {
      uint64_t expirations = 0;
      if (::read(timer.get(), &expirations, sizeof expirations) == static_cast<ssize_t>(sizeof expirations)) {
        if (expirations > 1) result_.late_samples += expirations - 1;
        RETURN_IF_ERROR(TakeSample());
        if (!launch && !sampler_->target_alive()) stop = true;
        if (o_.duration_ns > 0 && now_mono_ - start_mono_ >= o_.duration_ns) stop = true;
        if (!launch && !writing_) stop = true;
      }
    }
  }
  // Lines without a final newline still count.
  if (out_.len > 0 || out_.cut) EmitLine(out_);
  if (err_.len > 0 || err_.cut) EmitLine(err_);
  FlushLog();
  if (launch) {
    ReapChildren();
    // Descendants still running were adopted by memtk: name them before
    // they pass on to init, rather than let them vanish from the record.
    if (o_.children) result_.outlived = ChildrenOf(o_.proc_root, ::getpid());
    if (o_.children) ::prctl(PR_SET_CHILD_SUBREAPER, 0);
    ReapChildren();
  }
  if (result_.late_samples > 0)
    notice_(fmt::format("{} sampling deadlines were missed (memtk was not scheduled in time); no rows for them",
                        result_.late_samples));
  if (!launch && !result_.write_error.ok()) return result_.write_error;
  return result_;
}

}  // namespace

StatusOr<RecordResult> Record(const RecordOptions& options, const NoticeFn& notice) {
  if (options.interval_ns < 1'000'000) return UsageError("--interval must be at least 1ms");
  Recorder r(options, notice);
  StatusOr<RecordResult> result = r.Run();
  r.RemoveUnstartedOutputs();  // a spawn failure, or an error before the first sample
  return result;
}

std::string DefaultLogPath(const std::string& csv_path) {
  constexpr std::string_view kCsv = ".csv";
  if (csv_path.size() > kCsv.size() && csv_path.ends_with(kCsv))
    return csv_path.substr(0, csv_path.size() - kCsv.size()) + ".log.csv";
  return csv_path + ".log.csv";
}

Status AppendMark(const std::string& csv_path, const std::string& log_path_in, std::string_view text) {
  // The recording's clock: its first row has both unix time and elapsed
  // seconds, so a mark's elapsed time continues that row's monotonic clock.
  ScopedFd csv(::open(csv_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!csv) return IoError(fmt::format("{}: {}", csv_path, std::strerror(errno)));
  char head[8192];
  ssize_t n = ::pread(csv.get(), head, sizeof head, 0);
  if (n < 0) return IoError(fmt::format("{}: {}", csv_path, std::strerror(errno)));
  std::string_view h(head, static_cast<size_t>(n));
  if (!h.starts_with(kTimeHeader)) return InvalidInput(fmt::format("{}:1:1: not a memtk memlog CSV", csv_path));
  const int64_t wall = Now(CLOCK_REALTIME);
  int64_t elapsed_ns = -1;
  const size_t row1 = h.find('\n');
  const size_t row1_end = row1 == std::string_view::npos ? row1 : h.find('\n', row1 + 1);
  if (row1_end != std::string_view::npos) {
    std::string_view row = h.substr(row1 + 1, row1_end - row1 - 1);
    const size_t a = row.find(','), b = row.find(',', a + 1), c = row.find(',', b + 1);
    double unix0 = 0, elapsed0 = 0;
    if (c != std::string_view::npos && csv::ParseDouble(row.substr(a + 1, b - a - 1), &unix0) &&
        csv::ParseDouble(row.substr(b + 1, c - b - 1), &elapsed0)) {
      elapsed_ns = static_cast<int64_t>((static_cast<double>(wall) * 1e-9 - unix0 + elapsed0) * 1e9);
    }
  }
  const std::string log_path = log_path_in.empty() ? DefaultLogPath(csv_path) : log_path_in;
  std::string row;
  ScopedFd log(::open(log_path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  if (!log && errno == ENOENT) {
    log.reset(::open(log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (log) row = fmt::format("{}\n", kLogHeader);
    if (!log && errno == EEXIST) log.reset(::open(log_path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  }
  if (!log) return IoError(fmt::format("{}: {}", log_path, std::strerror(errno)));
  AppendTimes(row, wall, elapsed_ns);
  row.append(",mark,");
  std::string one_line(text);
  for (char& ch : one_line)
    if (ch == '\n' || ch == '\r') ch = ' ';
  AppendQuoted(row, one_line);
  row.push_back('\n');
  // One write(2) with O_APPEND: atomic with respect to memlog's own rows.
  return io::WriteAll(log.get(), row, log_path);
}

bool ParseDuration(std::string_view text, int64_t* ns) {
  size_t split = 0;
  while (split < text.size() && ((text[split] >= '0' && text[split] <= '9') || text[split] == '.')) ++split;
  const std::string_view unit = text.substr(split);
  double scale = 0;
  if (unit.empty() || unit == "s")
    scale = 1e9;
  else if (unit == "ms")
    scale = 1e6;
  else if (unit == "us")
    scale = 1e3;
  else if (unit == "ns")
    scale = 1;
  else if (unit == "m" || unit == "min")
    scale = 60e9;
  else if (unit == "h")
    scale = 3600e9;
  double v = 0;
  if (scale == 0 || !csv::ParseDouble(text.substr(0, split), &v)) return false;
  *ns = static_cast<int64_t>(v * scale + 0.5);
  return true;
}

}  // namespace memtk::memlog
