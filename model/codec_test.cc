#include "model/codec.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

using namespace dynoherd;
using namespace dynoherd::model;
using nlohmann::json;

namespace {

TimePoint At(const char* rfc3339) {
  return *ParseTimestamp(rfc3339);
}

PolicyStatus Sample() {
  PolicyStatus s;
  s.policy = "shop";
  s.app = "shop-prod";
  s.updated_at = At("2026-11-22T13:05:00.250Z");
  FormationStatus worker;
  worker.type = "worker";
  worker.event.started_at = At("2026-11-22T13:00:00Z");
  worker.event.depth = 2;
  worker.event.last_step_at = At("2026-11-22T13:02:00Z");
  worker.event.captured_baseline = 3;
  worker.conditions.push_back({"LatencyEvent", ConditionStatus::kTrue, "LatencyHigh",
                               "p95 2.41s > latencyThreshold 2s for 5m",
                               At("2026-11-22T13:00:00Z")});
  FormationStatus web;
  web.type = "web";
  web.restarts.push_back({"web.3", At("2026-11-22T12:40:00Z"), spec::LaggardAction::kRestart,
                          "laggard: p50 612ms, 4.1 sd above the other 5 dynos (mean 140ms)"});
  web.restarts.push_back(
      {"web.5", At("2026-11-22T12:55:00Z"), spec::LaggardAction::kStop, "laggard"});
  web.conditions.push_back({"Ready", ConditionStatus::kFalse, "Scaling", "observed 4, desired 5",
                            At("2026-11-22T13:05:00Z")});
  web.overloaded_at = At("2026-11-22T13:04:30Z");
  s.formations = {worker, web};
  return s;
}

std::string ParseError(const std::string& text) {
  Result<PolicyStatus> r = PolicyStatusFromJson(json::parse(text));
  REQUIRE_FALSE(r.ok());
  return r.status().message();
}

}  // namespace

TEST_CASE("a status survives JSON unchanged") {
  const PolicyStatus s = Sample();
  const json j = ToJson(s);
  CHECK(j["formations"][0]["event"]["startedAt"] == "2026-11-22T13:00:00.000Z");
  CHECK(j["formations"][0]["event"]["capturedBaseline"] == 3);
  CHECK(j["formations"][1]["event"]["startedAt"].is_null());
  CHECK(j["formations"][1]["overloadedAt"] == "2026-11-22T13:04:30.000Z");
  CHECK(j["formations"][0]["overloadedAt"].is_null());
  CHECK(j["formations"][1]["restarts"][1]["action"] == "stop");
  CHECK(j["formations"][0]["conditions"][0]["lastTransitionTime"] == "2026-11-22T13:00:00.000Z");
  CHECK(j["formations"][0]["conditions"][0]["status"] == "True");
  Result<PolicyStatus> back = PolicyStatusFromJson(json::parse(j.dump()));
  REQUIRE(back.ok());
  CHECK(*back == s);
  CHECK(back->formations[1].LastRestartAt() == At("2026-11-22T12:55:00Z"));
}

TEST_CASE("unknown keys are ignored, optional fields may be absent") {
  Result<PolicyStatus> r = PolicyStatusFromJson(json::parse(R"({
    "policy": "shop", "app": "shop-prod", "updatedAt": "2026-11-22T13:05:00Z", "future": 1,
    "formations": [{"type": "web", "event": {"depth": 0}}]})"));
  REQUIRE(r.ok());
  CHECK(r->formations[0].type == "web");
  CHECK_FALSE(r->formations[0].event.started_at.has_value());
  CHECK(r->formations[0].restarts.empty());
  CHECK_FALSE(r->formations[0].overloaded_at.has_value());
}

