#include "controller/sim_run.h"

#include <doctest/doctest.h>

#include "controller/sim_summary.h"
#include "providers/sim/sim_test_util.h"

using namespace dynoherd;
using namespace dynoherd::controller;
using namespace std::chrono_literals;
using namespace dynoherd::providers::sim::testing;
using providers::sim::SimWorld;

namespace {

spec::Policy SimPolicy(const std::string& name, double speed) {
  spec::Policy p;
  p.name = name;
  p.app = kApp;
  p.provider = spec::ProviderKind::kSim;
  p.sim = DemoSpec();
  p.sim->speed = speed;
  for (const char* type : {"web", "worker"}) {
    spec::FormationSpec f;
    f.type = type;
    f.latency = spec::LatencySpec{};
    f.latency->source = spec::LatencySourceKind::kSim;
    f.latency->window = 2min;
    f.autoscale = spec::AutoscaleSpec{};
    f.autoscale->latency_threshold = std::string(type) == "web" ? 500ms : 10s;
    p.formations.push_back(f);
  }
  return p;
}

spec::Policy HerokuPolicy(const std::string& name) {
  spec::Policy p;
  p.name = name;
  p.app = "shop";
  return p;
}

std::vector<std::string> Messages(const CapturingLogger& log) {
  std::vector<std::string> out;
  for (const auto& e : log.entries())
    out.push_back(e.Field("sim_time") + " " + e.msg);
  return out;
}

}  // namespace

TEST_CASE("a run is all sim at one speed, or all Heroku") {
  auto heroku = CheckRunPolicies({HerokuPolicy("a"), HerokuPolicy("b")});
  REQUIRE(heroku.ok());
  CHECK_FALSE(heroku->simulated);

  auto sim = CheckRunPolicies({SimPolicy("a", 30), SimPolicy("b", 30)});
  REQUIRE(sim.ok());
  CHECK(sim->simulated);
  CHECK(sim->speed == 30);

  CHECK(CheckRunPolicies({SimPolicy("demo", 30), HerokuPolicy("shop-web")}).status().message() ==
        "policy \"demo\" runs on the simulator (provider: sim) and \"shop-web\" on Heroku: one run "
        "is either simulated or real; run them in two dynoherd processes");
  CHECK(CheckRunPolicies({SimPolicy("a", 30), SimPolicy("b", 60)}).status().message() ==
        "sim policies \"a\" (speed 30) and \"b\" (speed 60) must share one sim.speed: a run "
        "follows one simulated clock");
  CHECK_FALSE(CheckRunPolicies({}).ok());
}

TEST_CASE("sim_time is added to every line that does not have one") {
  ManualClock clock(SimStart());
  CapturingLogger inner;
  SimTimeLogger logger(inner, clock, SimStart());
  clock.Advance(3min + 20s + 900ms);
  logger.Info("restarting laggard dyno", {{"dyno", "web.3"}});
  logger.Info("told", {{"sim_time", "3m"}});
  auto entries = inner.entries();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].Field("sim_time") == "3m20s");
  CHECK(entries[0].Field("dyno") == "web.3");
  CHECK(entries[1].Field("sim_time") == "3m");
  CHECK(entries[1].fields.size() == 1);
}

TEST_CASE("the narrator tells incidents and dynos coming up, wakes at incidents, ends the run") {
  ManualClock clock(SimStart());
  spec::SimSpec spec = DemoSpec();
  spec.duration = 25min;
  auto world = SimWorld::Create(kApp, spec, clock);
  REQUIRE(world.ok());
  CapturingLogger log;
  SimNarrator narrator(log, SimStart(), 30);
  std::vector<std::pair<std::string, SimWorld*>> worlds = {{"demo", world->get()}};

  TickResult first = narrator.Tick(clock.Now(), worlds);
  CHECK_FALSE(first.stop);
  CHECK(first.next == SimStart() + 6s);  // 0.2 s of wall time at speed 30
  clock.Set(SimStart() + 2min + 58s);
  CHECK(narrator.Tick(clock.Now(), worlds).next == SimStart() + 3min);  // the noisy neighbour
  clock.Set(SimStart() + 3min);
  narrator.Tick(clock.Now(), worlds);
  CHECK(Messages(log) ==
        std::vector<std::string>{"3m web.3 gets a noisy neighbour (x4 slower until it restarts)"});

  REQUIRE((*world)->Restart(kApp, "web.3").ok());  // what dynoherd would do; the pass logs it
  clock.Set(SimStart() + 12min);
  narrator.Tick(clock.Now(), worlds);
  clock.Set(SimStart() + 20min);
  narrator.Tick(clock.Now(), worlds);
  CHECK(Messages(log) ==
        std::vector<std::string>{"3m web.3 gets a noisy neighbour (x4 slower until it restarts)",
                                 "3m20s web.3 is up", "12m traffic to web x2.5 for 8m",
                                 "20m traffic to web back to normal"});
  for (const auto& e : log.entries()) {
    CHECK(e.level == LogLevel::kInfo);
    CHECK(e.Field("policy") == "demo");
  }

  clock.Set(SimStart() + 24min + 59s);
  CHECK(narrator.Tick(clock.Now(), worlds).next == SimStart() + 25min);  // the end, exactly
  clock.Set(SimStart() + 25min);
  TickResult last = narrator.Tick(clock.Now(), worlds);
  CHECK(last.stop);
  CHECK(last.stop_reason == "simulation finished");
}

