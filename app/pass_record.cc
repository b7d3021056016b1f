#include "app/pass_record.h"

#include <nlohmann/json.hpp>

#include "app/report.h"
#include "model/codec.h"

namespace dynoherd::app {

model::PassRecord NextPassRecord(const model::PassRecord* previous, const PassResult& result,
                                 const spec::Policy* policy) {
  model::PassRecord r;
  r.last_pass = ReportOf(result, policy);
  if (previous) r.last_actions = previous->last_actions;
  if (!result.plan && previous) {
    // What the app looked like when it was last seen beats nothing at all.
    r.last_pass.observed_at = previous->last_pass.observed_at;
    r.last_pass.formations = previous->last_pass.formations;
  }
  if (result.applied && result.plan) {
    r.last_actions = model::LastActions{result.plan->planned_at, r.last_pass.actions};
  }
  return r;
}

Result<std::optional<model::PassRecord>> StoredPassRecord(const providers::StateStore& store,
                                                          const std::string& policy) {
  const nlohmann::json* saved = store.FindLastPass(policy);
  if (!saved) return std::optional<model::PassRecord>();
  return model::PassRecordFromJson(*saved);
}

Status SavePass(providers::StateStore& store, const PassResult& result,
                const model::PassRecord& record) {
  if (result.plan) store.Put(result.plan->status);
  store.PutLastPass(result.policy, model::ToJson(record));
  return store.Write();
}

}  // namespace dynoherd::app
