#include "app/report.h"

#include <doctest/doctest.h>

using namespace dynoherd;
using namespace dynoherd::app;
using namespace std::chrono_literals;
using model::Condition;
using model::ConditionStatus;
using reconciler::Action;
using reconciler::ActionCause;
using reconciler::ActionKind;

namespace {

const TimePoint kNow = *ParseTimestamp("2026-11-22T13:00:00Z");

Action Scale(std::string formation, int from, int to, ActionCause cause, std::string reason) {
  Action a;
  a.kind = ActionKind::kScale;
  a.cause = cause;
  a.formation = std::move(formation);
  a.from_quantity = from;
  a.to_quantity = to;
  a.reason = std::move(reason);
  return a;
}

Action Restart(std::string formation, std::string dyno, std::string reason) {
  Action a;
  a.kind = ActionKind::kRestart;
  a.cause = ActionCause::kLaggard;
  a.formation = std::move(formation);
  a.dyno = std::move(dyno);
  a.reason = std::move(reason);
  return a;
}

reconciler::FormationPlan Formation(std::string type, int observed, int desired) {
  reconciler::FormationPlan f;
  f.type = std::move(type);
  f.observed_quantity = observed;
  f.desired_quantity = desired;
  f.conditions.push_back({"Ready", ConditionStatus::kTrue, "AsDesired", "", kNow - 1h});
  return f;
}

// A policy whose formations read latency: `with_laggards` also detect laggards, `with_autoscale`
// also autoscale.
spec::Policy PolicyOf(std::string name, const std::vector<std::string>& with_laggards,
                      const std::vector<std::string>& with_autoscale) {
  spec::Policy policy;
  policy.name = std::move(name);
  auto formation = [&policy](const std::string& type) -> spec::FormationSpec& {
    for (auto& f : policy.formations) {
      if (f.type == type) return f;
    }
    spec::FormationSpec& f = policy.formations.emplace_back();
    f.type = type;
    f.latency.emplace();
    return f;
  };
  for (const auto& type : with_laggards)
    formation(type).laggards.emplace();
  for (const auto& type : with_autoscale)
    formation(type).autoscale.emplace();
  return policy;
}

PassResult Planned(std::string policy, std::string app) {
  PassResult r;
  r.policy = std::move(policy);
  r.app = std::move(app);
  r.started_at = kNow;
  r.finished_at = kNow + 1500ms;
  r.observed = true;
  r.observation.observed_at = kNow + 1s;
  r.plan.emplace();
  r.plan->policy = r.policy;
  r.plan->app = r.app;
  r.plan->planned_at = kNow + 1s;
  return r;
}

// The issue's example: a latency event step and a laggard restart.
PassResult ShopWeb() {
  PassResult r = Planned("shop-web", "shop-production");
  r.plan->actions.push_back(Scale("web", 4, 5, ActionCause::kLatencyEvent,
                                  "latency event: p95 2.41s > 2s (step 1 of 2)"));
  r.plan->actions.push_back(
      Restart("web", "web.3", "laggard: p50 612ms, 4.1 sd above the other 5 dynos (mean 140ms)"));
  r.plan->formations.push_back(Formation("web", 4, 5));
  return r;
}

}  // namespace

TEST_CASE("RenderPasses: the issue's plan, action per line with its reason, then the count") {
  CHECK(RenderPasses({ShopWeb()}, RenderMode::kPlan) ==
        "shop-web (app shop-production)\n"
        "  web  scale 4 -> 5        latency event: p95 2.41s > 2s (step 1 of 2)\n"
        "  web  restart web.3       laggard: p50 612ms, 4.1 sd above the other 5 dynos (mean "
        "140ms)\n"
        "\n"
        "Plan: 1 scale, 1 restart.\n");
}

TEST_CASE("RenderPasses: a converged policy says No changes and why nothing is done") {
  PassResult r = Planned("shop-worker", "shop");
  auto f = Formation("worker", 2, 2);
  f.conditions.push_back({"Degraded", ConditionStatus::kTrue, "LatencyUnknown",
                          "latency unknown (no requests in the last 5m): holding 2", kNow});
  f.notes.push_back("next step in 1m20s (alertInterval 2m)");
  r.plan->formations.push_back(f);
  r.plan->notes.push_back("the saved status is for app old, not shop: ignored");
  CHECK(RenderPasses({r}, RenderMode::kPlan) ==
        "shop-worker (app shop)\n"
        "  No changes.\n"
        "  the saved status is for app old, not shop: ignored\n"
        "  worker  latency unknown (no requests in the last 5m): holding 2\n"
        "  worker  next step in 1m20s (alertInterval 2m)\n"
        "\n"
        "Plan: no changes.\n");
}

