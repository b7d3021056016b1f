// The passes of `plan` and `reconcile`: one pass over each policy, one after the other.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "app/pass.h"
#include "app/runtime.h"
#include "common/logging.h"
#include "common/time.h"
#include "metrics/metrics.h"
#include "providers/state_store.h"
#include "spec/policy.h"

namespace dynoherd::app {

// One pass over each policy, in order: builds its runtime (a failure there fails that policy
// alone), runs the pass with the status saved in `store`, and when `apply`, saves the new status
// and the last-pass record after each pass (a failed save fails the policy). `clock` is the
// factory's; `metrics` may be null. `wrap`, when set, replaces each runtime built (the fence of
// a leased policy: app/leased_passes.h).
using RuntimeWrapper = std::function<std::shared_ptr<PolicyRuntime>(
    const spec::Policy& policy, const std::shared_ptr<PolicyRuntime>& runtime)>;
std::vector<PassResult> RunPasses(const std::vector<spec::Policy>& policies,
                                  RuntimeFactory& factory, providers::StateStore& store, bool apply,
                                  const Clock& clock, Logger& logger, metrics::Metrics* metrics,
                                  const RuntimeWrapper& wrap = {});

}  // namespace dynoherd::app
