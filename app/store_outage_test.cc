#include "app/store_outage.h"

#include <doctest/doctest.h>

using namespace dynoherd;
using namespace dynoherd::app;
using namespace std::chrono_literals;

namespace {

PolicySnapshot Snapshot(const std::string& name, const std::vector<std::string>& formations) {
  auto policy = std::make_shared<spec::Policy>();
  policy->name = name;
  policy->app = "shop";
  for (const std::string& type : formations) {
    spec::FormationSpec formation;
    formation.type = type;
    policy->formations.push_back(formation);
  }
  PolicySnapshot snapshot;
  snapshot.policy = policy;
  return snapshot;
}

bool Has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

const model::Condition* DegradedOf(const PolicySnapshot& snapshot, const std::string& formation) {
  const model::FormationStatus* f = snapshot.status->FindFormation(formation);
  return f ? model::FindCondition(f->conditions, model::kDegraded) : nullptr;
}

}  // namespace

TEST_CASE("the store unreachable: every policy Degraded StoreUnreachable until a round reaches it") {
  ManualClock clock{TimePoint(std::chrono::seconds(1000))};
  metrics::Metrics metrics("1");
  CapturingLogger logger;
  StoreOutage outage("redis://127.0.0.1:6390", clock, logger, &metrics);

  // held: its last pass said Degraded False; standby: never passed here, no status.
  PolicySnapshot held = Snapshot("held", {"web"});
  held.status = model::PolicyStatus{};
  held.status->policy = "held";
  held.status->app = "shop";
  held.status->formations.push_back({});
  held.status->formations[0].type = "web";
  held.status->formations[0].conditions.push_back(
      {"Degraded", model::ConditionStatus::kFalse, "AsExpected", "", TimePoint{}});
  PolicySnapshot standby = Snapshot("standby", {"web", "worker"});
  const std::vector<PolicySnapshot> policies{held, standby};

  outage.Update(Status::Ok(), policies);
  CHECK_FALSE(outage.Condition());
  CHECK(outage.Mark(policies)[1].status == std::nullopt);

  outage.Update(Status::Unavailable("redis://127.0.0.1:6390: connection refused"), policies);
  clock.Advance(5s);
  outage.Update(Status::Unavailable("redis://127.0.0.1:6390: timed out"), policies);
  REQUIRE(outage.Condition());
  CHECK(outage.Condition()->reason == "StoreUnreachable");
  CHECK(outage.Condition()->message ==
        "the status store redis://127.0.0.1:6390 is unreachable (redis://127.0.0.1:6390: timed "
        "out): this replica neither acts on the policy nor knows whether another one does");
  CHECK(outage.Condition()->last_transition_time == TimePoint(std::chrono::seconds(1000)));
  REQUIRE(logger.entries().size() == 1);  // once per outage, with the first error
  CHECK(logger.entries()[0].level == LogLevel::kWarn);
  CHECK(logger.entries()[0].Field("error") == "redis://127.0.0.1:6390: connection refused");

  const std::vector<PolicySnapshot> marked = outage.Mark(policies);
  for (const auto& [policy, formation] : std::vector<std::pair<int, std::string>>{
           {0, "web"}, {1, "web"}, {1, "worker"}}) {
    const model::Condition* degraded = DegradedOf(marked[policy], formation);
    REQUIRE(degraded);
    CHECK(degraded->status == model::ConditionStatus::kTrue);
    CHECK(degraded->reason == "StoreUnreachable");
  }
  CHECK(marked[0].status->formations[0].conditions.size() == 1);  // replaced, not added
  CHECK(marked[1].status->app == "shop");
  std::string text = metrics.Serialize();
  CHECK(Has(text, "formation=\"worker\",policy=\"standby\",status=\"True\",type=\"Degraded\"} 1"));
  CHECK(Has(text, "formation=\"web\",policy=\"held\",status=\"True\",type=\"Degraded\"} 1"));

  outage.Update(Status::Ok(), policies);
  CHECK_FALSE(outage.Condition());
  CHECK(logger.Contains(LogLevel::kInfo, "the status store answers again"));
  CHECK(outage.Mark(policies)[0].status == held.status);
  CHECK_FALSE(Has(metrics.Serialize(), "dynoherd_condition"));
}

TEST_CASE("a policy dropped during an outage loses its forced condition at the next round") {
  ManualClock clock{TimePoint(std::chrono::seconds(1000))};
  metrics::Metrics metrics("1");
  NullLogger logger;
  StoreOutage outage("redis://127.0.0.1:6390", clock, logger, &metrics);
  outage.Update(Status::Unavailable("down"), {Snapshot("a", {"web"}), Snapshot("b", {"web"})});
  CHECK(Has(metrics.Serialize(), "policy=\"b\""));
  outage.Update(Status::Unavailable("down"), {Snapshot("a", {"web"})});
  CHECK(Has(metrics.Serialize(), "policy=\"a\""));
  CHECK_FALSE(Has(metrics.Serialize(), "policy=\"b\""));
}
