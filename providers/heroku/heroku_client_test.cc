// The Heroku client over real HTTP against the fake: what it sends (method, path, headers, body,
// how many times) and what it makes of every answer and fault.
#include "providers/heroku/heroku_client.h"

#include <doctest/doctest.h>

#include <set>

#include "providers/heroku/heroku_test_support.h"

using namespace dynoherd;
using namespace dynoherd::providers;
using namespace dynoherd::providers::heroku;
using namespace dynoherd::providers::heroku::testing;

namespace {

constexpr const char* kPreboot =
    "Cannot change formation for a preboot app until release phase and preboot complete.";

}  // namespace

TEST_CASE("every call carries Heroku's headers, and writes carry exact JSON bodies") {
  CapturingLogger log;
  Harness h(log);
  REQUIRE(h.client->ListFormations("shop").ok());
  REQUIRE(h.client->UpdateFormations("shop", {{"web", 5}, {"worker", 2}}).ok());
  REQUIRE(h.client->RestartDyno("shop", "web.1").ok());
  REQUIRE(h.client->StopDyno("shop", "web.2").ok());
  REQUIRE(h.client->CreateLogSession("shop", {.tail = false}).ok());

  const auto sent = h.fake->Requests();
  REQUIRE(sent.size() == 5);
  for (const auto& r : sent) {
    CHECK(r.Header("Accept") == "application/vnd.heroku+json; version=3");
    CHECK(r.Header("Authorization") == std::string("Bearer ") + kToken);
    CHECK(r.Header("User-Agent") == std::string("dynoherd/") + DYNOHERD_VERSION);
    CHECK(r.status / 100 == 2);
  }
  CHECK(sent[0].method == "GET");
  CHECK(sent[0].path == "/apps/shop/formation");
  CHECK(sent[0].Header("Range") == "id ..; max=1000");
  CHECK(sent[1].method == "PATCH");
  CHECK(sent[1].path == "/apps/shop/formation");
  CHECK(sent[1].body ==
        R"({"updates":[{"quantity":5,"type":"web"},{"quantity":2,"type":"worker"}]})");
  CHECK(sent[1].Header("Content-Type") == "application/json");
  CHECK(sent[2].method == "DELETE");
  CHECK(sent[2].path == "/apps/shop/dynos/web.1");
  CHECK(sent[2].body.empty());
  CHECK(sent[3].method == "POST");
  CHECK(sent[3].path == "/apps/shop/dynos/web.2/actions/stop");
  CHECK(sent[4].method == "POST");
  CHECK(sent[4].path == "/apps/shop/log-sessions");
  CHECK(sent[4].body == R"({"dyno_name":"router","lines":1500,"source":"heroku","tail":false})");
  CHECK(h.fake->FormationQuantity("shop", "web") == 5);
  CHECK(h.client->stats().calls == 5);
  CHECK(h.client->stats().rate_limit_remaining == h.fake->RateLimitRemaining());
}

TEST_CASE("names are escaped so they cannot change the path") {
  CapturingLogger log;
  Harness h(log);
  Status s = h.client->RestartDyno("shop", "../../account");
  CHECK(s.code() == Status::Code::kNotFound);
  REQUIRE(h.fake->Requests().size() == 1);
  CHECK(h.fake->Requests()[0].path == "/apps/shop/dynos/..%2F..%2Faccount");
  CHECK(EscapePathSegment("web.3") == "web.3");
  CHECK(EscapePathSegment("a b/c?d") == "a%20b%2Fc%3Fd");
}

TEST_CASE("the dyno list follows every Next-Range through 206 pages until a 200") {
  CapturingLogger log;
  Harness h(log, [](HerokuClientOptions& o) { o.page_size = 3; });
  auto dynos = h.client->ListDynos("big");
  REQUIRE_MESSAGE(dynos.ok(), dynos.status().message());
  std::set<std::string> names;
  for (const auto& d : *dynos)
    names.insert(d.name);
  CHECK(names.size() == 10);
  CHECK(names.count("web.10") == 1);

  const auto sent = h.Sent("GET", "/apps/big/dynos");
  REQUIRE(sent.size() == 4);  // 3 + 3 + 3 + 1
  CHECK(sent[0].Header("Range") == "id ..; max=3");
  std::vector<int> statuses;
  for (size_t i = 0; i < sent.size(); ++i) {
    statuses.push_back(sent[i].status);
    if (i > 0) {
      const std::string range = *sent[i].Header("Range");
      CHECK(range.rfind("]", 0) == 0);  // the Next-Range the fake sent, sent back as is
      CHECK(range.size() > std::string("]..; max=3").size());
      CHECK(range.find("..; max=3") != std::string::npos);
      CHECK(range != *sent[i - 1].Header("Range"));
    }
  }
  CHECK(statuses == std::vector<int>{206, 206, 206, 200});
}

