#include "sim/simulation.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "spec/loader.h"

using namespace dynoherd;
using namespace dynoherd::sim;
using namespace std::chrono_literals;

namespace {

// Tests run from the source root (cmake/dynoherd.cmake).
spec::Policy LoadFile(const std::string& path) {
  std::istringstream no_stdin;
  spec::LoadResult loaded = spec::LoadPolicies(
      {path}, [](const std::string&) { return std::optional<std::string>(); }, no_stdin);
  INFO(loaded.ErrorText());
  REQUIRE(loaded.ok());
  REQUIRE(loaded.policies.size() == 1);
  return loaded.policies.at(0);
}

SimRunSummary Play(const spec::Policy& policy, SimVariant variant = SimVariant::kDeclared,
                   std::optional<uint64_t> seed = std::nullopt) {
  SimulationOptions options;
  options.variant = variant;
  options.seed = seed;
  Result<SimulationRun> run = RunSimulation(policy, options);
  INFO(run.status().ToString());
  REQUIRE(run.ok());
  CHECK(run->variant == variant);
  return std::move(run).value().summary;
}

const SimFormationSummary& Formation(const SimRunSummary& s, const std::string& type) {
  for (const auto& f : s.formations) {
    if (f.type == type) return f;
  }
  FAIL("no formation " << type);
  return s.formations.front();
}

std::vector<const SimActionSummary*> ActionsOf(const SimRunSummary& s, const std::string& cause) {
  std::vector<const SimActionSummary*> out;
  for (const auto& a : s.actions) {
    if (a.action.cause == cause) out.push_back(&a);
  }
  return out;
}

}  // namespace

TEST_CASE(
    "the demo at full speed: the noisy dyno restarted, the surge ridden, the formation restored") {
  spec::Policy demo = LoadFile("examples/demo.yaml");
  SimRunSummary s = Play(demo);
  CHECK(s.simulated == 30min);
  CHECK(s.passes == 60);  // at 0s, 30s, ... 29m30s
  CHECK(s.failed_passes == 0);
  for (const auto& a : s.actions)
    CHECK_MESSAGE(a.action.error.empty(), a.action.action << ": " << a.action.error);

  // web.3 gets its noisy neighbour at 3m: it, and only it, is restarted, before the surge.
  auto restarts = ActionsOf(s, "laggard");
  REQUIRE(restarts.size() == 1);
  CHECK(restarts[0]->action.action == "restart web.3");
  CHECK(restarts[0]->offset > 3min);
  CHECK(restarts[0]->offset <= 6min);
  CHECK(restarts[0]->after.latency.p95 < restarts[0]->before.latency.p95);

  // The surge (12m to 20m): one dyno a step (alertInterval 1m) up to 6 + maxExtraWorkers 3.
  auto steps = ActionsOf(s, "latency-event");
  REQUIRE(steps.size() == 3);
  CHECK(steps[0]->action.action == "scale 6 -> 7");
  CHECK(steps[1]->action.action == "scale 7 -> 8");
  CHECK(steps[2]->action.action == "scale 8 -> 9");
  CHECK(steps[0]->offset >= 12min);
  CHECK(steps[0]->offset <= 14min);
  CHECK(steps[1]->offset - steps[0]->offset >= 1min);
  for (const auto* step : steps)
    CHECK(step->action.formation == "web");

  // Back to the declared 6 once, when the surge is over (restoreDelay 5m holds it until then):
  // no restore mid-surge and no second event.
  auto restores = ActionsOf(s, "restored");
  REQUIRE(restores.size() == 1);
  CHECK(restores[0]->action.action == "scale 9 -> 6");
  CHECK(restores[0]->offset >= 20min);
  CHECK(restores[0]->offset - steps[2]->offset >= 5min);
  CHECK(restores[0]->after.latency.p99 < 1.0);  // 6 dynos are enough again
  CHECK(Formation(s, "web").end_quantity == 6);
  CHECK(Formation(s, "web").peak_quantity == 9);
  CHECK(Formation(s, "worker").actions == 0);
  CHECK(s.actions.size() == restarts.size() + steps.size() + restores.size());

  // The phases follow the incidents as they really went.
  REQUIRE(s.phases.size() == 5);
  CHECK(s.phases[0].name == "before");
  CHECK(s.phases[1].name == "noisy-neighbor web.3 x4");
  CHECK(s.phases[1].to == restarts[0]->offset);
  CHECK(s.phases[3].name == "surge web x2.5");
  CHECK(s.phases[3].from == 12min);
  CHECK(s.phases[3].to == 20min);
  CHECK(s.phases[4].name == "after");

  // For the report's charts: the incidents with their formation, and the truth minute by minute,
  // whose requests add up to the whole run's.
  REQUIRE(s.incidents.size() == 2);
  CHECK(s.incidents[0].name == "noisy-neighbor web.3 x4");
  CHECK(s.incidents[0].formation == "web");
  CHECK(s.incidents[0].to == s.start + restarts[0]->offset);
  CHECK(s.incidents[1].formation == "web");
  CHECK(s.incidents[1].to - s.incidents[1].from == 8min);
  const SimFormationSummary& web = Formation(s, "web");
  REQUIRE(web.minutes.size() == 30);
  CHECK(web.minutes[1].from - web.minutes[0].from == 1min);
  int64_t requests = 0;
  for (const SimMinute& m : web.minutes)
    requests += m.latency.count;
  CHECK(requests == web.truth.latency.count);
  CHECK(web.minutes[4].latency.p99 > 3 * web.minutes[1].latency.p99);  // web.3 at 4x
}

