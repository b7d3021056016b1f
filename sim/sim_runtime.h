// The simulator as a platform of the runtime factory: `provider: sim` and `latency.source: sim`
// are made by the makers registered here, over one registry of worlds that the run's narrator and
// summaries read too.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "app/runtime.h"
#include "common/status.h"
#include "common/time.h"
#include "sim/sim_world.h"
#include "spec/policy.h"

namespace dynoherd::sim {

// The simulated world of each sim policy, created on first use on `clock` and kept while the
// policy's spec.sim and app stay the same (a reload that changes them gets a new world).
// Thread-safe.
class SimWorlds {
 public:
  explicit SimWorlds(const Clock& clock) : clock_(clock) {}  // `clock` outlives the registry

  // Errors: no spec.sim, an invalid one (naming the policy).
  Result<std::shared_ptr<SimWorld>> Acquire(const spec::Policy& policy);
  // The world of a policy, once acquired; null otherwise.
  SimWorld* Find(const std::string& policy_name);

 private:
  struct Entry {
    spec::SimSpec spec;
    std::string app;
    std::shared_ptr<SimWorld> world;
  };

  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

// Registers `provider: sim` (the policy's world) and `latency.source: sim` (the world's own
// latencies; only with provider: sim) on `factory`, both over `worlds`.
void RegisterSimulator(app::RuntimeFactory& factory, std::shared_ptr<SimWorlds> worlds);

}  // namespace dynoherd::sim
