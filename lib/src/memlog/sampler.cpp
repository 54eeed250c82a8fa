// The /proc sampler. See sampler.h for the strategy; the comments here say why
// each step is as cheap as it is.
#include "memlog/sampler.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "memtk/base/flat_map.h"
#include "base/scoped.h"
#include "nvml.h"

namespace memtk::memlog {

namespace {

constexpr size_t kFileBuffer = 16 << 10;  // /proc/PID/status is ~1.5 KiB
constexpr size_t kDirBuffer = 32 << 10;   // getdents64 batch
constexpr int kMaxAncestry = 4096;        // parent chains longer than this are cycles

int64_t ParseLeadingIntAt(const char* s) {
  int64_t v = 0;
  bool any = false;
  for (; *s >= '0' && *s <= '9'; ++s) {
    v = v * 10 + (*s - '0');
    any = true;
  }
  return any ? v : -1;
}

struct Proc {
  uint64_t ino = 0;    // d_ino of /proc/PID when its stat was read
  uint64_t start = 0;  // start time (clock ticks after boot): (pid, start) is the identity
  int32_t ppid = -1;
  uint32_t seen = 0;      // last scan generation that listed it
  uint32_t memo_gen = 0;  // generation of `member`
  bool member = false;
  bool status_read = false;
  int64_t hwm = 0, swap = 0;  // from the last read of status
  ScopedFd statm;             // open while a member: read every sample
  ScopedFd status;            // open while a member: read every `status_every` samples
  ScopedFd smaps;             // --detail only
  ScopedFd stat;              // open while a member: utime+stime for cpu_percent
  uint64_t cpu_ticks = 0;     // utime+stime at the last sample
  bool cpu_seen = false;
};

// utime + stime (fields 14 and 15) of a /proc/PID/stat text, whole thread
// group, in clock ticks; false if the text is cut.
bool ParseCpuTicks(const char* text, uint64_t* ticks) {
  const char* p = std::strrchr(text, ')');
  if (p == nullptr) return false;
  ++p;
  int64_t fields[13] = {};
  int i = 0;
  for (; i < 13 && *p; ++i) {  // fields 3..15
    while (*p == ' ') ++p;
    fields[i] = ParseLeadingIntAt(p);
    while (*p && *p != ' ') ++p;
  }
  if (i < 13 || fields[11] < 0 || fields[12] < 0) return false;
  *ticks = static_cast<uint64_t>(fields[11] + fields[12]);
  return true;
}

struct Keyed {
  std::string_view key;
  int64_t* out;
};

// Adds the `kB` values of "Key:   123 kB" lines to the matching outputs.
// Keys not present leave their output untouched.
void AddKeyedKb(std::string_view text, std::initializer_list<Keyed> keys) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    for (const Keyed& k : keys) {
      if (k.key != key) continue;
      int64_t v = 0;
      for (char c : line.substr(colon + 1)) {
        if (c >= '0' && c <= '9') {
          v = v * 10 + (c - '0');
        } else if (v != 0 || c == 'k') {
          break;  // end of the number
        }
      }
      *k.out += v * 1024;  // every such field of status/meminfo/smaps_rollup is in kB
      break;
    }
  }
}

// Reads a file that is re-read every sample: pread at offset 0 regenerates
// /proc and cgroup files without another open/close.
ssize_t PreadAll(int fd, char* buf, size_t cap) {
  for (;;) {
    ssize_t n = ::pread(fd, buf, cap - 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n >= 0) buf[n] = '\0';
    return n;
  }
}

int64_t ParseLeadingInt(const char* s) {
  int64_t v = 0;
  bool any = false;
  for (; *s >= '0' && *s <= '9'; ++s) {
    v = v * 10 + (*s - '0');
    any = true;
  }
  return any ? v : kMissing;
}

class ProcSampler final : public Sampler {
 public:
  explicit ProcSampler(const SamplerOptions& o) : o_(o), buf_(new char[kFileBuffer]), dir_buf_(new char[kDirBuffer]) {}

  Status Init(std::vector<std::string>* notices);
  std::span<const Col> columns() const override { return columns_; }
  Status Sample(std::span<int64_t> values) override;
  bool target_alive() const override { return root_alive_; }

