#include "app/pass.h"

#include <chrono>
#include <cmath>
#include <set>

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
    result.plan = reconciler::Reconcile(policy, result.observation, previous,
                                        result.observation.observed_at, rng);
    bool applying = options.apply && result.plan->apply;
    LogPlan(policy, result, applying);
    if (applying) Apply(policy, runtime, result);
    // After Apply: a failed action turns Degraded true, and that is a transition to log. Logged
    // against the previous pass's conditions, a failure repeated pass after pass logs nothing new.
    LogConditionChanges(policy, *result.plan);
  }
  result.finished_at = clock_.Now();
  Record(policy, result);
  return result;
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

void PassRunner::LogConditionChanges(const spec::Policy& policy, const reconciler::Plan& plan) {
  for (const auto& formation : plan.formations) {
    // Conditions that changed in this pass: the moments an operator wants in the log.
    for (const auto& c : formation.conditions) {
      if (c.last_transition_time != plan.planned_at) continue;
      bool bad = (c.type == model::kDegraded && c.status == model::ConditionStatus::kTrue);
      LogFields fields = PolicyFields(policy);
      fields.insert(fields.end(), {{"formation", formation.type},
                                   {"condition", c.type},
                                   {"status", std::string(model::Name(c.status))},
                                   {"reason", c.reason},
                                   {"detail", c.message}});
      logger_.Log(bad ? LogLevel::kWarn : LogLevel::kInfo, "condition changed", fields);
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
                                   {"why_not_applied", plan.apply ? "dry run" : "policy paused"}});
      logger_.Info("action planned, not applied", fields);
    }
  }
}

void PassRunner::Apply(const spec::Policy& policy, PolicyRuntime& runtime, PassResult& result) {
  reconciler::Plan& plan = *result.plan;
  result.applied = !plan.actions.empty();
  ApplyScales(policy, runtime, plan);
  for (size_t i = 0; i < plan.actions.size(); ++i) {
    if (plan.actions[i].kind != reconciler::ActionKind::kScale) {
      ApplyDynoAction(policy, runtime, plan, i);
    }
  }
  if (Status failed = FailedActions(plan); !failed.ok()) result.status = failed;
}

void PassRunner::ApplyScales(const spec::Policy& policy, PolicyRuntime& runtime,
                             reconciler::Plan& plan) {
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
      logger_.Info(
          a.cause == reconciler::ActionCause::kRestored ? "restored formation" : "scaled formation",
          fields);
      if (metrics_) {
        metrics_->CountScale(policy.name, policy.app, a.formation,
                             a.to_quantity > a.from_quantity ? "up" : "down");
      }
    } else {
      fields.push_back({"error", s.message()});
      logger_.Error("scaling failed", fields);
      reconciler::RecordActionFailure(plan, i, s);
    }
  }
}

void PassRunner::ApplyDynoAction(const spec::Policy& policy, PolicyRuntime& runtime,
                                 reconciler::Plan& plan, size_t index) {
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
      fields.push_back({stat + "_ms", Milliseconds(v->value)});
      if (v->score) fields.push_back({"z", *v->score});
      fields.push_back({"reference_ms", Milliseconds(v->reference)});
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
    fields.push_back({"error", s.message()});
    logger_.Error(stop ? "stopping laggard dyno failed" : "restarting laggard dyno failed", fields);
    reconciler::RecordActionFailure(plan, index, s);
  }
}

Status PassRunner::FailedActions(const reconciler::Plan& plan) {
  int failed = 0;
  std::string first_error;
  for (const auto& a : plan.actions) {
    if (!a.failed) continue;
    if (failed++ == 0) first_error = a.formation + " " + a.Summary() + ": " + a.error;
  }
  if (failed == 0) return Status::Ok();
  std::string more = failed > 1 ? " (and " + std::to_string(failed - 1) + " more)" : "";
  return Status::Unavailable(first_error + more);
}

void PassRunner::Record(const spec::Policy& policy, const PassResult& result) {
  double duration = ToSeconds(result.finished_at - result.started_at);
  LogFields fields = PolicyFields(policy);
  if (!result.status.ok()) {
    fields.push_back({"error", result.status.message()});
    // A pass held back by the API budget reserve is expected back-pressure, not a failure to fix.
    bool budget = result.status.code() == Status::Code::kResourceExhausted;
    logger_.Log(budget ? LogLevel::kWarn : LogLevel::kError,
                budget ? "pass skipped" : "pass failed", fields);
  } else {
    fields.push_back({"actions", result.ActionCount()});
    fields.push_back({"duration_ms", Milliseconds(duration)});
    logger_.Debug("pass finished", fields);
  }
  if (!metrics_) return;
  metrics_->SetReconcileInterval(policy.name, ToSeconds(policy.interval));
  metrics_->RecordPass(policy.name, result.status.ok(), duration, result.finished_at);
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
