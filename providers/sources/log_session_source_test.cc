// The one-shot log-session source against the fake Heroku's log sessions over real HTTP.
#include "providers/sources/log_session_source.h"

#include <doctest/doctest.h>

#include "providers/heroku/heroku_test_support.h"
#include "providers/sources/sources_test_support.h"

using namespace dynoherd;
using namespace dynoherd::providers;
using namespace dynoherd::providers::sources;
using namespace std::chrono_literals;
namespace ht = dynoherd::providers::heroku::testing;

namespace {

// shop: five web dynos, web.3 five times slower with two H12s; busy: 5000 lines in 5 minutes;
// quiet: a few hand-written lines at known times (the clock starts at 13:00:00).
constexpr const char* kScenario = R"(
token: HRKU-0123456789-very-secret-token
seed: 5
apps:
  - name: shop
    formations:
      - {type: web, quantity: 5}
      - {type: worker, quantity: 1}
    logs:
      window: 5m
      default: {medianMs: 100, count: 40, spread: 0.2}
      dynos:
        web.3: {laggardFactor: 5, h12: 2}
  - name: busy
    formations: [{type: web, quantity: 5}]
    logs:
      default: {medianMs: 100, count: 1000}
  - name: quiet
    formations: [{type: web, quantity: 2}, {type: worker, quantity: 1}]
    logs:
      default: {count: 0}
      extraLines:
        - '2026-11-22T12:50:00.000000+00:00 heroku[router]: at=info method=GET path=/ host=quiet.herokuapp.com dyno=web.1 connect=0ms service=900ms status=200 bytes=1'
        - '2026-11-22T12:56:00.000000+00:00 heroku[router]: at=info method=GET path=/ host=quiet.herokuapp.com dyno=web.1 connect=0ms service=100ms status=200 bytes=1'
        - '2026-11-22T12:59:30.000000+00:00 heroku[router]: at=info method=GET path=/ host=quiet.herokuapp.com dyno=web.2 connect=0ms service=200ms status=200 bytes=1'
        - '2026-11-22T12:59:45.000000+00:00 heroku[router]: at=info method=GET path=/ host=quiet.herokuapp.com dyno=web.1 connect=0ms service=120ms status=200 bytes=1'
        - '2026-11-22T12:59:50.000000+00:00 app[web.1]: Completed 200 OK in 98ms'
        - '2026-11-22T12:59:51.000000+00:00 heroku[router]: at=info dyno=web.2 service=12qs'
)";

spec::FormationSpec Formation(const std::string& type, Duration window = 5min,
                              spec::Statistic statistic = spec::Statistic::kP95) {
  return testing::LatencyFormation(type, window, statistic);
}

struct Harness {
  CapturingLogger log;
  ht::Harness h{log, {}, kScenario};
  testing::LineCounts lines;

  LogSessionSource Source(const std::string& app) {
    return LogSessionSource(*h.client, app, {}, log, lines.Counter());
  }
  model::AppState Observe(const std::string& app) {
    model::AppState state;
    state.formations = h.client->ListFormations(app).value();
    state.dynos = h.client->ListDynos(app).value();
    h.fake->ClearRequests();
    return state;
  }
};

}  // namespace

TEST_CASE("one pass, one log session: every web dyno's requests, the laggard plain to see") {
  Harness t;
  model::AppState app = t.Observe("shop");
  spec::FormationSpec web = Formation("web", 5min, spec::Statistic::kP95);
  LogSessionSource source = t.Source("shop");
  auto out = source.Read({&web}, app, t.h.clock.Now());
  REQUIRE(out.count("web"));
  const model::FormationLatency& latency = out["web"];
  REQUIRE(latency.value);
  REQUIRE(latency.per_dyno.size() == 5);
  for (const char* dyno : {"web.1", "web.2", "web.4", "web.5"}) {
    CAPTURE(dyno);
    CHECK(latency.per_dyno.at(dyno).count == 40);
    CHECK(latency.per_dyno.at(dyno).errors == 0);
    CHECK(latency.per_dyno.at(dyno).p50 == doctest::Approx(0.1).epsilon(0.25));
  }
  const model::LatencyStats& slow = latency.per_dyno.at("web.3");
  CHECK(slow.count == 42);  // 40 requests and 2 timed-out ones
  CHECK(slow.errors == 2);
  CHECK(slow.p50 > 3 * latency.per_dyno.at("web.1").p50);
  CHECK(latency.sample_count == 4 * 40 + 42);

  // The budget: exactly one API call (the session); the logplex read is not charged and carries
  // no token (the fake refuses one).
  auto budgeted = t.h.fake->BudgetedApiCalls();
  REQUIRE(budgeted.size() == 1);
  CHECK(budgeted[0].method == "POST");
  CHECK(budgeted[0].path == "/apps/shop/log-sessions");
  CHECK(budgeted[0].body ==
        R"({"dyno_name":"router","lines":1500,"source":"heroku","tail":false})");
  size_t logplex = 0;
  for (const auto& r : t.h.fake->Requests()) {
    if (!r.IsLogplex()) continue;
    ++logplex;
    CHECK(r.status == 200);
    CHECK_FALSE(r.Header("Authorization"));
  }
  CHECK(logplex == 1);
  CHECK(t.lines.parsed() == 202);

  // Every pass opens its own session: three passes, three calls.
  source.Read({&web}, app, t.h.clock.Now());
  source.Read({&web}, app, t.h.clock.Now());
  CHECK(t.h.fake->BudgetedApiCalls().size() == 3);
}