 private:
  bool tree() const { return o_.target != SamplerOptions::Target::kMachine; }
  ScopedFd OpenPidFile(pid_t pid, const char* file) const;
  bool ReadStat(pid_t pid, int32_t* ppid, uint64_t* start);
  Status Scan();
  bool IsMember(int32_t pid);
  void OpenCgroup(pid_t pid);
  Status SampleTree(int64_t* rss, int64_t* hwm, int64_t* swap, int64_t detail[5], int64_t* procs,
                    uint64_t* cpu_ticks);
  bool MachineCpuTicks(uint64_t* busy);

  SamplerOptions o_;
  std::unique_ptr<char[]> buf_;
  std::unique_ptr<char[]> dir_buf_;
  std::vector<Col> columns_;
  ScopedFd proc_, meminfo_, loadavg_, cgroup_, proc_stat_;
  std::unique_ptr<Nvml> nvml_;
  FlatMap<Proc> procs_;
  std::vector<int32_t> members_;  // pids of the tree, refreshed by Scan
  std::vector<int32_t> scratch_;  // dead pids / ancestor chains; capacity reused
  uint64_t root_start_ = 0;
  int64_t page_size_ = ::sysconf(_SC_PAGESIZE);
  uint64_t sample_count_ = 0;
  uint64_t status_every_ = 1;
  int64_t last_pid_ = -1;
  uint32_t generation_ = 0;
  bool need_scan_ = true;
  bool root_alive_ = true;
  // cpu_percent: CPU time is counted in clock ticks (10 ms), so it is
  // averaged over windows of at least kCpuWindowNs: at a 10 ms interval a
  // per-sample value would jump between 0% and 100% with each tick. A sample
  // inside a window repeats the last window's value.
  static constexpr int64_t kCpuWindowNs = 95'000'000;  // 100 ms, less timer jitter
  double clock_ticks_ = static_cast<double>(::sysconf(_SC_CLK_TCK));
  int64_t window_start_ns_ = -1;
  int64_t last_cpu_ = kMissing;
  uint64_t prev_busy_ = 0;
};

int64_t MonotonicNs() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

ScopedFd ProcSampler::OpenPidFile(pid_t pid, const char* file) const {
  char path[48];
  fmt::format_to_n(path, sizeof path - 1, "{}/{}", pid, file).out[0] = '\0';
  return ScopedFd(::openat(proc_.get(), path, O_RDONLY | O_CLOEXEC));
}

bool ProcSampler::ReadStat(pid_t pid, int32_t* ppid, uint64_t* start) {
  ScopedFd fd = OpenPidFile(pid, "stat");
  if (!fd) return false;
  ssize_t n = PreadAll(fd.get(), buf_.get(), kFileBuffer);
  if (n <= 0) return false;
  // "pid (comm) state ppid ... starttime": comm may hold spaces and ')'.
  const char* p = std::strrchr(buf_.get(), ')');
  if (p == nullptr) return false;
  ++p;
  int64_t fields[20] = {};
  for (int i = 0; i < 20 && *p; ++i) {
    while (*p == ' ') ++p;
    fields[i] = ParseLeadingInt(p);
    while (*p && *p != ' ') ++p;
  }
  *ppid = static_cast<int32_t>(fields[1]);     // field 4
  *start = static_cast<uint64_t>(fields[19]);  // field 22
  return true;
}

void ProcSampler::OpenCgroup(pid_t pid) {
  ScopedFd fd = OpenPidFile(pid, "cgroup");
  if (!fd || PreadAll(fd.get(), buf_.get(), kFileBuffer) <= 0) return;
  std::string_view text(buf_.get());
  std::string v2, v1;
  for (size_t pos = 0; pos < text.size();) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    // "0::/path" (v2) or "4:memory:/path" / "4:cpu,memory:/path" (v1).
    size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string_view::npos || b == std::string_view::npos) continue;
    std::string_view ctrls = line.substr(a + 1, b - a - 1), cg = line.substr(b + 1);
    if (line.substr(0, a) == "0" && ctrls.empty()) v2 = cg;
    for (size_t c = 0; c <= ctrls.size();) {
      size_t comma = ctrls.find(',', c);
      if (comma == std::string_view::npos) comma = ctrls.size();
      if (ctrls.substr(c, comma - c) == "memory") v1 = cg;
      c = comma + 1;
    }
  }
  std::vector<std::string> candidates;
  if (!v2.empty()) {
    candidates.push_back("/sys/fs/cgroup" + v2 + "/memory.current");
    candidates.push_back("/sys/fs/cgroup/unified" + v2 + "/memory.current");
  }
  if (!v1.empty()) candidates.push_back("/sys/fs/cgroup/memory" + v1 + "/memory.usage_in_bytes");
  for (const std::string& c : candidates) {
    ScopedFd f(::open(c.c_str(), O_RDONLY | O_CLOEXEC));
    if (f && PreadAll(f.get(), buf_.get(), kFileBuffer) > 0 && ParseLeadingInt(buf_.get()) != kMissing) {
      cgroup_ = std::move(f);
      return;
    }
  }
}

