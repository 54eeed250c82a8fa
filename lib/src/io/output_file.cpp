#include "memtk/io/output_file.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "base/scoped.h"
#include "io/atomic_output.h"
#include "memtk/store/row_writer.h"

namespace memtk::io {

std::string OutputStem(const std::string& input) {
  if (input == "-") return "stdin";
  auto slash = input.rfind('/');
  std::string base = slash == std::string::npos ? input : input.substr(slash + 1);
  // Stripped right to left: run.pickle.gz -> run, run.csv -> run.
  for (std::string_view ext : {".gz", ".pickle", ".pkl", ".pt", ".json", ".csv", ".db"})
    if (base.size() > ext.size() && base.ends_with(ext)) base.resize(base.size() - ext.size());
  return base;
}

bool NamesDirectory(const std::string& output) {
  if (output.empty() || output == "-") return false;
  if (output.back() == '/') return true;
  struct stat st {};
  return ::stat(output.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string OutputPathFor(const std::string& input, const std::string& output, std::string_view ext) {
  if (output.empty()) {
    auto slash = input == "-" ? std::string::npos : input.rfind('/');
    std::string dir = slash == std::string::npos ? "" : input.substr(0, slash + 1);
    return dir + OutputStem(input) + std::string(ext);
  }
  if (NamesDirectory(output))
    return output + (output.back() == '/' ? "" : "/") + OutputStem(input) + std::string(ext);
  return output;
}

namespace {

bool StatOf(const std::string& path, struct stat* st) {
  return path == "-" ? ::fstat(STDIN_FILENO, st) == 0 : ::stat(path.c_str(), st) == 0;
}

// A path not yet made, absolute and without "." or "..", the links of its
// existing part resolved: "out/x.png" and "./out/../out/x.png" agree.
std::string PathKey(const std::string& path) {
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  if (ec) return path;
  std::filesystem::path canon = std::filesystem::weakly_canonical(abs, ec);
  return (ec ? abs.lexically_normal() : canon).string();
}

}  // namespace

bool SameFile(const std::string& a, const std::string& b) {
  struct stat sa {};
  struct stat sb {};
  const bool ea = StatOf(a, &sa), eb = StatOf(b, &sb);
  if (ea && eb) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  // One exists and the other not: two files. Neither: compare the names
  // (memlog's outputs, before the recording makes them).
  return !ea && !eb && a != "-" && b != "-" && PathKey(a) == PathKey(b);
}

Status CheckNotAnInput(const std::string& output, const std::vector<std::string>& reads) {
  if (output.empty() || output == "-") return OkStatus();
  for (const std::string& in : reads)
    if (!in.empty() && SameFile(in, output))
      return UsageError(fmt::format("{}: the output would overwrite the input", output));
  return OkStatus();
}

Status CheckDistinctOutputs(const std::vector<std::string>& outputs) {
  // Quadratic, but in stats (one stat per output) and over command-line
  // inputs; a thousand ranks cost a million cheap comparisons at most.
  std::vector<std::string> keys;
  keys.reserve(outputs.size());
  for (const std::string& out : outputs) keys.push_back(out == "-" ? std::string() : PathKey(out));
  for (size_t i = 0; i < outputs.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (!keys[i].empty() && (keys[i] == keys[j] || SameFile(outputs[i], outputs[j])))
        return UsageError(fmt::format("two inputs would both be written to {}", outputs[i]));
  return OkStatus();
}

StatusOr<std::vector<std::string>> PlanOutputs(const std::string& output, const std::vector<std::string>& inputs,
                                               std::string_view ext, const std::vector<std::string>& reads) {
  std::vector<std::string> paths;
  paths.reserve(inputs.size());
  for (const std::string& in : inputs) paths.push_back(OutputPathFor(in, output, ext));
  RETURN_IF_ERROR(CheckDistinctOutputs(paths));
  for (const std::string& p : paths) RETURN_IF_ERROR(CheckNotAnInput(p, reads));
  return paths;
}

struct OutputFile::Impl {
  std::string path;
  std::optional<OutputDirectory> dir;
  std::optional<AtomicOutput> file;
  ScopedFd fd;
};

OutputFile::OutputFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OutputFile::OutputFile(OutputFile&&) noexcept = default;
OutputFile::~OutputFile() {
  if (!impl_) return;
  impl_->fd.reset();
  impl_->file.reset();  // removes an uncommitted temp file, then the directory if empty
  impl_->dir.reset();
}

StatusOr<OutputFile> OutputFile::Open(const std::string& output, const std::string& input, std::string_view ext,
                                      const std::vector<std::string>& reads) {
  auto impl = std::make_unique<Impl>();
  impl->path = OutputPathFor(input, output, ext);
  if (impl->path == "-") return OutputFile(std::move(impl));
  RETURN_IF_ERROR(CheckNotAnInput(impl->path, reads));
  if (!output.empty() && output.back() == '/') {
    ASSIGN_OR_RETURN(OutputDirectory d, OutputDirectory::Create(output));
    impl->dir.emplace(std::move(d));
  }
  ASSIGN_OR_RETURN(AtomicOutput f, AtomicOutput::Create(impl->path));
  impl->file.emplace(std::move(f));
  impl->fd.reset(::open(impl->file->temp_path().c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!impl->fd) return IoError(fmt::format("{}: cannot write: {}", impl->path, std::strerror(errno)));
  return OutputFile(std::move(impl));
}

const std::string& OutputFile::path() const { return impl_->path; }
bool OutputFile::is_stdout() const { return impl_->path == "-"; }

Status OutputFile::Write(std::string_view data) {
  if (!is_stdout()) return WriteAll(impl_->fd.get(), data, impl_->path);
  if (std::fwrite(data.data(), 1, data.size(), stdout) == data.size() && std::fflush(stdout) == 0) return OkStatus();
  if (errno == EPIPE) return store::ClosedPipe();
  return IoError(fmt::format("writing output: {}", std::strerror(errno)));
}

Status OutputFile::Commit() {
  if (is_stdout()) return OkStatus();
  if (::close(impl_->fd.release()) != 0)
    return IoError(fmt::format("{}: cannot write: {}", impl_->path, std::strerror(errno)));
  RETURN_IF_ERROR(impl_->file->Commit());
  if (impl_->dir) impl_->dir->Keep();
  return OkStatus();
}

Status WriteOutputFile(const std::string& output, const std::string& input, std::string_view ext,
                       std::string_view data) {
  ASSIGN_OR_RETURN(OutputFile out, OutputFile::Open(output, input, ext));
  RETURN_IF_ERROR(out.Write(data));
  return out.Commit();
}

}  // namespace memtk::io
