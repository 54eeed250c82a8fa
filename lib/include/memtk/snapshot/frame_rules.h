// Whose frame is it: one classification of stack frames, used by every
// command that names code (stats, query, render-png, diff, and the flame
// graph / folded / pprof outputs).
//
// Each distinct frame is one of three kinds:
//   hidden   plumbing PyTorch's own viewer hides (MemoryViz.js frameFilter,
//            _memory_viz.py _frame_filter: CPython eval frames, unwinding),
//            plus unresolved `??` frames, frames without a name, the caching
//            allocator and the dispatcher. Never a site; left out of printed
//            stacks unless --all-frames.
//   library  site-packages, dist-packages, the Python standard library,
//            torch's own files (Python and C++), generated code (FX, inductor);
//            Linux and Windows paths alike.
//   user     everything else: the code a person wrote.
// `--user-code REGEX` and `--library REGEX` (ECMAScript, searched in the
// frame's "filename:line:name") override the rule for the frames they match;
// --user-code wins where both match. Hidden frames stay hidden.
//
// A *site* names where an allocation comes from (SiteMode):
//   user       the innermost user frame, with the library code it called
//              ("models.py:181:forward → functional.py:1701:relu": the
//              innermost Python frame inside it, else the nearest visible
//              frame inside it, e.g. an operator's C++ binding);
//              a stack without a user frame falls back to `innermost`.
//   innermost  the innermost Python frame, else the innermost non-plumbing
//              frame, else frame 0 (snapshot/call_site.h: memtk's rule before
//              user attribution).
//   stack      the whole stack, its visible frames, outermost first.
//
// Classification is computed once per distinct FrameId and a site once per
// StackId (FrameClassifier caches both), never per event.
//
// Example:
//   ASSIGN_OR_RETURN(FrameRules rules, FrameRules::Make(options.frames));
//   FrameClassifier c(rules);
//   ... in OnBegin(tables): c.Reset(&tables);
//   const Site& s = c.SiteOf(stack);   // cached per stack
//   std::string label = c.SiteLabel(s);
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "memtk/base/status.h"
#include "memtk/snapshot/snapshot.h"

namespace memtk::snapshot {

enum class FrameKind : uint8_t { kHidden, kLibrary, kUser };
/// "hidden", "library", "user".
std::string_view FrameKindName(FrameKind kind);

enum class SiteMode : uint8_t { kUser, kInnermost, kStack };
/// "user", "innermost", "stack".
std::string_view SiteModeName(SiteMode mode);
/// The mode a name names; nullopt for any other string.
std::optional<SiteMode> SiteModeFromName(std::string_view name);

/// Names the built-in rule (user sites, no regexes) in a memtk database's
/// meta table (key "site_rule"), beside stacks.site_frame_id written by it.
/// Bumped whenever the built-in classification changes, so a database
/// written by an older rule is not trusted for its stored sites.
inline constexpr const char* kBuiltinSiteRule = "user-1";

/// Environment variables that set --user-code and --library when the flag
/// is not given (for CI: set once, every command follows).
inline constexpr const char* kUserCodeEnv = "MEMTK_USER_CODE";
inline constexpr const char* kLibraryEnv = "MEMTK_LIBRARY";

/// What the command line says about frames; plain strings, validated by
/// FrameRules::Make.
struct FrameRulesOptions {
  std::string user_code;    ///< regex: matching frames are user code ("" = none)
  std::string library;      ///< regex: matching frames are library code ("" = none)
  bool all_frames = false;  ///< print hidden frames too
  SiteMode site = SiteMode::kUser;
};

/// Fills empty user_code / library from MEMTK_USER_CODE / MEMTK_LIBRARY.
void ApplyFrameRulesEnv(FrameRulesOptions* options);

/// The compiled rules; cheap to copy (the regexes are shared, immutable).
class FrameRules {
 public:
  /// Default rules, user sites.
  FrameRules();
  /// A regex that does not compile is a usage error naming the flag and
  /// the pattern: "--user-code: invalid regular expression '(': ...".
  static StatusOr<FrameRules> Make(const FrameRulesOptions& options);

  /// The kind of one frame (not cached: use FrameClassifier on hot paths).
  FrameKind Classify(std::string_view filename, int64_t line, std::string_view name) const;

  SiteMode site_mode() const { return site_; }
  bool all_frames() const { return all_frames_; }
  /// No regex overrides: the built-in rule alone (a database's stored
  /// sites, written with it, can then be used as they are).
  bool is_default() const { return !user_ && !library_; }

