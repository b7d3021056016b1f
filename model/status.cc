#include "model/status.h"

namespace dynoherd::model {

std::string_view Name(ConditionStatus status) {
  switch (status) {
    case ConditionStatus::kTrue:
      return "True";
    case ConditionStatus::kFalse:
      return "False";
    case ConditionStatus::kUnknown:
      return "Unknown";
  }
  return "Unknown";
}

std::string_view Name(WriteKind kind) {
  switch (kind) {
    case WriteKind::kScale:
      return "scale";
    case WriteKind::kRestart:
      return "restart";
    case WriteKind::kStop:
      return "stop";
  }
  return "scale";
}

std::string_view Name(IntentState state) {
  return state == IntentState::kPending ? "pending" : "unknown";
}

const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type) {
  return FindByType(conditions, type);
}

std::optional<TimePoint> FormationStatus::LastRestartAt() const {
  std::optional<TimePoint> last;
  for (const auto& r : restarts) {
    if (!last || r.at > *last) last = r.at;
  }
  return last;
}

const FormationStatus* PolicyStatus::FindFormation(std::string_view type) const {
  return FindByType(formations, type);
}

FormationStatus* PolicyStatus::FindFormation(std::string_view type) {
  return FindByType(formations, type);
}

}  // namespace dynoherd::model
