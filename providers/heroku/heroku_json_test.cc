#include "providers/heroku/heroku_json.h"

#include <doctest/doctest.h>

using namespace dynoherd;
using namespace dynoherd::providers;
using namespace dynoherd::providers::heroku;

TEST_CASE("formations map type, quantity, size and updated_at") {
  auto page = ParseFormationPage(R"([
    {"type":"web","quantity":4,"size":"Standard-1X","dyno_size":{"id":"x","name":"Standard-2X"},
     "updated_at":"2026-11-22T12:00:00Z","command":"puma","extra":{"new":"field"}},
    {"type":"worker","quantity":0,"size":"Basic"}
  ])");
  REQUIRE_MESSAGE(page.ok(), page.status().message());
  REQUIRE(page->size() == 2);
  CHECK((*page)[0].type == "web");
  CHECK((*page)[0].quantity == 4);
  CHECK((*page)[0].size == "Standard-2X");  // dyno_size wins over the deprecated size
  CHECK(FormatTimestamp((*page)[0].updated_at) == "2026-11-22T12:00:00.000Z");
  CHECK((*page)[1].size == "Basic");
  CHECK((*page)[1].updated_at == TimePoint{});
}

TEST_CASE("dynos take their formation from `type`, else from the name") {
  auto page = ParseDynoPage(R"([
    {"name":"web.3","type":"web","state":"up","updated_at":"2026-11-22T12:59:00Z"},
    {"name":"web-1234abcde-123ab","type":"web","state":"starting"},
    {"name":"release-worker-1234abcde-9zz9z","state":"crashed"},
    {"name":"worker.2","state":"idle"}
  ])");
  REQUIRE_MESSAGE(page.ok(), page.status().message());
  REQUIRE(page->size() == 4);
  CHECK((*page)[0].name == "web.3");
  CHECK((*page)[0].state == "up");
  CHECK(FormatTimestamp((*page)[0].updated_at) == "2026-11-22T12:59:00.000Z");
  CHECK((*page)[1].type == "web");
  CHECK((*page)[2].type == "release-worker");
  CHECK((*page)[3].type == "worker");
}

TEST_CASE("FormationOfDynoName handles classic and Fir names") {
  CHECK(FormationOfDynoName("web.12") == "web");
  CHECK(FormationOfDynoName("web-1234abcde-123ab") == "web");
  CHECK(FormationOfDynoName("run.4242") == "run");
  CHECK(FormationOfDynoName("lonely") == "lonely");
}

TEST_CASE("bad bodies fail with where and what, never the body") {
  auto truncated = ParseDynoPage(R"([{"name": "web.1", "sta)");
  REQUIRE_FALSE(truncated.ok());
  CHECK(truncated.status().message().rfind("malformed JSON from Heroku (at byte", 0) == 0);
  CHECK(truncated.status().message().find("web.1") == std::string::npos);

  auto not_array = ParseFormationPage(R"({"id":"not_found"})");
  CHECK(not_array.status().message() == "unexpected answer from Heroku: expected a JSON array");

  auto bad_quantity =
      ParseFormationPage(R"([{"type":"web","quantity":1},{"type":"worker","quantity":"2"}])");
  CHECK(bad_quantity.status().message() ==
        "unexpected answer from Heroku: item 1: \"quantity\" is missing or not a count");

  auto no_state = ParseDynoPage(R"([{"name":"web.1"}])");
  CHECK(no_state.status().message() ==
        "unexpected answer from Heroku: item 0: \"state\" is missing or not a string");

  auto bad_time = ParseDynoPage(R"([{"name":"web.1","state":"up","updated_at":"yesterday"}])");
  CHECK(bad_time.status().message() ==
        "unexpected answer from Heroku: item 0: \"updated_at\" is not an RFC 3339 timestamp");
}

TEST_CASE("error bodies, log sessions and rate limits") {
  HerokuErrorBody e =
      ParseErrorBody(R"({"id":"rate_limit","message":"slow down","url":"https://x"})");
  CHECK(e.id == "rate_limit");
  CHECK(e.message == "slow down");
  CHECK(ParseErrorBody("<html>503</html>").id.empty());

  auto url =
      ParseLogplexUrl(R"({"id":"s1","logplex_url":"https://logs.example/sessions/abc?srv=1"})");
  REQUIRE(url.ok());
  CHECK(*url == "https://logs.example/sessions/abc?srv=1");
  CHECK_FALSE(ParseLogplexUrl(R"({"logplex_url":"ftp://x"})").ok());

  CHECK(ParseRateLimitRemaining(R"({"remaining": 4321})").value() == 4321);
  CHECK_FALSE(ParseRateLimitRemaining(R"({"remaining": "many"})").ok());
}

TEST_CASE("request bodies are exactly what Heroku expects") {
  CHECK(FormationBatchBody({{"web", 3}, {"worker", 0}}) ==
        R"({"updates":[{"quantity":3,"type":"web"},{"quantity":0,"type":"worker"}]})");
  CHECK(LogSessionBody("router", "heroku", 1500, false) ==
        R"({"dyno_name":"router","lines":1500,"source":"heroku","tail":false})");
}
