// The cleanup registry and its signal watcher (design in memtk/io/cleanup.h).
#include "memtk/io/cleanup.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

namespace memtk::io {

namespace {

struct Entry {
  CleanupId id;
  std::string path;
  bool is_dir;
};

struct Registry {
  std::mutex mu;
  std::vector<Entry> entries;  // registration order
  CleanupId next = 1;
};

// Leaked on purpose: the watcher may use it while static destructors run.
Registry& Reg() {
  static Registry* r = new Registry;
  return *r;
}

CleanupId AddLocked(Registry& r, std::string path, bool is_dir) {
  CleanupId id = r.next++;
  r.entries.push_back({id, std::move(path), is_dir});
  return id;
}

void RemoveLocked(Registry& r, CleanupId id) {
  for (size_t i = r.entries.size(); i-- > 0;) {
    if (r.entries[i].id == id) {
      r.entries.erase(r.entries.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
  }
}

const Entry* FindLocked(Registry& r, CleanupId id) {
  for (const Entry& e : r.entries)
    if (e.id == id) return &e;
  return nullptr;
}

void Remove(const Entry& e) {
  if (e.is_dir)
    ::rmdir(e.path.c_str());
  else
    ::unlink(e.path.c_str());
}

void Watch(sigset_t set) {
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  Registry& r = Reg();
  r.mu.lock();  // held until the process is gone: nothing is created or renamed after this
  for (size_t i = r.entries.size(); i-- > 0;) Remove(r.entries[i]);
  ::signal(sig, SIG_DFL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  ::raise(sig);
  _exit(128 + sig);  // not reached: the default action of all three ends the process
}

}  // namespace

void InstallInterruptCleanup() {
  static std::once_flag once;
  std::call_once(once, [] {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
      struct sigaction old {};
      // nohup and `cmd &` in a non-interactive shell start us with the
      // signal ignored: the user asked for it to be ignored, so it stays so.
      if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
      sigaddset(&set, sig);
    }
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread(Watch, set).detach();
  });
}

StatusOr<int> CreateRegisteredTemp(std::string* templ, CleanupId* id) {
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  int fd = ::mkostemp(templ->data(), O_CLOEXEC);
  if (fd < 0) return IoError(std::strerror(errno));
  *id = AddLocked(r, *templ, false);
  return fd;
}

Status CreateRegisteredDirs(const std::string& path, std::vector<CleanupId>* ids) {
  ids->clear();
  std::string dir = path;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  Registry& r = Reg();
  // One locked step for the whole chain: an interrupt sees each level either
  // registered or not made yet, never made and unknown.
  std::lock_guard<std::mutex> lock(r.mu);
  auto fail = [&](int err) {
    for (size_t i = ids->size(); i-- > 0;) {
      if (const Entry* e = FindLocked(r, (*ids)[i])) Remove(*e);
      RemoveLocked(r, (*ids)[i]);
    }
    ids->clear();
    return IoError(fmt::format("{}: cannot create directory: {}", dir, std::strerror(err)));
  };
  for (size_t end = dir.find('/', 1);; end = dir.find('/', end + 1)) {
    const bool last = end == std::string::npos;
    std::string level = last ? dir : dir.substr(0, end);
    // "a//b" and "a/./b" name no new level.
    if (!level.empty() && level.back() != '/' && !level.ends_with("/.")) {
      if (::mkdir(level.c_str(), 0777) == 0) {
        ids->push_back(AddLocked(r, level, true));
      } else if (errno != EEXIST) {
        return fail(errno);
      } else if (last) {
        // An intermediate level that is a file fails the next mkdir with
        // ENOTDIR; the last one is checked here.
        struct stat st {};
        if (::stat(level.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return fail(EEXIST);
      }
    }
    if (last) return OkStatus();
  }
}

CleanupId RegisterForCleanup(const std::string& path, bool is_dir) {
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  return AddLocked(r, path, is_dir);
}

int RenameAndUnregister(const std::string& from, const std::string& to, CleanupId id) {
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  if (::rename(from.c_str(), to.c_str()) != 0) return errno;
  RemoveLocked(r, id);
  return 0;
}

void Unregister(CleanupId id) {
  if (id == 0) return;
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  RemoveLocked(r, id);
}

void RemoveAndUnregister(CleanupId id) {
  if (id == 0) return;
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  if (const Entry* e = FindLocked(r, id)) Remove(*e);
  RemoveLocked(r, id);
}

size_t RegisteredCount() {
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  return r.entries.size();
}

}  // namespace memtk::io
