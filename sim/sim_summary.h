// The summary of a simulated run (`run` and `simulate` on provider sim): what dynoherd did and what
// it was worth, read from the simulator's ground truth (SimWorld::Truth), never from what dynoherd
// itself observed. Used at the end of `run` and by `simulate` (docs/simulator.md, "Reading the
// summary").
//
//   SimRunRecorder recorder;
//   for (each pass) recorder.Add(runner.Run(...));
//   Result<SimRunSummary> summary = BuildSimSummary(*world, policy, recorder);
//   std::fputs(RenderSimSummary(*summary).c_str(), stdout);
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/pass.h"
#include "common/status.h"
#include "common/time.h"
#include "reconciler/plan.h"
#include "sim/sim_world.h"
#include "spec/policy.h"

namespace dynoherd::sim {

using namespace std::chrono_literals;

// One action a pass sent to the platform, as the summary reports it.
struct SimAction {
  TimePoint at{};  // when the pass planned it (simulated time)
  reconciler::ActionKind kind = reconciler::ActionKind::kScale;
  std::string formation;  // process type
  std::string dyno;       // restart, stop
  int from_quantity = 0;  // scale
  int to_quantity = 0;    // scale
  std::string action;     // reconciler::Action::Summary(): "restart web.3", "scale 6 -> 7"
  std::string cause;      // reconciler::Name(ActionCause): "laggard", "latency-event", "restored"
  std::string reason;     // the plan's reason, for people
  std::string error;      // non-empty: the platform refused it
};

// Collects what the summary needs from each pass, so a long run need not keep its PassResults.
// Not thread-safe: one recorder per policy, or a lock around Add.
class SimRunRecorder {
 public:
  void Add(const app::PassResult& pass);

  // Actions sent to the platform, in the order sent (failed ones included, with their error).
  const std::vector<SimAction>& actions() const { return actions_; }
  int passes() const { return passes_; }
  int failed_passes() const { return failed_passes_; }
  // Actions planned but not sent: a paused policy, a plan-only pass.
  int64_t planned_not_applied() const { return planned_not_applied_; }

 private:
  std::vector<SimAction> actions_;
  int passes_ = 0;
  int failed_passes_ = 0;
  int64_t planned_not_applied_ = 0;
};

// An action with its formation's latency around it.
struct SimActionSummary {
  SimAction action;
  Duration offset{0};  // since the simulation started
  // The formation's requests (jobs) over [at - around, at) and [at, at + around), clamped to the
  // run; the spans say how much time each really covers (less near the start and the end).
  TruthSummary before;
  TruthSummary after;
  Duration before_span{0};
  Duration after_span{0};
};

struct SimFormationTruth {
  std::string type;
  TruthSummary truth;
};

// A stretch of the run with the same incidents in progress.
struct SimPhaseSummary {
  // "before", "between", "after" (no incident), or the incidents in progress joined by " + ":
  // "noisy-neighbor web.3 x4", "surge web x2.5". "whole run" when there was no incident.
  std::string name;
  Duration from{0};  // since the simulation started
  Duration to{0};
  std::vector<SimFormationTruth> formations;  // every simulated formation, in spec.sim order
};

// The ground truth of one minute of a formation, for the report's charts over time.
struct SimMinute {
  TimePoint from{};
  model::LatencyStats latency;  // count 0: nothing answered in that minute
};

// An incident as the world lived it: from its event until its dyno restarted, stopped or was
// scaled away (noisy neighbour), or its end (surge); whatever had not ended ends with the run.
struct SimIncident {
  std::string name;       // "noisy-neighbor web.3 x4", "surge web x2.5"
  std::string formation;  // the formation it hit
  TimePoint from{};
  TimePoint to{};
};

struct SimFormationSummary {
  std::string type;
  bool web = true;  // false: a worker formation, whose latencies are jobs' time in the queue
  // The policy's autoscale latencyThreshold for this formation, which `slower_than_threshold`
  // counts against; nullopt when the policy does not autoscale it.
  std::optional<Duration> threshold;
  spec::Statistic statistic = spec::Statistic::kP95;  // the policy's latency.statistic for it
  TruthSummary truth;         // the whole run
  int64_t queued_at_end = 0;  // worker: jobs still waiting when the run ended, not in `truth`
  int start_quantity = 0;     // as declared in spec.sim
  int end_quantity = 0;       // at the end of the run
  int peak_quantity = 0;      // the largest quantity scaled to
  int actions = 0;            // actions sent for this formation
  std::vector<SimMinute> minutes;  // the whole run, minute by minute (the last one may be short)
};

struct SimRunSummary {
  std::string policy;
  std::string app;
  uint64_t seed = 0;
  TimePoint start{};
  Duration simulated{0};  // how far the world ran
  Duration scenario{0};   // spec.sim.duration: longer than `simulated` when the run stopped early
  Duration interval{0};   // between passes
  Duration around{0};     // the before/after span of each action
  int passes = 0;
  int failed_passes = 0;
  int64_t planned_not_applied = 0;
  std::vector<SimFormationSummary> formations;  // every simulated formation, in spec.sim order
  std::vector<SimActionSummary> actions;        // in the order sent
  std::vector<SimPhaseSummary> phases;          // in time order, covering the whole run
  std::vector<SimEvent> events;                 // the platform's log (SimWorld::Events)
  std::vector<SimIncident> incidents;           // in the order they started
};

struct SimSummaryOptions {
  Duration around = 5min;  // the span before and after each action
};

// Reads the ground truth of `world` up to its current time, or to spec.sim.duration if it went
// past it: call it once the run has ended. The world is not changed (it only catches up with its
// clock). Errors only if `world` is not the world of `policy` (an action on a formation the
// world does not have).
Result<SimRunSummary> BuildSimSummary(SimWorld& world, const spec::Policy& policy,
                                      const SimRunRecorder& recorder,
                                      const SimSummaryOptions& options = {});
// The same from every pass of the run.
Result<SimRunSummary> BuildSimSummary(SimWorld& world, const spec::Policy& policy,
                                      const std::vector<app::PassResult>& passes,
                                      const SimSummaryOptions& options = {});

// For people: the actions with the latency around each, the phases, the formations; aligned
// columns, ending in a newline.
std::string RenderSimSummary(const SimRunSummary& summary);

// For programs: camelCase keys, latencies in seconds, times as RFC 3339 and as seconds since the
// start (`atSeconds`, `fromSeconds`, ...).
nlohmann::json ToJson(const SimRunSummary& summary);

}  // namespace dynoherd::sim
