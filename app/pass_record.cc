#include "app/pass_record.h"

#include <nlohmann/json.hpp>

#include "model/codec.h"

namespace dynoherd::app {

namespace {

using model::FormationRecord;
using model::PassRecord;

FormationRecord RecordOf(const reconciler::FormationPlan& fp,
                         const model::Observation& observation) {
  FormationRecord f;
  f.type = fp.type;
  f.observed_quantity = fp.observed_quantity;
  f.desired_quantity = fp.desired_quantity;
  f.baseline = fp.baseline;
  f.baseline_kind = std::string(reconciler::Name(fp.baseline_kind));
  for (const auto& d : observation.dynos) {
    if (d.type != fp.type) continue;
    ++f.dynos;
    if (d.state == "up") ++f.dynos_up;
  }
  if (observation.latency.count(fp.type)) {
    f.queues = observation.latency.at(fp.type).queues;
    f.statistic = std::string(spec::Name(fp.statistic));
    f.latency_seconds = fp.latency_seconds;
    f.latency_unknown_reason = fp.latency_unknown_reason;
    if (!f.latency_seconds && f.latency_unknown_reason.empty()) {
      // Formations without autoscale: the planner does not read a formation statistic.
      const auto& latency = observation.latency.at(fp.type);
      f.latency_seconds = latency.value;
      f.latency_unknown_reason = latency.unknown_reason;
    }
  }
  return f;
}

}  // namespace

model::PassRecord NextPassRecord(const model::PassRecord* previous, const PassResult& result) {
  PassRecord r;
  if (previous) r = *previous;
  r.started_at = result.started_at;
  r.finished_at = result.finished_at;
  r.ok = result.status.ok();
  r.error = result.status.ok() ? "" : result.status.ToString();
  if (result.plan) {
    r.observed_at = result.observation.observed_at;
    r.formations.clear();
    for (const auto& fp : result.plan->formations)
      r.formations.push_back(RecordOf(fp, result.observation));
    if (result.applied) {
      r.actions_at = result.plan->planned_at;
      r.actions.clear();
      for (const auto& a : result.plan->actions) {
        r.actions.push_back({a.formation, std::string(reconciler::Name(a.kind)), a.Summary(),
                             a.reason, a.failed, a.error});
      }
    }
  }
  return r;
}

Status SavePass(providers::StateStore& store, const PassResult& result) {
  std::optional<PassRecord> previous;
  if (const nlohmann::json* saved = store.FindLastPass(result.policy)) {
    // A record this version cannot read is reporting data only: start a new one.
    Result<PassRecord> parsed = model::PassRecordFromJson(*saved);
    if (parsed.ok()) previous = std::move(parsed).value();
  }
  if (result.plan) store.Put(result.plan->status);
  store.PutLastPass(result.policy,
                    model::ToJson(NextPassRecord(previous ? &*previous : nullptr, result)));
  return store.Write();
}

}  // namespace dynoherd::app