TEST_CASE("a simulation is deterministic for a seed") {
  spec::Policy demo = LoadFile("examples/demo.yaml");
  std::string first = ToJson(Play(demo)).dump();
  std::string second = ToJson(Play(demo)).dump();
  CHECK(first == second);
  std::string other_seed = ToJson(Play(demo, SimVariant::kDeclared, 43)).dump();
  CHECK(other_seed != first);
  CHECK(ToJson(Play(demo, SimVariant::kDeclared, 43)).dump() == other_seed);
  CHECK(ToJson(Play(demo, SimVariant::kDeclared, 43))["seed"] == 43);
}

TEST_CASE("without dynoherd the passes plan but the platform is never touched") {
  spec::Policy demo = LoadFile("examples/demo.yaml");
  SimRunSummary s = Play(demo, SimVariant::kUnmanaged);
  CHECK(s.actions.empty());
  CHECK(s.planned_not_applied > 0);  // dynoherd saw what to do
  for (const auto& e : s.events) {
    CAPTURE(e.message);
    CHECK(e.kind != SimEventKind::kScale);
    CHECK(e.kind != SimEventKind::kRestart);
    CHECK(e.kind != SimEventKind::kStop);
    CHECK(e.kind != SimEventKind::kDynoUp);
  }
  for (const auto& f : s.formations) {
    CHECK(f.start_quantity == f.end_quantity);
    CHECK(f.peak_quantity == f.start_quantity);
    CHECK(f.actions == 0);
  }
  // Nobody restarts web.3: its noisy neighbour lasts to the end.
  CHECK(s.phases.back().name.find("noisy-neighbor web.3") != std::string::npos);
  CHECK(s.phases.back().to == 30min);
  // The declared policy is untouched by its variants.
  CHECK_FALSE(demo.paused);
  CHECK(PolicyFor(demo, SimVariant::kUnmanaged).paused);
}

TEST_CASE(
    "a laggard among 3 dynos: dynoherd beats doing nothing, the population rule cannot see it") {
  spec::Policy policy = LoadFile("examples/scenarios/laggard-3-dynos.yaml");
  Result<SimComparison> c = CompareSimulation(policy, {});
  REQUIRE(c.ok());
  REQUIRE(c->runs.size() == 6);
  CHECK(c->runs[0].variant == SimVariant::kDeclared);
  CHECK(c->runs[1].variant == SimVariant::kUnmanaged);
  CHECK(c->runs[2].variant == SimVariant::kPopulation);
  CHECK(c->runs[3].variant == SimVariant::kStep);
  CHECK(c->runs[4].variant == SimVariant::kCapacity);
  CHECK(c->runs[5].variant == SimVariant::kHeroku);
  CHECK_FALSE(c->population_same_as_declared);
  const SimFormationSummary& with = Formation(c->runs[0].summary, "web");
  const SimFormationSummary& without = Formation(c->runs[1].summary, "web");
  const SimFormationSummary& population = Formation(c->runs[2].summary, "web");

  CHECK(with.truth.latency.p99 < without.truth.latency.p99 / 2);
  CHECK(with.truth.slower_than_threshold < without.truth.slower_than_threshold / 10);
  CHECK(with.truth.dyno_minutes() == doctest::Approx(without.truth.dyno_minutes()));
  auto restarts = ActionsOf(c->runs[0].summary, "laggard");
  REQUIRE(restarts.size() == 2);
  CHECK(restarts[0]->action.action == "restart web.2");
  CHECK(restarts[1]->action.action == "restart web.1");

  // With the candidate inside its own standard deviation no z-score can pass sqrt(2) among 3
  // dynos (docs/decisions.md): the population rule restarts nothing.
  CHECK(ActionsOf(c->runs[2].summary, "laggard").empty());
  CHECK(population.truth.latency.p99 > with.truth.latency.p99);

  std::string text = RenderSimComparison(*c);
  for (const char* expected :
       {"dynoherd", "without", "population", "p50", "p95", "p99", "slower than 1s", "H12",
        "dyno-minutes", "ACTIONS SENT", "2 (2 restart)"}) {
    CHECK_MESSAGE(text.find(expected) != std::string::npos, expected);
  }
  nlohmann::json j = ToJson(*c);
  REQUIRE(j["variants"].size() == 6);
  CHECK(j["variants"][1]["name"] == "without");
  CHECK(j["variants"][1]["summary"]["actions"].empty());
}

