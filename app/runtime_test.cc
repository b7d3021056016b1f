#include "app/runtime.h"

#include <doctest/doctest.h>
#include <httplib.h>

#include "providers/heroku/heroku_test_support.h"
#include "providers/sources/log_tail.h"
#include "providers/sources/prometheus_source.h"
#include "spec/loader.h"

using namespace dynoherd;
using namespace dynoherd::app;
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

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// A platform that answers nothing: the factory only hands it out.
class FakeProvider final : public providers::Provider {
 public:
  Result<model::AppState> Observe(const std::string&) override { return model::AppState{}; }
  Status Scale(const std::string&, const std::vector<providers::ScaleRequest>&) override {
    return Status::Ok();
  }
  Status Restart(const std::string&, const std::string&) override { return Status::Ok(); }
  Status Stop(const std::string&, const std::string&) override { return Status::Ok(); }
};

}  // namespace

TEST_CASE("a provider kind without a maker is a clear error; a registered one is used") {
  ManualClock clock(heroku_testing::kStart);
  SystemSleeper sleeper;
  CapturingLogger log;
  RuntimeFactory factory({}, clock, sleeper, log, nullptr);
  factory.SetProviderMaker(spec::ProviderKind::kHeroku, {});
  auto built = factory.Build(Load(HerokuPolicy("shop", "{source: router-logs}")));
  REQUIRE_FALSE(built.ok());
  CHECK(built.status().message() == "provider heroku is not available in this build");

  auto platform = std::make_shared<FakeProvider>();
  std::vector<std::string> asked;
  factory.SetProviderMaker(spec::ProviderKind::kHeroku, [&](const spec::Policy& policy) {
    asked.push_back(policy.name);
    return Result<std::shared_ptr<providers::Provider>>(platform);
  });
  std::vector<std::string> sources;
  factory.SetSourceMaker(spec::LatencySourceKind::kRouterLogs, [&](const SourceContext& ctx) {
    sources.push_back(ctx.policy.name + ":" + std::to_string(ctx.formations.size()));
    return Result<std::shared_ptr<providers::LatencySource>>(
        std::shared_ptr<providers::LatencySource>());
  });
  built = factory.Build(Load(HerokuPolicy("shop", "{source: router-logs}")));
  REQUIRE(built.ok());
  CHECK((*built)->provider.get() == platform.get());
  CHECK(asked == std::vector<std::string>{"shop"});
  CHECK(sources == std::vector<std::string>{"shop:1"});
  REQUIRE((*built)->sources.size() == 1);
  CHECK((*built)->sources[0].formations == std::vector<std::string>{"web"});
}