TEST_CASE("RenderPasses: an event in progress shows its depth") {
  PassResult r = Planned("shop-web", "shop");
  auto f = Formation("web", 5, 5);
  f.baseline = 4;
  f.event_depth = 1;
  f.max_depth = 2;
  f.conditions.push_back({"LatencyEvent", ConditionStatus::kTrue, "LatencyHigh",
                          "p95 2.41s > latencyThreshold 2s for 4m", kNow - 4min});
  r.plan->formations.push_back(f);
  CHECK(RenderPasses({r}, RenderMode::kPlan)
            .find("  web  latency event: p95 2.41s > latencyThreshold 2s for 4m (1 of 2 extra "
                  "dynos)\n") != std::string::npos);
}

TEST_CASE("RenderPasses: paused policies are marked and their actions held, not counted") {
  PassResult paused = ShopWeb();
  paused.plan->apply = false;
  PassResult active = Planned("blog", "blog");
  active.plan->actions.push_back(
      Scale("web", 1, 2, ActionCause::kDrift, "drift: 1 dyno, declared quantity 2"));
  active.plan->formations.push_back(Formation("web", 1, 2));

  const std::string text = RenderPasses({paused, active}, RenderMode::kPlan);
  CHECK(text.find("shop-web (app shop-production) [paused: actions are planned, not applied]\n") ==
        0);
  CHECK(text.find("\nPlan: 1 scale. Paused policies hold 1 scale, 1 restart.\n") !=
        std::string::npos);
  PassTotals t = Totals({paused, active});
  CHECK(t.planned == 1);
  CHECK(t.held == 2);
  CHECK(t.applied == 0);
}

TEST_CASE("RenderPasses: a failed policy shows its error, the summary names it, the others run") {
  PassResult failed;
  failed.policy = "billing";
  failed.app = "billing-prod";
  failed.status = Status::Unavailable(
      "observe app billing-prod: GET /apps/billing-prod/formation: "
      "503 Service Unavailable (request id 42)");
  PassResult ok = Planned("blog", "blog");
  ok.plan->formations.push_back(Formation("web", 2, 2));

  const std::string text = RenderPasses({failed, ok}, RenderMode::kApplied);
  CHECK(text ==
        "billing (app billing-prod)\n"
        "  Error: observe app billing-prod: GET /apps/billing-prod/formation: 503 Service "
        "Unavailable (request id 42)\n"
        "\n"
        "blog (app blog)\n"
        "  No changes.\n"
        "\n"
        "Applied: no changes in the other policies.\n"
        "1 of 2 policies failed:\n"
        "  billing: observe app billing-prod: GET /apps/billing-prod/formation: 503 Service "
        "Unavailable (request id 42)\n");
  CHECK(Totals({failed, ok}).failed_policies == 1);
}

TEST_CASE("RenderPasses: reconcile says what was applied and shows each failed action's error") {
  PassResult r = ShopWeb();
  r.applied = true;
  r.plan->actions[1].failed = true;
  r.plan->actions[1].error = "DELETE /apps/shop-production/dynos/web.3: 503";
  r.status =
      Status::Unavailable("web restart web.3: DELETE /apps/shop-production/dynos/web.3: 503");
  const std::string text = RenderPasses({r}, RenderMode::kApplied);
  CHECK(text ==
        "shop-web (app shop-production)\n"
        "  web  scale 4 -> 5        latency event: p95 2.41s > 2s (step 1 of 2)\n"
        "  web  restart web.3       laggard: p50 612ms, 4.1 sd above the other 5 dynos (mean "
        "140ms)\n"
        "  web                      failed: DELETE /apps/shop-production/dynos/web.3: 503\n"
        "\n"
        "Applied: 1 scale. Failed: 1 restart.\n"
        "1 of 1 policy failed:\n"
        "  shop-web: web restart web.3: DELETE /apps/shop-production/dynos/web.3: 503\n");
  PassTotals t = Totals({r});
  CHECK(t.applied == 1);
  CHECK(t.failed_actions == 1);
}

TEST_CASE("RenderPasses: formation names of different lengths line up") {
  PassResult r = Planned("shop", "shop");
  r.plan->actions.push_back(Scale("web", 2, 3, ActionCause::kDrift, "drift"));
  r.plan->actions.push_back(Scale("worker", 1, 2, ActionCause::kDrift, "drift"));
  const std::string text = RenderPasses({r}, RenderMode::kPlan);
  CHECK(text.find("  web     scale 2 -> 3        drift\n"
                  "  worker  scale 1 -> 2        drift\n") != std::string::npos);
}

