#include "reconciler/plan.h"

#include <nlohmann/json.hpp>

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
    case ActionCause::kCeiling:
      return "ceiling";
    case ActionCause::kLaggard:
      return "laggard";
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
  return FindByType(formations, type);
}

FormationPlan* Plan::FindFormation(std::string_view type) {
  return FindByType(formations, type);
}

namespace {

using nlohmann::json;

template <typename T>
json OrNull(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json TimeOrNull(const std::optional<TimePoint>& t) {
  return t ? json(FormatTimestamp(*t)) : json(nullptr);
}

json ToJson(const Action& a) {
  json j = {{"kind", Name(a.kind)}, {"cause", Name(a.cause)}, {"formation", a.formation}};
  if (a.kind == ActionKind::kScale) {
    j["from"] = a.from_quantity;
    j["to"] = a.to_quantity;
  } else {
    j["dyno"] = a.dyno;
  }
  j["summary"] = a.Summary();
  j["reason"] = a.reason;
  j["failed"] = a.failed;
  if (a.failed) j["error"] = a.error;
  return j;
}

json ToJson(const LaggardVerdict& v) {
  return {{"dyno", v.dyno},    {"judged", v.judged},       {"slow", v.slow},
          {"value", v.value},  {"score", OrNull(v.score)}, {"reference", v.reference},
          {"reason", v.reason}};
}

json ToJson(const FormationPlan& f) {
  json verdicts = json::array();
  for (const auto& v : f.verdicts)
    verdicts.push_back(ToJson(v));
  json conditions = json::array();
  for (const auto& c : f.conditions)
    conditions.push_back(ToJson(c));
  json latency = {{"statistic", spec::Name(f.statistic)},
                  {"seconds", OrNull(f.latency_seconds)},
                  {"samples", f.latency_samples}};
  if (!f.latency_unknown_reason.empty()) latency["unknownReason"] = f.latency_unknown_reason;
  return {{"type", f.type},
          {"observedQuantity", OrNull(f.observed_quantity)},
          {"desiredQuantity", OrNull(f.desired_quantity)},
          {"baseline", {{"kind", Name(f.baseline_kind)}, {"quantity", OrNull(f.baseline)}}},
          {"latency", std::move(latency)},
          {"event",
           {{"inEvent", f.in_event},
            {"startedAt", TimeOrNull(f.event_started_at)},
            {"startEstimated", f.event_start_estimated},
            {"depth", f.event_depth},
            {"maxDepth", f.max_depth},
            {"exceededMaxDuration", f.event_exceeded_max_duration}}},
          {"laggards", {{"decided", f.laggards_decided}, {"verdicts", std::move(verdicts)}}},
          {"notes", f.notes},
          {"conditions", std::move(conditions)}};
}

}  // namespace

json ToJson(const Plan& plan) {
  json actions = json::array();
  for (const auto& a : plan.actions)
    actions.push_back(ToJson(a));
  json formations = json::array();
  for (const auto& f : plan.formations)
    formations.push_back(ToJson(f));
  return {{"policy", plan.policy},
          {"app", plan.app},
          {"plannedAt", FormatTimestamp(plan.planned_at)},
          {"apply", plan.apply},
          {"actions", std::move(actions)},
          {"formations", std::move(formations)},
          {"notes", plan.notes}};
}

}  // namespace dynoherd::reconciler