TEST_CASE("without a page size the first request sends no Range and Heroku's default applies") {
  CapturingLogger log;
  Harness h(log, [](HerokuClientOptions& o) { o.page_size = 0; });
  REQUIRE(h.client->ListDynos("big").ok());
  const auto sent = h.Sent("GET", "/apps/big/dynos");
  REQUIRE(sent.size() == 1);
  CHECK_FALSE(sent[0].Header("Range").has_value());
}

TEST_CASE("a list that never ends is cut off") {
  CapturingLogger log;
  Harness h(log, [](HerokuClientOptions& o) {
    o.page_size = 2;
    o.max_pages = 3;
  });
  auto dynos = h.client->ListDynos("big");
  REQUIRE_FALSE(dynos.ok());
  CHECK(dynos.status().message() == "list dynos of big: the list did not end after 3 pages");
  CHECK(h.Sent("GET").size() == 3);
}

TEST_CASE("a 503 on a GET is retried after a backoff and succeeds") {
  CapturingLogger log;
  Harness h(log);
  h.fake->AddFault(F("{method: GET, path: /apps/shop/formation, status: 503}"));
  auto formations = h.client->ListFormations("shop");
  REQUIRE_MESSAGE(formations.ok(), formations.status().message());
  CHECK(formations->size() == 2);
  const auto sent = h.Sent("GET", "/apps/shop/formation");
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].status == 503);
  CHECK(sent[1].status == 200);
  REQUIRE(h.sleeper.waits().size() == 1);
  CHECK(h.sleeper.waits()[0] >= 250ms);
  CHECK(h.sleeper.waits()[0] <= 500ms);
  CHECK(log.Contains(LogLevel::kWarn, "heroku api call failed; retrying"));
  CHECK(h.client->stats().retries == 1);
}

TEST_CASE("a 503 on a restart is reported, never retried") {
  CapturingLogger log;
  Harness h(log);
  h.fake->AddFault(F("{method: DELETE, status: 503, times: 0}"));
  Status s = h.client->RestartDyno("shop", "web.3");
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == Status::Code::kUnavailable);
  CHECK(s.message().rfind("restart dyno web.3 of shop: Heroku answered 503 service_unavailable: ",
                          0) == 0);
  REQUIRE(s.api_error().has_value());
  CHECK(s.api_error()->http_status == 503);
  CHECK(s.api_error()->error_id == "service_unavailable");
  CHECK_FALSE(s.api_error()->request_id.empty());
  CHECK(s.message().find("(request id " + s.api_error()->request_id + ")") != std::string::npos);
  CHECK(h.Sent("DELETE").size() == 1);
  CHECK(h.sleeper.waits().empty());
}

TEST_CASE("a dropped connection on restart or stop is not retried, even after a kept-alive GET") {
  CapturingLogger log;
  Harness h(log);
  REQUIRE(h.client->ListDynos("shop").ok());  // leaves a kept-alive connection to reuse
  h.fake->AddFault(F("{kind: drop, method: DELETE}"));
  h.fake->AddFault(F("{kind: drop, method: POST, path: /apps/shop/dynos/*}"));
  Status restart = h.client->RestartDyno("shop", "web.1");
  Status stop = h.client->StopDyno("shop", "web.2");
  CHECK(restart.message().find("the server closed the connection without answering") !=
        std::string::npos);
  CHECK(restart.code() == Status::Code::kOutcomeUnknown);
  CHECK(stop.code() == Status::Code::kOutcomeUnknown);
  CHECK(stop.message().rfind("stop dyno web.2 of shop: ", 0) == 0);
  CHECK(h.Sent("DELETE").size() == 1);
  CHECK(h.Sent("POST").size() == 1);
  CHECK(h.sleeper.waits().empty());
}