TEST_CASE("a heroku policy without a token says both ways to provide one") {
  ManualClock clock(heroku_testing::kStart);
  CapturingLogger log;
  RuntimeOptions options;
  options.env = Env({{"HOME", "/nonexistent-home"}});
  SystemSleeper sleeper;
  RuntimeFactory factory(options, clock, sleeper, log, nullptr);
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
  SystemSleeper sleeper;
  RuntimeFactory factory(options, clock, sleeper, log, &metrics);
  factory.SetSourceMaker(spec::LatencySourceKind::kPrometheus, [](const SourceContext& ctx) {
    CHECK(ctx.policy.name == "shop-prom");
    CHECK(ctx.formations.size() == 1);
    return Result<std::shared_ptr<providers::LatencySource>>(
        Status::Unavailable("not in this test"));
  });
  factory.SetSourceMaker(spec::LatencySourceKind::kRouterLogs, {});
  auto web = factory.Build(Load(HerokuPolicy("shop-web", "{source: router-logs}")));
  // router-logs has no maker in this test: a clear error, not a crash.
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

namespace {

// Heroku's documented router line in a logplex frame, for drain batches.
std::string RouterFrame(const std::string& second, const std::string& dyno, int service_ms) {
  const std::string msg = "<158>1 2026-11-22T12:59:" + second +
                          ".000000+00:00 host heroku router - at=info method=GET path=\"/\" "
                          "host=shop.herokuapp.com dyno=" +
                          dyno + " connect=1ms service=" + std::to_string(service_ms) +
                          "ms status=200 bytes=10\n";
  return std::to_string(msg.size()) + " " + msg;
}

std::string LaggardPolicy(const std::string& name, const std::string& via) {
  return "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: " + name +
         "}\nspec:\n  app: shop\n  formations:\n    - type: web\n      latency: {via: " + via +
         "}\n      laggards: {}\n";
}

struct HerokuFixture {
  // One pass that changes nothing, for what it observed.
  PassResult DryRun(const spec::Policy& policy, PolicyRuntime& runtime) {
    PassRunner runner(h.clock, log, nullptr);
    std::mt19937_64 rng(1);
    PassResult result = runner.Run(policy, runtime, nullptr, rng, {.apply = false});
    REQUIRE(result.observed);
    return result;
  }

  CapturingLogger log;
  heroku_testing::Harness h{log};
  SystemSleeper sleeper;
  metrics::Metrics metrics{"test"};

  RuntimeOptions Options(RunMode mode, std::map<std::string, std::string> extra = {}) {
    RuntimeOptions options;
    options.mode = mode;
    extra["HEROKU_API_KEY"] = heroku_testing::kToken;
    extra["HEROKU_API_URL"] = h.fake->base_url();
    options.env = Env(extra);
    return options;
  }
};

}  // namespace

TEST_CASE("reconcile with router logs via session: one session per pass, the laggard restarted") {
  HerokuFixture f;
  RuntimeFactory factory(f.Options(RunMode::kOneShot), f.h.clock, f.sleeper, f.log, &f.metrics);
  spec::Policy policy = Load(LaggardPolicy("shop", "session"));
  auto runtime = factory.Build(policy);
  REQUIRE_MESSAGE(runtime.ok(), runtime.status().message());
  PassRunner runner(f.h.clock, f.log, &f.metrics);
  std::mt19937_64 rng(1);
  PassResult result = runner.Run(policy, **runtime, nullptr, rng, {});
  REQUIRE_MESSAGE(result.status.ok(), result.status.message());
  const model::FormationLatency& web = result.observation.latency.at("web");
  REQUIRE(web.per_dyno.size() == 4);
  CHECK(web.per_dyno.at("web.1").count == 30);
  CHECK(web.per_dyno.at("web.2").count == 32);  // the laggard: 30 requests and 2 timeouts
  REQUIRE(result.plan);
  REQUIRE(result.plan->actions.size() == 1);
  CHECK(result.plan->actions[0].kind == reconciler::ActionKind::kRestart);
  CHECK(result.plan->actions[0].dyno == "web.2");
  CHECK(result.applied);
  // formation list, dyno list, log session; then the restart.
  auto calls = f.h.fake->BudgetedApiCalls();
  REQUIRE(calls.size() == 4);
  CHECK(calls[2].path == "/apps/shop/log-sessions");
  CHECK(calls[3].method == "DELETE");
  CHECK(calls[3].path == "/apps/shop/dynos/web.2");

  // The next pass: web.2 was restarted (cured, but too fresh to judge); nothing to do, 3 calls.
  f.h.fake->ClearRequests();
  f.h.clock.Advance(1min);
  PassResult again = runner.Run(policy, **runtime, &result.plan->status, rng, {});
  REQUIRE(again.status.ok());
  CHECK(again.plan->actions.empty());
  CHECK(f.h.fake->BudgetedApiCalls().size() == 3);
}

TEST_CASE("one-shot commands cannot receive a drain: unknown latency that says so") {
  HerokuFixture f;
  RuntimeFactory factory(f.Options(RunMode::kOneShot), f.h.clock, f.sleeper, f.log, nullptr);
  spec::Policy policy = Load(LaggardPolicy("shop", "drain"));
  auto runtime = factory.Build(policy);
  REQUIRE(runtime.ok());
  PassResult result = f.DryRun(policy, **runtime);
  const model::FormationLatency& web = result.observation.latency.at("web");
  CHECK_FALSE(web.value);
  CHECK(web.unknown_reason == "via: drain needs `dynoherd run` to receive the drain");
  CHECK(f.log.Contains(LogLevel::kWarn, "latency unknown: via: drain needs `dynoherd run`"));
  CHECK(f.h.fake->BudgetedApiCalls().size() == 2);  // no session for a drain policy
}

TEST_CASE("run: policies watching one app share one tail, stopped by Shutdown") {
  HerokuFixture f;
  auto factory = std::make_unique<RuntimeFactory>(f.Options(RunMode::kDaemon), f.h.clock, f.sleeper,
                                                  f.log, &f.metrics);
  spec::Policy a = Load(LaggardPolicy("a", "session"));
  spec::Policy b = Load(LaggardPolicy("b", "session"));
  auto ra = factory->Build(a);
  auto rb = factory->Build(b);
  REQUIRE(ra.ok());
  REQUIRE(rb.ok());
  auto* sa = dynamic_cast<providers::sources::LogTailSource*>((*ra)->sources.at(0).source.get());
  auto* sb = dynamic_cast<providers::sources::LogTailSource*>((*rb)->sources.at(0).source.get());
  REQUIRE(sa != nullptr);
  REQUIRE(sb != nullptr);
  CHECK(sa->tail() == sb->tail());
  REQUIRE(sa->tail()->WaitForLines(4 * 30 + 2, std::chrono::milliseconds(20000)));

  // A reload rebuilds the runtime; the tail and its window stay.
  auto reloaded = factory->Build(a);
  REQUIRE(reloaded.ok());
  auto* again =
      dynamic_cast<providers::sources::LogTailSource*>((*reloaded)->sources.at(0).source.get());
  CHECK(again->tail() == sa->tail());

  PassResult result = f.DryRun(a, **ra);
  CHECK(result.observation.latency.at("web").per_dyno.size() == 4);
  size_t sessions = 0;
  for (const auto& r : f.h.fake->BudgetedApiCalls())
    sessions += r.path == "/apps/shop/log-sessions";
  CHECK(sessions == 1);

  std::shared_ptr<providers::sources::LogTail> tail = sa->tail();
  factory->Shutdown();
  factory.reset();  // joins the tail before the Heroku client goes
  CHECK_FALSE(tail->health().connected);
  CHECK(f.log.Contains(LogLevel::kInfo, "log tail stopped"));
}

TEST_CASE("run: the drain route, mounted on the listener, feeds the policy's latency") {
  HerokuFixture f;
  RuntimeFactory factory(f.Options(RunMode::kDaemon, {{"DYNOHERD_DRAIN_SECRET", "s3cret"}}),
                         f.h.clock, f.sleeper, f.log, &f.metrics);
  spec::Policy policy = Load(LaggardPolicy("shop-drain", "drain"));
  auto runtime = factory.Build(policy);
  REQUIRE(runtime.ok());

  ListenerSources sources;
  sources.metrics_text = [] { return std::string(); };
  sources.readiness = [] { return Readiness{true, "test"}; };
  sources.status_json = [] { return std::string("{}"); };
  ListenerOptions listen;
  listen.address = "127.0.0.1:0";
  auto listener = Listener::Start(listen, sources, f.log);
  REQUIRE(listener.ok());
  (*listener)->SetDrainHandler(factory.MakeDrainHandler());

  std::string body;
  for (const char* second : {"10", "20", "30"}) {
    body += RouterFrame(second, "web.1", 100) + RouterFrame(second, "web.2", 600) +
            RouterFrame(second, "web.3", 110) + RouterFrame(second, "web.4", 105);
  }
  httplib::Client client((*listener)->url());
  client.set_basic_auth("any", "s3cret");
  auto ok = client.Post("/drains/shop-drain", {{"Logplex-Frame-Id", "f1"}}, body,
                        "application/logplex-1");
  REQUIRE(ok);
  CHECK(ok->status == 204);
  client.set_basic_auth("any", "wrong");
  auto refused = client.Post("/drains/shop-drain", body, "application/logplex-1");
  REQUIRE(refused);
  CHECK(refused->status == 401);

  PassResult result = f.DryRun(policy, **runtime);
  const model::FormationLatency& web = result.observation.latency.at("web");
  REQUIRE(web.value);
  CHECK(web.per_dyno.at("web.2").count == 3);
  CHECK(web.per_dyno.at("web.2").p50 == doctest::Approx(0.6).epsilon(0.02));
  // A drain costs no API calls beyond observing the app.
  CHECK(f.h.fake->BudgetedApiCalls().size() == 2);
  for (const auto& e : f.log.entries()) {
    for (const auto& field : e.fields)
      CHECK(field.value.find("s3cret") == std::string::npos);
  }
}

TEST_CASE("run: a drain policy without DYNOHERD_DRAIN_SECRET says so when it is built") {
  HerokuFixture f;
  RuntimeFactory factory(f.Options(RunMode::kDaemon), f.h.clock, f.sleeper, f.log, nullptr);
  REQUIRE(factory.Build(Load(LaggardPolicy("d1", "drain"))).ok());
  REQUIRE(factory.Build(Load(LaggardPolicy("d2", "drain"))).ok());
  size_t errors = 0;
  for (const auto& e : f.log.entries()) {
    errors += e.level == LogLevel::kError &&
              e.msg.find("DYNOHERD_DRAIN_SECRET is not set") != std::string::npos;
  }
  CHECK(errors == 1);
  DrainHandler handler = factory.MakeDrainHandler();
  DrainRequest request;
  request.policy = "d1";
  request.body = RouterFrame("10", "web.1", 100);
  DrainResponse response = handler(request);
  CHECK(response.status == 503);
}

TEST_CASE("prometheus policies get a Prometheus source; a bad URL fails the build clearly") {
  HerokuFixture f;
  RuntimeFactory factory(f.Options(RunMode::kOneShot), f.h.clock, f.sleeper, f.log, nullptr);
  auto ok = factory.Build(Load(
      HerokuPolicy("prom", "{source: prometheus, url: 'http://127.0.0.1:1/prom', query: 'up'}")));
  REQUIRE(ok.ok());
  CHECK(dynamic_cast<providers::sources::PrometheusSource*>((*ok)->sources.at(0).source.get()) !=
        nullptr);
  auto bad = factory.Build(Load(HerokuPolicy(
      "prom2", "{source: prometheus, url: 'http://u:pw@127.0.0.1:1/?q=1', query: 'up'}")));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("policy prom2: latency.source prometheus: formation web: "
                                    "latency.url") == 0);
  CHECK(bad.status().message().find("pw@") == std::string::npos);
}
