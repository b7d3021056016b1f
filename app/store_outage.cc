#include "app/store_outage.h"

namespace dynoherd::app {

namespace {

void SetCondition(model::FormationStatus& formation, const model::Condition& condition) {
  if (model::Condition* old = model::FindByType(formation.conditions, condition.type)) {
    *old = condition;
  } else {
    formation.conditions.push_back(condition);
  }
}

void MarkPolicy(PolicySnapshot& snapshot, const model::Condition& condition) {
  const spec::Policy& policy = *snapshot.policy;
  if (!snapshot.status) {
    snapshot.status = model::PolicyStatus{};
    snapshot.status->policy = policy.name;
    snapshot.status->app = policy.app;
  }
  for (const spec::FormationSpec& spec : policy.formations) {
    model::FormationStatus* formation = snapshot.status->FindFormation(spec.type);
    if (!formation) {
      snapshot.status->formations.push_back({});
      formation = &snapshot.status->formations.back();
      formation->type = spec.type;
    }
    SetCondition(*formation, condition);
  }
}

}  // namespace

void StoreOutage::Update(const Status& round, const std::vector<PolicySnapshot>& policies) {
  std::lock_guard lock(mu_);
  if (round.ok()) {
    if (degraded_) logger_.Info("the status store answers again", {{"store", store_}});
    degraded_.reset();
    ClearExportedLocked();
    return;
  }
  if (!degraded_) {
    logger_.Warn("the status store is unreachable: acting on no policy, every one shown Degraded",
                 {{"store", store_}, {"error", round.message()}});
  }
  const std::string message = "the status store " + store_ + " is unreachable (" +
                              round.message() +
                              "): this replica neither acts on the policy nor knows whether "
                              "another one does";
  // The transition is the first failed round; the message follows the latest error.
  const TimePoint since = degraded_ ? degraded_->last_transition_time : clock_.Now();
  degraded_ = model::Condition{std::string(model::kDegraded), model::ConditionStatus::kTrue,
                               std::string(kStoreUnreachable), message, since};
  ExportLocked(policies);
}

// Set again at every round, never cleared in between, so that no scrape sees a gap.
void StoreOutage::ExportLocked(const std::vector<PolicySnapshot>& policies) {
  if (!metrics_) return;
  std::set<std::string> now;
  for (const PolicySnapshot& snapshot : policies) {
    std::vector<std::string> formations;
    for (const spec::FormationSpec& spec : snapshot.policy->formations)
      formations.push_back(spec.type);
    metrics_->OverrideCondition(snapshot.policy->name, snapshot.policy->app, formations,
                                {std::string(model::kDegraded), "True"});
    now.insert(snapshot.policy->name);
  }
  for (const std::string& policy : exported_) {
    if (!now.contains(policy)) metrics_->ClearConditionOverride(policy);  // dropped by a reload
  }
  exported_ = std::move(now);
}

void StoreOutage::ClearExportedLocked() {
  for (const std::string& policy : exported_)
    metrics_->ClearConditionOverride(policy);
  exported_.clear();
}

std::optional<model::Condition> StoreOutage::Condition() const {
  std::lock_guard lock(mu_);
  return degraded_;
}

std::vector<PolicySnapshot> StoreOutage::Mark(std::vector<PolicySnapshot> snapshots) const {
  const std::optional<model::Condition> degraded = Condition();
  if (!degraded) return snapshots;
  for (PolicySnapshot& snapshot : snapshots)
    MarkPolicy(snapshot, *degraded);
  return snapshots;
}

}  // namespace dynoherd::app