TEST_CASE("a refused connection is retried even for a restart: the request never left") {
  CapturingLogger log;
  Harness h(log, [](HerokuClientOptions& o) {
    o.api_url = "http://127.0.0.1:" + std::to_string(ClosedPort());
  });
  Status s = h.client->RestartDyno("shop", "web.1");
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("restart dyno web.1 of shop: connect to 127.0.0.1:") == 0);
  CHECK(s.message().find("Connection refused (gave up after 4 attempts)") != std::string::npos);
  CHECK(h.sleeper.waits().size() == 3);
  CHECK(h.client->stats().calls == 4);
}

TEST_CASE("a 429 with Retry-After is honoured on the injected clock") {
  CapturingLogger log;
  Harness h(log);
  SUBCASE("in seconds") {
    h.fake->AddFault(F("{method: GET, path: /apps/shop/dynos, status: 429, retryAfter: '7'}"));
    REQUIRE(h.client->ListDynos("shop").ok());
    CHECK(h.sleeper.waits() == std::vector<Duration>{7s});
  }
  SUBCASE("as an HTTP date") {
    h.fake->AddFault(
        F("{method: GET, path: /apps/shop/dynos, status: 429, "
          "retryAfter: 'Sun, 22 Nov 2026 13:00:09 GMT'}"));
    REQUIRE(h.client->ListDynos("shop").ok());
    CHECK(h.sleeper.waits() == std::vector<Duration>{9s});
  }
  const auto sent = h.Sent("GET", "/apps/shop/dynos");
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].status == 429);
  // The fake saw the wait on the shared clock.
  CHECK(sent[1].at - sent[0].at == h.sleeper.waits()[0]);
}

TEST_CASE("a 429 without Retry-After backs off exponentially with jitter") {
  CapturingLogger log;
  Harness h(log);
  h.fake->AddFault(F("{method: GET, status: 429, times: 3}"));
  REQUIRE(h.client->ListFormations("shop").ok());
  REQUIRE(h.sleeper.waits().size() == 3);
  CHECK(h.sleeper.waits()[0] >= 250ms);
  CHECK(h.sleeper.waits()[0] <= 500ms);
  CHECK(h.sleeper.waits()[1] >= 500ms);
  CHECK(h.sleeper.waits()[1] <= 1000ms);
  CHECK(h.sleeper.waits()[2] >= 1000ms);
  CHECK(h.sleeper.waits()[2] <= 2000ms);
  CHECK(h.Sent("GET").size() == 4);
}

TEST_CASE("a Retry-After beyond the retry limit ends the call at once") {
  CapturingLogger log;
  Harness h(log);
  h.fake->AddFault(F("{method: GET, status: 429, retryAfter: '120'}"));
  auto dynos = h.client->ListDynos("shop");
  REQUIRE_FALSE(dynos.ok());
  CHECK(dynos.status().code() == Status::Code::kResourceExhausted);
  CHECK(
      dynos.status().message().find(
          "(not retried: the next attempt would start after 2m, beyond the retry limit of 30s)") !=
      std::string::npos);
  CHECK(h.sleeper.waits().empty());
  CHECK(h.Sent("GET").size() == 1);
}

TEST_CASE("retries are bounded in count and in total time") {
  CapturingLogger log;
  SUBCASE("count") {
    Harness h(log);
    h.fake->AddFault(F("{method: GET, status: 503, times: 0}"));
    auto f = h.client->ListFormations("shop");
    REQUIRE_FALSE(f.ok());
    CHECK(f.status().message().find("(gave up after 4 attempts)") != std::string::npos);
    CHECK(h.Sent("GET").size() == 4);
    CHECK(h.sleeper.waits().size() == 3);
  }
  SUBCASE("time") {
    Harness h(log, [](HerokuClientOptions& o) {
      o.retry.max_attempts = 100;
      o.retry.max_total = 10s;
    });
    h.fake->AddFault(F("{method: GET, status: 503, times: 0}"));
    REQUIRE_FALSE(h.client->ListFormations("shop").ok());
    Duration waited{0};
    for (Duration w : h.sleeper.waits())
      waited += w;
    CHECK(waited <= 10s);
    CHECK(h.Sent("GET").size() < 10);
  }
}

