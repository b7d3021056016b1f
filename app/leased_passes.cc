#include "app/leased_passes.h"

#include <nlohmann/json.hpp>

namespace dynoherd::app {

Status FencedProvider::Fence() const {
  Status s = keeper_.Fence(policy_);
  return s.ok() ? s : Status::FailedPrecondition(s.message() + "; the write was not sent");
}

Status FencedProvider::Scale(const std::string& app,
                             const std::vector<providers::ScaleRequest>& updates) {
  if (Status s = Fence(); !s.ok()) return s;
  return inner_->Scale(app, updates);
}

Status FencedProvider::Restart(const std::string& app, const std::string& dyno) {
  if (Status s = Fence(); !s.ok()) return s;
  return inner_->Restart(app, dyno);
}

Status FencedProvider::Stop(const std::string& app, const std::string& dyno) {
  if (Status s = Fence(); !s.ok()) return s;
  return inner_->Stop(app, dyno);
}

namespace {

PassResult NotPassed(const spec::Policy& policy, Status why, TimePoint now) {
  PassResult result;
  result.policy = policy.name;
  result.app = policy.app;
  result.status = std::move(why);
  result.started_at = result.finished_at = now;
  return result;
}

}  // namespace

std::shared_ptr<PolicyRuntime> FencedRuntime(const PolicyRuntime& runtime,
                                             const LeaseKeeper& keeper,
                                             const std::string& policy) {
  auto fenced = std::make_shared<PolicyRuntime>(runtime);
  fenced->provider = std::make_shared<FencedProvider>(runtime.provider, keeper, policy);
  return fenced;
}

void UseLeases(DaemonHooks& hooks, LeaseKeeper& keeper, providers::StateStore& store) {
  hooks.acts_on = [&keeper](const std::string& policy) { return keeper.Holds(policy); };
  hooks.build_runtime = [&keeper, build = std::move(hooks.build_runtime)](
                            const spec::Policy& policy) -> Result<std::shared_ptr<PolicyRuntime>> {
    Result<std::shared_ptr<PolicyRuntime>> built = build(policy);
    if (!built.ok()) return built;
    return FencedRuntime(**built, keeper, policy.name);
  };
  if (hooks.load_policies) {
    hooks.load_policies = [&keeper, load = std::move(hooks.load_policies)]()
        -> Result<std::vector<spec::Policy>> {
      Result<std::vector<spec::Policy>> loaded = load();
      if (!loaded.ok()) return loaded;
      std::vector<std::string> names;
      for (const spec::Policy& policy : *loaded)
        names.push_back(policy.name);
      keeper.SetPolicies(std::move(names));
      return loaded;
    };
  }
  hooks.pass = [&keeper, &store, pass = std::move(hooks.pass)](
                   const spec::Policy& policy, PolicyRuntime& runtime,
                   const model::PolicyStatus* /*daemon's copy*/, std::mt19937_64& rng,
                   const SaveStatus& save_first) {
    keeper.BeginPass(policy.name);
    struct EndPass {
      LeaseKeeper& keeper;
      const std::string& policy;
      ~EndPass() { keeper.EndPass(policy); }
    } end_pass{keeper, policy.name};
    // The time is only for the record of a pass that did not run.
    const TimePoint now = std::chrono::system_clock::now();
    if (Status held = keeper.Fence(policy.name); !held.ok()) return NotPassed(policy, held, now);
    // The daemon's copy is what this replica last saw; the previous holder may have written since.
    if (Status read = store.Refresh(policy.name); !read.ok()) {
      return NotPassed(policy, read.WithContext("reading the status"), now);
    }
    std::optional<model::PolicyStatus> previous;
    if (const model::PolicyStatus* saved = store.Find(policy.name)) previous = *saved;
    return pass(policy, runtime, previous ? &*previous : nullptr, rng, save_first);
  };
}

Readiness LeaseReadiness(Readiness daemon, const LeaseKeeper& keeper) {
  if (!daemon.ready) return daemon;
  if (Status health = keeper.Health(); !health.ok()) {
    return {false, "the store is unreachable: " + health.message()};
  }
  std::vector<std::string> held = keeper.Held();
  if (held.empty()) {
    return {false, "standby: this replica holds no lease (" +
                       std::to_string(keeper.live_replicas()) + " live replicas)"};
  }
  std::string names;
  for (const std::string& name : held)
    names += (names.empty() ? "" : ", ") + name;
  return {true, daemon.reason + "; holds the leases of " + names};
}

std::string StatusJsonWithLeases(const std::string& status_json, const LeaseKeeper& keeper) {
  using nlohmann::json;
  json doc = json::parse(status_json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return status_json;
  doc["replica"] = keeper.token();
  Status health = keeper.Health();
  doc["leaseStore"] = health.ok() ? "ok" : health.message();
  json leases = json::array();
  for (const LeaseView& view : keeper.Views()) {
    leases.push_back({{"policy", view.policy},
                      {"holder", view.holder.empty() ? json(nullptr) : json(view.holder)},
                      {"heldHere", view.held},
                      {"renewals", view.renewals},
                      {"losses", view.losses}});
  }
  doc["leases"] = std::move(leases);
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace dynoherd::app
