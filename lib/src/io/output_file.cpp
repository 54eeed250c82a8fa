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
#include <unordered_set>

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

// What makes two paths one file: the device and inode of an existing file
// (so links count), else the normal absolute path of one not yet made, with
// the links of its existing part resolved ("out/x.png", "./out/../out/x.png").
// "" for standard input that cannot be looked at, which matches nothing.
std::string Identity(const std::string& path) {
  struct stat st {};
  if (path == "-" ? ::fstat(STDIN_FILENO, &st) == 0 : ::stat(path.c_str(), &st) == 0)
    return fmt::format("inode {}:{}", st.st_dev, st.st_ino);
  if (path == "-" || path.empty()) return "";
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  if (ec) return "path " + path;
  std::filesystem::path canon = std::filesystem::weakly_canonical(abs, ec);
  return "path " + (ec ? abs.lexically_normal() : canon).string();
}

}  // namespace

bool SameFile(const std::string& a, const std::string& b) {
  const std::string ia = Identity(a);
  return !ia.empty() && ia == Identity(b);
}

Status CheckNotAnInput(const std::string& output, const std::vector<std::string>& reads) {
  return CheckOutputs({output}, reads);
}

Status CheckOutputs(const std::vector<std::string>& outputs, const std::vector<std::string>& reads) {
  // One stat per path and hash lookups: a run over thousands of ranks pays
  // nothing noticeable for the checks.
  std::unordered_set<std::string> written;
  std::vector<std::string> ids;
  ids.reserve(outputs.size());
  for (const std::string& out : outputs) {
    ids.push_back(out.empty() || out == "-" ? std::string() : Identity(out));
    if (!ids.back().empty() && !written.insert(ids.back()).second)
      return UsageError(fmt::format("two inputs would both be written to {}", out));
  }
  std::unordered_set<std::string> read;
  for (const std::string& in : reads)
    if (std::string id = Identity(in); !id.empty()) read.insert(std::move(id));
  for (size_t i = 0; i < outputs.size(); ++i)
    if (!ids[i].empty() && read.count(ids[i]))
      return UsageError(fmt::format("{}: the output would overwrite the input", outputs[i]));
  return OkStatus();
}

StatusOr<std::vector<std::string>> PlanOutputs(const std::string& output, const std::vector<std::string>& inputs,
                                               std::string_view ext, const std::vector<std::string>& reads) {
  std::vector<std::string> paths;
  paths.reserve(inputs.size());
  for (const std::string& in : inputs) paths.push_back(OutputPathFor(in, output, ext));
  RETURN_IF_ERROR(CheckOutputs(paths, reads));
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
  impl->fd.reset(::open(impl->file->temp_path().c_str(), impl->file->OpenFlags()));
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