TEST_CASE("an absolute scale is retried on 503; the same body goes again") {
  CapturingLogger log;
  Harness h(log);
  h.fake->AddFault(F("{method: PATCH, status: 503}"));
  REQUIRE(h.client->UpdateFormations("shop", {{"web", 6}}).ok());
  const auto sent = h.Sent("PATCH");
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].body == sent[1].body);
  CHECK(h.fake->FormationQuantity("shop", "web") == 6);
  CHECK(h.client->UpdateFormations("shop", {}).ok());  // nothing to do: no call
  CHECK(h.Sent("PATCH").size() == 2);
}

TEST_CASE("a 422 during a deploy says the formation is locked, and is not retried") {
  CapturingLogger log;
  Harness h(log);
  fake_heroku::Fault preboot = F("{method: PATCH, status: 422, id: invalid_params}");
  preboot.message = kPreboot;
  h.fake->AddFault(preboot);
  Status s = h.client->UpdateFormations("shop", {{"web", 6}});
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == Status::Code::kUnavailable);
  CHECK(s.message().rfind("scale shop to web=6: formation locked by a release, retrying next pass "
                          "(Heroku answered 422 invalid_params: Cannot change formation",
                          0) == 0);
  REQUIRE(s.api_error().has_value());
  CHECK(s.api_error()->http_status == 422);
  CHECK(h.Sent("PATCH").size() == 1);
  CHECK(h.fake->FormationQuantity("shop", "web") == 4);

  h.fake->AddFault(F("{method: PATCH, status: 422, message: 'Quantity is invalid.'}"));
  Status other = h.client->UpdateFormations("shop", {{"web", 6}});
  CHECK(other.code() == Status::Code::kInvalidArgument);
}

TEST_CASE("401 and 404 become clear errors") {
  CapturingLogger log;
  Harness h(log);
  auto missing = h.client->ListFormations("nope");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == Status::Code::kNotFound);
  CHECK(missing.status().message().rfind("list formations of nope: Heroku answered 404 not_found: "
                                         "Couldn't find that app. (request id ",
                                         0) == 0);
  CHECK(h.Sent("GET").size() == 1);

  auto wrong = h.MakeClient(log, [](HerokuClientOptions& o) {
    o.token = "HRKU-wrong-secret";
    o.token_source = "/home/me/.netrc";
  });
  auto denied = wrong->ListDynos("shop");
  REQUIRE_FALSE(denied.ok());
  CHECK(denied.status().code() == Status::Code::kUnauthenticated);
  CHECK(denied.status().message().find(
            "Heroku answered 401 unauthorized: Invalid credentials provided.") !=
        std::string::npos);
  CHECK(denied.status().message().find("check the API token from /home/me/.netrc") !=
        std::string::npos);
  CHECK(denied.status().message().find("HRKU-wrong-secret") == std::string::npos);
  CHECK(h.Sent("GET").size() == 2);  // 401 is not retried
}

TEST_CASE("timeouts: a slow read is retried, a slow restart is not") {
  CapturingLogger log;
  Harness h(log, [](HerokuClientOptions& o) { o.transport.total_timeout = 300ms; });
  h.fake->AddFault(F("{kind: slow, delay: 10s, method: GET, path: /apps/shop/formation}"));
  REQUIRE(h.client->ListFormations("shop").ok());
  CHECK(h.Sent("GET").size() == 2);
  CHECK(h.sleeper.waits().size() == 1);

  h.fake->AddFault(F("{kind: slow, delay: 10s, method: DELETE}"));
  Status s = h.client->RestartDyno("shop", "web.4");
  CHECK(s.code() == Status::Code::kOutcomeUnknown);  // sent: it may have happened
  CHECK(s.message() == "restart dyno web.4 of shop: DELETE " + HostOfUrl(h.fake->base_url()) +
                           ": no complete response within 300ms (the request was sent and no "
                           "answer came: it may have taken effect)");
  CHECK(h.Sent("DELETE").size() == 1);
  CHECK(h.sleeper.waits().size() == 1);
}

