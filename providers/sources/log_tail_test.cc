// The log tail of `dynoherd run` against the fake Heroku's log sessions over real HTTP. Waits
// between reconnects are injected (recorded, no wall time); the tests wait for events (lines
// taken, sessions ended), never for time to pass.
#include "providers/sources/log_tail.h"

#include <doctest/doctest.h>

#include "providers/heroku/heroku_test_support.h"
#include "providers/sources/sources_test_support.h"

using namespace dynoherd;
using namespace dynoherd::providers;
using namespace dynoherd::providers::sources;
using namespace std::chrono_literals;
namespace ht = dynoherd::providers::heroku::testing;

namespace {

constexpr auto kEventTimeout = std::chrono::milliseconds(20000);

// shop: five web dynos (40 requests each in 5 minutes; web.3 five times slower, 2 H12s);
// fixed: the same four router lines in every session.
constexpr const char* kScenario = R"(
token: HRKU-0123456789-very-secret-token
seed: 9
apps:
  - name: shop
    formations: [{type: web, quantity: 5}]
    logs:
      default: {medianMs: 100, count: 40, spread: 0.2}
      dynos:
        web.3: {laggardFactor: 5, h12: 2}
  - name: fixed
    formations: [{type: web, quantity: 2}]
    logs:
      default: {count: 0}
      extraLines:
        - '2026-11-22T12:59:30.000000+00:00 heroku[router]: at=info dyno=web.1 connect=0ms service=100ms status=200'
        - '2026-11-22T12:59:31.000000+00:00 heroku[router]: at=info dyno=web.2 connect=0ms service=110ms status=200'
        - '2026-11-22T12:59:32.000000+00:00 heroku[router]: at=info dyno=web.1 connect=0ms service=120ms status=200'
        - '2026-11-22T12:59:33.000000+00:00 heroku[router]: at=info dyno=web.2 connect=0ms service=130ms status=200'
)";

spec::FormationSpec Web(Duration window = 5min) {
  return testing::LatencyFormation("web", window);
}

struct Harness {
  CapturingLogger log;
  ht::Harness h{log, {}, kScenario};
  testing::LineCounts lines;
  ManualSleeper sleeper{&h.clock};  // records each wait before a reconnect, moves the clock

  std::unique_ptr<LogTail> Start(const std::string& app, LogTailOptions options = {},
                                 bool inject_sleep = true, bool wait_for_first_lines = false) {
    if (!wait_for_first_lines) options.first_lines_wait = std::chrono::milliseconds(0);
    auto tail = LogTail::Start(*h.client, app, options, h.clock, log, lines.Counter(),
                               inject_sleep ? &sleeper : nullptr);
    REQUIRE_MESSAGE(tail.ok(), tail.status().message());
    return std::move(tail).value();
  }
  model::AppState Observe(const std::string& app) {
    model::AppState state;
    state.formations = h.client->ListFormations(app).value();
    state.dynos = h.client->ListDynos(app).value();
    return state;
  }
  size_t SessionsOpened() {
    size_t n = 0;
    for (const auto& r : h.fake->BudgetedApiCalls())
      n += r.path ==
               "/apps/"
               "shop/log-sessions" ||
           r.path == "/apps/fixed/log-sessions";
    return n;
  }
};

}  // namespace

TEST_CASE("a tail takes the replayed lines, stays open, and serves the window to every reader") {
  Harness t;
  model::AppState app = t.Observe("shop");
  auto tail = t.Start("shop");
  REQUIRE(tail->WaitForLines(202, kEventTimeout));

  spec::FormationSpec web = Web();
  auto out = tail->Read({&web}, app, t.h.clock.Now());
  const model::FormationLatency& latency = out["web"];
  REQUIRE(latency.value);
  REQUIRE(latency.per_dyno.size() == 5);
  // The window expires in tenths (30 s buckets), so it reads between 4m30s and 5m back: most of
  // each dyno's 40 requests, spread over 5 minutes.
  CHECK(latency.per_dyno.at("web.1").count >= 30);
  CHECK(latency.per_dyno.at("web.1").count <= 40);
  CHECK(latency.per_dyno.at("web.3").count <= 42);
  CHECK(latency.per_dyno.at("web.3").errors == 2);
  CHECK(latency.per_dyno.at("web.3").p50 > 3 * latency.per_dyno.at("web.1").p50);

  LogTailHealth health = tail->health();
  CHECK(health.connected);
  CHECK(health.sessions_opened == 1);
  CHECK(health.lines_taken == 202);
  // The session is a tailing one, opened once.
  auto sessions = t.h.fake->BudgetedApiCalls();
  REQUIRE(sessions.size() == 3);  // formation, dynos, log session
  CHECK(sessions[2].body == R"({"dyno_name":"router","lines":1500,"source":"heroku","tail":true})");

  // Stopping ends the open read (within about a second) and the thread.
  tail->Stop();
  health = tail->health();
  CHECK_FALSE(health.connected);
  CHECK(t.log.Contains(LogLevel::kInfo, "log tail stopped"));
  CHECK(t.SessionsOpened() == 1);
  CHECK(t.lines.parsed() == 202);
}

