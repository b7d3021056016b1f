// PassRunner (app/pass.h) over a simulated world: a pass observes, plans, acts and records on a
// platform whose incidents are known, so its decisions can be checked against what happened.
#include <doctest/doctest.h>

#include "app/pass.h"
#include "sim/sim_latency_source.h"
#include "sim/sim_world.h"
#include "spec/loader.h"

using namespace dynoherd;
using namespace dynoherd::app;
using namespace std::chrono_literals;
using sim::SimWorld;

namespace {

constexpr const char* kPolicy = R"(
apiVersion: dynoherd/v1
kind: FormationPolicy
metadata: {name: shop}
spec:
  app: shop
  provider: sim
  interval: 30s
  paused: PAUSED
  formations:
    - type: web
      quantity: 6
      latency: {source: sim, window: 2m, statistic: p50}
      laggards: {sigma: 2.0, minSamples: 30, cooldown: 5m}
      autoscale: {latencyThreshold: 500ms, restoredThreshold: 300ms, alertInterval: 1m, maxExtraWorkers: 3,
                  restoreDelay: 5m}
  sim:
    seed: 7
    duration: 30m
    restartDelay: 20s
    formations:
      web: {quantity: 6, serviceTime: 120ms, rps: 40}
    incidents:
      - {at: 3m, kind: noisy-neighbor, dyno: web.3, factor: 4}
      - {at: 12m, kind: surge, formation: web, factor: 2.5, for: 8m}
)";

spec::Policy LoadPolicy(bool paused = false) {
  std::string text = kPolicy;
  text.replace(text.find("PAUSED"), 6, paused ? "true" : "false");
  spec::LoadResult loaded = spec::ParsePolicies(
      text, "shop.yaml", [](const std::string&) { return std::optional<std::string>(); });
  INFO(loaded.ErrorText());
  REQUIRE(loaded.ok());
  return loaded.policies.at(0);
}

// A provider that forwards to another and fails the calls a test chooses: the fault-injecting
// wrapper for the paths a healthy simulator never takes.
class FaultyProvider final : public providers::Provider {
 public:
  explicit FaultyProvider(providers::Provider& inner) : inner_(inner) {}
  Result<model::AppState> Observe(const std::string& app) override {
    if (fail_observe) return Status::Unavailable("connect to api.heroku.com: timed out after 5s");
    return inner_.Observe(app);
  }
  Status Scale(const std::string& app, const std::vector<providers::ScaleRequest>& u) override {
    ++scale_calls;
    if (fail_scale) {
      return Status::Unavailable("formation locked by a release, retrying next pass");
    }
    return inner_.Scale(app, u);
  }
  Status Restart(const std::string& app, const std::string& dyno) override {
    ++restart_calls;
    if (fail_restart) return Status::Unavailable("DELETE dyno: 503 unavailable");
    return inner_.Restart(app, dyno);
  }
  Status Stop(const std::string& app, const std::string& dyno) override {
    return inner_.Stop(app, dyno);
  }
  bool fail_observe = false, fail_scale = false, fail_restart = false;
  int scale_calls = 0, restart_calls = 0;

 private:
  providers::Provider& inner_;
};

struct Harness {
  explicit Harness(bool paused = false)
      : policy(LoadPolicy(paused)),
        clock(TimePoint{} + 1795352400s),
        world(SimWorld::Create(policy.app, *policy.sim, clock).value()),
        faulty(std::make_shared<FaultyProvider>(*world)),
        metrics("test"),
        runner(clock, logger, &metrics) {
    runtime.provider = faulty;
    runtime.sources.push_back({std::make_shared<sim::SimLatencySource>(*world), {"web"}});
  }

  // One pass at the current time; the status is carried like `run` carries it.
  app::PassResult Pass(bool apply = true) {
    app::PassResult r = runner.Run(policy, runtime, status ? &*status : nullptr, rng,
                                   {.apply = apply, .save_first = save_first});
    if (r.plan && apply) status = r.plan->status;
    return r;
  }

  // Passes every 30 s until `until`, collecting the applied actions' summaries.
  std::vector<std::string> RunUntil(Duration until) {
    std::vector<std::string> done;
    for (int guard = 0; guard < 200 && clock.Now() < world->start_time() + until; ++guard) {
      clock.Advance(30s);
      app::PassResult r = Pass();
      if (r.plan) {
        for (const auto& a : r.plan->actions) {
          if (a.failed) continue;
          done.push_back(a.formation + " " + a.Summary());
          applied.push_back(
              {std::chrono::duration_cast<Duration>(clock.Now() - world->start_time()), a});
        }
      }
    }
    return done;
  }