TEST_CASE("a scale never answered is OutcomeUnknown; answered on a retry, it is done") {
  CapturingLogger log;
  Harness h(log, [](HerokuClientOptions& o) {
    o.transport.total_timeout = 300ms;
    o.retry.max_attempts = 2;
  });
  h.fake->AddFault(F("{kind: stall, delay: 10s, method: PATCH, times: 2}"));
  Status s = h.client->UpdateFormations("shop", {{"web", 6}});
  CHECK(s.code() == Status::Code::kOutcomeUnknown);
  CHECK(s.message().find("it may have taken effect") != std::string::npos);
  CHECK(h.fake->FormationQuantity("shop", "web") == 6);  // it had, as far as Heroku knows

  h.fake->AddFault(F("{kind: stall, delay: 10s, method: PATCH}"));
  CHECK(h.client->UpdateFormations("shop", {{"web", 7}}).ok());  // the retry got its answer
  CHECK(h.Sent("PATCH").size() == 4);

  // A refusal is a plain failure: Heroku said it did not happen.
  h.fake->AddFault(F("{method: PATCH, status: 422, id: invalid_params}"));
  Status refused = h.client->UpdateFormations("shop", {{"web", 8}});
  CHECK_FALSE(refused.ok());
  CHECK(refused.code() != Status::Code::kOutcomeUnknown);
}

TEST_CASE("malformed JSON and a truncated body are clear errors") {
  CapturingLogger log;
  Harness h(log, [](HerokuClientOptions& o) { o.retry.max_attempts = 1; });
  h.fake->AddFault(F("{kind: malformed-json, path: /apps/shop/dynos}"));
  auto bad = h.client->ListDynos("shop");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().rfind("list dynos of shop: malformed JSON from Heroku (at byte ",
                                     0) == 0);

  h.fake->AddFault(F("{kind: truncate, path: /apps/shop/dynos}"));
  auto cut = h.client->ListDynos("shop");
  REQUIRE_FALSE(cut.ok());
  CHECK(cut.status().message().find("connection lost before a complete response") !=
        std::string::npos);
}

TEST_CASE("below the reserve, calls are skipped with a WARN until the budget refills") {
  CapturingLogger log;
  Harness h(log);
  h.fake->SetRateLimitRemaining(301);
  REQUIRE(h.client->ListFormations("shop").ok());  // the fake now reports 300
  REQUIRE(h.client->ListDynos("shop").ok());       // 300 >= 300: allowed; now 299
  CHECK(h.client->stats().rate_limit_remaining == 299);
  h.fake->ClearRequests();

  auto skipped = h.client->ListFormations("shop");
  REQUIRE_FALSE(skipped.ok());
  CHECK(skipped.status().code() == Status::Code::kResourceExhausted);
  CHECK(skipped.status().message() ==
        "list formations of shop: skipped: the Heroku API budget is low (299 calls left, reserve "
        "300); reads and actions resume when it refills, in about 1s");
  CHECK(log.Contains(LogLevel::kWarn, "Heroku API budget below the reserve"));
  // Only the free rate-limit call went out.
  REQUIRE(h.fake->Requests().size() == 1);
  CHECK(h.fake->Requests()[0].path == "/account/rate-limits");
  CHECK(h.fake->BudgetedApiCalls().empty());

  // Actions are skipped too, and within the check interval not even the free call is made.
  CHECK(h.client->RestartDyno("shop", "web.1").code() == Status::Code::kResourceExhausted);
  CHECK(h.fake->Requests().size() == 1);
  CHECK(h.client->stats().budget_skips == 2);

  h.clock.Advance(60s);  // the fake refills 75 a minute
  REQUIRE(h.client->ListFormations("shop").ok());
  CHECK(h.fake->Requests().size() == 3);  // rate-limits, then the list
  CHECK(h.fake->BudgetedApiCalls().size() == 1);
}

TEST_CASE("a reserve of 0 turns the guard off") {
  CapturingLogger log;
  Harness h(log, [](HerokuClientOptions& o) { o.api_reserve = 0; });
  h.fake->SetRateLimitRemaining(5);
  REQUIRE(h.client->ListFormations("shop").ok());
  REQUIRE(h.client->ListDynos("shop").ok());
  CHECK(h.fake->Requests().size() == 2);
}

