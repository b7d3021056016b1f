// What a pass is shown as: JSON for programs (`plan --output json`, `reconcile --output json`, the
// daemon's /status) and text for people (`plan`, `reconcile`, a pull-request check). Both are
// built from PassResult alone, so every command and the daemon say the same thing the same way.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/pass.h"
#include "model/report.h"

namespace dynoherd::app {

// One policy's pass in the shape every output shares (model/report.h, written by model/codec.h):
// the plan's actions and formations, each formation with its dynos in dyno order. `policy` says
// which formations have latency, autoscale and laggards (the others show null there); null: the
// pass's policy is not known, and those show null.
model::PassReport ReportOf(const PassResult& result, const spec::Policy* policy);
// model::ToJson(ReportOf(result, policy)).
nlohmann::json PassResultJson(const PassResult& result, const spec::Policy* policy);

// Counts over several passes, for summaries and exit statuses.
struct PassTotals {
  int policies = 0;
  int failed_policies = 0;
  int planned = 0;  // actions of active policies (what `reconcile` would apply)
  int held = 0;     // actions of paused policies: reported, never applied
  int applied = 0;  // actions sent and accepted
  int failed_actions = 0;
  int unknown_policies = 0;  // OutcomeUnknown: a change was sent and never answered
  int unknown_actions = 0;
};
PassTotals Totals(const std::vector<PassResult>& results);

// {dryRun, policies: [PassResultJson...], summary: {policies, failedPolicies, plannedActions,
// heldActions, appliedActions, failedActions}}: the one object `plan` and `reconcile` print
// (docs/schemas/plan.schema.json). `policies` are those the results are of.
nlohmann::json PassResultsJson(const std::vector<PassResult>& results,
                               const std::vector<spec::Policy>& policies, bool dry_run);

enum class RenderMode {
  kPlan,     // nothing was applied: "Plan: 1 scale, 1 restart."
  kApplied,  // `reconcile`: says what was applied and what failed
};

// The text for people: one block per policy (its actions with their reasons, why nothing is done
// where something looks wrong, paused and failed policies marked), then a summary. For example:
//
//   shop-web (app shop-production)
//     web  scale 4 -> 5        latency event: p95 2.41s > 2s (step 1 of 2)
//     web  restart web.3       laggard: p50 612ms, 4.1 sd above the other 5 dynos (4.4x ...)
//
//   Plan: 1 scale, 1 restart.
std::string RenderPasses(const std::vector<PassResult>& results, RenderMode mode);

}  // namespace dynoherd::app
