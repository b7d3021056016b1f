#include "sim/sim_runtime.h"

#include <doctest/doctest.h>

#include "spec/loader.h"

using namespace dynoherd;
using namespace dynoherd::sim;
using namespace std::chrono_literals;

namespace {

constexpr const char* kSimPolicy = R"(
apiVersion: dynoherd/v1
kind: FormationPolicy
metadata: {name: demo}
spec:
  app: demo
  provider: sim
  formations:
    - type: web
      latency: {source: sim, window: 2m}
      autoscale: {latencyThreshold: 1s}
  sim:
    seed: SEED
    formations:
      web: {quantity: 3, serviceTime: 100ms, rps: 10}
)";

spec::Policy SimPolicy(int seed) {
  const std::string yaml = kSimPolicy;
  const size_t at = yaml.find("SEED");
  const std::string text = yaml.substr(0, at) + std::to_string(seed) + yaml.substr(at + 4);
  spec::LoadResult loaded = spec::ParsePolicies(
      text, "p.yaml", [](const std::string&) { return std::optional<std::string>(); });
  INFO(loaded.ErrorText());
  REQUIRE(loaded.ok());
  return loaded.policies.at(0);
}

}  // namespace

TEST_CASE("a sim policy gets its world as provider and latency source, kept across builds") {
  ManualClock clock(TimePoint{} + 1795352400s);
  SystemSleeper sleeper;
  CapturingLogger log;
  app::RuntimeFactory factory({}, clock, sleeper, log, nullptr);
  auto worlds = std::make_shared<SimWorlds>(clock);
  RegisterSimulator(factory, worlds);
  auto first = factory.Build(SimPolicy(1));
  REQUIRE(first.ok());
  REQUIRE((*first)->sources.size() == 1);
  CHECK((*first)->sources[0].formations == std::vector<std::string>{"web"});
  SimWorld* world = worlds->Find("demo");
  REQUIRE(world != nullptr);
  CHECK((*first)->provider.get() == world);

  auto again = factory.Build(SimPolicy(1));
  REQUIRE(again.ok());
  CHECK(worlds->Find("demo") == world);  // a reload with the same sim keeps the world

  auto changed = factory.Build(SimPolicy(2));
  REQUIRE(changed.ok());
  CHECK((*changed)->provider.get() == worlds->Find("demo"));
  CHECK((*changed)->provider.get() != (*first)->provider.get());  // a new sim spec: a new world
}
