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
  WriteIntent step;
  step.id = "2026-11-22T13:05:00.250Z#0";
  step.state = IntentState::kPending;
  step.at = At("2026-11-22T13:05:00.250Z");
  step.cause = "latency-event";
  step.from_quantity = 4;
  step.to_quantity = 5;
  step.reason = "latency event: p95 2.41s > 2s (step 1 of 2)";
  worker.intents.push_back(step);
  WriteIntent restart;
  restart.id = "2026-11-22T13:05:00.250Z#1";
  restart.state = IntentState::kUnknown;
  restart.at = At("2026-11-22T13:05:00.250Z");
  restart.kind = WriteKind::kRestart;
  restart.cause = "laggard";
  restart.dyno = "web.2";
  restart.dyno_updated_at = At("2026-11-22T11:00:00Z");
  restart.reason = "laggard";
  web.intents.push_back(restart);
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
  CHECK(j["formations"][0]["intents"][0] ==
        json::parse(R"js({"id": "2026-11-22T13:05:00.250Z#0", "state": "pending",
                        "at": "2026-11-22T13:05:00.250Z", "kind": "scale", "cause": "latency-event",
                        "from": 4, "to": 5, "dyno": null, "dynoUpdatedAt": null,
                        "reason": "latency event: p95 2.41s > 2s (step 1 of 2)"})js"));
  CHECK(j["formations"][1]["intents"][0]["state"] == "unknown");
  CHECK(j["formations"][1]["intents"][0]["from"].is_null());
  CHECK(j["formations"][1]["intents"][0]["dynoUpdatedAt"] == "2026-11-22T11:00:00.000Z");
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
  CHECK(ParseError(head + R"("formations": [{"type": "web", "event": {"depth": 0},
        "intents": [{"id": "x", "state": "sent", "at": "2026-11-22T13:05:00Z", "kind": "scale",
        "cause": "drift", "from": 1, "to": 2, "reason": ""}]}]})") ==
        "formations[0].intents[0].state: expected pending or unknown");
  CHECK(ParseError(head + R"("formations": [{"type": "web", "event": {"depth": 0},
        "intents": [{"id": "x", "state": "pending", "at": "2026-11-22T13:05:00Z",
        "kind": "restart", "cause": "laggard", "dyno": "web.1", "reason": ""}]}]})") ==
        "formations[0].intents[0].dynoUpdatedAt: missing");
}

TEST_CASE("PassRecord JSON: round trip, tolerant of missing keys, strict on types") {
  PassRecord record;
  PassReport& pass = record.last_pass;
  pass.name = "shop-web";
  pass.app = "shop";
  pass.started_at = At("2026-11-22T13:00:00Z");
  pass.finished_at = At("2026-11-22T13:00:02Z");
  pass.observed_at = At("2026-11-22T13:00:01Z");
  FormationReport web;
  web.type = "web";
  web.observed_quantity = 5;
  web.desired_quantity = 6;
  web.baseline_kind = "declared";
  web.baseline = 6;
  web.latency = FormationLatencyReport{"p95", 0.241, 812, std::nullopt, std::nullopt, {}};
  web.laggards = LaggardsReport{false, "2 dynos judged, minDynos 3", {}};
  web.dynos.push_back({"web.1", "up", At("2026-11-22T12:00:00Z"),
                       LatencyStats{40, 0.2, 0.19, 0.24, 0.3, 0.31, 1}});
  web.dynos.push_back({"web.2", "starting", std::nullopt, std::nullopt});
  pass.formations.push_back(web);
  FormationReport worker;
  worker.type = "worker";
  worker.baseline_kind = "declared";
  worker.latency = FormationLatencyReport{
      "max", std::nullopt, 0, "sidekiq: queue \"mailers\": the oldest job is not JSON",
      std::nullopt, {{"default", 17, 42.5, ""}, {"mailers", 3, std::nullopt, "bad"}}};
  pass.formations.push_back(worker);
  ActionReport scale{"scale", "drift", "web", 5, 6, std::nullopt, "scale 5 -> 6",
                     "drift: 5 dynos, declared quantity 6", false, true, false, "422 invalid_params"};
  pass.actions.push_back(scale);
  record.last_actions = LastActions{At("2026-11-22T13:00:01Z"), {scale}};

  json j = ToJson(record);
  CHECK(j["lastPass"]["result"] == "ok");
  CHECK(j["lastPass"]["error"].is_null());
  CHECK(j["lastPass"]["formations"][0]["baseline"] == json({{"kind", "declared"}, {"quantity", 6}}));
  CHECK(j["lastPass"]["formations"][0]["latency"]["seconds"] == 0.241);
  CHECK(j["lastPass"]["formations"][0]["event"].is_null());
  CHECK(j["lastPass"]["formations"][0]["latency"]["queues"] == json::array());
  CHECK(j["lastPass"]["formations"][1]["latency"]["queues"][0] ==
        json{{"queue", "default"}, {"size", 17}, {"latencySeconds", 42.5}, {"error", nullptr}});
  CHECK(j["lastPass"]["formations"][1]["latency"]["queues"][1]["latencySeconds"].is_null());
  CHECK(j["lastPass"]["formations"][1]["latency"]["queues"][1]["error"] == "bad");
  CHECK(j["lastPass"]["formations"][0]["dynos"][1]["latency"].is_null());
  CHECK(j["lastPass"]["actions"][0]["dyno"].is_null());
  CHECK(j["lastActions"]["actions"][0]["failed"] == true);
  Result<std::optional<PassRecord>> back = PassRecordFromJson(j);
  REQUIRE(back.ok());
  REQUIRE(back->has_value());
  CHECK(**back == record);

  Result<std::optional<PassRecord>> sparse =
      PassRecordFromJson({{"lastPass", {{"result", "error"}, {"error", "boom"}}}});
  REQUIRE(sparse.ok());
  REQUIRE(sparse->has_value());
  CHECK_FALSE((*sparse)->last_pass.ok);
  CHECK((*sparse)->last_pass.error == "boom");
  CHECK((*sparse)->last_pass.formations.empty());
  CHECK_FALSE((*sparse)->last_actions.has_value());

  // The layout before the output contract: nothing to show, the next pass replaces it.
  Result<std::optional<PassRecord>> old = PassRecordFromJson({{"result", "ok"}, {"formations", {}}});
  REQUIRE(old.ok());
  CHECK_FALSE(old->has_value());

  j["lastPass"]["formations"][0]["dynos"] = "five";
  CHECK(PassRecordFromJson(j).status().message() ==
        "lastPass.formations[0].dynos: expected an array");
  CHECK(PassRecordFromJson({{"lastPass", {{"startedAt", "yesterday"}}}}).status().message() ==
        "lastPass.startedAt: expected an RFC 3339 timestamp");
  CHECK(PassRecordFromJson({{"lastPass", {{"actions", {1}}}}}).status().message() ==
        "lastPass.actions[0]: expected an object");
}