TEST_CASE("--compare plays the same traffic: a formation nobody acts on sees the same requests") {
  spec::Policy demo = LoadFile("examples/demo.yaml");
  Result<SimComparison> c = CompareSimulation(demo, {});
  REQUIRE(c.ok());
  CHECK(c->population_same_as_declared == false);
  const TruthSummary& reference = Formation(c->runs[0].summary, "worker").truth;
  for (const auto& run : c->runs) {
    const TruthSummary& worker = Formation(run.summary, "worker").truth;
    CHECK(worker.latency.count == reference.latency.count);
    CHECK(worker.latency.p99 == reference.latency.p99);
    CHECK(worker.peak_queue_latency == reference.peak_queue_latency);
  }
}

TEST_CASE("a policy without a laggards block plays the population variant as declared") {
  spec::Policy surge = LoadFile("examples/scenarios/long-surge.yaml");
  CHECK(PolicyFor(surge, SimVariant::kPopulation) == surge);
  Result<SimComparison> c = CompareSimulation(surge, {});
  REQUIRE(c.ok());
  CHECK(c->population_same_as_declared);
  CHECK(ToJson(c->runs[0].summary).dump() == ToJson(c->runs[2].summary).dump());
  CHECK(RenderSimComparison(*c).find("(the same as dynoherd here)") != std::string::npos);

  // The long surge hits maxExtraWorkers: the workers stop at 2 + 2 and their queue still grows.
  const SimRunSummary& with = c->runs[0].summary;
  const SimFormationSummary& worker = Formation(with, "worker");
  CHECK(worker.peak_quantity == 4);
  CHECK(worker.end_quantity == 2);
  CHECK(worker.truth.peak_queue_latency > 60);
  CHECK(worker.truth.peak_queue_latency <
        Formation(c->runs[1].summary, "worker").truth.peak_queue_latency / 2);
  CHECK(Formation(with, "web").peak_quantity == 6);
  // Without dynoherd thousands of jobs are still waiting when the hour ends; with it, none.
  CHECK(worker.queued_at_end == 0);
  CHECK(Formation(c->runs[1].summary, "worker").queued_at_end > 1000);
}

TEST_CASE("the passes' logs carry simulated times and the variant") {
  spec::Policy demo = LoadFile("examples/demo.yaml");
  auto capturing = std::make_shared<CapturingLogger>();
  std::vector<SimVariant> made_for;
  SimulationOptions options;
  options.make_logger = [&](const Clock& clock, SimVariant variant) -> std::unique_ptr<Logger> {
    CHECK(clock.Now() == kSimulationStart);
    made_for.push_back(variant);
    struct Forward final : Logger {
      std::shared_ptr<CapturingLogger> to;
      void Write(LogLevel l, std::string_view m, const LogFields& f) override {
        to->Write(l, m, f);
      }
      bool Enabled(LogLevel) const override { return true; }
    };
    auto forward = std::make_unique<Forward>();
    forward->to = capturing;
    return forward;
  };
  REQUIRE(CompareSimulation(demo, options).ok());
  CHECK(made_for == std::vector<SimVariant>{SimVariant::kDeclared, SimVariant::kUnmanaged,
                                            SimVariant::kPopulation, SimVariant::kStep,
                                            SimVariant::kCapacity, SimVariant::kHeroku});
  CHECK(capturing->Contains(LogLevel::kWarn, "restarting laggard dyno"));
  CHECK(capturing->Contains(LogLevel::kInfo, "action planned, not applied"));
}

TEST_CASE("only sim policies can be simulated") {
  spec::Policy heroku = LoadFile("examples/shop-web.yaml");
  Result<SimulationRun> run = RunSimulation(heroku, {});
  REQUIRE_FALSE(run.ok());
  CHECK(run.status().message() ==
        "policy shop-web uses provider heroku; simulate needs provider: sim and a spec.sim block");
}

TEST_CASE("the autoscaling variants: step, capacity with the simulator's concurrency, Heroku's") {
  spec::Policy demo = LoadFile("examples/demo.yaml");
  spec::Policy step = PolicyFor(demo, SimVariant::kStep);
  spec::Policy capacity = PolicyFor(demo, SimVariant::kCapacity);
  spec::Policy heroku = PolicyFor(demo, SimVariant::kHeroku);
  for (size_t i = 0; i < demo.formations.size(); ++i) {
    INFO(demo.formations[i].type);
    CHECK(step.formations[i].autoscale->mode == spec::AutoscaleMode::kStep);
    CHECK(capacity.formations[i].autoscale->mode == spec::AutoscaleMode::kCapacity);
    CHECK(capacity.formations[i].autoscale->concurrency == SimOptions{}.concurrency);
  }
  // Heroku autoscales web dynos only, on p95, without hysteresis; laggards stay as declared.
  const spec::FormationSpec& web = *heroku.FindFormation("web");
  CHECK(web.autoscale->mode == spec::AutoscaleMode::kStep);
  CHECK(web.latency->statistic == spec::Statistic::kP95);
  CHECK(web.autoscale->restored_threshold == web.autoscale->latency_threshold);
  CHECK(web.laggards == demo.FindFormation("web")->laggards);
  CHECK_FALSE(heroku.FindFormation("worker")->autoscale.has_value());
}