 private:
  struct Regex;
  std::shared_ptr<const Regex> user_, library_;
  SiteMode site_ = SiteMode::kUser;
  bool all_frames_ = false;
};

/// The built-in rule alone, without the regexes (exposed for tests):
/// true for frames PyTorch's viewer hides, unresolved and nameless frames,
/// the caching allocator and the dispatcher.
bool IsHiddenFrame(std::string_view filename, std::string_view name);
/// True for library code by path or, for C++ frames, by namespace.
bool IsLibraryFrame(std::string_view filename, std::string_view name);

/// Where an allocation comes from, per SiteMode.
struct Site {
  /// The site frame (user, innermost), or the innermost visible frame of the
  /// stack (stack mode); nullopt for an empty stack.
  std::optional<FrameId> frame;
  /// user mode, when `frame` is a user frame: the library code it called,
  /// the innermost visible Python frame inside it, else the nearest visible
  /// frame inside it; nullopt when only plumbing lies inside.
  std::optional<FrameId> called;
  /// stack mode: the stack (grouping key and label source).
  std::optional<StackId> stack;
  /// `frame` is a user frame (user mode found one; no fallback).
  bool is_user = false;

  /// A key that groups allocations by site: the frame id, or the stack id in
  /// stack mode (distinct spaces: stack keys have bit 32 set); -1 = no site.
  int64_t Key() const;
};

/// Kinds per FrameId and sites per StackId of one Tables, each computed once.
/// Not thread-safe; one per sink. The tables may grow between calls (frames
/// and stacks arrive while a reader runs).
class FrameClassifier {
 public:
  explicit FrameClassifier(FrameRules rules = FrameRules());
  /// Points at `tables` (a sink's OnBegin) and forgets every cached answer.
  void Reset(const Tables* tables);
  const Tables* tables() const { return tables_; }
  const FrameRules& rules() const { return rules_; }

  FrameKind Kind(FrameId frame);
  /// Shown in printed stacks: not hidden, or --all-frames.
  bool Visible(FrameId frame) { return rules_.all_frames() || Kind(frame) != FrameKind::kHidden; }

  /// The site of `stack` under the rules' mode, cached per stack.
  const Site& SiteOf(StackId stack);
  /// Same, for frames not (yet) interned as a stack; not cached.
  Site SiteOf(std::span<const FrameId> frames);
  /// Same with an explicit mode (ignores rules().site_mode()).
  Site SiteOf(std::span<const FrameId> frames, SiteMode mode);

  /// The frames of `frames` that Visible() keeps, in the same order
  /// (innermost first).
  void VisibleFrames(std::span<const FrameId> frames, std::vector<FrameId>* out);

  /// How a person reads the site:
  ///   user       "models.py:181:forward → functional.py:1701:relu"
  ///              ("file:line:name" of the site, short file names, the called
  ///              frame after " → " when there is one); full paths when
  ///              `full_paths`
  ///   innermost  "file:line:name" (full path: today's output)
  ///   stack      visible frames outermost first, joined by " → "
  /// "<no frames>" without a site.
  std::string SiteLabel(const Site& site, bool full_paths = false);
  /// Just the site frame, "file:line:name" with the full path (what query's
  /// `site` column and diff's keys hold); the stack label in stack mode.
  std::string SiteFrameLabel(const Site& site);

 private:
  FrameRules rules_;
  const Tables* tables_ = nullptr;
  std::vector<FrameKind> kinds_;  // by FrameId
  std::vector<uint8_t> known_;    // kinds_[i] computed
  std::vector<Site> sites_;       // by StackId
  std::vector<uint8_t> site_known_;
  std::vector<FrameId> scratch_;
};

/// A frame as reports print it beside a site and in stacks: Python frames as
/// "file:line:name" with the path cut to the package path for library files
/// ("torch/nn/functional.py:1701:relu") and to the last component otherwise,
/// as PyTorch's viewer prints them (either slash); C++ frames as their
/// qualified name without the argument list, after "file:" when the file is
/// known ("Blas.cpp:at::native::(anonymous namespace)::addmm_out_cuda_impl").
std::string ShortFrame(const Tables& tables, FrameId frame);

/// A C++ symbol without its argument list (and what follows it):
/// "at::native::relu(at::Tensor const&)" -> "at::native::relu".
std::string_view CxxShortName(std::string_view name);

}  // namespace memtk::snapshot