TEST_CASE("PassResultJson: timings, actions with applied/failed, formations with dynos") {
  PassResult r = ShopWeb();
  r.applied = true;
  r.plan->actions[1].failed = true;
  r.plan->actions[1].error = "503";
  r.status = Status::Unavailable("web restart web.3: 503");
  r.observation.dynos = {{"web.3", "web", "up", {}},
                         {"worker.1", "worker", "up", kNow},
                         {"web.1", "web", "up", kNow - 1h}};
  model::LatencyStats stats;
  stats.count = 120;
  stats.mean = 0.15;
  stats.p50 = 0.14;
  stats.p95 = 0.3;
  stats.p99 = 0.4;
  stats.max = 0.5;
  r.observation.latency["web"].per_dyno["web.1"] = stats;
  r.plan->formations[0].verdicts.push_back({"web.3", true, "laggard", 0.612, 4.1, 0.14, true});

  const spec::Policy policy = PolicyOf("shop-web", {"web"}, {});
  nlohmann::json j = PassResultJson(r, &policy);
  CHECK(j["name"] == "shop-web");
  CHECK(j["app"] == "shop-production");
  CHECK(j["result"] == "error");
  CHECK(j["error"] == "web restart web.3: 503");
  CHECK(j["startedAt"] == "2026-11-22T13:00:00.000Z");
  CHECK(j["finishedAt"] == "2026-11-22T13:00:01.500Z");
  CHECK(j["durationSeconds"] == doctest::Approx(1.5));
  CHECK(j["observedAt"] == "2026-11-22T13:00:01.000Z");
  CHECK(j["paused"] == false);
  CHECK(j["applied"] == true);
  REQUIRE(j["actions"].size() == 2);
  CHECK(j["actions"][0]["kind"] == "scale");
  CHECK(j["actions"][0]["from"] == 4);
  CHECK(j["actions"][0]["to"] == 5);
  CHECK(j["actions"][0]["applied"] == true);
  CHECK(j["actions"][0]["failed"] == false);
  CHECK(j["actions"][0]["error"].is_null());
  CHECK(j["actions"][1]["dyno"] == "web.3");
  CHECK(j["actions"][1]["applied"] == false);
  CHECK(j["actions"][1]["failed"] == true);
  CHECK(j["actions"][1]["error"] == "503");
  CHECK(j["actions"][1]["reason"].get<std::string>().starts_with("laggard: p50 612ms"));
  REQUIRE(j["formations"].size() == 1);
  const auto& web = j["formations"][0];
  CHECK(web["observedQuantity"] == 4);
  CHECK(web["desiredQuantity"] == 5);
  CHECK(web["conditions"][0]["type"] == "Ready");
  CHECK(web["conditions"][0]["lastTransitionTime"] == "2026-11-22T12:00:00.000Z");
  CHECK(web["laggards"]["verdicts"][0]["score"] == doctest::Approx(4.1));
  REQUIRE(web["dynos"].size() == 2);  // worker.1 belongs to another formation
  CHECK(web["dynos"][0]["name"] == "web.1");  // in dyno order, whatever the platform's order
  CHECK(web["dynos"][0]["latency"]["requests"] == 120);
  CHECK(web["dynos"][0]["latency"]["p50"] == doctest::Approx(0.14));
  CHECK(web["dynos"][1]["latency"].is_null());  // no requests timed
  CHECK(web["dynos"][1]["updatedAt"].is_null());
}

