#include "reconciler/plan.h"

namespace dynoherd::reconciler {

std::string_view Name(ActionKind kind) {
  switch (kind) {
    case ActionKind::kScale:
      return "scale";
    case ActionKind::kRestart:
      return "restart";
    case ActionKind::kStop:
      return "stop";
  }
  return "?";
}

std::string_view Name(ActionCause cause) {
  switch (cause) {
    case ActionCause::kDrift:
      return "drift";
    case ActionCause::kLatencyEvent:
      return "latency-event";
    case ActionCause::kRestored:
      return "restored";
    case ActionCause::kUnrecordedScale:
      return "unrecorded-scale";
    case ActionCause::kCeiling:
      return "ceiling";
    case ActionCause::kLaggard:
      return "laggard";
    case ActionCause::kCapacity:
      return "capacity";
    case ActionCause::kBounds:
      return "bounds";
  }
  return "?";
}

std::string_view Name(BaselineKind kind) {
  switch (kind) {
    case BaselineKind::kNone:
      return "none";
    case BaselineKind::kDeclared:
      return "declared";
    case BaselineKind::kCaptured:
      return "captured";
  }
  return "?";
}

std::string Action::Summary() const {
  if (kind == ActionKind::kScale) {
    return "scale " + std::to_string(from_quantity) + " -> " + std::to_string(to_quantity);
  }
  return std::string(Name(kind)) + " " + dyno;
}

const FormationPlan* Plan::FindFormation(std::string_view type) const {
  return model::FindByType(formations, type);
}

FormationPlan* Plan::FindFormation(std::string_view type) {
  return model::FindByType(formations, type);
}

}  // namespace dynoherd::reconciler
