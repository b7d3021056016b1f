// What the live page keeps of each pass, and how much of it.
#include "app/pass_history.h"

#include <doctest/doctest.h>

using namespace dynoherd;
using namespace dynoherd::app;

namespace {

const TimePoint kStart = *ParseTimestamp("2026-12-06T09:00:00Z");

spec::Policy TwoFormations() {
  spec::Policy policy;
  policy.name = "shop";
  for (const char* type : {"web", "worker"}) {
    spec::FormationSpec formation;
    formation.type = type;
    policy.formations.push_back(formation);
  }
  return policy;
}

}  // namespace

TEST_CASE("a pass sample: formations in spec order, unknowns kept unknown, actions only if sent") {
  PassResult pass;
  pass.started_at = kStart;
  pass.observed = true;
  for (const auto& [type, quantity] : {std::pair{"worker", 2}, std::pair{"web", 5}}) {
    model::FormationState state;
    state.type = type;
    state.quantity = quantity;
    pass.observation.formations.push_back(state);
  }
  pass.observation.latency["web"].value = 0.25;
  pass.plan.emplace();
  reconciler::Action restart;
  restart.kind = reconciler::ActionKind::kRestart;
  restart.formation = "web";
  restart.dyno = "web.3";
  restart.reason = "laggard";
  pass.plan->actions.push_back(restart);

  PassSample planned_only = SamplePass(TwoFormations(), pass);
  CHECK(planned_only.at == kStart);
  REQUIRE(planned_only.formations.size() == 2);
  CHECK(planned_only.formations[0].type == "web");
  CHECK(planned_only.formations[0].quantity == 5);
  CHECK(planned_only.formations[0].latency == 0.25);
  CHECK(planned_only.formations[1].quantity == 2);
  CHECK_FALSE(planned_only.formations[1].latency.has_value());
  CHECK(planned_only.actions.empty());  // planned, not applied: nothing was done

  pass.applied = true;
  const PassSample sent = SamplePass(TwoFormations(), pass);
  REQUIRE(sent.actions.size() == 1);
  CHECK(sent.actions[0].summary == "restart web.3");
  CHECK(sent.actions[0].kind == "restart");
  CHECK(sent.actions[0].reason == "laggard");

  pass.observed = false;
  const PassSample blind = SamplePass(TwoFormations(), pass);
  CHECK_FALSE(blind.formations[0].quantity.has_value());
}

TEST_CASE("the history keeps the newest kMaxPassHistory passes") {
  std::deque<PassSample> history;
  for (size_t i = 0; i < kMaxPassHistory + 5; ++i)
    AddSample(history, {.at = kStart + std::chrono::seconds(i)});
  CHECK(history.size() == kMaxPassHistory);
  CHECK(history.front().at == kStart + std::chrono::seconds(5));
  CHECK(history.back().at == kStart + std::chrono::seconds(kMaxPassHistory + 4));
}
