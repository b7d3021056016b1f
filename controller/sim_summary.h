// The summary `dynoherd run` prints when a simulated run ends: what dynoherd did (each action
// with the formation's latency before and after it) and the ground truth of every request per
// phase of the scenario (before the incidents, during each, after). Built on SimWorld::Truth, so
// it reports what really happened, not what dynoherd's latency windows saw.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "common/time.h"
#include "controller/pass.h"
#include "providers/sim/sim_world.h"
#include "spec/policy.h"

namespace dynoherd::controller {

// An action dynoherd applied, as the summary lists it.
struct SimAction {
  TimePoint at{};
  reconciler::ActionKind kind = reconciler::ActionKind::kScale;
  std::string formation;
  int from_quantity = 0;  // scale
  int to_quantity = 0;
  std::string summary;  // "restart web.3", "scale 6 -> 7"
  std::string cause;    // "laggard", "latency-event", "restored", ...
  std::string reason;   // the plan's reason, with its numbers
};

// Collects the applied actions of every pass (the daemon's on_pass hook). Thread-safe.
class SimActionLog {
 public:
  void Record(const PassResult& pass);
  std::vector<SimAction> For(const std::string& policy) const;

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, SimAction>> actions_;  // (policy, action), in order
};

// A range of the scenario between two incident boundaries.
struct SimPhase {
  std::string name;  // "before the incidents", "web.3 noisy neighbour x4", "after web surge"
  Duration from{0};  // simulated time since the world's start
  Duration to{0};
};

// The phases of `sim`: cut at every incident's start and a surge's end, within its duration.
std::vector<SimPhase> SimPhases(const spec::SimSpec& sim);

// The table for one sim policy. `wall_elapsed` is how long the run took in real time.
std::string FormatSimSummary(const spec::Policy& policy, providers::sim::SimWorld& world,
                             const std::vector<SimAction>& actions,
                             std::chrono::milliseconds wall_elapsed);

}  // namespace dynoherd::controller
