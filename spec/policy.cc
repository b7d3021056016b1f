#include "spec/policy.h"

namespace dynoherd::spec {

std::string SourceLocation::ToString() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string_view Name(ProviderKind v) {
  switch (v) {
    case ProviderKind::kHeroku:
      return "heroku";
    case ProviderKind::kSim:
      return "sim";
  }
  return "?";
}

std::string_view Name(LatencySourceKind v) {
  switch (v) {
    case LatencySourceKind::kRouterLogs:
      return "router-logs";
    case LatencySourceKind::kPrometheus:
      return "prometheus";
    case LatencySourceKind::kSim:
      return "sim";
    case LatencySourceKind::kSidekiq:
      return "sidekiq";
  }
  return "?";
}

std::string_view Name(RouterLogsVia v) {
  switch (v) {
    case RouterLogsVia::kSession:
      return "session";
    case RouterLogsVia::kDrain:
      return "drain";
  }
  return "?";
}

std::string_view Name(Statistic v) {
  switch (v) {
    case Statistic::kMean:
      return "mean";
    case Statistic::kP50:
      return "p50";
    case Statistic::kP95:
      return "p95";
    case Statistic::kP99:
      return "p99";
    case Statistic::kMax:
      return "max";
  }
  return "?";
}

std::string_view Name(AutoscaleMode v) {
  switch (v) {
    case AutoscaleMode::kStep:
      return "step";
    case AutoscaleMode::kCapacity:
      return "capacity";
  }
  return "?";
}

bool ScheduleSpec::OpenAt(TimePoint now) const {
  if (weekly) return weekly->Contains(zone.ToCivil(now));
  if (parsed_cron && duration) return CronWindowOpen(*parsed_cron, *duration, zone, now);
  return false;
}

FormationSpec::Bounds FormationSpec::BoundsAt(TimePoint now) const {
  Bounds bounds{min, max, nullptr};
  for (const ScheduleSpec& schedule : schedules) {
    if (!schedule.OpenAt(now)) continue;
    if (schedule.min) bounds.min = schedule.min;
    if (schedule.max) bounds.max = schedule.max;
    bounds.schedule = &schedule;
    break;
  }
  return bounds;
}

double FormationSpec::TargetUtilization() const {
  if (autoscale->target_utilization) return *autoscale->target_utilization;
  return latency && latency->source == LatencySourceKind::kSidekiq ? 0.75 : 0.85;
}

std::string_view Name(LaggardMethod v) {
  switch (v) {
    case LaggardMethod::kLeaveOneOut:
      return "leave-one-out";
    case LaggardMethod::kPopulation:
      return "population";
    case LaggardMethod::kMad:
      return "mad";
  }
  return "?";
}

std::string_view Name(LaggardAction v) {
  switch (v) {
    case LaggardAction::kRestart:
      return "restart";
    case LaggardAction::kStop:
      return "stop";
  }
  return "?";
}

std::string_view Name(LaggardSelect v) {
  switch (v) {
    case LaggardSelect::kWorst:
      return "worst";
    case LaggardSelect::kRandom:
      return "random";
  }
  return "?";
}

std::string_view Name(IncidentKind v) {
  switch (v) {
    case IncidentKind::kNoisyNeighbor:
      return "noisy-neighbor";
    case IncidentKind::kSurge:
      return "surge";
  }
  return "?";
}

int CountOrPercent::Resolve(int total) const {
  if (!is_percent) return value;
  if (total <= 0) return 0;
  int count = (total * value + 99) / 100;
  return count < 1 && value > 0 ? 1 : count;
}

std::string CountOrPercent::ToString() const {
  return std::to_string(value) + (is_percent ? "%" : "");
}

const FormationSpec* Policy::FindFormation(std::string_view type) const {
  for (const auto& f : formations) {
    if (f.type == type) return &f;
  }
  return nullptr;
}

}  // namespace dynoherd::spec
