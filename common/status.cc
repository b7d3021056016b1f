#include "common/status.h"

namespace dynoherd {

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  Status copy = *this;
  copy.message_ = std::string(context) + ": " + message_;
  return copy;
}

Status Status::WithApiError(ApiErrorInfo info) const {
  Status copy = *this;
  copy.api_error_ = std::move(info);
  return copy;
}

std::string_view Status::CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kInvalidArgument: return "invalid_argument";
    case Code::kNotFound: return "not_found";
    case Code::kAlreadyExists: return "already_exists";
    case Code::kFailedPrecondition: return "failed_precondition";
    case Code::kPermissionDenied: return "permission_denied";
    case Code::kUnauthenticated: return "unauthenticated";
    case Code::kResourceExhausted: return "resource_exhausted";
    case Code::kUnavailable: return "unavailable";
    case Code::kDeadlineExceeded: return "deadline_exceeded";
    case Code::kAborted: return "aborted";
    case Code::kInternal: return "internal";
    case Code::kOutcomeUnknown: return "outcome_unknown";
  }
  return "unknown";
}

}  // namespace dynoherd
