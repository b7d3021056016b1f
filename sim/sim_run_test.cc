#include "sim/sim_run.h"

#include <doctest/doctest.h>

#include "sim/sim_test_util.h"

using namespace dynoherd;
using namespace dynoherd::sim;
using namespace std::chrono_literals;
using namespace dynoherd::sim::testing;

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
    out.push_back(e.Field("simTime") + " " + e.msg);
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

TEST_CASE("simTime is added to every line that does not have one") {
  ManualClock clock(SimStart());
  CapturingLogger inner;
  SimTimeLogger logger(inner, clock, SimStart());
  clock.Advance(3min + 20s + 900ms);
  logger.Info("restarting laggard dyno", {{"dyno", "web.3"}});
  logger.Info("told", {{"simTime", "3m"}});
  auto entries = inner.entries();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].Field("simTime") == "3m20s");
  CHECK(entries[0].Field("dyno") == "web.3");
  CHECK(entries[1].Field("simTime") == "3m");
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

  app::TickResult first = narrator.Tick(clock.Now(), worlds);
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
  app::TickResult last = narrator.Tick(clock.Now(), worlds);
  CHECK(last.stop);
  CHECK(last.stop_reason == "simulation finished");
}
