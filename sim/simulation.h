// `dynoherd simulate`: plays a sim policy from start to spec.sim.duration as fast as the CPU
// allows, through the same RuntimeFactory and PassRunner as `run` and Heroku; only the clock
// differs (a ManualClock moved to each pass's time). With --compare it plays the same seed once
// per variant, so the differences come from the policy, not from the traffic (docs/simulator.md).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/logging.h"
#include "common/status.h"
#include "common/time.h"
#include "sim/sim_summary.h"
#include "spec/policy.h"

namespace dynoherd::sim {

// What dynoherd may do in one run of `simulate --compare`.
enum class SimVariant {
  kDeclared,    // the policy as declared
  kUnmanaged,   // passes plan but never act: the formation as if nobody managed it
  kPopulation,  // laggards.method: population, the original slayer's rule
  kStep,        // every autoscale block in mode step (amigo's rule)
  kCapacity,    // every autoscale block in mode capacity
  kHeroku,      // Heroku's own autoscaling: web only, a p95 target, one dyno at a time
};
// "dynoherd", "without", "population", "step", "capacity", "heroku"
std::string_view Name(SimVariant variant);
std::string_view Describe(SimVariant variant);  // one line for people

// The policy a variant plays: a copy of the validated `policy`, changed as the variant says
// (kUnmanaged: paused; kPopulation: every laggards block uses method population; kStep and
// kCapacity: every autoscale block in that mode, capacity with the simulated dynos' concurrency
// when the policy declares none; kHeroku: workers not autoscaled, web formations in mode step on
// p95 with restoredThreshold = latencyThreshold).
spec::Policy PolicyFor(const spec::Policy& policy, SimVariant variant);

struct SimulationOptions {
  SimVariant variant = SimVariant::kDeclared;
  std::optional<uint64_t> seed;  // replaces spec.sim.seed
  // Makes the logger the passes write to, given the simulated clock (so log lines carry simulated
  // times) and the variant; null: the passes log nothing.
  std::function<std::unique_ptr<Logger>(const Clock& simulated, SimVariant variant)> make_logger;
  SimSummaryOptions summary;
};

// The simulated world starts at this instant, whatever the wall clock says, so the same spec
// prints the same timestamps on every run: 2026-01-01T00:00:00Z.
inline constexpr TimePoint kSimulationStart = TimePoint{} + std::chrono::seconds(1767225600);

struct SimulationRun {
  SimVariant variant = SimVariant::kDeclared;
  SimRunSummary summary;
};

// Plays `policy` (provider sim) once: a pass at the start and every `interval` before
// spec.sim.duration, each given the status the previous one left, then the summary at
// spec.sim.duration. The reconciler's random numbers are seeded from the sim seed: the same
// policy, options and seed give the same run. Errors: not a sim policy, an invalid spec.sim.
Result<SimulationRun> RunSimulation(const spec::Policy& policy, const SimulationOptions& options);

struct SimComparison {
  // kDeclared, kUnmanaged, kPopulation, kStep, kCapacity, kHeroku, in that order
  std::vector<SimulationRun> runs;
  // kPopulation plays exactly the declared policy (no laggards, or method population already).
  bool population_same_as_declared = false;
};

// RunSimulation once per variant on the same seed (options.variant is ignored).
Result<SimComparison> CompareSimulation(const spec::Policy& policy,
                                        const SimulationOptions& options);

// The variants of a comparison, one row each: the name, the actions sent, what it may do.
struct VariantRow {
  std::string name;
  std::string actions;  // "5 (1 restart, 4 scale)"
  std::string description;
};
std::vector<VariantRow> DescribeVariants(const SimComparison& comparison);

// One formation side by side: a row per measure, a cell per variant (in the order of `runs`).
struct ComparisonRow {
  std::string label;  // "p99", "dyno-minutes"
  std::vector<std::string> cells;
};
struct FormationComparison {
  std::string heading;  // "web (latencyThreshold 500ms)"
  std::vector<ComparisonRow> rows;
};
std::vector<FormationComparison> CompareFormations(const SimComparison& comparison);

// "demo (app demo-shop): 30m simulated, seed 42, a pass every 30s; the same traffic 3 times"
std::string DescribeComparison(const SimComparison& comparison);

// Side by side per formation: request count, p50/p95/p99, slower than latencyThreshold, H12s,
// unserved requests (web) or peak queue latency (worker), dyno-minutes; then actions per variant.
std::string RenderSimComparison(const SimComparison& comparison);
// {"policy", "app", "seed", "simulatedSeconds", "variants": [{"name", "description",
// "summary": ToJson(SimRunSummary)}]}
nlohmann::json ToJson(const SimComparison& comparison);

}  // namespace dynoherd::sim
