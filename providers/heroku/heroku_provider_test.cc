// HerokuProvider against the fake: the mapping, the cost of a pass, and that no failure path
// ever shows the token or the log session's secret.
#include "providers/heroku/heroku_provider.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <map>

#include "providers/heroku/heroku_test_support.h"

using namespace dynoherd;
using namespace dynoherd::providers;
using namespace dynoherd::providers::heroku;
using namespace dynoherd::providers::heroku::testing;

namespace {

const model::DynoState* FindDyno(const model::AppState& state, const std::string& name) {
  for (const auto& d : state.dynos) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("Observe maps formations and dynos") {
  CapturingLogger log;
  Harness h(log);
  HerokuProvider provider(*h.client);
  auto state = provider.Observe("shop");
  REQUIRE_MESSAGE(state.ok(), state.status().message());
  REQUIRE(state->formations.size() == 2);
  std::map<std::string, model::FormationState> formations;
  for (const auto& f : state->formations)
    formations[f.type] = f;
  CHECK(formations["web"].quantity == 4);
  CHECK(formations["web"].size == "standard-1X");
  CHECK(formations["worker"].quantity == 1);
  CHECK(state->dynos.size() == 5);
  const auto* web3 = FindDyno(*state, "web.3");
  REQUIRE(web3 != nullptr);
  CHECK(web3->type == "web");
  CHECK(web3->state == "up");
  CHECK(web3->updated_at == kStart - std::chrono::hours(1));
}

TEST_CASE("Fir-style dyno names keep their formation from the type field") {
  CapturingLogger log;
  Harness h(log);
  HerokuProvider provider(*h.client);
  auto state = provider.Observe("fir");
  REQUIRE(state.ok());
  REQUIRE(state->dynos.size() == 2);
  for (const auto& d : state->dynos) {
    CHECK(d.name.rfind("web-", 0) == 0);
    CHECK(d.name.find('.') == std::string::npos);
    CHECK(d.type == "web");
  }
}

TEST_CASE("a converged pass costs at most 3 API calls and makes no writes") {
  CapturingLogger log;
  Harness h(log);
  HerokuProvider provider(*h.client);
  for (int pass = 0; pass < 3; ++pass) {
    h.fake->ClearRequests();
    REQUIRE(provider.Observe("shop").ok());
    auto session = h.client->CreateLogSession("shop");
    REQUIRE(session.ok());
    REQUIRE(h.client->ReadLogSession(*session, {}, [](std::string_view) { return true; }).ok());
    const auto calls = h.fake->BudgetedApiCalls();
    CHECK(calls.size() == 3);
    for (const auto& c : calls) {
      const bool read =
          c.method == "GET" || (c.method == "POST" && c.path == "/apps/shop/log-sessions");
      CHECK_MESSAGE(read, c.method << " " << c.path);
    }
    h.clock.Advance(std::chrono::seconds(60));
  }
}

TEST_CASE("a restart shows as starting with a fresh updated_at, then up after the delay") {
  CapturingLogger log;
  Harness h(log);
  HerokuProvider provider(*h.client);
  REQUIRE(provider.Restart("shop", "web.2").ok());
  auto state = provider.Observe("shop");
  REQUIRE(state.ok());
  CHECK(FindDyno(*state, "web.2")->state == "starting");
  CHECK(FindDyno(*state, "web.2")->updated_at == kStart);
  h.clock.Advance(std::chrono::seconds(20));
  state = provider.Observe("shop");
  REQUIRE(state.ok());
  CHECK(FindDyno(*state, "web.2")->state == "up");
  CHECK(FindDyno(*state, "web.2")->updated_at == kStart + std::chrono::seconds(20));

  REQUIRE(provider.Stop("shop", "web.1").ok());
  CHECK(h.fake->Dynos("shop")[0].state == "down");
}

TEST_CASE("Scale sends one batch of absolute quantities") {
  CapturingLogger log;
  Harness h(log);
  HerokuProvider provider(*h.client);
  REQUIRE(provider.Scale("shop", {{"web", 6}, {"worker", 0}}).ok());
  REQUIRE(h.Sent("PATCH").size() == 1);
  CHECK(h.fake->FormationQuantity("shop", "web") == 6);
  CHECK(h.fake->FormationQuantity("shop", "worker") == 0);
  auto state = provider.Observe("shop");
  REQUIRE(state.ok());
  CHECK(state->dynos.size() == 6);
}

TEST_CASE("no failure path shows the token or the log session's secret") {
  // A real logger at debug level, without its own redaction, so a leak would be visible.
  char* buffer = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  REQUIRE(out != nullptr);
  ManualClock log_clock(kStart);
  StreamLogger logger(log_clock, LogFormat::kLogfmt, LogLevel::kDebug, out);
  std::vector<std::string> messages;
  auto keep = [&](const Status& s) {
    CHECK_MESSAGE(!s.ok(), "failure path " << messages.size() << " succeeded");
    messages.push_back(s.message());
  };

  Harness h(logger, [](HerokuClientOptions& o) { o.transport.total_timeout = 300ms; });
  HerokuProvider provider(*h.client);
  auto session = h.client->CreateLogSession("shop");
  REQUIRE(session.ok());
  const std::string secret = session->url.substr(session->url.find("srv=") + 4);
  const std::string session_path = session->url.substr(session->url.find("/logplex/"));

  // Heroku errors, one with a message that quotes the token back.
  fake_heroku::Fault echo = F("{method: GET, path: /apps/shop/formation, status: 400}");
  echo.message = std::string("bad token ") + kToken;
  h.fake->AddFault(echo);
  keep(provider.Observe("shop").status());
  keep(provider.Observe("nope").status());
  h.fake->AddFault(F("{method: GET, status: 503, times: 0}"));
  keep(provider.Observe("shop").status());
  h.fake->ClearFaults();
  h.fake->AddFault(F("{method: GET, status: 429, retryAfter: '120'}"));
  keep(provider.Observe("shop").status());
  h.fake->AddFault(
      F("{method: PATCH, status: 422, message: 'Cannot change formation for a preboot app.'}"));
  keep(provider.Scale("shop", {{"web", 2}}));
  h.fake->AddFault(F("{kind: drop, method: DELETE}"));
  keep(provider.Restart("shop", "web.1"));
  h.fake->AddFault(F("{kind: slow, delay: 5s, method: POST}"));
  keep(provider.Stop("shop", "web.1"));
  h.fake->AddFault(F("{kind: malformed-json, path: /apps/shop/dynos, times: 0}"));
  keep(provider.Observe("shop").status());
  h.fake->ClearFaults();
  h.fake->AddFault(F("{kind: truncate, path: /apps/shop/formation, times: 0}"));
  keep(provider.Observe("shop").status());
  h.fake->ClearFaults();

  // Log sessions: a refused read, a dropped read, an expired session.
  h.fake->AddFault(F("{status: 500, path: '/logplex/*'}"));
  keep(h.client->ReadLogSession(*session, {}, [](std::string_view) { return true; }).status());
  h.fake->AddFault(F("{kind: drop, path: '/logplex/*', times: 0}"));  // libcurl resends a GET once
  keep(h.client->ReadLogSession(*session, {}, [](std::string_view) { return true; }).status());
  h.fake->ClearFaults();
  LogSession stale = *session;
  stale.url += "0";
  keep(h.client->ReadLogSession(stale, {}, [](std::string_view) { return true; }).status());
  LogSession unreachable = *session;
  unreachable.url = "http://127.0.0.1:1" + session_path;
  keep(h.client->ReadLogSession(unreachable, {}, [](std::string_view) { return true; }).status());

  // A rejected token, the budget guard, and an unreachable API.
  auto wrong =
      h.MakeClient(logger, [](HerokuClientOptions& o) { o.token = "HRKU-another-secret"; });
  keep(HerokuProvider(*wrong).Observe("shop").status());
  h.fake->SetRateLimitRemaining(10);
  keep(provider.Observe("shop").status());
  keep(provider.Observe("shop").status());
  auto offline =
      h.MakeClient(logger, [](HerokuClientOptions& o) { o.api_url = "http://127.0.0.1:1"; });
  keep(HerokuProvider(*offline).Restart("shop", "web.1"));

  std::fclose(out);
  const std::string logs(buffer, size);
  std::free(buffer);
  CHECK(messages.size() == 17);
  CHECK(logs.find("heroku api call") != std::string::npos);  // the debug lines were written
  for (const std::string& m : messages) {
    CHECK_MESSAGE(m.find(kToken) == std::string::npos, m);
    CHECK_MESSAGE(m.find("HRKU-another-secret") == std::string::npos, m);
    CHECK_MESSAGE(m.find(secret) == std::string::npos, m);
    CHECK_MESSAGE(m.find(session_path) == std::string::npos, m);
  }
  CHECK(logs.find(kToken) == std::string::npos);
  CHECK(logs.find("HRKU-another-secret") == std::string::npos);
  CHECK(logs.find(secret) == std::string::npos);
  CHECK(logs.find(session_path) == std::string::npos);
  // The token really was sent, to the API only.
  for (const auto& r : h.fake->Requests()) {
    if (r.IsLogplex()) CHECK_FALSE(r.Header("Authorization").has_value());
  }
}