  // Every action applied so far, one line each: "13m  web scale 6 -> 7  latency event: ...".
  std::string Trace() const {
    std::string out;
    for (const auto& [at, a] : applied) {
      out += FormatDuration(at) + "  " + a.formation + " " + a.Summary() + "  " + a.reason + "\n";
    }
    return out;
  }

  struct Applied {
    Duration at;  // since the simulation's start
    reconciler::Action action;
  };
  std::vector<Applied> applied;

  spec::Policy policy;
  ManualClock clock;
  std::unique_ptr<SimWorld> world;
  std::shared_ptr<FaultyProvider> faulty;
  CapturingLogger logger;
  metrics::Metrics metrics;
  app::PassRunner runner;
  app::PolicyRuntime runtime;
  std::optional<model::PolicyStatus> status;
  app::SaveStatus save_first;
  std::mt19937_64 rng{1};
};

bool Contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

}  // namespace

TEST_CASE("a quiet formation: the pass observes, plans nothing and exports its state") {
  Harness h;
  h.clock.Advance(2min + 30s);
  app::PassResult r = h.Pass();
  REQUIRE(r.status.ok());
  REQUIRE(r.plan);
  CHECK(r.plan->actions.empty());
  CHECK(r.observation.formations.size() == 1);
  CHECK(r.observation.dynos.size() == 6);
  CHECK(r.observation.latency.at("web").value.has_value());
  std::string text = h.metrics.Serialize();
  CHECK(
      text.find("dynoherd_formation_quantity{app=\"shop\",formation=\"web\",policy=\"shop\"} 6") !=
      std::string::npos);
  CHECK(text.find("dynoherd_reconcile_total{policy=\"shop\",result=\"ok\"} 1") !=
        std::string::npos);
  CHECK(text.find("dynoherd_dyno_latency_seconds{app=\"shop\",dyno=\"web.3\"") !=
        std::string::npos);
}

TEST_CASE(
    "the demo's incidents: one restart of the noisy neighbour, the surge ridden, one restore") {
  Harness h;
  h.RunUntil(29min);
  INFO("applied actions:\n" << h.Trace());

  // Exactly one restart in 29 minutes: web.3, the noisy neighbour, before the surge. None during
  // the surge (the whole formation is slow) nor after the restore (the windows mix two sizes).
  std::vector<Harness::Applied> restarts, scales;
  for (const auto& a : h.applied) {
    (a.action.kind == reconciler::ActionKind::kScale ? scales : restarts).push_back(a);
  }
  REQUIRE(restarts.size() == 1);
  CHECK(restarts[0].action.Summary() == "restart web.3");
  CHECK(restarts[0].at > 3min);
  CHECK(restarts[0].at < 12min);
  CHECK(h.faulty->restart_calls == 1);
  CHECK(h.logger.Contains(LogLevel::kWarn, "restarting laggard dyno"));
  for (const auto& e : h.logger.entries()) {
    if (e.msg == "restarting laggard dyno") {
      CHECK(e.Field("dyno") == "web.3");
      CHECK_FALSE(e.Field("p50Ms").empty());
      CHECK_FALSE(e.Field("z").empty());
    }
  }

  // Scale-ups only during the surge (12m to 20m), then exactly one restore to 6, once the surge
  // is over (restoreDelay holds the extra dynos until then), and nothing after it.
  REQUIRE_FALSE(scales.empty());
  const Harness::Applied& restore = scales.back();
  CHECK(restore.action.Summary() == "scale 9 -> 6");
  CHECK(restore.action.cause == reconciler::ActionCause::kRestored);
  CHECK(restore.at >= 20min);
  CHECK(restore.at < 29min);
  std::vector<std::string> ups;
  for (size_t i = 0; i + 1 < scales.size(); ++i) {
    const Harness::Applied& s = scales[i];
    CHECK(s.action.to_quantity > s.action.from_quantity);
    CHECK(s.action.cause == reconciler::ActionCause::kLatencyEvent);
    CHECK(s.at >= 12min);
    CHECK(s.at < 20min);
    ups.push_back(s.action.Summary());
  }
  CHECK(ups == std::vector<std::string>{"scale 6 -> 7", "scale 7 -> 8", "scale 8 -> 9"});
  CHECK(h.logger.Contains(LogLevel::kInfo, "scaled formation"));
  CHECK(h.logger.Contains(LogLevel::kInfo, "restored formation"));

  Result<model::AppState> end = h.world->Observe("shop");
  REQUIRE(end.ok());
  CHECK(end->formations.at(0).quantity == 6);
  std::string text = h.metrics.Serialize();
  CHECK(text.find("dynoherd_dyno_restarts_total{action=\"restart\",app=\"shop\",formation=\"web\","
                  "policy=\"shop\"} 1\n") != std::string::npos);
  CHECK(text.find("dynoherd_scale_changes_total{app=\"shop\",direction=\"down\"") !=
        std::string::npos);
}

