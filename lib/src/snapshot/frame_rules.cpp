#include "memtk/snapshot/frame_rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <regex>

#include "snapshot/call_site.h"
#include "snapshot/viewer_filter.h"

namespace memtk::snapshot {

namespace {

bool IsPythonFile(std::string_view filename);

constexpr std::string_view kArrow = " \u2192 ";

bool Contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

template <size_t N>
bool ContainsAny(std::string_view s, const std::array<std::string_view, N>& parts) {
  for (std::string_view p : parts)
    if (Contains(s, p)) return true;
  return false;
}

template <size_t N>
bool StartsWithAny(std::string_view s, const std::array<std::string_view, N>& prefixes) {
  for (std::string_view p : prefixes)
    if (s.starts_with(p)) return true;
  return false;
}

// The qualified name without its argument list: C++ frames read
// "at::Tensor c10::Dispatcher::redispatch<...>(...)"; the markers below are
// looked for in the part before "(" so an argument type (c10::SymInt,
// at::Tensor const&) does not make a frame plumbing.
std::string_view Qualified(std::string_view name) {
  size_t paren = name.find('(');
  return paren == std::string_view::npos ? name : name.substr(0, paren);
}

// The caching allocator, the allocation entry points it is reached through,
// unwinding, and the dispatcher (boxing, redispatch, operator stubs): the
// same answer for every allocation, so never the answer to "whose memory".
constexpr std::array<std::string_view, 19> kPlumbingNames = {"CUDACachingAllocator",
                                                             "c10::cuda::",
                                                             "CapturedTraceback",
                                                             "torch::unwind",
                                                             "c10::StorageImpl",
                                                             "c10::intrusive_ptr",
                                                             "c10::TensorImpl::",
                                                             "at::detail::empty_",
                                                             "at::detail::_empty_",
                                                             "c10::Dispatcher::",
                                                             "c10::OperatorHandle::",
                                                             "c10::impl::",
                                                             "c10::BoxedKernel",
                                                             "c10::KernelFunction",
                                                             "c10::callUnboxedKernel",
                                                             "at::_ops::",
                                                             "pybind11::cpp_function",
                                                             "c10::BoxedKernelWrapper",
                                                             "c10::impl::BoxedKernelWrapper"};

// CPython's interpreter loop and C API, for frames symbolised without a file
// (the viewer's PyEval_/PyObject_ list covers some; these are the rest that
// real snapshots show: _PyEval_Vector, slot_tp_call, method_vectorcall, ...).
constexpr std::array<std::string_view, 19> kCPythonPrefixes = {
    "_Py",          "Py",        "slot_",      "method_vectorcall", "cfunction_",   "vectorcall",
    "pymain_",      "pyrun_",    "run_mod",    "run_eval_code_obj", "thread_run",   "pythread_wrapper",
    "gen_iternext", "binary_op", "ternary_op", "call_function",     "do_call_core", "object_vacall",
    "builtin_"};
// The C runtime's thread and process start-up ("__libc_start_main",
// "__clone3", "start_thread", libstdc++'s "execute_native_thread_routine").
constexpr std::array<std::string_view, 5> kRuntimePrefixes = {"__", "clone", "start_thread", "pthread_",
                                                              "execute_native_thread_routine"};

// Files that are part of the machinery: CPython's own sources, torch
// dynamo's frame evaluation hook, and the dispatcher's generated
// registration files (the viewer matches "/Register" with a slash; snapshots
// symbolised without paths write "RegisterCUDA_0.cpp").
constexpr std::array<std::string_view, 3> kPlumbingFilePrefixes = {"Register", "Redispatch", "eval_frame.c"};

// Python files, after ToSlashLower.
constexpr std::array<std::string_view, 9> kLibraryPaths = {"/site-packages/", "/dist-packages/", "/torch/",
                                                           "/functorch/",     "/torchinductor_", "<frozen ",
                                                           "<eval_with_key",  "/lib/python2",    "/lib/pypy"};

std::string ToSlashLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\\') c = '/';
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsPythonFile(std::string_view filename) {
  return filename.ends_with(".py") || filename.ends_with(".pyw") || filename.starts_with("<");
}

// The Python standard library: <prefix>/lib/pythonX.Y/ (Linux, macOS, conda,
// venvs: lib64 too) not under site-packages, and on Windows the Lib folder of
// an installation (C:\...\Python311\Lib\copy.py, uv's cpython-3.10...\lib\,
// conda's envs\x\Lib\), recognised by a python or conda folder above it.
bool IsStdlib(const std::string& p) {
  for (std::string_view marker : {std::string_view("/lib/python3"), std::string_view("/lib64/python3")})
    if (Contains(p, marker)) return true;
  const bool windows = p.size() > 2 && p[1] == ':' && p[2] == '/';
  if (!windows) return false;
  size_t lib = p.find("/lib/");
  if (lib == std::string::npos) return false;
  std::string_view above = std::string_view(p).substr(0, lib);
  return Contains(above, "python") || Contains(above, "conda") || Contains(above, "/envs/");
}

}  // namespace

std::string_view FrameKindName(FrameKind kind) {
  switch (kind) {
    case FrameKind::kHidden:
      return "hidden";
    case FrameKind::kLibrary:
      return "library";
    case FrameKind::kUser:
      return "user";
  }
  return "?";
}

std::string_view SiteModeName(SiteMode mode) {
  switch (mode) {
    case SiteMode::kUser:
      return "user";
    case SiteMode::kInnermost:
      return "innermost";
    case SiteMode::kStack:
      return "stack";
  }
  return "?";
}

std::optional<SiteMode> SiteModeFromName(std::string_view name) {
  if (name == "user") return SiteMode::kUser;
  if (name == "innermost") return SiteMode::kInnermost;
  if (name == "stack") return SiteMode::kStack;
  return std::nullopt;
}

void ApplyFrameRulesEnv(FrameRulesOptions* options) {
  if (options->user_code.empty())
    if (const char* v = std::getenv(kUserCodeEnv)) options->user_code = v;
  if (options->library.empty())
    if (const char* v = std::getenv(kLibraryEnv)) options->library = v;
}

bool IsHiddenFrame(std::string_view filename, std::string_view name) {
  if (name.empty() || name == "??") return true;
  // PyTorch's viewer (MemoryViz.js frameFilter, _memory_viz.py
  // _frame_filter). Its function list is matched in C/C++ frames only: in
  // Python code "_start" would also hide a person's `def _start_epoch`.
  if (ViewerOmitsFile(filename)) return true;
  if (IsPythonFile(filename)) return false;
  if (ViewerOmitsFunction(name)) return true;
  std::string_view q = Qualified(name);
  if (ContainsAny(q, kPlumbingNames)) return true;
  if (StartsWithAny(filename, kPlumbingFilePrefixes)) return true;
  // C functions of the interpreter and the C runtime carry no namespace.
  if (!Contains(q, "::")) {
    if (StartsWithAny(name, kCPythonPrefixes) || StartsWithAny(name, kRuntimePrefixes)) return true;
    if (q.ends_with("_dealloc") && !q.starts_with("THP")) return true;
  }
  return false;
}

bool IsLibraryFrame(std::string_view filename, std::string_view name) {
  if (!IsPythonFile(filename)) {
    // C++ frames: torch's and the runtime's, unless --user-code claims them
    // (a user's own extension): by default user attribution means Python
    // source a person wrote.
    (void)name;
    return true;
  }
  std::string p = ToSlashLower(filename);
  if (p.starts_with("torch/")) return true;
  if (ContainsAny(p, kLibraryPaths)) return true;
  return IsStdlib(p);
}

// ---------------------------------------------------------------- FrameRules

struct FrameRules::Regex {
  std::regex re;
};

FrameRules::FrameRules() = default;

StatusOr<FrameRules> FrameRules::Make(const FrameRulesOptions& options) {
  FrameRules r;
  r.site_ = options.site;
  r.all_frames_ = options.all_frames;
  auto compile = [](std::string_view flag, const std::string& pattern, std::shared_ptr<const Regex>* out) -> Status {
    if (pattern.empty()) return OkStatus();
    auto rx = std::make_shared<Regex>();
    try {
      rx->re = std::regex(pattern, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      return UsageError(fmt::format("{}: invalid regular expression '{}': {}", flag, pattern, e.what()));
    }
    *out = std::move(rx);
    return OkStatus();
  };
  RETURN_IF_ERROR(compile("--user-code", options.user_code, &r.user_));
  RETURN_IF_ERROR(compile("--library", options.library, &r.library_));
  return r;
}

FrameKind FrameRules::Classify(std::string_view filename, int64_t line, std::string_view name) const {
  if (IsHiddenFrame(filename, name)) return FrameKind::kHidden;
  if (user_ || library_) {
    // The text a person sees and writes patterns against: file:line:name.
    const std::string text = fmt::format("{}:{}:{}", filename, line, name);
    if (user_ && std::regex_search(text, user_->re)) return FrameKind::kUser;
    if (library_ && std::regex_search(text, library_->re)) return FrameKind::kLibrary;
  }
  return IsLibraryFrame(filename, name) ? FrameKind::kLibrary : FrameKind::kUser;
}

// ---------------------------------------------------------------- Site

int64_t Site::Key() const {
  if (stack) return static_cast<int64_t>((uint64_t{1} << 32) | stack->value);
  return frame ? static_cast<int64_t>(frame->value) : -1;
}

// ---------------------------------------------------------------- FrameClassifier

FrameClassifier::FrameClassifier(FrameRules rules) : rules_(std::move(rules)) {}

void FrameClassifier::Reset(const Tables* tables) {
  tables_ = tables;
  kinds_.clear();
  known_.clear();
  sites_.clear();
  site_known_.clear();
}

FrameKind FrameClassifier::Kind(FrameId frame) {
  const size_t i = frame.value;
  if (i >= known_.size()) {
    // Frames arrive while the reader runs: grow to the table's size at once.
    size_t n = std::max(i + 1, tables_->num_frames());
    known_.resize(n, 0);
    kinds_.resize(n, FrameKind::kHidden);
  }
  if (!known_[i]) {
    const Frame& f = tables_->GetFrame(frame);
    kinds_[i] = rules_.Classify(tables_->String(f.filename), f.line, tables_->String(f.name));
    known_[i] = 1;
  }
  return kinds_[i];
}

const Site& FrameClassifier::SiteOf(StackId stack) {
  const size_t i = stack.value;
  if (i >= site_known_.size()) {
    size_t n = std::max(i + 1, tables_->num_stacks());
    site_known_.resize(n, 0);
    sites_.resize(n);
  }
  if (!site_known_[i]) {
    sites_[i] = SiteOf(tables_->GetStack(stack), rules_.site_mode());
    if (rules_.site_mode() == SiteMode::kStack) sites_[i].stack = stack;
    site_known_[i] = 1;
  }
  return sites_[i];
}

Site FrameClassifier::SiteOf(std::span<const FrameId> frames) { return SiteOf(frames, rules_.site_mode()); }

Site FrameClassifier::SiteOf(std::span<const FrameId> frames, SiteMode mode) {
  Site s;
  if (frames.empty()) return s;
  switch (mode) {
    case SiteMode::kUser:
      for (size_t i = 0; i < frames.size(); ++i) {
        if (Kind(frames[i]) != FrameKind::kUser) continue;
        s.frame = frames[i];
        s.is_user = true;
        // What it called, as a person would name it: the innermost Python
        // frame inside it (torch/nn/functional.py:1701:relu rather than
        // module.py's _call_impl wrappers on the way there: what the old
        // rule named), else the nearest visible frame (the C++ binding of
        // an operator, torch::autograd::THPVariable_getitem).
        for (size_t j = 0; j < i && !s.called; ++j) {
          const Frame& f = tables_->GetFrame(frames[j]);
          if (IsPythonFile(tables_->String(f.filename)) && Kind(frames[j]) != FrameKind::kHidden) s.called = frames[j];
        }
        for (size_t j = i; j-- > 0 && !s.called;)
          if (Kind(frames[j]) != FrameKind::kHidden) s.called = frames[j];
        return s;
      }
      s.frame = CallSiteFrame(*tables_, frames);
      return s;
    case SiteMode::kInnermost:
      s.frame = CallSiteFrame(*tables_, frames);
      return s;
    case SiteMode::kStack:
      for (FrameId f : frames)
        if (Visible(f)) {
          s.frame = f;
          break;
        }
      if (!s.frame) s.frame = frames.front();
      return s;
  }
  return s;
}

void FrameClassifier::VisibleFrames(std::span<const FrameId> frames, std::vector<FrameId>* out) {
  out->clear();
  for (FrameId f : frames)
    if (Visible(f)) out->push_back(f);
}

std::string FrameClassifier::SiteLabel(const Site& site, bool full_paths) {
  if (!site.frame) return "<no frames>";
  auto one = [&](FrameId f) { return full_paths ? FormatFrame(*tables_, f) : ShortFrame(*tables_, f); };
  if (site.stack) {
    std::span<const FrameId> frames = tables_->GetStack(*site.stack);
    VisibleFrames(frames, &scratch_);
    if (scratch_.empty()) return FormatFrame(*tables_, *site.frame);
    std::string out;
    for (size_t i = scratch_.size(); i-- > 0;) {
      if (!out.empty()) out += kArrow;
      out += one(scratch_[i]);
    }
    return out;
  }
  std::string out = FormatFrame(*tables_, *site.frame);
  if (site.called) {
    out += kArrow;
    out += one(*site.called);
  }
  return out;
}

std::string FrameClassifier::SiteFrameLabel(const Site& site) {
  if (!site.frame) return "<no frames>";
  if (site.stack) return SiteLabel(site, false);
  return FormatFrame(*tables_, *site.frame);
}

std::string_view CxxShortName(std::string_view name) {
  // The argument list starts at the first "(" that is not part of
  // "(anonymous namespace)" or "operator()".
  for (size_t i = name.find('('); i != std::string_view::npos; i = name.find('(', i + 1)) {
    if (name.substr(i).starts_with("(anonymous namespace)")) continue;
    if (i >= 8 && name.substr(i - 8).starts_with("operator()")) {
      ++i;
      continue;
    }
    if (i > 0) return name.substr(0, i);
  }
  return name;
}

std::string ShortFrame(const Tables& tables, FrameId frame) {
  const Frame& f = tables.GetFrame(frame);
  std::string_view file = tables.String(f.filename);
  std::string_view name = tables.String(f.name);
  if (!IsPythonFile(file)) {
    // C++: the qualified name alone says it; files are often "??" or empty
    // and lines 0.
    name = CxxShortName(name);
    if (file.empty() || file == "??") return std::string(name);
    size_t slash = file.find_last_of("/\\");
    if (slash != std::string_view::npos) file = file.substr(slash + 1);
    return f.line > 0 ? fmt::format("{}:{}:{}", file, f.line, name) : fmt::format("{}:{}", file, name);
  }
  // Library files keep their package path (torch/nn/functional.py), which
  // says more than the last component and is still short; others keep the
  // last component, as PyTorch's viewer prints them.
  std::string p = ToSlashLower(file);
  for (std::string_view marker : {std::string_view("/site-packages/"), std::string_view("/dist-packages/")}) {
    size_t at = p.rfind(marker);
    if (at != std::string::npos) return fmt::format("{}:{}:{}", file.substr(at + marker.size()), f.line, name);
  }
  size_t slash = file.find_last_of("/\\");
  if (slash != std::string_view::npos) file = file.substr(slash + 1);
  return fmt::format("{}:{}:{}", file, f.line, name);
}

}  // namespace memtk::snapshot