TEST_CASE("a malformed status is an error naming the field") {
  CHECK(ParseError("[]") == "expected an object");
  CHECK(ParseError(R"({"app": "a", "updatedAt": "2026-11-22T13:05:00Z"})") == "policy: missing");
  CHECK(ParseError(R"({"policy": "p", "app": "a", "updatedAt": "yesterday"})") ==
        "updatedAt: expected an RFC 3339 timestamp");
  const std::string head = R"({"policy": "p", "app": "a", "updatedAt": "2026-11-22T13:05:00Z", )";
  CHECK(ParseError(head + R"("formations": {}})") == "formations: expected an array");
  CHECK(ParseError(head + R"("formations": [{"type": "web"}]})") == "formations[0].event: missing");
  CHECK(ParseError(head + R"("formations": [{"type": "web", "event": {"depth": "2"}}]})") ==
        "formations[0].event.depth: expected an integer");
  CHECK(ParseError(head + R"("formations": [{"type": "web", "event": {"depth": 0,
        "startedAt": 5}}]})") == "formations[0].event.startedAt: expected an RFC 3339 timestamp");
  CHECK(ParseError(head + R"("formations": [{"type": "web", "event": {"depth": 0},
        "overloadedAt": "noon"}]})") ==
        "formations[0].overloadedAt: expected an RFC 3339 timestamp");
  CHECK(ParseError(head + R"("formations": [{"type": "web", "event": {"depth": 0},
        "restarts": [{"dyno": "web.1", "at": "2026-11-22T13:05:00Z", "action": "kill",
        "reason": ""}]}]})") == "formations[0].restarts[0].action: expected restart or stop");
  CHECK(ParseError(head + R"("formations": [{"type": "web", "event": {"depth": 0},
        "conditions": [{"type": "Ready", "status": "Yes", "reason": "", "message": "",
        "lastTransitionTime": "2026-11-22T13:05:00Z"}]}]})") ==
        "formations[0].conditions[0].status: expected True, False or Unknown");
  CHECK(ParseError(head + R"("formations": [{"type": "web", "event": {"depth": 1e10}}]})") ==
        "formations[0].event.depth: expected an integer");
}

TEST_CASE("PassRecord JSON: round trip, tolerant of missing keys, strict on types") {
  PassRecord record;
  record.started_at = At("2026-11-22T13:00:00Z");
  record.finished_at = At("2026-11-22T13:00:02Z");
  record.observed_at = At("2026-11-22T13:00:01Z");
  record.formations.push_back({"web", 5, 6, 6, "declared", 4, 5, "p95", 0.241, ""});
  record.formations.push_back({"worker",
                               2,
                               3,
                               2,
                               "declared",
                               2,
                               2,
                               "max",
                               std::nullopt,
                               "sidekiq: queue \"mailers\": the oldest job is not JSON",
                               {{"default", 17, 42.5, ""}, {"mailers", 3, std::nullopt, "bad"}}});
  record.actions_at = At("2026-11-22T13:00:01Z");
  record.actions.push_back({"web", "scale", "scale 5 -> 6", "drift: 5 dynos, declared quantity 6",
                            true, "422 invalid_params"});
  json j = ToJson(record);
  CHECK(j["result"] == "ok");
  CHECK(j["formations"][0]["latencySeconds"] == 0.241);
  CHECK(j["formations"][1]["queues"][0] ==
        json{{"queue", "default"}, {"size", 17}, {"latencySeconds", 42.5}, {"error", ""}});
  CHECK(j["formations"][1]["queues"][1]["latencySeconds"].is_null());
  CHECK(j["actions"][0]["failed"] == true);
  Result<PassRecord> back = PassRecordFromJson(j);
  REQUIRE(back.ok());
  CHECK(*back == record);

  Result<PassRecord> sparse = PassRecordFromJson({{"result", "error"}, {"error", "boom"}});
  REQUIRE(sparse.ok());
  CHECK_FALSE(sparse->ok);
  CHECK(sparse->formations.empty());
  CHECK_FALSE(sparse->observed_at.has_value());

  j["formations"][0]["dynos"] = "five";
  CHECK(PassRecordFromJson(j).status().message() == "formations[0].dynos: has the wrong type");
  CHECK(PassRecordFromJson({{"startedAt", "yesterday"}}).status().message() ==
        "startedAt: expected an RFC 3339 timestamp");
  CHECK(PassRecordFromJson({{"actions", {1}}}).status().message() ==
        "actions[0]: expected an object");
}