Status ProcSampler::Init(std::vector<std::string>* notices) {
  proc_.reset(::open(o_.proc_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!proc_) return IoError(fmt::format("{}: {}", o_.proc_root, std::strerror(errno)));
  meminfo_.reset(::openat(proc_.get(), "meminfo", O_RDONLY | O_CLOEXEC));
  if (!meminfo_) return IoError(fmt::format("{}/meminfo: {}", o_.proc_root, std::strerror(errno)));
  loadavg_.reset(::openat(proc_.get(), "loadavg", O_RDONLY | O_CLOEXEC));
  if (!tree()) proc_stat_.reset(::openat(proc_.get(), "stat", O_RDONLY | O_CLOEXEC));
  pid_t cgroup_pid = ::getpid();
  if (o_.target == SamplerOptions::Target::kTree) {
    int32_t ppid = 0;
    if (!ReadStat(o_.pid, &ppid, &root_start_))
      return InvalidInput(fmt::format("no process with PID {} (or {} is not readable)", o_.pid, o_.proc_root));
    cgroup_pid = o_.pid;
  }
  OpenCgroup(cgroup_pid);
  if (o_.gpu) {
    std::string notice;
    nvml_ = Nvml::Load(&notice);
    if (!nvml_) notices->push_back(notice);
  }
  for (size_t i = 0; i < static_cast<size_t>(Col::kCount); ++i) {
    const Col c = static_cast<Col>(i);
    bool want = false;
    switch (c) {
      case Col::kRss:
      case Col::kHwm:
      case Col::kSwap:
      case Col::kProcs:
        want = tree();
        break;
      case Col::kPss:
      case Col::kUss:
      case Col::kPssAnon:
      case Col::kPssFile:
      case Col::kPssShmem:
        want = tree() && o_.detail;
        break;
      case Col::kGpu:
        want = tree() && nvml_;
        break;
      case Col::kUsed:
      case Col::kMemFree:
      case Col::kBuffCache:
      case Col::kSwapUsed:
        want = !tree();
        break;
      case Col::kGpuUsed:
        want = !tree() && nvml_;
        break;
      case Col::kMemAvailable:
        want = true;
        break;
      case Col::kCpu:
        want = tree() || static_cast<bool>(proc_stat_);
        break;
      case Col::kCgroup:
        want = static_cast<bool>(cgroup_);
        break;
      case Col::kCount:
        break;
    }
    if (want) columns_.push_back(c);
  }
  members_.reserve(64);
  scratch_.reserve(1024);
  status_every_ = std::max<uint64_t>(1, o_.status_every);
  return OkStatus();
}

Status ProcSampler::Scan() {
  ++generation_;
  if (::lseek(proc_.get(), 0, SEEK_SET) < 0) return IoError(fmt::format("{}: {}", o_.proc_root, std::strerror(errno)));
  for (;;) {
    long n = ::syscall(SYS_getdents64, proc_.get(), dir_buf_.get(), kDirBuffer);
    if (n < 0) return IoError(fmt::format("{}: {}", o_.proc_root, std::strerror(errno)));
    if (n == 0) break;
    for (long off = 0; off < n;) {
      // struct linux_dirent64 { ino64_t d_ino; off64_t d_off; unsigned short d_reclen; unsigned char d_type; char
      // d_name[]; }
      const char* rec = dir_buf_.get() + off;
      uint64_t ino;
      uint16_t reclen;
      std::memcpy(&ino, rec, sizeof ino);
      std::memcpy(&reclen, rec + 16, sizeof reclen);
      const char* name = rec + 19;
      off += reclen;
      if (*name < '1' || *name > '9') continue;
      int64_t pid = ParseLeadingInt(name);
      if (pid <= 0 || pid > INT32_MAX) continue;
      bool inserted = false;
      Proc& p = procs_.FindOrInsert(static_cast<uint64_t>(pid), &inserted);
      // procfs gives a new inode to a new process's directory: an unchanged
      // inode means the same process, so its stat needs no re-reading.
      if (inserted || p.ino != ino) {
        int32_t ppid = -1;
        uint64_t start = 0;
        if (!ReadStat(static_cast<pid_t>(pid), &ppid, &start)) continue;  // exited meanwhile
        if (!inserted && p.start != start) p = Proc{};                    // PID reused
        p.ino = ino;
        p.ppid = ppid;
        p.start = start;
      }
      p.seen = generation_;
    }
  }
  scratch_.clear();
  procs_.ForEach([&](uint64_t pid, const Proc& p) {
    if (p.seen != generation_) scratch_.push_back(static_cast<int32_t>(pid));
  });
  for (int32_t pid : scratch_) procs_.Erase(static_cast<uint64_t>(pid));
  // A process whose parent is gone has been re-parented (to memtk as
  // subreaper, or to init), but its unchanged inode kept the PPid read while
  // the parent lived: read it again, or the walk up stops at the dead parent
  // and the process (a double-fork orphan) drops out of the tree.
  scratch_.clear();
  procs_.ForEach([&](uint64_t pid, const Proc& p) {
    if (p.ppid > 0 && procs_.Find(static_cast<uint64_t>(p.ppid)) == nullptr)
      scratch_.push_back(static_cast<int32_t>(pid));
  });
  for (int32_t pid : scratch_) {
    int32_t ppid = -1;
    uint64_t start = 0;
    Proc* p = procs_.Find(static_cast<uint64_t>(pid));
    if (p != nullptr && ReadStat(pid, &ppid, &start) && start == p->start) p->ppid = ppid;
  }
  scratch_.clear();
  members_.clear();
  procs_.ForEach([&](uint64_t pid, Proc& p) {
    // Recorded for every process, whichever rule decided it: gpu_bytes
    // matches NVML's PIDs against it.
    p.member = IsMember(static_cast<int32_t>(pid));
    p.memo_gen = generation_;
    if (p.member) {
      members_.push_back(static_cast<int32_t>(pid));
    } else {
      p.statm.reset();
      p.status.reset();
      p.smaps.reset();
      p.stat.reset();
    }
  });
  if (o_.target == SamplerOptions::Target::kTree) {
    const Proc* root = procs_.Find(static_cast<uint64_t>(o_.pid));
    root_alive_ = root != nullptr && root->start == root_start_;
  }
  need_scan_ = false;
  return OkStatus();
}

bool ProcSampler::IsMember(int32_t pid) {
  // Walk up the parent chain until an answer is known, then memoise the
  // answer for the whole chain: O(processes) per scan.
  const int32_t root = o_.pid;
  const bool kdesc = o_.target == SamplerOptions::Target::kDescendants;
  if (!o_.children) {
    // Without descendants: the root itself, or (kDescendants) its direct
    // children, i.e. the command memtk launched.
    const Proc* p = procs_.Find(static_cast<uint64_t>(pid));
    if (p == nullptr) return false;
    return kdesc ? pid != root && p->ppid == root : pid == root && p->start == root_start_;
  }
  size_t chain_begin = scratch_.size();
  bool answer = false;
  int32_t x = pid;
  for (int depth = 0; depth < kMaxAncestry; ++depth) {
    if (x == root) {
      const Proc* r = procs_.Find(static_cast<uint64_t>(x));
      answer = kdesc ? x != pid : (r != nullptr && r->start == root_start_);
      break;
    }
    Proc* p = procs_.Find(static_cast<uint64_t>(x));
    if (p == nullptr) break;
    if (p->memo_gen == generation_) {
      answer = p->member;
      break;
    }
    // A member of an earlier scan stays one: a descendant never stops being
    // one (a PPid only changes when the parent exits, and a reused PID starts
    // a fresh Proc), even when re-parented out of reach of the walk.
    if (p->member) {
      answer = true;
      break;
    }
    scratch_.push_back(x);
    x = p->ppid;
  }
  for (size_t i = chain_begin; i < scratch_.size(); ++i) {
    Proc* p = procs_.Find(static_cast<uint64_t>(scratch_[i]));
    p->memo_gen = generation_;
    p->member = answer;
  }
  scratch_.resize(chain_begin);
  return answer;
}

Status ProcSampler::SampleTree(int64_t* rss, int64_t* hwm, int64_t* swap, int64_t detail[5], int64_t* procs,
                               uint64_t* cpu_ticks) {
  if (loadavg_) {
    // "0.00 0.01 0.05 1/123 4567": the last field is the last PID handed out.
    ssize_t n = PreadAll(loadavg_.get(), buf_.get(), kFileBuffer);
    const char* last = n > 0 ? std::strrchr(buf_.get(), ' ') : nullptr;
    const int64_t last_pid = last ? ParseLeadingInt(last + 1) : -1;
    if (last_pid != last_pid_ || last_pid < 0) need_scan_ = true;
    last_pid_ = last_pid;
  } else {
    need_scan_ = true;
  }
  if (need_scan_) RETURN_IF_ERROR(Scan());
  const bool first_sample = sample_count_ == 0;
  const bool refresh = sample_count_++ % status_every_ == 0;
  for (int32_t pid : members_) {
    Proc* p = procs_.Find(static_cast<uint64_t>(pid));
    if (p == nullptr) continue;
    const bool is_root = pid == o_.pid && o_.target == SamplerOptions::Target::kTree;
    if (!p->statm) p->statm = OpenPidFile(pid, "statm");
    // statm ("size resident ..." in pages) is the cheapest RSS there is
    // (0.6 us against 4.4 us for status). A kept-open /proc file of an
    // exited process reads as an error (ESRCH), even if the PID has been
    // reused since: the fd is the identity.
    if (!p->statm || PreadAll(p->statm.get(), buf_.get(), kFileBuffer) <= 0) {
      p->statm.reset();
      p->status.reset();
      p->stat.reset();
      need_scan_ = true;
      if (is_root) root_alive_ = false;
      continue;
    }
    const char* f = buf_.get();
    const int64_t size = ParseLeadingInt(f);
    while (*f && *f != ' ') ++f;
    const int64_t resident = ParseLeadingInt(*f ? f + 1 : f);
    // No address space: a zombie (exited, not yet reaped by its parent). It
    // holds no memory, and a --pid root in that state has ended.
    if (size <= 0 || resident == kMissing) {
      if (is_root) root_alive_ = false;
      continue;
    }
    const int64_t rss_bytes = resident * page_size_;
    *rss += rss_bytes;
    // CPU time since the last read (only at the end of a CPU window: stat
    // costs 2-3 us per process). A process first seen after the first read
    // started since then (or joined the tree): all its time counts. Time of
    // processes that exit between two reads is lost, as in psrecord; so is
    // the CPU of the command's very first instant.
    if (!p->stat && cpu_ticks) p->stat = OpenPidFile(pid, "stat");
    uint64_t ticks = 0;
    if (cpu_ticks && p->stat && PreadAll(p->stat.get(), buf_.get(), kFileBuffer) > 0 &&
        ParseCpuTicks(buf_.get(), &ticks)) {
      if (p->cpu_seen)
        *cpu_ticks += ticks >= p->cpu_ticks ? ticks - p->cpu_ticks : 0;
      else if (!first_sample)
        *cpu_ticks += ticks;
      p->cpu_ticks = ticks;
      p->cpu_seen = true;
    }
    // VmHWM, VmSwap and PPid change slowly or only grow: status (7x the cost
    // of statm) is read at most every 50 ms, and the high-water mark is kept
    // at least as high as the RSS seen in between.
    if (refresh || !p->status_read) {
      if (!p->status) p->status = OpenPidFile(pid, "status");
      if (p->status && PreadAll(p->status.get(), buf_.get(), kFileBuffer) > 0) {
        std::string_view text(buf_.get());
        p->hwm = p->swap = 0;
        AddKeyedKb(text, {{"VmHWM", &p->hwm}, {"VmSwap", &p->swap}});
        p->status_read = true;
        // PPid is a plain number, not kB.
        const size_t at = text.find("\nPPid:");
        if (at != std::string_view::npos) {
          const char* c = text.data() + at + 6;
          while (*c == '\t' || *c == ' ') ++c;
          const int64_t ppid = ParseLeadingInt(c);
          // Re-parented (its parent exited): membership is decided again next time.
          if (ppid != kMissing && ppid != p->ppid) {
            p->ppid = static_cast<int32_t>(ppid);
            need_scan_ = true;
          }
        }
      }
    }
    p->hwm = std::max(p->hwm, rss_bytes);
    *hwm += p->hwm;
    *swap += p->swap;
    ++*procs;
    if (o_.detail) {
      if (!p->smaps) p->smaps = OpenPidFile(pid, "smaps_rollup");
      if (p->smaps && PreadAll(p->smaps.get(), buf_.get(), kFileBuffer) > 0) {
        int64_t priv = 0;
        AddKeyedKb(buf_.get(), {{"Pss", &detail[0]},
                                {"Private_Clean", &priv},
                                {"Private_Dirty", &priv},
                                {"Pss_Anon", &detail[2]},
                                {"Pss_File", &detail[3]},
                                {"Pss_Shmem", &detail[4]}});
        detail[1] += priv;
      }
    }
  }
  return OkStatus();
}

Status ProcSampler::Sample(std::span<int64_t> values) {
  // Every value this sampler can produce, indexed by column; columns() picks.
  std::array<int64_t, static_cast<size_t>(Col::kCount)> v;
  v.fill(kMissing);
  auto at = [&](Col c) -> int64_t& { return v[static_cast<size_t>(c)]; };
  const int64_t now_ns = MonotonicNs();
  // CPU time is read only where a window ends (and at the first sample, the
  // baseline).
  const bool cpu_first = window_start_ns_ < 0;
  const bool cpu_read = cpu_first || now_ns - window_start_ns_ >= kCpuWindowNs;
  uint64_t ticks = 0;
  if (tree()) {
    int64_t detail[5] = {0, 0, 0, 0, 0};
    at(Col::kRss) = at(Col::kHwm) = at(Col::kSwap) = at(Col::kProcs) = 0;
    RETURN_IF_ERROR(SampleTree(&at(Col::kRss), &at(Col::kHwm), &at(Col::kSwap), detail, &at(Col::kProcs),
                               cpu_read ? &ticks : nullptr));
    const Col kDetail[] = {Col::kPss, Col::kUss, Col::kPssAnon, Col::kPssFile, Col::kPssShmem};
    for (size_t i = 0; i < 5; ++i) at(kDetail[i]) = detail[i];
  }
  if (PreadAll(meminfo_.get(), buf_.get(), kFileBuffer) > 0) {
    int64_t total = 0, free = 0, avail = 0, buffers = 0, cached = 0, sreclaim = 0, swap_total = 0, swap_free = 0;
    AddKeyedKb(buf_.get(), {{"MemTotal", &total},
                            {"MemFree", &free},
                            {"MemAvailable", &avail},
                            {"Buffers", &buffers},
                            {"Cached", &cached},
                            {"SReclaimable", &sreclaim},
                            {"SwapTotal", &swap_total},
                            {"SwapFree", &swap_free}});
    at(Col::kUsed) = total - avail;
    at(Col::kMemFree) = free;
    at(Col::kBuffCache) = buffers + cached + sreclaim;
    at(Col::kSwapUsed) = swap_total - swap_free;
    at(Col::kMemAvailable) = avail;
  }
  if (cgroup_ && PreadAll(cgroup_.get(), buf_.get(), kFileBuffer) > 0) at(Col::kCgroup) = ParseLeadingInt(buf_.get());
  if (proc_stat_ && cpu_read) {
    uint64_t busy = 0;
    if (MachineCpuTicks(&busy)) {
      if (prev_busy_ > 0) ticks += busy >= prev_busy_ ? busy - prev_busy_ : 0;
      prev_busy_ = busy;
    }
  }
  if (cpu_read && !cpu_first) {
    // Tenths of a percent of one core over the window.
    const double seconds = static_cast<double>(now_ns - window_start_ns_) * 1e-9;
    last_cpu_ = static_cast<int64_t>(std::llround(static_cast<double>(ticks) / clock_ticks_ / seconds * 1000.0));
  }
  if (cpu_read) window_start_ns_ = now_ns;
  if (tree() || proc_stat_) at(Col::kCpu) = last_cpu_;
  if (nvml_ && tree()) {
    auto in_tree = [&](pid_t pid) {
      const Proc* p = procs_.Find(static_cast<uint64_t>(pid));
      return p != nullptr && p->member && p->memo_gen == generation_;
    };
    if (!nvml_->ProcessBytes(in_tree, &at(Col::kGpu))) at(Col::kGpu) = kMissing;
  } else if (nvml_) {
    if (!nvml_->DeviceUsedBytes(&at(Col::kGpuUsed))) at(Col::kGpuUsed) = kMissing;
  }
  for (size_t i = 0; i < columns_.size(); ++i) values[i] = at(columns_[i]);
  return OkStatus();
}

bool ProcSampler::MachineCpuTicks(uint64_t* busy) {
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice":
  // busy = everything but idle and iowait (guest time is inside user).
  if (PreadAll(proc_stat_.get(), buf_.get(), kFileBuffer) <= 0 || std::strncmp(buf_.get(), "cpu ", 4) != 0)
    return false;
  const char* p = buf_.get() + 4;
  uint64_t total = 0, idle = 0;
  for (int i = 0; i < 8; ++i) {
    while (*p == ' ') ++p;
    const int64_t v = ParseLeadingIntAt(p);
    if (v < 0) return false;
    total += static_cast<uint64_t>(v);
    if (i == 3 || i == 4) idle += static_cast<uint64_t>(v);
    while (*p && *p != ' ' && *p != '\n') ++p;
  }
  *busy = total - idle;
  return true;
}

}  // namespace

