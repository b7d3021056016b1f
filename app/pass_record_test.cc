#include "app/pass_record.h"

#include <doctest/doctest.h>

#include "model/codec.h"
#include "tests/support/temp_dir.h"

using namespace dynoherd;
using namespace dynoherd::app;
using namespace dynoherd::model;
using namespace std::chrono_literals;

namespace {

const TimePoint kNow = *ParseTimestamp("2026-11-22T13:00:00Z");

// A pass over `web` (5 dynos observed, one starting) that scaled it to 6.
PassResult ScaledPass(TimePoint at) {
  PassResult r;
  r.policy = "shop-web";
  r.app = "shop";
  r.started_at = at;
  r.finished_at = at + 2s;
  r.observed = true;
  r.observation.observed_at = at + 1s;
  for (int i = 1; i <= 5; ++i) {
    r.observation.dynos.push_back(
        {"web." + std::to_string(i), "web", i == 5 ? "starting" : "up", at});
  }
  r.observation.latency["web"].value = 0.241;
  r.plan.emplace();
  r.plan->policy = r.policy;
  r.plan->app = r.app;
  r.plan->planned_at = at + 1s;
  reconciler::Action a;
  a.formation = "web";
  a.from_quantity = 5;
  a.to_quantity = 6;
  a.reason = "drift: 5 dynos, declared quantity 6";
  r.plan->actions.push_back(a);
  reconciler::FormationPlan fp;
  fp.type = "web";
  fp.observed_quantity = 5;
  fp.desired_quantity = 6;
  fp.baseline = 6;
  fp.baseline_kind = reconciler::BaselineKind::kDeclared;
  fp.latency_seconds = 0.241;
  r.plan->formations.push_back(fp);
  r.plan->status.policy = r.policy;
  r.plan->status.app = r.app;
  r.plan->status.updated_at = at + 1s;
  r.applied = true;
  return r;
}

// The policy of ScaledPass: web declares 6 and reads its latency (no autoscale, no laggards).
spec::Policy ShopWeb() {
  spec::Policy policy;
  policy.name = "shop-web";
  policy.app = "shop";
  spec::FormationSpec web;
  web.type = "web";
  web.quantity = 6;
  web.latency.emplace();
  policy.formations.push_back(web);
  return policy;
}

}  // namespace

TEST_CASE("NextPassRecord: what the pass saw and applied") {
  const spec::Policy policy = ShopWeb();
  PassRecord r = NextPassRecord(nullptr, ScaledPass(kNow), &policy);
  const PassReport& pass = r.last_pass;
  CHECK(pass.name == "shop-web");
  CHECK(pass.started_at == kNow);
  CHECK(pass.finished_at == kNow + 2s);
  CHECK(pass.ok);
  CHECK(pass.observed_at == kNow + 1s);
  REQUIRE(pass.formations.size() == 1);
  const FormationReport& web = pass.formations[0];
  CHECK(web.type == "web");
  CHECK(web.observed_quantity == 5);
  CHECK(web.desired_quantity == 6);
  CHECK(web.baseline == 6);
  CHECK(web.baseline_kind == "declared");
  CHECK(web.dynos.size() == 5);
  CHECK(web.DynosUp() == 4);
  REQUIRE(web.latency.has_value());
  CHECK(web.latency->statistic == "p95");
  CHECK(web.latency->seconds == 0.241);
  CHECK_FALSE(web.event.has_value());     // no autoscale configured: null
  CHECK_FALSE(web.laggards.has_value());  // no laggards configured: null
  REQUIRE(r.last_actions.has_value());
  CHECK(r.last_actions->at == kNow + 1s);
  REQUIRE(r.last_actions->actions.size() == 1);
  const ActionReport& scale = r.last_actions->actions[0];
  CHECK(scale.summary == "scale 5 -> 6");
  CHECK(scale.kind == "scale");
  CHECK(scale.from == 5);
  CHECK(scale.to == 6);
  CHECK(scale.applied);
  CHECK(scale.reason == "drift: 5 dynos, declared quantity 6");
}

TEST_CASE(
    "NextPassRecord: a quiet pass keeps the last actions; a failed one keeps the formations") {
  const spec::Policy policy = ShopWeb();
  PassRecord first = NextPassRecord(nullptr, ScaledPass(kNow), &policy);

  PassResult quiet = ScaledPass(kNow + 1min);
  quiet.plan->actions.clear();
  quiet.applied = false;
  quiet.plan->formations[0].observed_quantity = 6;
  PassRecord second = NextPassRecord(&first, quiet, &policy);
  CHECK(second.last_pass.formations[0].observed_quantity == 6);
  CHECK(second.last_pass.actions.empty());
  CHECK(second.last_actions == first.last_actions);  // still the first pass's actions

  PassResult failed;
  failed.policy = "shop-web";
  failed.started_at = kNow + 2min;
  failed.finished_at = kNow + 2min + 5s;
  failed.status = Status::Unavailable("observe app shop: 503");
  PassRecord third = NextPassRecord(&second, failed, &policy);
  CHECK_FALSE(third.last_pass.ok);
  CHECK(third.last_pass.error == "observe app shop: 503");
  CHECK(third.last_pass.started_at == kNow + 2min);
  // What the last pass that could observe saw.
  CHECK(third.last_pass.observed_at == kNow + 1min + 1s);
  CHECK(third.last_pass.formations == second.last_pass.formations);
  CHECK(third.last_actions == first.last_actions);
}

TEST_CASE("SavePass: the status and the record in one write; failures keep the status") {
  testing::TempDir dir;
  const std::string state = (dir.path() / "state.json").string();
  const spec::Policy policy = ShopWeb();
  {
    auto store = providers::StateStore::Open(state);
    REQUIRE(store.ok());
    const PassResult scaled = ScaledPass(kNow);
    const PassRecord first = NextPassRecord(nullptr, scaled, &policy);
    REQUIRE(SavePass(**store, scaled, first).ok());
    PassResult failed;
    failed.policy = "shop-web";
    failed.started_at = failed.finished_at = kNow + 1min;
    failed.status = Status::Unavailable("observe app shop: 503");
    REQUIRE(SavePass(**store, failed, NextPassRecord(&first, failed, &policy)).ok());
  }
  auto store = providers::StateStore::OpenReadOnly(state);
  REQUIRE(store.ok());
  REQUIRE((*store)->Find("shop-web") != nullptr);
  CHECK((*store)->Find("shop-web")->updated_at == kNow + 1s);  // from the pass that planned
  Result<std::optional<PassRecord>> record = StoredPassRecord(**store, "shop-web");
  REQUIRE(record.ok());
  REQUIRE(record->has_value());
  CHECK_FALSE((*record)->last_pass.ok);
  CHECK((*record)->last_pass.error == "observe app shop: 503");
  REQUIRE((*record)->last_actions.has_value());
  CHECK((*record)->last_actions->actions.size() == 1);
  CHECK(StoredPassRecord(**store, "nobody")->has_value() == false);
}