TEST_CASE("an event past maxDuration is logged at ERROR once, not on every pass") {
  Harness h;
  h.policy.formations.at(0).autoscale->max_duration = 2min;
  int passes_past = 0;  // the surge lasts 8 minutes: many passes past maxDuration
  for (int guard = 0; guard < 60; ++guard) {
    h.clock.Advance(30s);
    app::PassResult r = h.Pass();
    REQUIRE(r.plan);
    passes_past += r.plan->formations.at(0).event_exceeded_max_duration;
  }
  CHECK(passes_past > 5);
  int errors = 0;
  for (const auto& e : h.logger.entries()) {
    if (e.msg != "latency event exceeded maxDuration") continue;
    ++errors;
    CHECK(e.level == LogLevel::kError);
    CHECK(e.Field("formation") == "web");
    CHECK_FALSE(e.Field("started").empty());
  }
  CHECK(errors == 1);
}

TEST_CASE("plan-only passes send nothing to the platform") {
  Harness h;
  h.clock.Advance(9min);
  app::PassResult r = h.Pass(/*apply=*/false);
  REQUIRE(r.plan);
  REQUIRE_FALSE(r.plan->actions.empty());  // the laggard is there to restart
  CHECK_FALSE(r.applied);
  CHECK(h.faulty->restart_calls == 0);
  CHECK(h.faulty->scale_calls == 0);
  CHECK(h.logger.Contains(LogLevel::kInfo, "action planned, not applied"));
}

TEST_CASE("a paused policy plans and reports but never acts") {
  Harness h(/*paused=*/true);
  h.clock.Advance(9min);
  app::PassResult r = h.Pass();
  REQUIRE(r.plan);
  CHECK_FALSE(r.plan->apply);
  CHECK_FALSE(r.plan->actions.empty());
  CHECK(h.faulty->restart_calls == 0);
  CHECK(r.status.ok());
}

TEST_CASE("an unreachable platform fails the pass, logs an ERROR and counts it") {
  Harness h;
  h.faulty->fail_observe = true;
  h.clock.Advance(1min);
  app::PassResult r = h.Pass();
  CHECK_FALSE(r.status.ok());
  CHECK(r.status.message() == "observe app shop: connect to api.heroku.com: timed out after 5s");
  CHECK_FALSE(r.plan.has_value());
  CHECK(h.logger.Contains(LogLevel::kError, "pass failed"));
  CHECK(h.metrics.Serialize().find(
            "dynoherd_reconcile_total{policy=\"shop\",result=\"error\"} 1") != std::string::npos);
}

TEST_CASE("a failed restart fails the pass and is not remembered as done") {
  Harness h;
  h.faulty->fail_restart = true;
  std::vector<std::string> done = h.RunUntil(9min);
  CHECK_FALSE(Contains(done, "web restart web.3"));
  CHECK(h.faulty->restart_calls >= 2);  // no cooldown started: the next pass tried again
  CHECK(h.logger.Contains(LogLevel::kError, "restarting laggard dyno failed"));
  REQUIRE(h.status);
  const model::FormationStatus* web = h.status->FindFormation("web");
  REQUIRE(web);
  CHECK(web->restarts.empty());
  const model::Condition* degraded = model::FindCondition(web->conditions, model::kDegraded);
  REQUIRE(degraded);
  CHECK(degraded->status == model::ConditionStatus::kTrue);
  // Not counted: the counter stays at the 0 it starts from.
  CHECK(h.metrics.Serialize().find("dynoherd_dyno_restarts_total{action=\"restart\",app=\"shop\","
                                   "formation=\"web\",policy=\"shop\"} 0\n") != std::string::npos);
}

