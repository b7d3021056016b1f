#include "tests/fake_heroku/scenario.h"

#include <doctest/doctest.h>

using namespace dynoherd;
using namespace dynoherd::fake_heroku;

TEST_CASE("a scenario reads apps, profiles, rate limit and faults") {
  Result<Scenario> s = ParseScenario(R"(
token: HRKU-abc
seed: 9
startTime: 2026-11-22T13:00:00Z
pageSize: 3
rateLimit: {remaining: 305, refillPerMinute: 75, notModifiedCosts: false}
apps:
  - name: shop
    naming: fir
    restartDelay: 30s
    formations:
      - {type: web, quantity: 4}
      - {type: worker, quantity: 1, size: performance-m}
    logs:
      window: 2m
      default: {medianMs: 80, count: 50}
      dynos:
        web.3: {laggardFactor: 4, h12: 2}
faults:
  - {method: GET, path: /apps/shop/dynos, status: 429, retryAfter: "3", times: 1}
  - {kind: slow, delay: 2s, path: "/apps/*"}
)",
                                     "test.yaml");
  REQUIRE_MESSAGE(s.ok(), s.status().message());
  CHECK(s->token == "HRKU-abc");
  CHECK(s->seed == 9);
  CHECK(FormatTimestamp(s->start_time) == "2026-11-22T13:00:00.000Z");
  CHECK(s->page_size == 3);
  CHECK(s->rate_limit_remaining == 305);
  CHECK_FALSE(s->not_modified_costs);
  REQUIRE(s->apps.size() == 1);
  const AppSpec& app = s->apps[0];
  CHECK(app.fir_names);
  CHECK(app.restart_delay == std::chrono::seconds(30));
  CHECK(app.formations[1].size == "performance-m");
  CHECK(app.formations[0].command == "bundle exec puma -C config/puma.rb");
  CHECK(app.log_window == std::chrono::minutes(2));
  // A per-dyno profile starts from the app's default profile.
  CHECK(app.profiles.at("web.3").median_ms == 80);
  CHECK(app.profiles.at("web.3").laggard_factor == 4);
  REQUIRE(s->faults.size() == 2);
  CHECK(s->faults[0].status == 429);
  CHECK(s->faults[0].retry_after == "3");
  CHECK(s->faults[1].kind == FaultKind::kSlow);
  CHECK(s->faults[1].Matches("GET", "/apps/shop/formation"));
  CHECK_FALSE(s->faults[1].Matches("GET", "/account/rate-limits"));
}

TEST_CASE("scenario errors say where and what") {
  Result<Scenario> typo = ParseScenario("apps:\n  - name: shop\n    formation: []\n", "s.yaml");
  REQUIRE_FALSE(typo.ok());
  CHECK(typo.status().message() == "s.yaml:3:5: scenario.apps[0]: unknown key \"formation\"");

  Result<Scenario> kind = ParseScenario("faults:\n  - {kind: explode}\n", "s.yaml");
  REQUIRE_FALSE(kind.ok());
  CHECK(kind.status().message().find("unknown fault kind \"explode\"") != std::string::npos);

  Result<Scenario> delay = ParseScenario("faults:\n  - {kind: slow, delay: 2}\n", "s.yaml");
  REQUIRE_FALSE(delay.ok());
  CHECK(delay.status().message().find("needs a unit") != std::string::npos);

  CHECK_FALSE(LoadScenario("/nonexistent/scenario.yaml").ok());
}

TEST_CASE("a fault without a path matches Platform API paths, not logplex") {
  Fault f;
  CHECK(f.Matches("DELETE", "/apps/shop/dynos/web.1"));
  CHECK_FALSE(f.Matches("GET", "/logplex/sessions/1"));
  f.method = "DELETE";
  CHECK_FALSE(f.Matches("GET", "/apps/shop/dynos"));
}

TEST_CASE("a single fault parses from JSON for the admin route") {
  Result<Fault> f = ParseFault(R"({"kind": "error", "status": 422, "message": "preboot"})");
  REQUIRE(f.ok());
  CHECK(f->status == 422);
  CHECK(f->message == "preboot");
  CHECK_FALSE(ParseFault(R"({"status": 1000})").ok());
}

TEST_CASE("the sample scenarios load") {
  Result<Scenario> shop = LoadScenario("tests/fake_heroku/scenarios/shop.yaml");
  REQUIRE_MESSAGE(shop.ok(), shop.status().message());
  CHECK(shop->apps[0].profiles.at("web.3").laggard_factor == 5);
}