TEST_CASE("the first read waits for the whole replayed burst, not only its first line") {
  Harness t;
  model::AppState app = t.Observe("shop");
  LogTailOptions options;
  options.first_lines_wait = std::chrono::milliseconds(20000);  // a bound, not a sleep
  auto tail = t.Start("shop", options, /*inject_sleep=*/true, /*wait_for_first_lines=*/true);
  spec::FormationSpec web = Web();
  // Read at once, racing the session: it must still see all 202 replayed lines.
  auto out = tail->Read({&web}, app, t.h.clock.Now());
  CHECK(tail->health().lines_taken == 202);
  REQUIRE(out["web"].value);
  CHECK(out["web"].per_dyno.size() == 5);
  tail->Stop();
}

TEST_CASE("a failing tail reconnects after a doubling, bounded backoff; one session per attempt") {
  Harness t;
  t.h.fake->AddFault(ht::F("{status: 500, path: '/logplex/*', times: 4}"));
  LogTailOptions options;
  options.initial_backoff = 1s;
  options.max_backoff = 3s;
  auto tail = t.Start("shop", options);
  std::vector<Duration> waits = t.sleeper.WaitForWaits(4, kEventTimeout);
  REQUIRE(tail->WaitForLines(202, kEventTimeout));
  CHECK(waits == std::vector<Duration>{1s, 2s, 3s, 3s});
  tail->Stop();
  LogTailHealth health = tail->health();
  CHECK(health.attempts == 5);
  CHECK(health.sessions_opened == 5);
  CHECK(health.lines_taken == 202);
  CHECK(t.SessionsOpened() == 5);
  CHECK(t.log.Contains(LogLevel::kWarn, "log tail failed, reconnecting"));
  for (const auto& e : t.log.entries()) {
    if (e.msg != "log tail failed, reconnecting") continue;
    CHECK(e.Field("error").find("answered 500") != std::string::npos);
    CHECK(e.Field("error").find("srv=") == std::string::npos);
  }
  CHECK_FALSE(testing::LogsContain(t.log, ht::kToken));
}

TEST_CASE("a session that ends is replaced; replayed lines are not counted twice") {
  Harness t;
  LogTailOptions options;
  options.request.tail = false;  // the fake ends such a session after its lines
  options.healthy_after = 0s;    // every clean end counts as healthy: the backoff stays at 1s
  auto tail = t.Start("fixed", options);
  t.sleeper.WaitForWaits(3, kEventTimeout);
  REQUIRE(tail->WaitForSessionsEnded(3, kEventTimeout));
  tail->Stop();
  LogTailHealth health = tail->health();
  CHECK(health.sessions_opened >= 3);
  CHECK(health.lines_taken == 4);  // the first session's lines
  // Sessions 2 and 3 replayed all four lines; a fourth may have begun before the stop.
  CHECK(health.lines_replayed >= 8);
  CHECK(health.lines_replayed <= 4 * (health.sessions_opened - 1));
  std::vector<Duration> waits = t.sleeper.WaitForWaits(3, kEventTimeout);
  for (size_t i = 0; i < 3; ++i)
    CHECK(waits[i] == 1s);
  CHECK(t.log.Contains(LogLevel::kInfo, "log tail ended, reconnecting"));

  model::AppState app = t.Observe("fixed");
  spec::FormationSpec web = Web();
  auto out = tail->Read({&web}, app, testing::kStart);
  CHECK(out["web"].per_dyno.at("web.1").count == 2);
  CHECK(out["web"].per_dyno.at("web.2").count == 2);
}

TEST_CASE("a failed session opening is retried with backoff too") {
  Harness t;
  // 404 is not retried inside the client: each failure is one attempt of the tail.
  t.h.fake->AddFault(
      ht::F("{method: POST, path: /apps/fixed/log-sessions, status: 404, times: 2}"));
  auto tail = t.Start("fixed");
  REQUIRE(tail->WaitForLines(4, kEventTimeout));
  std::vector<Duration> waits = t.sleeper.WaitForWaits(2, kEventTimeout);
  CHECK(waits[0] == 1s);
  CHECK(waits[1] == 2s);
  LogTailHealth health = tail->health();
  CHECK(health.attempts == 3);
  CHECK(health.sessions_opened == 1);
}