TEST_CASE("an unchanged list is revalidated with If-None-Match and served from the cache") {
  CapturingLogger log;
  Harness h(log);
  auto first = h.client->ListFormations("shop");
  REQUIRE(first.ok());
  auto second = h.client->ListFormations("shop");
  REQUIRE(second.ok());
  const auto sent = h.Sent("GET", "/apps/shop/formation");
  REQUIRE(sent.size() == 2);
  CHECK_FALSE(sent[0].Header("If-None-Match").has_value());
  CHECK(sent[1].Header("If-None-Match").has_value());
  CHECK(sent[1].status == 304);
  REQUIRE(second->size() == first->size());
  CHECK((*second)[0].quantity == (*first)[0].quantity);

  REQUIRE(h.client->UpdateFormations("shop", {{"web", 2}}).ok());
  auto third = h.client->ListFormations("shop");
  REQUIRE(third.ok());
  CHECK(h.Sent("GET", "/apps/shop/formation").back().status == 200);
  CHECK((*third)[0].quantity == 2);
}

TEST_CASE("a log session is read line by line from logplex, which never gets the token") {
  CapturingLogger log;
  Harness h(log);
  auto session = h.client->CreateLogSession("shop");
  REQUIRE_MESSAGE(session.ok(), session.status().message());
  CHECK(session->app == "shop");
  std::vector<std::string> lines;
  auto summary = h.client->ReadLogSession(*session, {}, [&](std::string_view line) {
    lines.emplace_back(line);
    return true;
  });
  REQUIRE_MESSAGE(summary.ok(), summary.status().message());
  CHECK(summary->end == StreamEnd::kEndOfBody);
  CHECK(summary->lines == 4 * 30 + 2);
  CHECK(lines.size() == 122);
  for (const auto& line : lines)
    CHECK(line.find(" heroku[router]: at=") != std::string::npos);

  const auto logplex = h.Sent("GET", "/logplex/");
  REQUIRE(logplex.size() == 1);
  CHECK(logplex[0].status == 200);
  CHECK_FALSE(logplex[0].Header("Authorization").has_value());
  for (const auto& [name, value] : logplex[0].headers)
    CHECK(value.find(kToken) == std::string::npos);
  CHECK(logplex[0].path.find(kToken) == std::string::npos);
  CHECK(logplex[0].query.find(kToken) == std::string::npos);
  CHECK(h.fake->BudgetedApiCalls().size() == 1);  // the session; reading it is not an API call
}

TEST_CASE("log reads stop at their limits and never hand over a cut line") {
  CapturingLogger log;
  Harness h(log);
  std::vector<std::string> lines;
  auto collect = [&](std::string_view line) {
    lines.emplace_back(line);
    return true;
  };
  SUBCASE("bytes") {
    auto session = h.client->CreateLogSession("shop");
    auto summary = h.client->ReadLogSession(*session, {.max_bytes = 5000}, collect);
    REQUIRE(summary.ok());
    CHECK(summary->end == StreamEnd::kByteLimit);
    CHECK(summary->bytes == 5000);
    CHECK(lines.size() > 5);
    CHECK(lines.size() < 40);
    for (const auto& line : lines)
      CHECK(line.ends_with("protocol=https"));
  }
  SUBCASE("time, on a tailing session") {
    auto session = h.client->CreateLogSession("shop", {.tail = true});
    auto summary = h.client->ReadLogSession(*session, {.max_duration = 300ms}, collect);
    REQUIRE_MESSAGE(summary.ok(), summary.status().message());
    CHECK(summary->end == StreamEnd::kTimeLimit);
    CHECK(lines.size() == 122);
  }
  SUBCASE("the reader has enough") {
    auto session = h.client->CreateLogSession("shop");
    auto summary = h.client->ReadLogSession(*session, {}, [&](std::string_view line) {
      lines.emplace_back(line);
      return lines.size() < 10;
    });
    REQUIRE(summary.ok());
    CHECK(summary->end == StreamEnd::kReceiverDone);
    CHECK(lines.size() == 10);
  }
}

TEST_CASE("overlong log lines are dropped and counted; a last line without newline counts") {
  CapturingLogger log;
  const std::string scenario = std::string(R"(
token: HRKU-0123456789-very-secret-token
apps:
  - name: noisy
    formations: [{type: web, quantity: 1}]
    logs:
      default: {count: 3}
      extraLines: [")") + std::string(20000, 'x') +
                               R"(", "tail line"]
)";
  Harness h(log, {}, scenario.c_str());
  auto session = h.client->CreateLogSession("noisy");
  REQUIRE(session.ok());
  std::vector<std::string> lines;
  auto summary =
      h.client->ReadLogSession(*session, {.max_line_bytes = 16 << 10}, [&](std::string_view l) {
        lines.emplace_back(l);
        return true;
      });
  REQUIRE(summary.ok());
  CHECK(summary->long_lines_dropped == 1);
  CHECK(lines.size() == 4);
  CHECK(lines.back() == "tail line");
}

