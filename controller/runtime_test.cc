#include "controller/runtime.h"

#include <doctest/doctest.h>

#include "providers/heroku/heroku_test_support.h"
#include "spec/loader.h"

using namespace dynoherd;
using namespace dynoherd::controller;
using namespace std::chrono_literals;
namespace heroku_testing = dynoherd::providers::heroku::testing;

namespace {

spec::Policy Load(const std::string& yaml) {
  spec::LoadResult loaded = spec::ParsePolicies(
      yaml, "p.yaml", [](const std::string&) { return std::optional<std::string>(); });
  INFO(loaded.ErrorText());
  REQUIRE(loaded.ok());
  return loaded.policies.at(0);
}

std::string HerokuPolicy(const std::string& name, const std::string& latency) {
  return "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: " + name +
         "}\nspec:\n  app: shop\n  formations:\n    - type: web\n      quantity: 2\n" +
         "      latency: " + latency + "\n      autoscale: {latencyThreshold: 2s}\n";
}

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
  std::string text = kSimPolicy;
  text.replace(text.find("SEED"), 4, std::to_string(seed));
  return Load(text);
}

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace

TEST_CASE("a sim policy gets its world as provider and latency source, kept across builds") {
  ManualClock clock(heroku_testing::kStart);
  CapturingLogger log;
  RuntimeFactory factory({}, clock, log, nullptr);
  auto first = factory.Build(SimPolicy(1));
  REQUIRE(first.ok());
  REQUIRE((*first)->sources.size() == 1);
  CHECK((*first)->sources[0].formations == std::vector<std::string>{"web"});
  providers::sim::SimWorld* world = factory.SimWorldFor("demo");
  REQUIRE(world != nullptr);
  CHECK((*first)->provider.get() == world);

  auto again = factory.Build(SimPolicy(1));
  REQUIRE(again.ok());
  CHECK(factory.SimWorldFor("demo") == world);  // a reload with the same sim keeps the world

  auto changed = factory.Build(SimPolicy(2));
  REQUIRE(changed.ok());
  CHECK((*changed)->provider.get() == factory.SimWorldFor("demo"));
  CHECK((*changed)->provider.get() != (*first)->provider.get());  // a new sim spec: a new world
}

TEST_CASE("a heroku policy without a token says both ways to provide one") {
  ManualClock clock(heroku_testing::kStart);
  CapturingLogger log;
  RuntimeOptions options;
  options.env = Env({{"HOME", "/nonexistent-home"}});
  RuntimeFactory factory(options, clock, log, nullptr);
  auto built = factory.Build(Load(HerokuPolicy("shop", "{source: router-logs}")));
  REQUIRE_FALSE(built.ok());
  CHECK(built.status().message().find("HEROKU_API_KEY") != std::string::npos);
  CHECK(built.status().message().find(".netrc") != std::string::npos);
}

TEST_CASE("heroku policies share one client; its calls reach the metrics") {
  ManualClock clock(heroku_testing::kStart);
  CapturingLogger log;
  heroku_testing::Harness h(log);
  metrics::Metrics metrics("test");
  RuntimeOptions options;
  options.env =
      Env({{"HEROKU_API_KEY", heroku_testing::kToken}, {"HEROKU_API_URL", h.fake->base_url()}});
  RuntimeFactory factory(options, clock, log, &metrics);
  factory.SetSourceMaker(spec::LatencySourceKind::kPrometheus, [](const SourceContext& ctx) {
    CHECK(ctx.heroku != nullptr);
    CHECK(ctx.formations.size() == 1);
    return Result<std::shared_ptr<providers::LatencySource>>(
        Status::Unavailable("not in this test"));
  });
  auto web = factory.Build(Load(HerokuPolicy("shop-web", "{source: router-logs}")));
  // router-logs has no maker registered in this test: a clear error, not a crash.
  REQUIRE_FALSE(web.ok());
  CHECK(web.status().message() == "latency.source router-logs is not available in this build");

  auto prom = factory.Build(Load(
      HerokuPolicy("shop-prom", "{source: prometheus, url: 'http://127.0.0.1:1', query: 'up'}")));
  REQUIRE_FALSE(prom.ok());
  CHECK(prom.status().message() == "policy shop-prom: latency.source prometheus: not in this test");

  factory.SetSourceMaker(spec::LatencySourceKind::kRouterLogs, [](const SourceContext&) {
    return Result<std::shared_ptr<providers::LatencySource>>(
        std::shared_ptr<providers::LatencySource>());
  });
  auto a = factory.Build(Load(HerokuPolicy("a", "{source: router-logs}")));
  auto b = factory.Build(Load(HerokuPolicy("b", "{source: router-logs}")));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK((*a)->provider.get() == (*b)->provider.get());
  REQUIRE((*a)->provider->Observe("shop").ok());
  std::string text = metrics.Serialize();
  CHECK(text.find("dynoherd_heroku_requests_total{code=\"200\",method=\"GET\"} 2") !=
        std::string::npos);
  CHECK(text.find("dynoherd_heroku_ratelimit_remaining ") != std::string::npos);
}