TEST_CASE("unknown latency says what the tail is doing") {
  Harness t;
  t.h.fake->AddFault(ht::F("{status: 500, path: '/logplex/*', times: 0}"));
  // A real, long backoff keeps the tail waiting after its first failure: with an instant one it
  // could already have opened its next session when Read asks.
  LogTailOptions options;
  options.initial_backoff = 1h;
  options.max_backoff = 1h;
  auto tail = t.Start("fixed", options, /*inject_sleep=*/false);
  REQUIRE(tail->WaitForSessionsEnded(1, kEventTimeout));
  model::AppState app = t.Observe("fixed");
  spec::FormationSpec web = Web();
  auto out = tail->Read({&web}, app, t.h.clock.Now());
  CHECK_FALSE(out["web"].value);
  CHECK(out["web"].unknown_reason.find("no router lines for web in the last 5m; the log tail of "
                                       "fixed is reconnecting after: ") == 0);
  CHECK(out["web"].unknown_reason.find("answered 500") != std::string::npos);
  tail->Stop();
}

TEST_CASE("stopping cuts a real backoff wait short") {
  Harness t;
  t.h.fake->AddFault(ht::F("{status: 500, path: '/logplex/*', times: 0}"));
  LogTailOptions options;
  options.initial_backoff = 1h;  // a wait that would outlast the test's timeout
  options.max_backoff = 1h;
  auto tail = t.Start("fixed", options, /*inject_sleep=*/false);
  REQUIRE(tail->WaitForSessionsEnded(1, kEventTimeout));
  tail->Stop();  // returns only because the wait was cut short
  CHECK(tail->health().attempts == 1);
  CHECK(tail->health().last_backoff == 1h);
}

TEST_CASE("the first read waits (bounded) for the first lines") {
  Harness t;
  model::AppState app = t.Observe("fixed");
  LogTailOptions options;
  auto started =
      LogTail::Start(*t.h.client, "fixed", options, t.h.clock, t.log, nullptr, &t.sleeper);
  REQUIRE(started.ok());
  spec::FormationSpec web = Web();
  auto out = (*started)->Read({&web}, app, t.h.clock.Now());
  // Read returned after the first lines arrived (or a failure), not after 5 s of nothing.
  CHECK((*started)->health().lines_taken >= 1);
  CHECK(out["web"].per_dyno.size() == 2);
}

TEST_CASE("two policies watching one app share one tail; a wider window starts a wider one") {
  Harness t;
  LogTailRegistry registry;
  int made = 0;
  auto make = [&](Duration window) -> std::shared_ptr<LogTail> {
    ++made;
    LogTailOptions options;
    options.window = window;
    return t.Start("fixed", options);
  };
  std::shared_ptr<LogTail> a = registry.Acquire("fixed", 5min, make);
  std::shared_ptr<LogTail> b = registry.Acquire("fixed", 2min, make);
  CHECK(a == b);
  CHECK(made == 1);
  std::shared_ptr<LogTail> wide = registry.Acquire("fixed", 10min, make);
  CHECK(wide != a);
  CHECK(wide->window() == 10min);
  CHECK(registry.Acquire("fixed", 5min, make) == wide);
  CHECK(made == 2);
  // Held weakly: once every reader let go, a new tail starts.
  a.reset();
  b.reset();
  wide.reset();
  std::shared_ptr<LogTail> fresh = registry.Acquire("fixed", 5min, make);
  CHECK(made == 3);
  registry.StopAll();
  CHECK_FALSE(fresh->health().connected);
}

TEST_CASE("bad options are refused") {
  Harness t;
  LogTailOptions zero;
  zero.initial_backoff = 0s;
  CHECK_FALSE(LogTail::Start(*t.h.client, "shop", zero, t.h.clock, t.log, nullptr).ok());
  LogTailOptions inverted;
  inverted.max_backoff = 1s;
  inverted.initial_backoff = 2s;
  CHECK_FALSE(LogTail::Start(*t.h.client, "shop", inverted, t.h.clock, t.log, nullptr).ok());
  LogTailOptions no_window;
  no_window.window = -1min;
  CHECK_FALSE(LogTail::Start(*t.h.client, "shop", no_window, t.h.clock, t.log, nullptr).ok());
}
