// Small valid FormationPolicy documents as JSON (which is YAML), for tests to change one thing
// in and load: `doc["spec"]["interval"] = "5s"; ParsePolicies(doc.dump(2), ...)`.
#pragma once

#include <nlohmann/json.hpp>

namespace dynoherd::testing {

// provider heroku, app "shop", one formation `web` with latency {}, laggards {} and autoscale
// {latencyThreshold: 2s}.
nlohmann::json HerokuPolicyDocument();

// The same on provider sim: latency source sim, spec.sim with `web` (3 dynos, serviceTime
// 100ms, rps 10) and two incidents: a noisy neighbour on web.1 at 1m, a web surge at 2m.
nlohmann::json SimPolicyDocument();

}  // namespace dynoherd::testing