TEST_CASE("write-ahead: the restart is saved, pending, before it is sent; unsaved, never sent") {
  Harness h;
  std::optional<model::PolicyStatus> saved;
  int restarts_sent_when_saved = -1;
  h.save_first = [&](const model::PolicyStatus& s) {
    if (!saved) {
      saved = s;
      restarts_sent_when_saved = h.faulty->restart_calls;
    }
    return Status::Ok();
  };
  REQUIRE(Contains(h.RunUntil(9min), "web restart web.3"));
  REQUIRE(saved);
  CHECK(restarts_sent_when_saved == 0);
  const model::FormationStatus* web = saved->FindFormation("web");
  REQUIRE(web);
  REQUIRE(web->intents.size() == 1);
  CHECK(web->intents[0].state == model::IntentState::kPending);
  CHECK(web->intents[0].kind == model::WriteKind::kRestart);
  CHECK(web->intents[0].dyno == "web.3");
  REQUIRE(web->restarts.size() == 1);  // the cooldown holds even if the process dies now
  CHECK(web->restarts[0].dyno == "web.3");
  CHECK(h.status->FindFormation("web")->intents.empty());  // answered: no intent left

  Harness refused;
  refused.save_first = [](const model::PolicyStatus&) {
    return Status::PermissionDenied("write /var/lib/dynoherd/state.json: read-only file system");
  };
  CHECK_FALSE(Contains(refused.RunUntil(9min), "web restart web.3"));
  CHECK(refused.faulty->restart_calls == 0);
  CHECK(refused.logger.Contains(LogLevel::kError,
                                "actions not sent: the status could not be saved first"));
}

TEST_CASE("a failing action turns Degraded true once; repeated failures do not flap it") {
  Harness h;
  h.RunUntil(12min + 30s);
  h.faulty->fail_scale = true;
  auto degraded_lines = [&](const std::string& status) {
    int n = 0;
    for (const auto& e : h.logger.entries()) {
      n += e.msg == "condition changed" && e.Field("condition") == "Degraded" &&
           e.Field("status") == status;
    }
    return n;
  };
  const int false_before = degraded_lines("False");

  h.clock.Advance(90s);
  REQUIRE_FALSE(h.Pass().status.ok());
  CHECK(degraded_lines("True") == 1);
  bool warned = false;
  for (const auto& e : h.logger.entries()) {
    warned = warned || (e.level == LogLevel::kWarn && e.Field("condition") == "Degraded" &&
                        e.Field("reason") == "ActionFailed");
  }
  CHECK(warned);
  const TimePoint failed_at = h.clock.Now();

  // The same failure again: no "back to normal" line, no second "degraded" line, and the
  // condition keeps the time it turned true.
  h.clock.Advance(30s);
  app::PassResult again = h.Pass();
  REQUIRE_FALSE(again.status.ok());
  CHECK(degraded_lines("True") == 1);
  CHECK(degraded_lines("False") == false_before);
  const model::Condition* c = nullptr;
  for (const auto& cond : again.plan->FindFormation("web")->conditions) {
    if (cond.type == model::kDegraded) c = &cond;
  }
  REQUIRE(c);
  CHECK(c->status == model::ConditionStatus::kTrue);
  CHECK(c->last_transition_time == failed_at);

  // It recovers: one line saying so.
  h.faulty->fail_scale = false;
  h.clock.Advance(30s);
  CHECK(h.Pass().status.ok());
  CHECK(degraded_lines("False") == false_before + 1);
}

TEST_CASE("a scale refused during a release is retried on the next pass") {
  Harness h;
  h.RunUntil(12min + 30s);
  h.faulty->fail_scale = true;
  h.clock.Advance(90s);
  app::PassResult refused = h.Pass();
  REQUIRE(refused.plan);
  REQUIRE_FALSE(refused.status.ok());
  CHECK(refused.status.message().find("formation locked by a release") != std::string::npos);
  int calls = h.faulty->scale_calls;
  h.faulty->fail_scale = false;
  h.clock.Advance(30s);
  app::PassResult retried = h.Pass();
  CHECK(retried.status.ok());
  CHECK(h.faulty->scale_calls == calls + 1);
  bool scaled_up = false;
  for (const auto& a : retried.plan->actions) {
    scaled_up =
        scaled_up || (a.kind == reconciler::ActionKind::kScale && a.to_quantity > a.from_quantity);
  }
  CHECK(scaled_up);
}
