// Status and Result<T>: how every fallible call in dynoherd reports failure.
// Exceptions from third-party libraries stop at the module that calls them and become a Status.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace dynoherd {

// What a remote API said when it refused a request. Kept beside the message so callers can react
// to the HTTP status (retry, report "locked by a release") without parsing text.
struct ApiErrorInfo {
  int http_status = 0;      // 0 when the request never got an HTTP answer
  std::string error_id;     // Heroku's error "id", e.g. "rate_limit"; empty if none
  std::string request_id;   // the Request-Id response header; empty if none
};

class Status {
 public:
  enum class Code {
    kOk,
    kInvalidArgument,     // bad input from the user (spec, flags, files)
    kNotFound,
    kAlreadyExists,
    kFailedPrecondition,  // the world is not in a state that allows the operation
    kPermissionDenied,
    kUnauthenticated,
    kResourceExhausted,   // rate limits, budgets, size limits
    kUnavailable,         // transient: network, 5xx, locked formation; try again later
    kDeadlineExceeded,
    kAborted,             // stopped on purpose (shutdown)
    kInternal,            // a bug or a broken invariant
    kOutcomeUnknown,      // a write was sent and no answer came: it may or may not have happened
  };

  Status() = default;  // OK

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {Code::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {Code::kAlreadyExists, std::move(msg)}; }
  static Status FailedPrecondition(std::string msg) {
    return {Code::kFailedPrecondition, std::move(msg)};
  }
  static Status PermissionDenied(std::string msg) {
    return {Code::kPermissionDenied, std::move(msg)};
  }
  static Status Unauthenticated(std::string msg) { return {Code::kUnauthenticated, std::move(msg)}; }
  static Status ResourceExhausted(std::string msg) {
    return {Code::kResourceExhausted, std::move(msg)};
  }
  static Status Unavailable(std::string msg) { return {Code::kUnavailable, std::move(msg)}; }
  static Status DeadlineExceeded(std::string msg) {
    return {Code::kDeadlineExceeded, std::move(msg)};
  }
  static Status Aborted(std::string msg) { return {Code::kAborted, std::move(msg)}; }
  static Status Internal(std::string msg) { return {Code::kInternal, std::move(msg)}; }
  static Status OutcomeUnknown(std::string msg) { return {Code::kOutcomeUnknown, std::move(msg)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::optional<ApiErrorInfo>& api_error() const { return api_error_; }

  // The message alone, as users read it ("OK" when ok). Codes are for programs, not people.
  std::string ToString() const { return ok() ? "OK" : message_; }

  // A copy whose message reads "context: message", for adding where a failure happened.
  Status WithContext(std::string_view context) const;
  Status WithApiError(ApiErrorInfo info) const;

  static std::string_view CodeName(Code code);

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  Code code_ = Code::kOk;
  std::string message_;
  std::optional<ApiErrorInfo> api_error_;
};

// A value or the Status saying why there is none. REQUIRES: a Result is never built from an OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design, like std::optional
  Result(Status status) : state_(std::move(status)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(state_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(state_);
  }

  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace dynoherd
