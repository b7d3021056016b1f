#include "app/pass.h"

#include <chrono>
#include <cmath>
#include <optional>
#include <set>

#include "common/crash_point.h"
#include "model/status_validation.h"

namespace dynoherd::app {

namespace {

LogFields PolicyFields(const spec::Policy& policy) {
  return {{"policy", policy.name}, {"app", policy.app}};
}

const reconciler::LaggardVerdict* FindVerdict(const reconciler::FormationPlan& plan,
                                              const std::string& dyno) {
  for (const auto& v : plan.verdicts) {
    if (v.dyno == dyno) return &v;
  }
  return nullptr;
}

double Milliseconds(double seconds) {
  return std::round(seconds * 1000.0);
}

LogFields Concat(LogFields fields, const LogFields& more) {
  fields.insert(fields.end(), more.begin(), more.end());
  return fields;
}

model::WriteKind KindOf(reconciler::ActionKind kind) {
  switch (kind) {
    case reconciler::ActionKind::kScale:
      return model::WriteKind::kScale;
    case reconciler::ActionKind::kRestart:
      return model::WriteKind::kRestart;
    case reconciler::ActionKind::kStop:
      return model::WriteKind::kStop;
  }
  return model::WriteKind::kScale;
}

// The intent of plan.actions[index]; `observation` gives a dyno's updated_at when known.
model::WriteIntent IntentOf(const reconciler::Plan& plan, size_t index,
                            const model::Observation* observation, model::IntentState state) {
  const reconciler::Action& a = plan.actions[index];
  model::WriteIntent w;
  w.id = FormatTimestamp(plan.planned_at) + "#" + std::to_string(index);
  w.state = state;
  w.at = plan.planned_at;
  w.kind = KindOf(a.kind);
  w.cause = std::string(reconciler::Name(a.cause));
  w.from_quantity = a.from_quantity;
  w.to_quantity = a.to_quantity;
  w.dyno = a.dyno;
  w.dyno_updated_at = plan.planned_at;
  if (observation) {
    for (const auto& d : observation->dynos) {
      if (d.name == a.dyno) w.dyno_updated_at = d.updated_at;
    }
  }
  w.reason = a.reason;
  return w;
}

// The status saved before the plan's writes are sent: as if they all succeed, and each pending.
model::PolicyStatus WithIntents(const reconciler::Plan& plan,
                                const model::Observation& observation) {
  model::PolicyStatus status = plan.status;
  for (size_t i = 0; i < plan.actions.size(); ++i) {
    if (model::FormationStatus* f = status.FindFormation(plan.actions[i].formation)) {
      f->intents.push_back(IntentOf(plan, i, &observation, model::IntentState::kPending));
    }
  }
  return status;
}

}  // namespace

PassResult PassRunner::Run(const spec::Policy& policy, PolicyRuntime& runtime,
                           const model::PolicyStatus* previous, std::mt19937_64& rng,
                           const PassOptions& options) {
  PassResult result;
  result.policy = policy.name;
  result.app = policy.app;
  result.started_at = clock_.Now();
  logger_.Debug("pass started", PolicyFields(policy));

  Observe(policy, runtime, result);
  if (result.observed) {
    CrashPoint(kCrashAfterObserve);
    std::vector<std::string> ignored;
    std::optional<model::PolicyStatus> usable;
    if (previous) {
      usable = UsableStatus(policy, *previous, result.observation.observed_at, ignored);
      previous = &*usable;
    }
    result.plan = reconciler::Reconcile(policy, result.observation, previous,
                                        result.observation.observed_at, rng);
    for (auto& note : ignored)
      result.plan->notes.push_back(std::move(note));
    bool applying = options.apply && result.plan->apply;
    LogPlan(policy, result, applying);
    if (applying) Apply(policy, runtime, result, options.save_first);
    // After Apply: a failed action turns Degraded true, and that is a transition to log. Logged
    // against the previous pass's conditions, a failure repeated pass after pass logs nothing new.
    LogConditionChanges(policy, *result.plan);
    // A pass that could not see must not look like a calm one: it fails, naming the source's
    // error, once the rest of the plan was applied (a failed action's error comes first).
    if (Status blind = SourceFailures(*result.plan); result.status.ok() && !blind.ok()) {
      result.status = blind;
    }
  }
  result.finished_at = clock_.Now();
  Record(policy, result);
  return result;
}

model::PolicyStatus PassRunner::UsableStatus(const spec::Policy& policy,
                                             const model::PolicyStatus& saved, TimePoint now,
                                             std::vector<std::string>& notes) {
  model::PolicyStatus usable = saved;
  std::erase_if(usable.formations, [&](const model::FormationStatus& f) {
    const spec::FormationSpec* formation = policy.FindFormation(f.type);
    if (!formation) return false;  // not planned; kept as saved
    std::vector<std::string> problems = model::ValidateFormationStatus(f, *formation, now);
    if (problems.empty()) return false;
    std::string joined;
    for (const auto& p : problems)
      joined += (joined.empty() ? "" : "; ") + p;
    LogFields fields = PolicyFields(policy);
    fields.insert(fields.end(), {{"formation", f.type}, {"problems", joined}});
    logger_.Error("saved status is invalid; planned as if there were none", fields);
    notes.push_back("the saved status of " + f.type + " is invalid and was ignored: " + joined);
    return true;
  });
  return usable;
}

void PassRunner::Observe(const spec::Policy& policy, PolicyRuntime& runtime, PassResult& result) {
  if (!runtime.provider) {
    result.status = Status::Internal("no provider for policy " + policy.name);
    return;
  }
  Result<model::AppState> app = runtime.provider->Observe(policy.app);
  if (!app.ok()) {
    result.status = app.status().WithContext("observe app " + policy.app);
    return;
  }
  model::Observation& obs = result.observation;
  obs.observed_at = clock_.Now();
  obs.formations = app->formations;
  obs.dynos = app->dynos;
  model::SortDynos(obs.dynos);  // every list of dynos is shown, judged and exported in this order
  for (auto& binding : runtime.sources) {
    std::vector<const spec::FormationSpec*> formations;
    for (const auto& type : binding.formations) {
      if (const spec::FormationSpec* f = policy.FindFormation(type)) formations.push_back(f);
    }
    if (formations.empty() || !binding.source) continue;
    auto latencies = binding.source->Read(formations, *app, obs.observed_at);
    for (auto& [type, latency] : latencies)
      obs.latency[type] = std::move(latency);
  }
  result.observed = true;
}

namespace {

// How loud a condition's change is: Degraded turning True warns; Ready follows every scale and
// restart (whose own lines say what happened) and Unknown follows missing data (which Degraded
// explains), so those are debug; the rest (events starting and ending, Degraded clearing,
// pausing) is info. A condition first set to its healthy status is no news at all (nullopt).
std::optional<LogLevel> ConditionChangeLevel(const model::Condition& c, bool had_previous) {
  using model::ConditionStatus;
  const bool healthy = c.type == model::kReady ? c.status == ConditionStatus::kTrue
                                               : c.status == ConditionStatus::kFalse;
  if (!had_previous && healthy) return std::nullopt;
  if (c.type == model::kDegraded && c.status == ConditionStatus::kTrue) return LogLevel::kWarn;
  if (c.type == model::kReady || c.status == ConditionStatus::kUnknown) return LogLevel::kDebug;
  return LogLevel::kInfo;
}

}  // namespace

void PassRunner::LogConditionChanges(const spec::Policy& policy, const reconciler::Plan& plan) {
  for (const auto& formation : plan.formations) {
    // Conditions that changed in this pass: the moments an operator wants in the log.
    for (const auto& c : formation.conditions) {
      if (c.last_transition_time != plan.planned_at) continue;
      const bool had_previous =
          model::FindCondition(formation.undo.previous_conditions, c.type) != nullptr;
      std::optional<LogLevel> level = ConditionChangeLevel(c, had_previous);
      if (!level) continue;
      LogFields fields = PolicyFields(policy);
      fields.insert(fields.end(), {{"formation", formation.type},
                                   {"condition", c.type},
                                   {"status", std::string(model::Name(c.status))},
                                   {"reason", c.reason},
                                   {"detail", c.message}});
      logger_.Log(*level, "condition changed", fields);
    }
  }
}

void PassRunner::LogPlan(const spec::Policy& policy, const PassResult& result, bool applying) {
  const reconciler::Plan& plan = *result.plan;
  for (const auto& formation : plan.formations) {
    // Once per event, in the pass that crosses maxDuration: the metrics alert for as long as it
    // lasts (docs/metrics.md), and a line every pass would page whoever alerts on ERROR lines.
    if (formation.event_newly_exceeded_max_duration) {
      LogFields fields = PolicyFields(policy);
      fields.insert(fields.end(),
                    {{"formation", formation.type}, {"depth", formation.event_depth}});
      if (formation.event_started_at) {
        fields.push_back({"started", FormatTimestamp(*formation.event_started_at)});
      }
      logger_.Error("latency event exceeded maxDuration", fields);
    }
  }
  if (!applying && !plan.actions.empty()) {
    for (const auto& action : plan.actions) {
      LogFields fields = PolicyFields(policy);
      fields.insert(fields.end(), {{"formation", action.formation},
                                   {"action", action.Summary()},
                                   {"reason", action.reason},
                                   {"whyNotApplied", plan.apply ? "dry run" : "policy paused"}});
      logger_.Info("action planned, not applied", fields);
    }
  }
}

void PassRunner::Apply(const spec::Policy& policy, PolicyRuntime& runtime, PassResult& result,
                       const SaveStatus& save_first) {
  reconciler::Plan& plan = *result.plan;
  if (plan.actions.empty()) return;
  if (save_first) {
    if (Status saved = save_first(WithIntents(plan, result.observation)); !saved.ok()) {
      const Status not_sent = Status::FailedPrecondition(
          "not sent: the status could not be saved first: " + saved.message());
      for (size_t i = 0; i < plan.actions.size(); ++i)
        reconciler::RecordActionFailure(plan, i, not_sent);
      logger_.Error("actions not sent: the status could not be saved first",
                    Concat(PolicyFields(policy), {{"error", saved.message()}}));
      result.status = FailedActions(plan);
      return;
    }
    CrashPoint(kCrashAfterIntent);
  }
  result.applied = true;
  ApplyScales(policy, runtime, result.observation, plan);
  for (size_t i = 0; i < plan.actions.size(); ++i) {
    if (plan.actions[i].kind != reconciler::ActionKind::kScale) {
      ApplyDynoAction(policy, runtime, result.observation, plan, i);
    }
  }
  if (Status failed = FailedActions(plan); !failed.ok()) result.status = failed;
}

void PassRunner::ApplyScales(const spec::Policy& policy, PolicyRuntime& runtime,
                             const model::Observation& observation, reconciler::Plan& plan) {
  // Every scale in one batch: absolute quantities, so a retried request cannot over-scale.
  std::vector<size_t> scale_indexes;
  std::vector<providers::ScaleRequest> updates;
  for (size_t i = 0; i < plan.actions.size(); ++i) {
    const auto& a = plan.actions[i];
    if (a.kind != reconciler::ActionKind::kScale) continue;
    scale_indexes.push_back(i);
    updates.push_back({a.formation, a.to_quantity});
  }
  if (updates.empty()) return;
  Status s = runtime.provider->Scale(policy.app, updates);
  for (size_t i : scale_indexes) {
    const auto& a = plan.actions[i];
    LogFields fields = PolicyFields(policy);
    fields.insert(fields.end(), {{"formation", a.formation},
                                 {"from", a.from_quantity},
                                 {"to", a.to_quantity},
                                 {"cause", std::string(reconciler::Name(a.cause))},
                                 {"reason", a.reason}});
    if (s.ok()) {
      // "restored" only when a recorded event ended; other scales say what they are in `cause`.
      logger_.Info(
          a.cause == reconciler::ActionCause::kRestored ? "restored formation" : "scaled formation",
          fields);
      if (metrics_) {
        metrics_->CountScale(policy.name, policy.app, a.formation,
                             a.to_quantity > a.from_quantity ? "up" : "down");
      }
    } else {
      RecordOutcome(observation, plan, i, s, std::move(fields), "scaling");
    }
  }
}

void PassRunner::ApplyDynoAction(const spec::Policy& policy, PolicyRuntime& runtime,
                                 const model::Observation& observation, reconciler::Plan& plan,
                                 size_t index) {
  const auto& a = plan.actions[index];
  bool stop = a.kind == reconciler::ActionKind::kStop;
  Status s = stop ? runtime.provider->Stop(policy.app, a.dyno)
                  : runtime.provider->Restart(policy.app, a.dyno);
  LogFields fields = PolicyFields(policy);
  fields.insert(fields.end(), {{"formation", a.formation}, {"dyno", a.dyno}});
  const spec::FormationSpec* spec_formation = policy.FindFormation(a.formation);
  const reconciler::FormationPlan* fp = plan.FindFormation(a.formation);
  if (spec_formation && spec_formation->laggards && fp) {
    if (const auto* v = FindVerdict(*fp, a.dyno)) {
      std::string stat(spec::Name(spec_formation->laggards->statistic));
      fields.push_back({stat + "Ms", Milliseconds(v->value)});
      if (v->score) fields.push_back({"z", *v->score});
      fields.push_back({"referenceMs", Milliseconds(v->reference)});
    }
  }
  fields.push_back({"reason", a.reason});
  if (s.ok()) {
    // WARN for every restart or stop: users alert on it, as with the original slayer.
    logger_.Warn(stop ? "stopped laggard dyno" : "restarting laggard dyno", fields);
    if (metrics_) {
      metrics_->CountRestart(policy.name, policy.app, a.formation, stop ? "stop" : "restart");
    }
  } else {
    RecordOutcome(observation, plan, index, s, std::move(fields),
                  stop ? "stopping laggard dyno" : "restarting laggard dyno");
  }
}

void PassRunner::RecordOutcome(const model::Observation& observation, reconciler::Plan& plan,
                               size_t index, const Status& sent, LogFields fields,
                               const std::string& what) {
  fields.push_back({"error", sent.message()});
  if (sent.code() != Status::Code::kOutcomeUnknown) {
    logger_.Error(what + " failed", fields);
    reconciler::RecordActionFailure(plan, index, sent);
    return;
  }
  // Neither failed nor done: alerting on "failed" would tell operators something false.
  logger_.Warn(what + ": outcome unknown", fields);
  reconciler::RecordActionUnknown(plan, index, sent);
  if (model::FormationStatus* f = plan.status.FindFormation(plan.actions[index].formation)) {
    f->intents.push_back(IntentOf(plan, index, &observation, model::IntentState::kUnknown));
  }
}

Status PassRunner::SourceFailures(const reconciler::Plan& plan) {
  int failed = 0;
  std::string first;
  for (const auto& f : plan.formations) {
    if (f.latency_error.empty()) continue;
    if (failed++ == 0) first = f.type + ": " + f.latency_error;
  }
  if (failed == 0) return Status::Ok();
  std::string more = failed > 1 ? " (and " + std::to_string(failed - 1) + " more formations)" : "";
  return Status::Unavailable("latency source cannot observe " + first + more);
}

Status PassRunner::FailedActions(const reconciler::Plan& plan) {
  int failed = 0;
  std::string first_error;
  std::string first_unknown;
  for (const auto& a : plan.actions) {
    if (a.outcome_unknown && first_unknown.empty()) {
      first_unknown = a.formation + " " + a.Summary() + ": outcome unknown: " + a.error;
    }
    if (!a.failed) continue;
    if (failed++ == 0) first_error = a.formation + " " + a.Summary() + ": " + a.error;
  }
  if (failed == 0) {
    return first_unknown.empty() ? Status::Ok() : Status::OutcomeUnknown(first_unknown);
  }
  std::string more = failed > 1 ? " (and " + std::to_string(failed - 1) + " more)" : "";
  return Status::Unavailable(first_error + more);
}

void PassRunner::Record(const spec::Policy& policy, const PassResult& result) {
  double duration = ToSeconds(result.finished_at - result.started_at);
  LogFields fields = PolicyFields(policy);
  if (result.status.code() == Status::Code::kOutcomeUnknown) {
    fields.push_back({"error", result.status.message()});
    logger_.Warn("pass finished; a change's outcome is unknown", fields);
  } else if (!result.status.ok()) {
    fields.push_back({"error", result.status.message()});
    // Rate limited (Heroku's 429 past the retry budget, or the --api-reserve): the pass failed
    // like any other (exit 1, result="error"), but it is back-pressure that ends by itself as the
    // budget refills, not a fault to fix: a warning, not an error.
    bool rate_limited = result.status.code() == Status::Code::kResourceExhausted;
    logger_.Log(rate_limited ? LogLevel::kWarn : LogLevel::kError,
                rate_limited ? "pass failed: rate limited" : "pass failed", fields);
  } else {
    fields.push_back({"actions", result.ActionCount()});
    fields.push_back({"durationMs", Milliseconds(duration)});
    logger_.Debug("pass finished", fields);
  }
  if (!metrics_) return;
  metrics_->SetReconcileInterval(policy.name, ToSeconds(policy.interval));
  using Label = metrics::Metrics::PassResultLabel;
  const Label label = result.status.ok()                                     ? Label::kOk
                      : result.status.code() == Status::Code::kOutcomeUnknown ? Label::kUnknown
                                                                               : Label::kError;
  metrics_->RecordPass(policy.name, label, duration, result.finished_at);
  if (!result.plan) return;
  std::set<std::string> formations;
  for (const auto& fp : result.plan->formations) {
    const spec::FormationSpec* f = policy.FindFormation(fp.type);
    if (!f) continue;
    formations.insert(fp.type);
    metrics_->RecordFormation(
        FormationSampleOf(policy, *f, fp, result.observation, result.plan->planned_at));
  }
  metrics_->RetainFormations(policy.name, formations);
}

metrics::FormationSample FormationSampleOf(const spec::Policy& policy,
                                           const spec::FormationSpec& formation,
                                           const reconciler::FormationPlan& plan,
                                           const model::Observation& observation, TimePoint now) {
  metrics::FormationSample s;
  s.policy = policy.name;
  s.app = policy.app;
  s.formation = plan.type;
  s.observed_quantity = plan.observed_quantity.value_or(0);
  s.desired_quantity = plan.desired_quantity.value_or(s.observed_quantity);
  s.baseline_quantity = plan.baseline;
  if (formation.autoscale && plan.baseline) {
    s.max_quantity = *plan.baseline + formation.autoscale->max_extra_workers;
  }
  s.statistic = std::string(spec::Name(plan.statistic));
  s.latency_seconds = plan.latency_seconds;
  if (formation.autoscale) {
    s.latency_threshold_seconds = ToSeconds(formation.autoscale->latency_threshold);
    s.restored_threshold_seconds = ToSeconds(formation.autoscale->restored_threshold);
    if (formation.autoscale->max_duration) {
      s.event_max_duration_seconds = ToSeconds(*formation.autoscale->max_duration);
    }
  }
  s.needed_quantity = plan.needed_quantity;
  s.utilization = plan.utilization;
  if (plan.needed_quantity && plan.load) {
    s.arrivals_per_second = plan.load->arrivals_per_second;
    s.service_seconds = plan.load->service_seconds;
  }
  s.bound_min = plan.min_quantity;
  s.bound_max = plan.max_quantity;
  s.schedule = plan.schedule;
  s.event_active = plan.in_event;
  s.event_depth = plan.event_depth;
  if (plan.in_event && plan.event_started_at) {
    s.event_duration_seconds = std::max(0.0, ToSeconds(now - *plan.event_started_at));
  }
  const model::FormationLatency* latency = nullptr;
  if (auto it = observation.latency.find(plan.type); it != observation.latency.end()) {
    latency = &it->second;
  }
  for (const auto& dyno : observation.dynos) {
    if (dyno.type != plan.type) continue;
    metrics::DynoSample d;
    d.dyno = dyno.name;
    if (latency) {
      if (auto st = latency->per_dyno.find(dyno.name);
          st != latency->per_dyno.end() && st->second.count > 0) {
        d.mean = st->second.mean;
        d.p50 = st->second.p50;
        d.p95 = st->second.p95;
        d.p99 = st->second.p99;
      }
    }
    if (const auto* v = FindVerdict(plan, dyno.name); v && v->score) d.zscore = *v->score;
    s.dynos.push_back(std::move(d));
  }
  if (latency) {
    for (const auto& q : latency->queues) {
      s.queues.push_back({q.queue, q.size, q.latency_seconds});
    }
  }
  for (const auto& c : plan.conditions) {
    s.conditions.push_back({c.type, std::string(model::Name(c.status))});
  }
  return s;
}

}  // namespace dynoherd::app