TEST_CASE("lines older than a formation's window ending now do not count") {
  Harness t;
  model::AppState app = t.Observe("quiet");
  LogSessionSource source = t.Source("quiet");
  spec::FormationSpec five = Formation("web", 5min, spec::Statistic::kMax);
  auto out = source.Read({&five}, app, t.h.clock.Now());
  const model::FormationLatency& web = out["web"];
  CHECK(web.per_dyno.at("web.1").count == 2);  // 12:56:00 and 12:59:45, not 12:50:00
  CHECK(web.per_dyno.at("web.1").max == doctest::Approx(0.120).epsilon(0.02));
  CHECK(web.per_dyno.at("web.2").count == 1);
  CHECK(*web.value == doctest::Approx(0.200).epsilon(0.02));

  spec::FormationSpec one = Formation("web", 1min, spec::Statistic::kMax);
  auto short_window = source.Read({&one}, app, t.h.clock.Now());
  CHECK(short_window["web"].per_dyno.at("web.1").count == 1);  // 12:59:45 only
  CHECK(short_window["web"].per_dyno.at("web.2").count == 1);

  // Later, the same lines have aged out.
  t.h.clock.Advance(2min);
  auto later = source.Read({&one}, app, t.h.clock.Now());
  CHECK_FALSE(later["web"].value);
  CHECK(later["web"].unknown_reason ==
        "no router lines for web in the last 1m; the log session had 4 router lines (6 lines)");
  CHECK(t.lines.malformed() == 3);
  CHECK(t.lines.ignored() == 3);
}

TEST_CASE("formations of different windows share the one session") {
  Harness t;
  model::AppState app = t.Observe("quiet");
  LogSessionSource source = t.Source("quiet");
  spec::FormationSpec web = Formation("web", 1min);
  spec::FormationSpec worker = Formation("worker", 10min);
  auto out = source.Read({&web, &worker}, app, t.h.clock.Now());
  CHECK(out["web"].per_dyno.at("web.1").count == 1);
  CHECK_FALSE(out["worker"].value);  // the router serves no worker
  CHECK(out["worker"].unknown_reason.rfind("no router lines for worker in the last 10m", 0) == 0);
  CHECK(t.h.fake->BudgetedApiCalls().size() == 1);
}

TEST_CASE(
    "when 1500 lines cover less than the window, the latency is known and a warning says how "
    "much") {
  Harness t;
  model::AppState app = t.Observe("busy");
  LogSessionSource source = t.Source("busy");
  spec::FormationSpec web = Formation("web");
  auto out = source.Read({&web}, app, t.h.clock.Now());
  REQUIRE(out["web"].value);
  CHECK(out["web"].sample_count == 1500);
  bool logged = false;
  for (const auto& e : t.log.entries()) {
    if (e.msg != "log session covers only part of the latency window") continue;
    logged = true;
    CHECK(e.level == LogLevel::kWarn);
    CHECK(e.Field("app") == "busy");
    CHECK(e.Field("window") == "5m");
    CHECK(e.Field("lines") == "1500");
    // 1500 of 5000 lines spread over 5 minutes reach back about 1m30s.
    Result<Duration> covered = ParseDuration(e.Field("covered"));
    REQUIRE(covered.ok());
    CHECK(*covered >= 80s);
    CHECK(*covered <= 100s);
  }
  CHECK(logged);

  // The quiet app's handful of lines cover the whole window: nothing to say.
  Harness q;
  model::AppState quiet = q.Observe("quiet");
  q.Source("quiet").Read({&web}, quiet, q.h.clock.Now());
  CHECK_FALSE(q.log.Contains(LogLevel::kWarn, "log session covers only part"));
}

TEST_CASE("a session that cannot be opened or read leaves every formation unknown, secrets kept") {
  Harness t;
  model::AppState app = t.Observe("shop");
  spec::FormationSpec web = Formation("web");
  LogSessionSource source = t.Source("shop");

  t.h.fake->AddFault(ht::F("{method: POST, path: /apps/shop/log-sessions, status: 403}"));
  auto refused = source.Read({&web}, app, t.h.clock.Now());
  CHECK_FALSE(refused["web"].value);
  CHECK(refused["web"].unknown_reason.find("log session") != std::string::npos);
  CHECK(refused["web"].unknown_reason.find("403") != std::string::npos);

  t.h.fake->AddFault(ht::F("{status: 500, path: '/logplex/*'}"));
  auto broken = source.Read({&web}, app, t.h.clock.Now());
  CHECK_FALSE(broken["web"].value);
  CHECK(broken["web"].unknown_reason.find("answered 500") != std::string::npos);

  for (const auto& [type, latency] : broken) {
    CHECK(latency.unknown_reason.find("srv=") == std::string::npos);
    CHECK(latency.unknown_reason.find(ht::kToken) == std::string::npos);
  }
  CHECK_FALSE(testing::LogsContain(t.log, "srv="));
  CHECK_FALSE(testing::LogsContain(t.log, ht::kToken));

  // The next pass reads again.
  auto healthy = source.Read({&web}, app, t.h.clock.Now());
  CHECK(healthy["web"].value);
}
