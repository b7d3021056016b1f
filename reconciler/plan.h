// What one pass decided: the actions with their reasons, what was seen and concluded per formation,
// and the status to save. Produced by reconciler::Reconcile (reconciler/reconciler.h); the
// application layer applies, logs, renders and exports it. Plain data.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "model/status.h"
#include "reconciler/laggard_detector.h"
#include "spec/policy.h"

namespace dynoherd::reconciler {

enum class ActionKind { kScale, kRestart, kStop };
std::string_view Name(ActionKind kind);  // "scale", "restart", "stop"

// Why an action is planned; a stable word for logs and metrics labels.
enum class ActionCause {
  kDrift,         // the formation is not at its declared baseline outside an event
  kLatencyEvent,  // a step up during a latency event
  kRestored,      // the recorded event ended: back to the baseline
  // Above the declared baseline with no latency event recorded (a scale by hand, another tool,
  // or an event whose status was lost): back to the baseline once latency allows.
  kUnrecordedScale,
  kCeiling,  // above baseline + maxExtraWorkers
  kLaggard,  // a dyno far slower than its siblings
  // mode capacity: down to the size the observed load needs, still above the baseline
  kCapacity,
  kBounds,  // outside the formation's min/max or an open schedule's
};
// "drift", "latency-event", "restored", "unrecorded-scale", "ceiling", "laggard", "capacity",
// "bounds"
std::string_view Name(ActionCause cause);

struct Action {
  ActionKind kind = ActionKind::kScale;
  ActionCause cause = ActionCause::kDrift;
  std::string formation;  // process type
  std::string dyno;       // restart and stop
  int from_quantity = 0;  // scale: as observed
  int to_quantity = 0;    // scale: absolute, so a repeated request cannot over-scale
  // For people, numbers included: "latency event: p95 2.41s > 2s (step 1 of 2)",
  // "laggard: p50 612ms, 4.1 sd above the other 5 dynos (4.4x their mean 140ms)".
  std::string reason;

  // Set by RecordActionFailure, or by RecordActionUnknown (with outcome_unknown, not failed).
  bool failed = false;
  bool outcome_unknown = false;
  std::string error;

  std::string Summary() const;  // "scale 4 -> 5", "restart web.3", "stop web.3"
};

enum class BaselineKind {
  kNone,      // no quantity declared and none captured: the formation's size is left alone
  kDeclared,  // `quantity` in the spec
  kCaptured,  // recorded at the start of the current event (amigo's way)
};
std::string_view Name(BaselineKind kind);  // "none", "declared", "captured"

struct FormationPlan {
  std::string type;

  std::optional<int> observed_quantity;  // nullopt: the formation is not in the app
  std::optional<int> desired_quantity;   // what this pass wants; nullopt: no opinion
  BaselineKind baseline_kind = BaselineKind::kNone;
  std::optional<int> baseline;

  // The formation statistic (spec latency.statistic) of a formation with latency, which autoscale
  // compares with its thresholds; nullopt = unknown.
  spec::Statistic statistic = spec::Statistic::kP95;
  std::optional<double> latency_seconds;
  int64_t latency_samples = 0;
  std::string latency_unknown_reason;
  // The source could not observe (model::FormationLatency::error): the formation is Degraded
  // (LatencySourceFailed) and the pass fails once the plan is applied.
  std::string latency_error;

  // The floor and ceiling in force (the formation's min/max, or the open schedule's).
  std::optional<int> min_quantity;
  std::optional<int> max_quantity;
  std::string schedule;  // the open schedule's name; empty when none is

  // autoscale mode capacity: the load observed and the dynos it needs at targetUtilization;
  // nullopt when the source cannot tell the load (the pass then steps as mode step does).
  std::optional<model::FormationLoad> load;
  std::optional<int> needed_quantity;
  // The slots the load and the backlog keep busy over those the formation has; nullopt without
  // the load. 1 or more in a Sidekiq formation: a backlog it cannot drain, a trigger like latency.
  std::optional<double> utilization;
  int64_t queued_jobs = 0;  // Sidekiq: the jobs waiting in the formation's queues; else 0

  // Latency event, as it stands after this pass (only with autoscale).
  bool in_event = false;
  std::optional<TimePoint> event_started_at;
  bool event_start_estimated =
      false;            // the status was lost: derived from the formation (decisions.md)
  int event_depth = 0;  // dynos over the baseline once the planned step is made
  int max_depth = 0;    // maxExtraWorkers
  bool event_exceeded_max_duration = false;
  // Only in the first pass past maxDuration (the last saved status did not say so yet): the caller
  // logs an ERROR then, once per event, not on every pass while it lasts (docs/operations.md).
  bool event_newly_exceeded_max_duration = false;

  // Laggards: one verdict per dyno of the formation, in observation order.
  bool laggards_decided = false;
  std::string laggards_no_verdict_reason;  // when not decided
  std::vector<LaggardVerdict> verdicts;

  // Decisions not to act, and why: "next step in 1m20s (alertInterval 2m)", "cooldown: ...".
  std::vector<std::string> notes;

  std::vector<model::Condition>
      conditions;  // Ready, LatencyEvent (with autoscale), Degraded, Paused

  // What RecordActionFailure needs to take back this formation's planned changes. Not for display.
  struct Undo {
    model::EventStatus event_if_not_scaled;
    std::vector<model::Condition> previous_conditions;
  } undo;
};

struct Plan {
  std::string policy;
  std::string app;
  TimePoint planned_at{};
  bool apply = true;  // false when the policy is paused: report the actions, do not apply them
  std::vector<Action> actions;            // scale actions first, then restarts and stops
  std::vector<FormationPlan> formations;  // in spec order
  std::vector<std::string> notes;         // about the whole policy
  // The status to save once the actions are applied. It assumes every action succeeds when `apply`
  // and that none happened when not; report failures with RecordActionFailure before saving.
  model::PolicyStatus status;

  const FormationPlan* FindFormation(std::string_view type) const;
  FormationPlan* FindFormation(std::string_view type);
};

}  // namespace dynoherd::reconciler