TEST_CASE("phases cut the scenario at each incident's start and a surge's end") {
  std::vector<SimPhase> phases = SimPhases(DemoSpec());
  REQUIRE(phases.size() == 4);
  CHECK(phases[0].name == "before the incidents");
  CHECK(phases[1].name == "web.3 noisy neighbour x4");
  CHECK(phases[1].from == 3min);
  CHECK(phases[1].to == 12min);
  CHECK(phases[2].name == "web surge x2.5");
  CHECK(phases[3].name == "after web surge");
  CHECK(phases[3].from == 20min);
  CHECK(phases[3].to == 30min);

  spec::SimSpec quiet = DemoSpec();
  quiet.incidents.clear();
  REQUIRE(SimPhases(quiet).size() == 1);
  CHECK(SimPhases(quiet)[0].name == "whole run");

  spec::SimSpec together = DemoSpec();
  together.incidents[1].at = 3min;  // both at 3m; the surge's end past the duration is no cut
  together.incidents[1].duration = 1h;
  auto merged = SimPhases(together);
  REQUIRE(merged.size() == 2);
  CHECK(merged[1].name == "web.3 noisy neighbour x4 + web surge x2.5");
}

TEST_CASE("the summary lists the applied actions with latency around them, and every phase") {
  ManualClock clock(SimStart());
  spec::Policy policy = SimPolicy("demo", 30);
  auto world = SimWorld::Create(kApp, *policy.sim, clock);
  REQUIRE(world.ok());
  clock.Advance(5min);
  REQUIRE((*world)->Restart(kApp, "web.3").ok());

  PassResult pass;
  pass.policy = "demo";
  pass.applied = true;
  reconciler::Plan plan;
  plan.planned_at = clock.Now();
  reconciler::Action restart;
  restart.kind = reconciler::ActionKind::kRestart;
  restart.cause = reconciler::ActionCause::kLaggard;
  restart.formation = "web";
  restart.dyno = "web.3";
  restart.reason = "laggard: p50 10.51s";
  reconciler::Action failed = restart;
  failed.dyno = "web.4";
  failed.failed = true;
  plan.actions = {restart, failed};
  pass.plan = plan;
  SimActionLog actions;
  actions.Record(pass);
  pass.applied = false;  // a dry pass records nothing
  actions.Record(pass);
  REQUIRE(actions.For("demo").size() == 1);
  CHECK(actions.For("other").empty());

  clock.Advance(25min);
  std::string text = FormatSimSummary(policy, **world, actions.For("demo"), 61s);
  INFO(text);
  CHECK(text.find("Simulation \"demo\" (app demo-app, seed 42): 30m simulated at speed 30 in "
                  "1m1s of wall time") != std::string::npos);
  CHECK(text.find("Actions taken: 1 restart\n") != std::string::npos);
  CHECK(text.find("\n  5m  web        restart web.3  ") != std::string::npos);
  CHECK(text.find("laggard: p50 10.51s") != std::string::npos);
  CHECK(text.find("web: latency of every request, by phase (ground truth)") != std::string::npos);
  CHECK(text.find("worker: time every job waited in the queue") != std::string::npos);
  for (const char* phase : {"before the incidents", "web.3 noisy neighbour x4", "web surge x2.5",
                            "after web surge", "whole run"}) {
    CHECK(text.find(phase) != std::string::npos);
  }
  CHECK(text.find("> 500ms") != std::string::npos);
  CHECK(text.find("> 10s") != std::string::npos);
  CHECK(text.find("stopped early") == std::string::npos);
}

TEST_CASE("a summary of a run stopped early says so and covers only what was simulated") {
  ManualClock clock(SimStart());
  spec::Policy policy = SimPolicy("demo", 30);
  auto world = SimWorld::Create(kApp, *policy.sim, clock);
  REQUIRE(world.ok());
  clock.Advance(5min);
  std::string text = FormatSimSummary(policy, **world, {}, 10s);
  INFO(text);
  CHECK(text.find("5m simulated") != std::string::npos);
  CHECK(text.find("(stopped early: the scenario runs 30m)") != std::string::npos);
  CHECK(text.find("Actions taken: none") != std::string::npos);
  CHECK(text.find("web surge x2.5") == std::string::npos);  // starts at 12m: not reached
  CHECK(text.find("3m-5m") != std::string::npos);           // the noisy phase, cut at 5m
}