TEST_CASE("PassResultJson: each formation's baseline, latency, event and laggard decision") {
  PassResult r = Planned("shop", "shop");
  r.plan->actions.push_back(Scale("worker", 2, 3, ActionCause::kLatencyEvent,
                                  "latency event: p95 2.41s > 2s (step 1 of 2)"));
  reconciler::FormationPlan web = Formation("web", 6, 6);
  web.baseline_kind = reconciler::BaselineKind::kDeclared;
  web.baseline = 6;
  web.statistic = spec::Statistic::kP50;
  web.latency_unknown_reason = "no router lines for web in the last 5m";
  web.laggards_decided = true;
  web.verdicts.push_back({"web.3", true, "laggard", 0.612, 66.8, 0.141, true});
  reconciler::FormationPlan worker = Formation("worker", 2, 3);
  worker.baseline_kind = reconciler::BaselineKind::kCaptured;
  worker.baseline = 2;
  worker.latency_seconds = 2.41;
  worker.latency_samples = 300;
  worker.in_event = true;
  worker.event_started_at = kNow + 1s;
  worker.event_depth = 1;
  worker.max_depth = 2;
  worker.notes.push_back("next step in 1m (alertInterval 2m)");
  worker.conditions.push_back(
      {"LatencyEvent", ConditionStatus::kTrue, "LatencyHigh", "p95 2.41s > 2s", kNow + 1s});
  r.plan->formations = {web, worker};

  const spec::Policy policy = PolicyOf("shop", {"web"}, {"worker"});
  const nlohmann::json j = PassResultJson(r, &policy);
  CHECK(j["plannedAt"] == "2026-11-22T13:00:01.000Z");
  CHECK(j["actions"][0] == nlohmann::json::parse(R"j({"kind": "scale", "cause": "latency-event",
      "formation": "worker", "from": 2, "to": 3, "summary": "scale 2 -> 3",
      "reason": "latency event: p95 2.41s > 2s (step 1 of 2)", "failed": false,
      "outcomeUnknown": false, "error": null, "applied": false, "dyno": null})j"));
  const auto& web_json = j["formations"][0];
  CHECK(web_json["baseline"] == nlohmann::json::parse(R"({"kind": "declared", "quantity": 6})"));
  CHECK(web_json["latency"] == nlohmann::json::parse(R"({"statistic": "p50", "seconds": null,
      "samples": 0, "unknownReason": "no router lines for web in the last 5m", "error": null,
      "queues": []})"));
  CHECK(web_json["laggards"]["decided"] == true);
  CHECK(web_json["laggards"]["verdicts"][0]["slow"] == true);
  CHECK(web_json["laggards"]["verdicts"][0]["score"] == doctest::Approx(66.8));
  CHECK(web_json["event"].is_null());  // web does not autoscale
  const auto& worker_json = j["formations"][1];
  CHECK(worker_json["baseline"]["kind"] == "captured");
  CHECK(worker_json["latency"]["seconds"] == 2.41);
  CHECK(worker_json["latency"]["samples"] == 300);
  CHECK(worker_json["latency"]["unknownReason"].is_null());
  CHECK(worker_json["laggards"].is_null());  // worker has no laggard detection
  CHECK(worker_json["event"] == nlohmann::json::parse(R"({"inEvent": true,
      "startedAt": "2026-11-22T13:00:01.000Z", "startEstimated": false, "depth": 1, "maxDepth": 2,
      "exceededMaxDuration": false})"));
  CHECK(worker_json["notes"] == nlohmann::json::array({"next step in 1m (alertInterval 2m)"}));
  CHECK(worker_json["conditions"][1]["type"] == "LatencyEvent");
  CHECK(worker_json["conditions"][1]["status"] == "True");
}

TEST_CASE("PassResultJson: a pass that never observed has empty lists and nulls") {
  PassResult r;
  r.policy = "billing";
  r.app = "billing";
  r.started_at = r.finished_at = kNow;
  r.status = Status::Unauthenticated("Heroku rejected the token from HEROKU_API_KEY");
  nlohmann::json j = PassResultJson(r, nullptr);
  CHECK(j["result"] == "error");
  CHECK(j["observedAt"].is_null());
  CHECK(j["plannedAt"].is_null());
  CHECK(j["actions"].empty());
  CHECK(j["formations"].empty());
}

TEST_CASE("PassResultsJson: the summary counts over every policy") {
  PassResult paused = ShopWeb();
  paused.plan->apply = false;
  PassResult failed;
  failed.policy = "billing";
  failed.status = Status::Unavailable("down");
  nlohmann::json j = PassResultsJson({ShopWeb(), paused, failed}, {}, true);
  CHECK(j["dryRun"] == true);
  CHECK(j["policies"].size() == 3);
  CHECK(j["summary"]["policies"] == 3);
  CHECK(j["summary"]["failedPolicies"] == 1);
  CHECK(j["summary"]["plannedActions"] == 2);
  CHECK(j["summary"]["heldActions"] == 2);
  CHECK(j["summary"]["appliedActions"] == 0);
}

TEST_CASE(
    "RenderPasses: a dyno far from the others but not slow enough says why it is left alone") {
  // The detector's own words, so the report keeps recognising them.
  spec::LaggardSpec laggards;  // sigma 2, minRatio 1.5, minLatency 200ms, minSamples 30
  std::vector<reconciler::LaggardCandidate> candidates;
  for (int i = 1; i <= 6; ++i) {
    reconciler::LaggardCandidate c;
    c.dyno = "web." + std::to_string(i);
    c.stats.count = 100;
    c.stats.p50 = i == 3 ? 0.25 : 0.19 + 0.002 * i;  // web.3: many sd above, 1.3x the others
    candidates.push_back(c);
  }
  reconciler::LaggardReport report = reconciler::DetectLaggards(laggards, candidates);
  PassResult r = Planned("shop-web", "shop");
  auto f = Formation("web", 6, 6);
  f.laggards_decided = true;
  f.verdicts = report.verdicts;
  r.plan->formations.push_back(f);
  const std::string text = RenderPasses({r}, RenderMode::kPlan);
  INFO(text);
  CHECK(text.find("  web  web.3 not restarted: p50 250ms, ") != std::string::npos);
  CHECK(text.find("1.3x the other 5 dynos' mean 197ms (they agree within 10ms); not slow: under "
                  "minRatio 1.5\n") != std::string::npos);
  CHECK(text.find("web.1 not restarted") == std::string::npos);
}
