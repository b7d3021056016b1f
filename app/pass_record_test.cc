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

}  // namespace

TEST_CASE("NextPassRecord: what the pass saw and applied") {
  PassRecord r = NextPassRecord(nullptr, ScaledPass(kNow));
  CHECK(r.started_at == kNow);
  CHECK(r.finished_at == kNow + 2s);
  CHECK(r.ok);
  CHECK(r.observed_at == kNow + 1s);
  REQUIRE(r.formations.size() == 1);
  const FormationRecord& web = r.formations[0];
  CHECK(web.type == "web");
  CHECK(web.observed_quantity == 5);
  CHECK(web.desired_quantity == 6);
  CHECK(web.baseline == 6);
  CHECK(web.baseline_kind == "declared");
  CHECK(web.dynos == 5);
  CHECK(web.dynos_up == 4);
  CHECK(web.statistic == "p95");
  CHECK(web.latency_seconds == 0.241);
  CHECK(r.actions_at == kNow + 1s);
  REQUIRE(r.actions.size() == 1);
  CHECK(r.actions[0].summary == "scale 5 -> 6");
  CHECK(r.actions[0].kind == "scale");
  CHECK(r.actions[0].reason == "drift: 5 dynos, declared quantity 6");
}

TEST_CASE(
    "NextPassRecord: a quiet pass keeps the last actions; a failed one keeps the formations") {
  PassRecord first = NextPassRecord(nullptr, ScaledPass(kNow));

  PassResult quiet = ScaledPass(kNow + 1min);
  quiet.plan->actions.clear();
  quiet.applied = false;
  quiet.plan->formations[0].observed_quantity = 6;
  PassRecord second = NextPassRecord(&first, quiet);
  CHECK(second.formations[0].observed_quantity == 6);
  CHECK(second.actions_at == kNow + 1s);  // still the first pass's actions
  CHECK(second.actions == first.actions);

  PassResult failed;
  failed.policy = "shop-web";
  failed.started_at = kNow + 2min;
  failed.finished_at = kNow + 2min + 5s;
  failed.status = Status::Unavailable("observe app shop: 503");
  PassRecord third = NextPassRecord(&second, failed);
  CHECK_FALSE(third.ok);
  CHECK(third.error == "observe app shop: 503");
  CHECK(third.started_at == kNow + 2min);
  CHECK(third.observed_at == kNow + 1min + 1s);  // what the last pass that could observe saw
  CHECK(third.formations == second.formations);
  CHECK(third.actions == first.actions);
}

TEST_CASE("SavePass: the status and the record in one write; failures keep the status") {
  testing::TempDir dir;
  const std::string state = (dir.path() / "state.json").string();
  {
    auto store = providers::StateStore::Open(state);
    REQUIRE(store.ok());
    REQUIRE(SavePass(**store, ScaledPass(kNow)).ok());
    PassResult failed;
    failed.policy = "shop-web";
    failed.started_at = failed.finished_at = kNow + 1min;
    failed.status = Status::Unavailable("observe app shop: 503");
    REQUIRE(SavePass(**store, failed).ok());
  }
  auto store = providers::StateStore::OpenReadOnly(state);
  REQUIRE(store.ok());
  REQUIRE((*store)->Find("shop-web") != nullptr);
  CHECK((*store)->Find("shop-web")->updated_at == kNow + 1s);  // from the pass that planned
  const nlohmann::json* saved = (*store)->FindLastPass("shop-web");
  REQUIRE(saved != nullptr);
  Result<PassRecord> record = PassRecordFromJson(*saved);
  REQUIRE(record.ok());
  CHECK_FALSE(record->ok);
  CHECK(record->error == "observe app shop: 503");
  CHECK(record->actions.size() == 1);
}
