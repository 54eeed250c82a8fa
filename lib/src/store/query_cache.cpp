#include "store/query_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

#include "base/scoped.h"
#include "memtk/version.h"

namespace memtk::store {

namespace {

// Four independent multiply-xor lanes over 8-byte words, so hashing runs at
// memory speed (a 2 GB snapshot must not cost a second query noticeably
// more than the answer).
class ContentHasher {
 public:
  void Update(const unsigned char* p, size_t n) {
    total_ += n;
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
      for (int l = 0; l < 4; ++l) Mix(l, Load(p + i + 8 * l));
    for (; i < n; ++i) Mix(static_cast<int>(i & 3), p[i]);
  }
  uint64_t Digest() const {
    uint64_t h = total_ * 0x9E3779B97F4A7C15ULL;
    for (uint64_t l : lanes_) {
      h ^= l + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
      h *= 0xBF58476D1CE4E5B9ULL;
    }
    return h ^ (h >> 31);
  }

 private:
  static uint64_t Load(const unsigned char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  void Mix(int lane, uint64_t v) {
    uint64_t h = (lanes_[lane] ^ v) * 0x94D049BB133111EBULL;
    lanes_[lane] = h ^ (h >> 29);
  }
  uint64_t lanes_[4] = {1, 2, 3, 4};
  uint64_t total_ = 0;
};

Status MakeDirs(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      std::string cur = dir.substr(0, i);
      if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
        return IoError(fmt::format("{}: cannot create cache directory: {}", cur, std::strerror(errno)));
    }
  }
  return OkStatus();
}

bool IsStaleTempName(std::string_view name) {
  // AtomicOutput's `.<target>.tmp-XXXXXX` for a cached database target.
  if (name.size() < 12 || name[0] != '.') return false;
  size_t tmp = name.rfind(".tmp-");
  return tmp != std::string_view::npos && name.size() - tmp == 11 && IsCachedName(name.substr(1, tmp - 1));
}

}  // namespace

StatusOr<uint64_t> HashFile(const std::string& path) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return IoError(fmt::format("{}: {}", path, std::strerror(errno)));
  std::vector<unsigned char> buf(1 << 20);
  ContentHasher h;
  // Chunks are multiples of 32 bytes except the last, so the lanes see
  // the same words however read() splits the file.
  size_t have = 0;
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data() + have, buf.size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError(fmt::format("{}: {}", path, std::strerror(errno)));
    have += static_cast<size_t>(n);
    if (n == 0 || have == buf.size()) {
      h.Update(buf.data(), have);
      if (n == 0) break;
      have = 0;
    }
  }
  return h.Digest();
}

std::string CachedName(const std::string& stem, uint64_t hash, std::string_view version) {
  return fmt::format("{}-{:016x}-memtk{}.db", stem, hash, version);
}

bool IsCachedName(std::string_view name) {
  // <stem>-<16 hex>-memtk<version>.db, with a non-empty stem and version.
  if (name.size() < 3 || name.substr(name.size() - 3) != ".db") return false;
  size_t m = name.rfind("-memtk");
  if (m == std::string_view::npos || m < 18 || m + 6 >= name.size() - 3 || name[m - 17] != '-') return false;
  for (size_t i = m - 16; i < m; ++i)
    if (!std::isxdigit(static_cast<unsigned char>(name[i])) || std::isupper(static_cast<unsigned char>(name[i])))
      return false;
  return true;
}

StatusOr<EvictResult> EvictLeastRecentlyUsed(const std::string& dir, uint64_t max_bytes, const std::string& keep,
                                             int64_t stale_temp_seconds) {
  EvictResult r;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) {
    if (errno == ENOENT) return r;
    return IoError(fmt::format("{}: cannot list cache directory: {}", dir, std::strerror(errno)));
  }
  struct Cached {
    std::string name;
    uint64_t bytes;
    timespec used;
  };
  std::vector<Cached> cached;
  const time_t now = ::time(nullptr);
  while (dirent* e = ::readdir(d.get())) {
    std::string_view name = e->d_name;
    const bool db = IsCachedName(name);
    if (!db && !IsStaleTempName(name)) continue;
    struct stat st {};
    std::string path = dir + "/" + std::string(name);
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (!db) {
      // A conversion still running touches its temp file all the time.
      if (now - st.st_mtim.tv_sec > stale_temp_seconds && ::unlink(path.c_str()) == 0) {
        r.removed_bytes += static_cast<uint64_t>(st.st_size);
        ++r.removed_files;
      }
      continue;
    }
    cached.push_back({std::string(name), static_cast<uint64_t>(st.st_size), st.st_mtim});
    r.kept_bytes += static_cast<uint64_t>(st.st_size);
  }
  // Oldest first; the name breaks ties so the order is deterministic.
  std::sort(cached.begin(), cached.end(), [](const Cached& a, const Cached& b) {
    if (a.used.tv_sec != b.used.tv_sec) return a.used.tv_sec < b.used.tv_sec;
    if (a.used.tv_nsec != b.used.tv_nsec) return a.used.tv_nsec < b.used.tv_nsec;
    return a.name < b.name;
  });
  for (const Cached& c : cached) {
    if (r.kept_bytes <= max_bytes) break;
    if (c.name == keep) continue;
    // Another memtk may have removed it first: it is gone either way.
    if (::unlink((dir + "/" + c.name).c_str()) == 0 || errno == ENOENT) {
      r.kept_bytes -= c.bytes;
      r.removed_bytes += c.bytes;
      ++r.removed_files;
    }
  }
  return r;
}

StatusOr<QueryDatabase> QueryDatabase::Open(const std::string& input, const std::string& stem, const std::string& dir,
                                            uint64_t max_bytes, const ConvertFn& convert) {
  QueryDatabase q;
  if (dir.empty()) {
    // No cache: a private temp name, registered before it exists so an
    // interrupt removes the conversion and the finished database alike.
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = fmt::format("{}/memtk-query-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ASSIGN_OR_RETURN(int fd, io::CreateRegisteredTemp(&templ, &q.temp_id_));
    ::close(fd);
    q.path_ = templ;
    RETURN_IF_ERROR(convert(input, q.path_));
    return q;
  }
  ASSIGN_OR_RETURN(uint64_t hash, HashFile(input));
  const std::string name = CachedName(stem, hash, kMemtkVersion);
  q.path_ = dir + "/" + name;
  // A hit is marked as used now: mtime is the LRU clock.
  if (::utimensat(AT_FDCWD, q.path_.c_str(), nullptr, 0) != 0) {
    if (errno != ENOENT)
      return IoError(fmt::format("{}: cannot use cached database: {}", q.path_, std::strerror(errno)));
    RETURN_IF_ERROR(MakeDirs(dir));
    RETURN_IF_ERROR(convert(input, q.path_));
  }
  RETURN_IF_ERROR(EvictLeastRecentlyUsed(dir, max_bytes, name).status());
  return q;
}

}  // namespace memtk::store
