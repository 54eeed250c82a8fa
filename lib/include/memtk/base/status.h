// Status and StatusOr: the one error type of the memtk library.
//
// Library code never throws across its boundary and never prints: every
// fallible function returns a Status (or StatusOr<T>) whose message is the
// exact one-line text a user sees after "memtk: <cmd>: ", already naming the
// input and the byte offset or line:column.
#pragma once

#include <cassert>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace memtk {

/// What went wrong, coarse enough to map onto exit codes.
enum class StatusCode {
  kOk = 0,
  kInvalidInput,  ///< The input is corrupt, truncated, hostile or unsupported.
  kIoError,       ///< The OS refused a read, write, rename, ...
  kUsage,         ///< The caller asked for something impossible (exit 2).
  kInternal,
};

/// An outcome: ok, or a code with a one-line message. An ok Status is one
/// null pointer, so returning it from per-opcode hot paths costs nothing.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message)
      : rep_(code == StatusCode::kOk ? nullptr : new Rep{code, std::move(message)}) {}
  Status(const Status& o) : rep_(o.rep_ ? new Rep(*o.rep_) : nullptr) {}
  Status& operator=(const Status& o) {
    if (this != &o) rep_.reset(o.rep_ ? new Rep(*o.rep_) : nullptr);
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  const std::string& message() const {
    static const std::string kEmpty;
    return rep_ ? rep_->message : kEmpty;
  }
  /// The same status with "<context>: " before its message (an ok status
  /// stays ok). Errors gain the input's name or place this way on their way
  /// up, never by rebuilding or searching their text.
  ///
  /// Example:
  ///   RETURN_IF_ERROR(Rasterize(t).status().WithContext(path));  // "a.db: no events"
  Status WithContext(std::string_view context) const& {
    return ok() ? Status() : Status(rep_->code, std::string(context) + ": " + rep_->message);
  }
  Status WithContext(std::string_view context) && {
    if (ok()) return {};
    rep_->message.insert(0, std::string(context) + ": ");
    return std::move(*this);
  }

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<Rep> rep_;
};

inline Status OkStatus() { return {}; }
inline Status InvalidInput(std::string m) { return {StatusCode::kInvalidInput, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status UsageError(std::string m) { return {StatusCode::kUsage, std::move(m)}; }

/// A value or the Status that explains why there is none.
template <class T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}                                              // NOLINT: implicit by design
  StatusOr(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &std::get<T>(v_); }
  T& operator*() & { return std::get<T>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace memtk

#define MEMTK_CONCAT_INNER(a, b) a##b
#define MEMTK_CONCAT(a, b) MEMTK_CONCAT_INNER(a, b)

/// Returns the Status from the enclosing function if `expr` is not ok.
/// (The temporary is named per use: a lambda inside `expr` may use it too.)
#define RETURN_IF_ERROR(expr) RETURN_IF_ERROR_IMPL(MEMTK_CONCAT(memtk_status_, __COUNTER__), expr)
#define RETURN_IF_ERROR_IMPL(tmp, expr) \
  do {                                  \
    ::memtk::Status tmp = (expr);       \
    if (!tmp.ok()) return tmp;          \
  } while (0)

/// `ASSIGN_OR_RETURN(auto x, F())`: unwraps a StatusOr or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr) ASSIGN_OR_RETURN_IMPL(MEMTK_CONCAT(memtk_so_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