TEST_CASE("an expired log session is an error that does not show its URL") {
  CapturingLogger log;
  Harness h(log);
  auto session = h.client->CreateLogSession("shop");
  REQUIRE(session.ok());
  LogSession expired = *session;
  expired.url = expired.url.substr(0, expired.url.find("srv=") + 4) + "stale-secret";
  auto summary = h.client->ReadLogSession(expired, {}, [](std::string_view) { return true; });
  REQUIRE_FALSE(summary.ok());
  CHECK(summary.status().message() ==
        "read the log session of shop: " + HostOfUrl(h.fake->base_url()) +
            " answered 404 (the session expired or does not exist)");
}

TEST_CASE("the free rate-limit endpoint updates the budget") {
  CapturingLogger log;
  Harness h(log);
  h.fake->SetRateLimitRemaining(1234);
  auto remaining = h.client->FetchRateLimitRemaining();
  REQUIRE(remaining.ok());
  CHECK(*remaining == 1234);
  CHECK(h.client->stats().rate_limit_remaining == 1234);
  CHECK(h.fake->RateLimitRemaining() == 1234);  // it cost nothing
}

TEST_CASE("bad options are refused when the client is created") {
  ManualClock clock(kStart);
  NullLogger log;
  HerokuClientOptions o;
  CHECK(HerokuClient::Create(o, clock, nullptr, log).status().code() ==
        Status::Code::kUnauthenticated);
  o.token = kToken;
  o.api_url = "http://api.example.com";
  CHECK(HerokuClient::Create(o, clock, nullptr, log).status().message().find("must use https") !=
        std::string::npos);
  o.api_url = "https://api.heroku.com/";
  o.page_size = 5000;
  CHECK_FALSE(HerokuClient::Create(o, clock, nullptr, log).ok());
  o.page_size = 1000;
  auto ok = HerokuClient::Create(o, clock, nullptr, log);
  REQUIRE(ok.ok());
  CHECK((*ok)->options().api_url == "https://api.heroku.com");
  CHECK((*ok)->options().transport.user_agent == std::string("dynoherd/") + DYNOHERD_VERSION);
}

TEST_CASE("a shutdown during a retry wait ends the call at once") {
  CapturingLogger log;
  Harness h(log);
  h.fake->AddFault(F("{method: GET, status: 503, times: 0}"));
  ManualSleeper sleeper;
  sleeper.Interrupt();  // the process is shutting down
  HerokuClientOptions options;
  options.api_url = h.fake->base_url();
  options.token = kToken;
  auto client = HerokuClient::Create(options, h.clock, &sleeper, log);
  REQUIRE(client.ok());
  auto f = (*client)->ListFormations("shop");
  REQUIRE_FALSE(f.ok());
  CHECK(f.status().code() == Status::Code::kAborted);
  CHECK(f.status().message() == "list formations of shop: stopped while waiting to retry");
  CHECK(sleeper.waits().size() == 1);
  CHECK(h.Sent("GET").size() == 1);
}

TEST_CASE("every attempt is reported to the response observer, answered or not") {
  CapturingLogger log;
  std::vector<std::tuple<std::string, int, std::optional<int>>> seen;
  Harness h(log, [&seen](HerokuClientOptions& o) {
    o.on_response = [&seen](const std::string& method, int status, std::optional<int> remaining) {
      seen.emplace_back(method, status, remaining);
    };
  });
  h.fake->AddFault(F("{method: GET, path: /apps/shop/formation, status: 503, times: 1}"));
  REQUIRE(h.client->ListFormations("shop").ok());
  REQUIRE(seen.size() == 2);  // the 503, then the retry's 200
  CHECK(std::get<0>(seen[0]) == "GET");
  CHECK(std::get<1>(seen[0]) == 503);
  CHECK(std::get<1>(seen[1]) == 200);
  CHECK(std::get<2>(seen[1]).has_value());
}
