#include "io/atomic_output.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>

#include "base/scoped.h"

namespace memtk::io {

StatusOr<AtomicOutput> AtomicOutput::Create(const std::string& requested) {
  std::string target = requested;
  struct stat st {};
  // /dev/stdout, /dev/stderr, /dev/fd/N and /proc/*/fd/N name an open file
  // of this process (a shell redirection): written through as named, so
  // `-o /dev/stdout >> log` appends to log instead of renaming over it.
  if (requested.starts_with("/dev/") || requested.starts_with("/proc/")) {
    AtomicOutput out(requested, requested, 0);
    out.in_place_ = true;
    return out;
  }
  if (::lstat(target.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    // Write what the link points to and keep the link (a dangling link is
    // replaced, as there is nothing behind it to keep).
    if (char* real = ::realpath(target.c_str(), nullptr)) {
      target = real;
      std::free(real);
    }
  }
  if (::stat(target.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    // A device, FIFO or socket: written in place, never renamed over or
    // removed (no temp file, nothing registered for cleanup).
    AtomicOutput out(target, target, 0);
    out.in_place_ = true;
    return out;
  }
  // The temp file sits beside the target so the final rename cannot cross
  // filesystems; its dot-name keeps it out of globs like *.db.
  auto slash = target.rfind('/');
  std::string dir = slash == std::string::npos ? "" : target.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? target : target.substr(slash + 1);
  std::string templ = dir + "." + base + ".tmp-XXXXXX";
  CleanupId id = 0;
  auto fd = CreateRegisteredTemp(&templ, &id);
  if (!fd.ok()) return IoError(fmt::format("{}: cannot create output: {}", target, fd.status().message()));
  // mkstemp makes the file 0600; give the result the usual umask-derived mode.
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(*fd, 0666 & ~mask);
  ::close(*fd);
  return AtomicOutput(target, std::move(templ), id);
}

AtomicOutput::AtomicOutput(AtomicOutput&& o) noexcept
    : target_(std::move(o.target_)), temp_(std::move(o.temp_)), id_(o.id_), done_(o.done_), in_place_(o.in_place_) {
  o.done_ = true;
  o.id_ = 0;
}

AtomicOutput::~AtomicOutput() {
  if (!done_) RemoveAndUnregister(id_);
}

Status AtomicOutput::Commit() {
  if (in_place_) {
    done_ = true;
    return OkStatus();
  }
  if (int err = RenameAndUnregister(temp_, target_, id_); err != 0)
    return IoError(fmt::format("{}: cannot rename output into place: {}", target_, std::strerror(err)));
  done_ = true;
  return OkStatus();
}

StatusOr<OutputDirectory> OutputDirectory::Create(const std::string& path) {
  std::vector<CleanupId> ids;
  RETURN_IF_ERROR(CreateRegisteredDirs(path, &ids));
  return OutputDirectory(std::move(ids));
}

Status WriteAll(int fd, std::string_view data, const std::string& name) {
  while (!data.empty()) {
    ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0) {
      if (errno == EINTR) continue;
      return IoError(fmt::format("{}: {}", name, std::strerror(errno)));
    }
    data.remove_prefix(static_cast<size_t>(w));
  }
  return OkStatus();
}

Status WriteFileAtomically(const std::string& path, std::string_view data) {
  if (path == "-") return WriteAll(STDOUT_FILENO, data, "<stdout>");
  ASSIGN_OR_RETURN(AtomicOutput out, AtomicOutput::Create(path));
  {
    ScopedFd fd(::open(out.temp_path().c_str(), out.OpenFlags()));
    if (fd.get() < 0) return IoError(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
    RETURN_IF_ERROR(WriteAll(fd.get(), data, path));
  }
  return out.Commit();
}

}  // namespace memtk::io