StatusOr<std::unique_ptr<Sampler>> Sampler::Create(const SamplerOptions& options, std::vector<std::string>* notices) {
  auto s = std::make_unique<ProcSampler>(options);
  RETURN_IF_ERROR(s->Init(notices));
  return std::unique_ptr<Sampler>(std::move(s));
}

const ColumnInfo& GetColumnInfo(Col c) {
  static const ColumnInfo kInfo[] = {
      {"rss_bytes", "resident memory of the process tree (sum of VmRSS)"},
      {"hwm_bytes", "sum of each process's peak RSS so far (VmHWM): catches spikes between samples"},
      {"swap_bytes", "swapped-out memory of the tree (sum of VmSwap)"},
      {"pss_bytes", "proportional set size: shared pages divided among their users (smaps_rollup)"},
      {"uss_bytes", "unique set size: private pages only (Private_Clean + Private_Dirty)"},
      {"pss_anon_bytes", "PSS of anonymous memory (heap, stacks)"},
      {"pss_file_bytes", "PSS of file-backed memory (code, mapped files)"},
      {"pss_shmem_bytes", "PSS of shared memory (tmpfs, shm)"},
      {"procs", "processes in the tree at this sample"},
      {"gpu_bytes", "GPU memory used by processes of the tree (NVML)"},
      {"used_bytes", "machine memory in use: MemTotal - MemAvailable"},
      {"mem_free_bytes", "MemFree: memory not used at all"},
      {"buff_cache_bytes", "Buffers + Cached + SReclaimable (page cache, reclaimable)"},
      {"swap_used_bytes", "SwapTotal - SwapFree"},
      {"gpu_used_bytes", "used memory of all GPUs (NVML)"},
      {"cpu_percent", "CPU use in % of one core over the last >= 100 ms (tree: utime+stime summed; machine: busy time)"},
      {"mem_available_bytes", "MemAvailable: what the machine can still give without swapping"},
      {"cgroup_bytes", "memory charged to the cgroup (memory.current, or memory.usage_in_bytes on v1)"},
  };
  static_assert(std::size(kInfo) == static_cast<size_t>(Col::kCount));
  return kInfo[static_cast<size_t>(c)];
}

}  // namespace memtk::memlog
