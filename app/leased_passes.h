// The daemon's hooks for replicas that share a Redis store: a policy is passed only while this
// replica holds its lease (app/lease_keeper.h), its status is read afresh before each pass (the
// previous holder wrote it), and every write to the platform is fenced.
#pragma once

#include <memory>
#include <string>

#include "app/daemon.h"
#include "app/listener.h"
#include "app/lease_keeper.h"
#include "app/pass.h"
#include "providers/provider.h"
#include "providers/state_store.h"

namespace dynoherd::app {

// A provider whose writes (Scale, Restart, Stop) are sent only while the keeper's Fence for the
// policy is OK, checked right before each; a fenced-off write fails with FailedPrecondition and
// is never sent. Observe passes through.
class FencedProvider final : public providers::Provider {
 public:
  FencedProvider(std::shared_ptr<providers::Provider> inner, const LeaseKeeper& keeper,
                 std::string policy)
      : inner_(std::move(inner)), keeper_(keeper), policy_(std::move(policy)) {}

  Result<model::AppState> Observe(const std::string& app) override { return inner_->Observe(app); }
  Status Scale(const std::string& app,
               const std::vector<providers::ScaleRequest>& updates) override;
  Status Restart(const std::string& app, const std::string& dyno) override;
  Status Stop(const std::string& app, const std::string& dyno) override;

 private:
  Status Fence() const;

  const std::shared_ptr<providers::Provider> inner_;
  const LeaseKeeper& keeper_;
  const std::string policy_;
};

// `runtime` with its provider behind the keeper's fence for `policy`.
std::shared_ptr<PolicyRuntime> FencedRuntime(const PolicyRuntime& runtime,
                                             const LeaseKeeper& keeper, const std::string& policy);

// Wraps `hooks` (pass, build_runtime, load_policies: the keeper follows reloads) and sets acts_on.
// `keeper` and `store` outlive the daemon.
void UseLeases(DaemonHooks& hooks, LeaseKeeper& keeper, providers::StateStore& store);

// /readyz of a replica: the daemon's readiness, and then 503 unless the store answered the last
// lease round and this replica holds at least one lease (a standby is alive, not ready).
Readiness LeaseReadiness(Readiness daemon, const LeaseKeeper& keeper);

// /status with the leases: "replica" (this replica's token) and "leases", one object per policy
// {"policy", "holder" (a token, or null when free or unknown), "heldHere", "renewals",
// "losses"}, and "leaseStore" ("ok" or the error of the last lease round).
std::string StatusJsonWithLeases(const std::string& status_json, const LeaseKeeper& keeper);

}  // namespace dynoherd::app
