// The seam between a reconcile pass and wherever latency comes from: Heroku router logs (a log
// session or a drain), a Prometheus query, or the simulator. One source may serve several
// formations of a policy (one log session carries every dyno's router lines).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/time.h"
#include "model/observation.h"
#include "providers/provider.h"
#include "spec/policy.h"

namespace dynoherd::providers {

class LatencySource {
 public:
  virtual ~LatencySource() = default;

  // The latency of each of `formations` (those of the policy this source serves) over its
  // `latency.window` ending at `now`. Never fails as a whole: a formation that could not be read
  // comes back with `value` unset and `unknown_reason` saying why, so the pass holds that
  // formation (Degraded) and goes on. `app` is what the same pass observed, for mapping dyno
  // names to formations.
  virtual std::map<std::string, model::FormationLatency> Read(
      const std::vector<const spec::FormationSpec*>& formations, const model::AppState& app,
      TimePoint now) = 0;
};

}  // namespace dynoherd::providers
