#include "reconciler/reconciler.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "model/codec.h"

using namespace dynoherd;
using namespace dynoherd::model;
using namespace dynoherd::reconciler;
using namespace std::chrono_literals;

namespace {

// Seconds on the test's timeline.
TimePoint T(double seconds) {
  return TimePoint(std::chrono::milliseconds(1'800'000'000'000LL) +
                   std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
}

spec::FormationSpec Worker(std::optional<int> quantity) {
  spec::FormationSpec f;
  f.type = "worker";
  f.quantity = quantity;
  f.latency = spec::LatencySpec{};
  f.latency->statistic = spec::Statistic::kP95;
  spec::AutoscaleSpec a;
  a.latency_threshold = 2s;
  a.restored_threshold = 2s;
  a.alert_interval = 10s;
  a.max_extra_workers = 2;
  a.restore_delay = 0s;  // amigo's immediate restore; the restoreDelay tests set their own
  f.autoscale = a;
  return f;
}

spec::FormationSpec Web(int quantity) {
  spec::FormationSpec f;
  f.type = "web";
  f.quantity = quantity;
  f.latency = spec::LatencySpec{};
  f.latency->window = 5min;
  f.laggards = spec::LaggardSpec{};
  return f;
}

spec::Policy Policy(std::vector<spec::FormationSpec> formations) {
  spec::Policy p;
  p.name = "shop";
  p.app = "shop-prod";
  p.formations = std::move(formations);
  return p;
}

// A world the tests drive by hand: what is observed, what the last pass saved, and the actions
// applied as Heroku would (a scale moves the formation's updated_at; a restart makes the dyno
// `starting`).
struct World {
  spec::Policy policy;
  Observation observation;
  std::optional<PolicyStatus> status;
  std::mt19937_64 rng{42};

  explicit World(spec::Policy p) : policy(std::move(p)) {}

  // A formation; except for web (whose dynos the laggard tests lay out themselves), its dynos are
  // kept in step with its quantity and boot at once.
  FormationState& AddFormation(const std::string& type, int quantity, TimePoint updated_at = T(0)) {
    observation.formations.push_back({type, quantity, "standard-1x", updated_at});
    SyncDynos(type, updated_at);
    return observation.formations.back();
  }
  void SetQuantity(const std::string& type, int quantity, TimePoint updated_at) {
    Formation(type).quantity = quantity;
    Formation(type).updated_at = updated_at;
    SyncDynos(type, updated_at);
  }
  void SyncDynos(const std::string& type, TimePoint now) {
    if (type == "web") return;
    std::erase_if(observation.dynos, [&](const DynoState& d) { return d.type == type; });
    for (int i = 1; i <= Formation(type).quantity; ++i) {
      observation.dynos.push_back({type + "." + std::to_string(i), type, "up", now});
    }
  }
  FormationState& Formation(const std::string& type) {
    for (auto& f : observation.formations) {
      if (f.type == type) return f;
    }
    FAIL("no formation " << type);
    return observation.formations.front();
  }
  void SetLatency(const std::string& type, std::optional<double> seconds,
                  std::string unknown_reason = "") {
    FormationLatency& l = observation.latency[type];
    l.value = seconds;
    l.sample_count = seconds ? 500 : 0;
    l.unknown_reason = std::move(unknown_reason);
  }
  // Dynos web.1 .. web.N, up for an hour, with the given p50s in milliseconds.
  void AddWebDynos(const std::vector<double>& p50_ms, TimePoint now) {
    FormationLatency& l = observation.latency["web"];
    for (size_t i = 0; i < p50_ms.size(); ++i) {
      const std::string name = "web." + std::to_string(i + 1);
      observation.dynos.push_back({name, "web", "up", now - 1h});
      LatencyStats s;
      s.count = 200;
      s.p50 = s.mean = p50_ms[i] / 1000.0;
      s.p95 = 3 * s.p50;
      l.per_dyno[name] = s;
    }
  }
  DynoState& Dyno(const std::string& name) {
    for (auto& d : observation.dynos) {
      if (d.name == name) return d;
    }
    FAIL("no dyno " << name);
    return observation.dynos.front();
  }

  // A saved status with nothing in it yet, as after a first quiet pass.
  void SetEmptyStatus() {
    status = PolicyStatus{policy.name, policy.app, T(0), {}};
    for (const auto& f : policy.formations)
      status->formations.push_back({f.type, {}, {}, {}, {}, {}});
  }
  reconciler::Plan PlanAt(TimePoint now) {
    return Reconcile(policy, observation, status ? &*status : nullptr, now, rng);
  }
  reconciler::Plan PlanWithoutStatus(TimePoint now) {
    std::mt19937_64 copy = rng;
    return Reconcile(policy, observation, nullptr, now, copy);
  }
  void Apply(const reconciler::Plan& plan, TimePoint now) {
    if (!plan.apply) return;
    for (const Action& a : plan.actions) {
      if (a.failed) continue;
      if (a.kind == ActionKind::kScale) {
        SetQuantity(a.formation, a.to_quantity, now);
      } else {
        Dyno(a.dyno).state = "starting";
        Dyno(a.dyno).updated_at = now;
      }
    }
  }
  // One pass: plan, apply, save the status.
  reconciler::Plan Pass(TimePoint now) {
    reconciler::Plan plan = PlanAt(now);
    Apply(plan, now);
    status = plan.status;
    return plan;
  }
};

std::vector<std::string> Summaries(const Plan& plan) {
  std::vector<std::string> out;
  for (const auto& a : plan.actions)
    out.push_back(a.formation + " " + a.Summary());
  return out;
}

const Condition& Cond(const Plan& plan, const std::string& formation, std::string_view type) {
  const FormationPlan* f = plan.FindFormation(formation);
  REQUIRE(f);
  const Condition* c = FindCondition(f->conditions, type);
  REQUIRE_MESSAGE(c, "no condition " << type);
  return *c;
}

bool HasNote(const FormationPlan& f, std::string_view text) {
  for (const auto& n : f.notes) {
    if (n.find(text) != std::string::npos) return true;
  }
  return false;
}

// A cause as far as a lost status can know it: without the status, a recorded event's end and
// an unrecorded scale look alike (both go back to the baseline).
ActionCause KnowableCause(ActionCause cause) {
  return cause == ActionCause::kRestored ? ActionCause::kUnrecordedScale : cause;
}

// The parts of a plan that decide what happens to the world.
void CheckSameDecisions(const Plan& a, const Plan& b, bool same_depth = true) {
  REQUIRE(a.actions.size() == b.actions.size());
  for (size_t i = 0; i < a.actions.size(); ++i) {
    CHECK(a.actions[i].Summary() == b.actions[i].Summary());
    CHECK(KnowableCause(a.actions[i].cause) == KnowableCause(b.actions[i].cause));
  }
  REQUIRE(a.formations.size() == b.formations.size());
  for (size_t i = 0; i < a.formations.size(); ++i) {
    CHECK(a.formations[i].desired_quantity == b.formations[i].desired_quantity);
    CHECK(a.formations[i].in_event == b.formations[i].in_event);
    if (same_depth) CHECK(a.formations[i].event_depth == b.formations[i].event_depth);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Latency events

TEST_CASE("amigo's sequence with a declared baseline: depth 1, depth 2, restored, depth 1 again") {
  World w(Policy({Worker(2)}));
  w.AddFormation("worker", 2);

  w.SetLatency("worker", 3.0);
  Plan p = w.Pass(T(100));
  CHECK(Summaries(p) == std::vector<std::string>{"worker scale 2 -> 3"});
  CHECK(p.actions[0].cause == ActionCause::kLatencyEvent);
  CHECK(p.actions[0].reason == "latency event: p95 3s > 2s (step 1 of 2)");
  CHECK(p.formations[0].in_event);
  CHECK(p.formations[0].event_depth == 1);
  CHECK(p.status.formations[0].event.started_at == T(100));
  CHECK(p.status.formations[0].event.last_step_at == T(100));

  p = w.Pass(T(110));
  CHECK(Summaries(p) == std::vector<std::string>{"worker scale 3 -> 4"});
  CHECK(p.actions[0].reason == "latency event: p95 3s > 2s (step 2 of 2)");
  CHECK(p.formations[0].event_depth == 2);

  w.SetLatency("worker", 1.0);
  p = w.Pass(T(120));
  CHECK(Summaries(p) == std::vector<std::string>{"worker scale 4 -> 2"});
  CHECK(p.actions[0].cause == ActionCause::kRestored);
  CHECK(p.actions[0].reason == "latency restored: p95 1s <= 2s after 20s");
  CHECK_FALSE(p.formations[0].in_event);
  CHECK(p.status.formations[0].event == EventStatus{});

  w.SetLatency("worker", 3.0);
  p = w.Pass(T(130));
  CHECK(Summaries(p) == std::vector<std::string>{"worker scale 2 -> 3"});
  CHECK(p.actions[0].reason == "latency event: p95 3s > 2s (step 1 of 2)");
  CHECK(p.status.formations[0].event.started_at == T(130));
}

TEST_CASE("amigo's sequence with a captured baseline, across a process restart") {
  World w(Policy({Worker(std::nullopt)}));
  w.AddFormation("worker", 2);

  w.SetLatency("worker", 3.0);
  Plan p = w.Pass(T(100));
  CHECK(Summaries(p) == std::vector<std::string>{"worker scale 2 -> 3"});
  CHECK(p.formations[0].baseline_kind == BaselineKind::kCaptured);
  CHECK(p.formations[0].baseline == 2);
  CHECK(p.status.formations[0].event.captured_baseline == 2);

  // The process restarts: the status survives only as JSON in the state file.
  w.status = PolicyStatusFromJson(nlohmann::json::parse(ToJson(*w.status).dump())).value();
  p = w.Pass(T(110));
  CHECK(Summaries(p) == std::vector<std::string>{"worker scale 3 -> 4"});
  CHECK(p.formations[0].baseline == 2);  // still the value recorded at the start, not 3
  CHECK(p.status.formations[0].event.depth == 2);

  w.SetLatency("worker", 1.0);
  p = w.Pass(T(120));
  CHECK(Summaries(p) == std::vector<std::string>{"worker scale 4 -> 2"});
  CHECK(p.actions[0].cause == ActionCause::kRestored);
  CHECK_FALSE(p.status.formations[0].event.captured_baseline.has_value());  // forgotten
  CHECK(p.formations[0].baseline_kind == BaselineKind::kCaptured);

  // Someone scales by hand between events: captured mode leaves it alone...
  w.SetQuantity("worker", 3, T(125));
  p = w.Pass(T(126));
  CHECK(p.actions.empty());
  CHECK_FALSE(p.formations[0].desired_quantity.has_value());
  CHECK(p.formations[0].baseline_kind == BaselineKind::kNone);

  // ...and the next event captures the new quantity.
  w.SetLatency("worker", 3.0);
  p = w.Pass(T(130));
  CHECK(Summaries(p) == std::vector<std::string>{"worker scale 3 -> 4"});
  CHECK(p.status.formations[0].event.captured_baseline == 3);
}

TEST_CASE("one step per alertInterval, the first one at once") {
  World w(Policy({Worker(2)}));
  w.AddFormation("worker", 2, T(0));
  w.SetLatency("worker", 3.0);
  CHECK(w.Pass(T(100)).actions.size() == 1);
  Plan p = w.Pass(T(105));
  CHECK(p.actions.empty());
  CHECK(p.formations[0].desired_quantity == 3);
  CHECK(HasNote(p.formations[0], "next step in 5s (alertInterval 10s)"));
  CHECK(Summaries(w.Pass(T(110))) == std::vector<std::string>{"worker scale 3 -> 4"});
}

TEST_CASE("hysteresis: an event ends only at or below restoredThreshold") {
  spec::FormationSpec f = Worker(2);
  f.autoscale->restored_threshold = 1s;
  World w(Policy({f}));
  w.AddFormation("worker", 2);

  w.SetLatency("worker", 3.0);
  CHECK(Summaries(w.Pass(T(100))) == std::vector<std::string>{"worker scale 2 -> 3"});

  w.SetLatency("worker", 1.5);  // between the thresholds: the event holds, nothing moves
  for (double t : {110.0, 120.0}) {
    Plan p = w.Pass(T(t));
    CHECK(p.actions.empty());
    CHECK(p.formations[0].in_event);
    CHECK(p.formations[0].desired_quantity == 3);
    CHECK(HasNote(p.formations[0], "p95 1.5s is above restoredThreshold 1s: holding 3"));
    CHECK(Cond(p, "worker", kLatencyEvent).status == ConditionStatus::kTrue);
    CheckSameDecisions(p, w.PlanWithoutStatus(T(t)));
  }

  w.SetLatency("worker", 1.0);  // at the restored threshold: ends
  Plan p = w.Pass(T(130));
  CHECK(Summaries(p) == std::vector<std::string>{"worker scale 3 -> 2"});
  CHECK(Cond(p, "worker", kLatencyEvent).reason == "Restored");

  w.SetLatency("worker", 1.5);  // in the band from below: no event starts
  p = w.Pass(T(140));
  CHECK(p.actions.empty());
  CHECK_FALSE(p.formations[0].in_event);
  CHECK(Cond(p, "worker", kLatencyEvent).status == ConditionStatus::kFalse);
}

TEST_CASE("the ceiling: never above baseline + maxExtraWorkers") {
  World w(Policy({Worker(2)}));
  w.AddFormation("worker", 2);
  w.SetLatency("worker", 5.0);
  w.Pass(T(100));
  w.Pass(T(110));
  CHECK(w.Formation("worker").quantity == 4);
  for (double t : {120.0, 130.0, 500.0}) {
    Plan p = w.Pass(T(t));
    CHECK(p.actions.empty());
    CHECK(HasNote(p.formations[0], "at the ceiling: 4 = baseline 2 + maxExtraWorkers 2"));
  }
  // Scaled by hand past the ceiling during the event: brought back to it.
  w.SetQuantity("worker", 7, T(505));
  Plan p = w.Pass(T(510));
  CHECK(Summaries(p) == std::vector<std::string>{"worker scale 7 -> 4"});
  CHECK(p.actions[0].cause == ActionCause::kCeiling);
  CHECK(p.actions[0].reason == "ceiling: at most 4 = baseline 2 + maxExtraWorkers 2");

  // Above the ceiling outside an event: straight back to the baseline.
  w.SetQuantity("worker", 7, T(515));
  w.SetLatency("worker", 0.5);
  p = w.Pass(T(520));
  CHECK(Summaries(p) == std::vector<std::string>{"worker scale 7 -> 2"});

  // maxExtraWorkers 0: an event is tracked but nothing is added.
  spec::FormationSpec none = Worker(2);
  none.autoscale->max_extra_workers = 0;
  World z(Policy({none}));
  z.AddFormation("worker", 2);
  z.SetLatency("worker", 5.0);
  p = z.Pass(T(100));
  CHECK(p.actions.empty());
  CHECK(p.formations[0].in_event);
}

TEST_CASE("a declared baseline of 0 is never scaled up") {
  World w(Policy({Worker(0)}));
  w.AddFormation("worker", 0);
  w.SetLatency("worker", 30.0);  // the queue grows: the workers are off on purpose
  Plan p = w.Pass(T(100));
  CHECK(p.actions.empty());
  CHECK(p.formations[0].in_event);
  CHECK(HasNote(p.formations[0], "baseline 0 declared: never scaled up"));
  CHECK(Cond(p, "worker", kLatencyEvent).status == ConditionStatus::kTrue);
  CHECK(w.Pass(T(200)).actions.empty());

  // Started by hand: the spec says 0, so it goes back to 0 (not while latency is unknown).
  w.Formation("worker").quantity = 1;
  w.SetLatency("worker", std::nullopt, "no router logs");
  CHECK(w.Pass(T(210)).actions.empty());
  w.SetLatency("worker", 30.0);
  p = w.Pass(T(220));
  CHECK(Summaries(p) == std::vector<std::string>{"worker scale 1 -> 0"});
  CHECK(p.actions[0].cause == ActionCause::kDrift);
}

TEST_CASE("a captured baseline of 0 means off on purpose: never scaled either way") {
  World w(Policy({Worker(std::nullopt)}));
  w.AddFormation("worker", 0);
  w.SetLatency("worker", 30.0);
  Plan p = w.Pass(T(100));
  CHECK(p.actions.empty());
  CHECK(p.status.formations[0].event.captured_baseline == 0);
  CHECK(HasNote(p.formations[0], "captured baseline 0: the formation is off on purpose"));
  w.SetQuantity("worker", 1, T(150));  // someone starts one by hand mid-event
  CHECK(w.Pass(T(200)).actions.empty());
  w.SetLatency("worker", 0.1);
  p = w.Pass(T(300));
  CHECK(p.actions.empty());  // nothing to restore to
  CHECK_FALSE(p.status.formations[0].event.captured_baseline.has_value());
}

TEST_CASE("drift to a declared quantity 0 says that it stops every dyno") {
  spec::FormationSpec off = Worker(0);
  off.autoscale.reset();
  World w(Policy({off}));
  w.AddFormation("worker", 3);
  Plan p = w.PlanAt(T(100));
  REQUIRE(Summaries(p) == std::vector<std::string>{"worker scale 3 -> 0"});
  CHECK(p.actions[0].cause == ActionCause::kDrift);
  CHECK(p.actions[0].reason ==
        "drift: the spec declares quantity 0, which stops every worker dyno (omit quantity to "
        "leave the running size alone)");
}

TEST_CASE("drift: a declared quantity is corrected both ways outside an event") {
  spec::FormationSpec plain = Worker(4);
  plain.autoscale.reset();
  spec::FormationSpec other = Worker(3);
  other.type = "other";
  World w(Policy({plain, other}));
  w.AddFormation("worker", 6);
  w.AddFormation("other", 1);
  w.SetLatency("other", 0.5);
  Plan p = w.PlanAt(T(100));
  CHECK(Summaries(p) == std::vector<std::string>{"worker scale 6 -> 4", "other scale 1 -> 3"});
  CHECK(p.actions[0].cause == ActionCause::kDrift);
  CHECK(p.actions[0].reason == "drift: the spec declares 4");
  CHECK(p.actions[1].cause == ActionCause::kDrift);
  CHECK(Cond(p, "worker", kReady).status == ConditionStatus::kFalse);
  CHECK(Cond(p, "worker", kReady).reason == "Scaling");
  CHECK(Cond(p, "worker", kReady).message == "observed 6, desired 4");
  // No autoscale: latency is not needed and its absence degrades nothing.
  CHECK(FindCondition(p.formations[0].conditions, kLatencyEvent) == nullptr);
  CHECK(Cond(p, "worker", kDegraded).status == ConditionStatus::kFalse);
}

TEST_CASE("unknown latency never starts, ends or steps an event, nor scales down") {
  World w(Policy({Worker(2)}));
  w.AddFormation("worker", 2);

  w.SetLatency("worker", std::nullopt, "no router log lines for worker in the last 5m");
  Plan p = w.Pass(T(100));
  CHECK(p.actions.empty());
  CHECK_FALSE(p.formations[0].in_event);
  CHECK(Cond(p, "worker", kLatencyEvent).status == ConditionStatus::kUnknown);
  const Condition& degraded = Cond(p, "worker", kDegraded);
  CHECK(degraded.status == ConditionStatus::kTrue);
  CHECK(degraded.reason == "LatencyUnknown");
  CHECK(degraded.message ==
        "latency unknown (no router log lines for worker in the last 5m): holding 2; no event "
        "starts, ends or steps, nothing scales down");

  w.SetLatency("worker", 3.0);
  w.Pass(T(110));  // step 1
  w.SetLatency("worker", std::nullopt, "prometheus: connection refused");
  for (double t : {130.0, 500.0}) {  // long past alertInterval: still no step, no restore
    p = w.Pass(T(t));
    CHECK(p.actions.empty());
    CHECK(p.formations[0].in_event);
    CHECK(Cond(p, "worker", kLatencyEvent).status == ConditionStatus::kTrue);
    CHECK(Cond(p, "worker", kLatencyEvent)
              .message.starts_with(
                  "latency unknown (prometheus: connection refused), the event continues"));
  }
  // Above the baseline outside an event (status lost): not scaled down while unknown...
  CHECK(w.PlanWithoutStatus(T(510)).actions.empty());
  // ...but below the declared baseline is corrected: scaling up to it is always safe.
  w.Formation("worker").quantity = 1;
  p = w.Pass(T(520));
  CHECK(Summaries(p) == std::vector<std::string>{"worker scale 1 -> 2"});
  CHECK(p.actions[0].cause == ActionCause::kDrift);
}

TEST_CASE("a lost status gives the same plan with a declared baseline") {
  spec::FormationSpec f = Worker(3);
  f.autoscale->restored_threshold = 1500ms;
  f.autoscale->max_extra_workers = 3;
  World w(Policy({f}));
  w.AddFormation("worker", 3);
  // A scripted event, with a by-hand scale and a pause in the steps; every pass is planned twice.
  const std::vector<std::pair<double, double>> script = {
      {100, 0.5}, {110, 2.5}, {115, 2.5}, {120, 2.5}, {130, 1.8}, {140, 2.5},
      {150, 2.5}, {160, 9.0}, {170, 1.7}, {180, 1.2}, {190, 1.2}, {200, 2.1}};
  for (const auto& [at, latency] : script) {
    const double t = at;  // CAPTURE cannot take a structured binding on Clang 14
    CAPTURE(t);
    w.SetLatency("worker", latency);
    if (t == 150) w.SetQuantity("worker", 8, T(145));  // above the ceiling by hand
    Plan without = w.PlanWithoutStatus(T(t));
    Plan with = w.Pass(T(t));
    CheckSameDecisions(with, without);
  }
  CHECK(w.Formation("worker").quantity == 4);
}

// ---------------------------------------------------------------------------------------------
// restoreDelay

// A worker formation declared at 2 that restores only once its last change is 5 minutes old.
spec::FormationSpec DelayedWorker(std::optional<int> quantity) {
  spec::FormationSpec f = Worker(quantity);
  f.autoscale->restore_delay = 5min;
  return f;
}

TEST_CASE("restoreDelay: latency back, the restore waits until the last step is restoreDelay old") {
  World w(Policy({DelayedWorker(2)}));
  w.AddFormation("worker", 2);
  w.SetLatency("worker", 3.0);
  w.Pass(T(100));  // 2 -> 3
  w.Pass(T(110));  // 3 -> 4, the last step

  w.SetLatency("worker", 1.0);
  Plan p = w.Pass(T(120));
  CHECK(p.actions.empty());
  CHECK(p.formations[0].in_event);
  CHECK(p.formations[0].desired_quantity == 4);
  CHECK(p.formations[0].event_depth == 2);
  CHECK(HasNote(p.formations[0],
                "p95 1s <= restoredThreshold 2s; restoring in 4m50s (restoreDelay 5m); last "
                "change 10s ago"));
  const Condition& pending = Cond(p, "worker", kLatencyEvent);
  CHECK(pending.status == ConditionStatus::kTrue);
  CHECK(pending.reason == "RestorePending");
  CHECK(pending.message == "p95 1s <= restoredThreshold 2s; restoring in 4m50s (restoreDelay 5m)");
  CHECK(pending.last_transition_time == T(100));  // the event has not ended
  CHECK(p.status.formations[0].event.started_at == T(100));
  CHECK(p.status.formations[0].event.last_step_at == T(110));
  CheckSameDecisions(p, w.PlanWithoutStatus(T(120)));

  // One second short of the delay: still held. At exactly restoreDelay: restored.
  p = w.Pass(T(409));
  CHECK(p.actions.empty());
  CHECK(Cond(p, "worker", kLatencyEvent).message ==
        "p95 1s <= restoredThreshold 2s; restoring in 1s (restoreDelay 5m)");
  CheckSameDecisions(p, w.PlanWithoutStatus(T(409)));
  Plan without = w.PlanWithoutStatus(T(410));
  p = w.Pass(T(410));
  REQUIRE(Summaries(p) == std::vector<std::string>{"worker scale 4 -> 2"});
  CHECK(p.actions[0].cause == ActionCause::kRestored);
  CHECK(p.actions[0].reason == "latency restored: p95 1s <= 2s after 5m10s");
  CHECK(Cond(p, "worker", kLatencyEvent).reason == "Restored");
  CHECK(p.status.formations[0].event == EventStatus{});
  CheckSameDecisions(p, without);
}

TEST_CASE("restoreDelay: a new step while the restore waits starts the wait again") {
  spec::FormationSpec f = DelayedWorker(2);
  f.autoscale->max_extra_workers = 3;
  World w(Policy({f}));
  w.AddFormation("worker", 2);
  // The script of the demo's flap: up, up, latency back (the extra dynos are why), load still
  // there: latency up again, one more step, then back for good.
  const std::vector<std::tuple<double, double, std::string>> script = {
      {100, 3.0, "worker scale 2 -> 3"},
      {110, 3.0, "worker scale 3 -> 4"},
      {120, 1.0, ""},
      {200, 3.0, "worker scale 4 -> 5"},
      {210, 1.0, ""},
      {499, 1.0, ""},
      {500, 1.0, "worker scale 5 -> 2"},
      {510, 1.0, ""},
  };
  for (const auto& [at, latency, action] : script) {
    const double t = at;  // CAPTURE cannot take a structured binding on Clang 14
    CAPTURE(t);
    w.SetLatency("worker", latency);
    Plan without = w.PlanWithoutStatus(T(t));
    Plan p = w.Pass(T(t));
    CHECK(Summaries(p) ==
          (action.empty() ? std::vector<std::string>{} : std::vector<std::string>{action}));
    CheckSameDecisions(p, without);
    if (t == 210) {
      CHECK(HasNote(p.formations[0], "restoring in 4m50s (restoreDelay 5m); last change 10s ago"));
    }
  }
}

TEST_CASE("restoreDelay 0s restores at once, as amigo does") {
  World w(Policy({Worker(2)}));  // restoreDelay 0s
  w.AddFormation("worker", 2);
  w.SetLatency("worker", 3.0);
  w.Pass(T(100));
  w.SetLatency("worker", 1.0);
  CHECK(Summaries(w.Pass(T(100.5))) == std::vector<std::string>{"worker scale 3 -> 2"});
}

TEST_CASE("restoreDelay counts from the formation's updated_at, so a lost status waits the same") {
  World w(Policy({DelayedWorker(2)}));
  w.AddFormation("worker", 2);
  // Two steps made by an earlier dynoherd whose status is gone; the last one at 110.
  w.SetQuantity("worker", 4, T(110));
  w.SetLatency("worker", 1.0);
  Plan p = w.PlanAt(T(300));
  CHECK(p.actions.empty());
  CHECK(p.formations[0].in_event);
  CHECK(p.formations[0].desired_quantity == 4);
  CHECK(Cond(p, "worker", kLatencyEvent).message ==
        "p95 1s <= restoredThreshold 2s; restoring in 1m50s (restoreDelay 5m)");
  p = w.PlanAt(T(410));
  REQUIRE(Summaries(p) == std::vector<std::string>{"worker scale 4 -> 2"});
  // No status tells of an event: not "latency restored", which would tell of one.
  CHECK(p.actions[0].cause == ActionCause::kUnrecordedScale);
  CHECK(p.actions[0].reason ==
        "back to the baseline 2: 4 is above it and no saved status says why (a latency event "
        "whose status was lost, or a scale by hand); p95 1s <= restoredThreshold 2s");
}

TEST_CASE(
    "restoreDelay: a scale by hand above the baseline waits the same, with or without status") {
  World w(Policy({DelayedWorker(2)}));
  w.AddFormation("worker", 2);
  w.SetLatency("worker", 1.0);
  w.Pass(T(100));                      // quiet: the status records no event
  w.SetQuantity("worker", 4, T(150));  // an operator adds two workers
  Plan without = w.PlanWithoutStatus(T(200));
  Plan p = w.Pass(T(200));
  CHECK(p.actions.empty());
  CHECK_FALSE(p.formations[0].in_event);  // the status knows it is not an event
  CHECK(p.formations[0].desired_quantity == 4);
  CHECK(HasNote(p.formations[0],
                "4 is above the baseline 2: back to it in 4m10s (restoreDelay 5m; the formation "
                "changed 50s ago)"));
  CHECK(without.actions.empty());
  CHECK(without.formations[0].desired_quantity == 4);

  // Past the ceiling by hand: down to the ceiling at once, to the baseline after the delay.
  w.SetQuantity("worker", 7, T(210));
  without = w.PlanWithoutStatus(T(220));
  p = w.Pass(T(220));
  REQUIRE(Summaries(p) == std::vector<std::string>{"worker scale 7 -> 4"});
  CHECK(p.actions[0].cause == ActionCause::kCeiling);
  REQUIRE(Summaries(without) == Summaries(p));
  CHECK(without.actions[0].cause == ActionCause::kCeiling);

  without = w.PlanWithoutStatus(T(519));  // the ceiling scale at 220 moved updated_at
  p = w.Pass(T(519));
  CHECK(p.actions.empty());
  CHECK(without.actions.empty());
  without = w.PlanWithoutStatus(T(520));
  p = w.Pass(T(520));
  REQUIRE(Summaries(p) == std::vector<std::string>{"worker scale 4 -> 2"});
  CHECK(p.actions[0].cause == ActionCause::kUnrecordedScale);
  CHECK(p.actions[0].reason ==
        "back to the baseline 2: 4 is above it and no latency event asked for it (scaled by hand "
        "or by another tool); p95 1s <= restoredThreshold 2s");
  CHECK(Summaries(without) == Summaries(p));
}

TEST_CASE("restoreDelay with a captured baseline keeps the recorded value while it waits") {
  World w(Policy({DelayedWorker(std::nullopt)}));
  w.AddFormation("worker", 3);
  w.SetLatency("worker", 3.0);
  w.Pass(T(100));  // 3 -> 4, baseline 3 captured
  w.SetLatency("worker", 1.0);
  Plan p = w.Pass(T(200));
  CHECK(p.actions.empty());
  CHECK(p.formations[0].in_event);
  CHECK(p.status.formations[0].event.captured_baseline == 3);
  // The process restarts mid-wait: the status survives as JSON.
  w.status = PolicyStatusFromJson(nlohmann::json::parse(ToJson(*w.status).dump())).value();
  p = w.Pass(T(400));
  CHECK(Summaries(p) == std::vector<std::string>{"worker scale 4 -> 3"});
  CHECK_FALSE(p.status.formations[0].event.captured_baseline.has_value());
}

TEST_CASE("restoreDelay: paused and maxDuration while the restore waits") {
  spec::FormationSpec f = DelayedWorker(2);
  f.autoscale->max_duration = 2min;
  World w(Policy({f}));
  w.AddFormation("worker", 2);
  w.SetLatency("worker", 3.0);
  w.Pass(T(100));
  w.SetLatency("worker", 1.0);
  Plan p = w.Pass(T(250));
  CHECK(p.formations[0].event_exceeded_max_duration);
  CHECK(Cond(p, "worker", kLatencyEvent).reason == "ExceededMaxDuration");
  CHECK(Cond(p, "worker", kLatencyEvent).message ==
        "the latency event has lasted 2m30s, over maxDuration 2m: p95 1s <= restoredThreshold "
        "2s; restoring in 2m30s (restoreDelay 5m)");
  w.policy.paused = true;
  p = w.Pass(T(400));
  CHECK(Summaries(p) == std::vector<std::string>{"worker scale 3 -> 2"});
  CHECK_FALSE(p.apply);
}

TEST_CASE("maxDuration: the event is flagged ExceededMaxDuration, also after a lost status") {
  spec::FormationSpec f = Worker(2);
  f.autoscale->max_duration = 30s;
  World w(Policy({f}));
  w.AddFormation("worker", 2);
  w.SetLatency("worker", 3.0);
  w.Pass(T(100));
  w.Pass(T(110));
  Plan p = w.Pass(T(130));
  CHECK_FALSE(p.formations[0].event_exceeded_max_duration);
  CHECK(Cond(p, "worker", kLatencyEvent).reason == "LatencyHigh");
  CHECK(Cond(p, "worker", kLatencyEvent).message == "p95 3s > latencyThreshold 2s for 30s");
  p = w.Pass(T(131));
  CHECK(p.formations[0].event_exceeded_max_duration);
  const Condition& c = Cond(p, "worker", kLatencyEvent);
  CHECK(c.status == ConditionStatus::kTrue);
  CHECK(c.reason == "ExceededMaxDuration");
  CHECK(c.message ==
        "the latency event has lasted 31s, over maxDuration 30s: p95 3s > latencyThreshold 2s");
  CHECK(c.last_transition_time == T(100));  // still True since the event began
  // Newly exceeded only in the first pass past it: the pass logs it once per event.
  CHECK(p.formations[0].event_newly_exceeded_max_duration);

  // Without the status the start is estimated from the last step (110) less one alertInterval:
  // 100, never earlier than the truth.
  Plan lost = w.PlanWithoutStatus(T(131));
  CHECK(lost.formations[0].event_start_estimated);
  CHECK(lost.formations[0].event_started_at == T(100));
  CHECK(lost.formations[0].event_exceeded_max_duration);
  CHECK(lost.formations[0].event_newly_exceeded_max_duration);  // nothing says it was logged

  Plan later = w.Pass(T(140));
  CHECK(later.formations[0].event_exceeded_max_duration);
  CHECK_FALSE(later.formations[0].event_newly_exceeded_max_duration);
}

TEST_CASE("paused: the same plan, marked not to be applied, and the status does not advance") {
  World w(Policy({Worker(2)}));
  w.AddFormation("worker", 2);
  w.SetLatency("worker", 3.0);
  Plan active = w.PlanAt(T(100));
  w.policy.paused = true;
  Plan paused = w.Pass(T(100));
  CHECK_FALSE(paused.apply);
  CHECK(active.apply);
  CheckSameDecisions(active, paused, /*same_depth=*/false);
  CHECK(Summaries(paused) == std::vector<std::string>{"worker scale 2 -> 3"});
  CHECK(Cond(paused, "worker", kPaused).status == ConditionStatus::kTrue);
  CHECK(Cond(paused, "worker", kPaused).reason == "PausedBySpec");
  CHECK(Cond(active, "worker", kPaused).status == ConditionStatus::kFalse);
  // The event is tracked, but no step is recorded as made.
  CHECK(paused.status.formations[0].event.started_at == T(100));
  CHECK(paused.status.formations[0].event.depth == 0);
  CHECK_FALSE(paused.status.formations[0].event.last_step_at.has_value());
  // The next pass proposes the same step again; unpausing makes it.
  CHECK(Summaries(w.Pass(T(110))) == std::vector<std::string>{"worker scale 2 -> 3"});
  w.policy.paused = false;
  Plan resumed = w.Pass(T(120));
  CHECK(resumed.apply);
  CHECK(Summaries(resumed) == std::vector<std::string>{"worker scale 2 -> 3"});
  CHECK(resumed.status.formations[0].event.started_at == T(100));
}

TEST_CASE("a paused restore in captured mode is kept until it is made") {
  World w(Policy({Worker(std::nullopt)}));
  w.AddFormation("worker", 2);
  w.SetLatency("worker", 3.0);
  w.Pass(T(100));  // 2 -> 3
  w.policy.paused = true;
  w.SetLatency("worker", 0.5);
  Plan p = w.Pass(T(200));
  CHECK(Summaries(p) == std::vector<std::string>{"worker scale 3 -> 2"});
  CHECK(p.status.formations[0].event.captured_baseline == 2);  // not forgotten: not restored yet
  // A new event before the restore reuses the recorded 2, not the raised 3.
  w.SetLatency("worker", 3.0);
  w.policy.paused = false;
  p = w.Pass(T(300));
  CHECK(p.formations[0].baseline == 2);
  CHECK(Summaries(p) == std::vector<std::string>{"worker scale 3 -> 4"});  // depth 1 -> 2
  w.SetLatency("worker", 0.5);
  p = w.Pass(T(400));
  CHECK(Summaries(p) == std::vector<std::string>{"worker scale 4 -> 2"});
  CHECK_FALSE(p.status.formations[0].event.captured_baseline.has_value());
}

TEST_CASE("conditions keep their transition time while their status does not change") {
  World w(Policy({Worker(2)}));
  w.AddFormation("worker", 2);
  w.SetLatency("worker", 0.5);
  Plan p = w.Pass(T(100));
  CHECK(Cond(p, "worker", kReady).status == ConditionStatus::kTrue);
  CHECK(Cond(p, "worker", kReady).last_transition_time == T(100));
  CHECK(Cond(p, "worker", kLatencyEvent).status == ConditionStatus::kFalse);
  CHECK(Cond(p, "worker", kLatencyEvent).reason == "LatencyNormal");

  w.SetLatency("worker", 3.0);
  p = w.Pass(T(110));
  CHECK(Cond(p, "worker", kLatencyEvent).status == ConditionStatus::kTrue);
  CHECK(Cond(p, "worker", kLatencyEvent).last_transition_time == T(110));
  // The plan scales 2 -> 3: Ready is judged on what was observed, so it turns False.
  CHECK(Cond(p, "worker", kReady).status == ConditionStatus::kFalse);
  CHECK(Cond(p, "worker", kReady).last_transition_time == T(110));
  CHECK(Cond(p, "worker", kPaused).last_transition_time == T(100));

  p = w.Pass(T(115));  // between steps: message changes, status does not
  CHECK(Cond(p, "worker", kLatencyEvent).last_transition_time == T(110));
  CHECK(Cond(p, "worker", kReady).status == ConditionStatus::kTrue);
  CHECK(Cond(p, "worker", kReady).last_transition_time == T(115));

  w.SetLatency("worker", 0.5);
  p = w.Pass(T(140));
  CHECK(Cond(p, "worker", kLatencyEvent).status == ConditionStatus::kFalse);
  CHECK(Cond(p, "worker", kLatencyEvent).reason == "Restored");
  CHECK(Cond(p, "worker", kLatencyEvent).message == "p95 500ms <= restoredThreshold 2s");
  CHECK(Cond(p, "worker", kLatencyEvent).last_transition_time == T(140));
  CHECK(Cond(p, "worker", kDegraded).last_transition_time == T(100));
  // The conditions in the plan are the ones saved.
  CHECK(p.status.formations[0].conditions == p.formations[0].conditions);
}

TEST_CASE("a failed step leaves the event where it was and is retried at the next pass") {
  World w(Policy({Worker(2)}));
  w.AddFormation("worker", 2);
  w.SetLatency("worker", 3.0);
  Plan p = w.PlanAt(T(100));
  REQUIRE(p.actions.size() == 1);
  RecordActionFailure(p, 0,
                      Status::Unavailable("HTTP 422: Cannot change formation for a preboot app"));
  CHECK(p.actions[0].failed);
  CHECK(p.status.formations[0].event.depth == 0);
  CHECK_FALSE(p.status.formations[0].event.last_step_at.has_value());
  CHECK(p.status.formations[0].event.started_at == T(100));
  const Condition& d = Cond(p, "worker", kDegraded);
  CHECK(d.status == ConditionStatus::kTrue);
  CHECK(d.reason == "ActionFailed");
  CHECK(d.message == "scale 2 -> 3 failed: HTTP 422: Cannot change formation for a preboot app");
  CHECK(d.last_transition_time == T(100));
  CHECK(p.status.formations[0].conditions == p.formations[0].conditions);
  w.Apply(p, T(100));
  w.status = p.status;

  // The world did not move: the first step is due again at once.
  Plan again = w.PlanAt(T(101));
  CHECK(Summaries(again) == std::vector<std::string>{"worker scale 2 -> 3"});
  CHECK(again.actions[0].reason == "latency event: p95 3s > 2s (step 1 of 2)");
  RecordActionFailure(again, 0, Status::Unavailable("HTTP 503"));
  CHECK(Cond(again, "worker", kDegraded).last_transition_time == T(100));  // still degraded
}

TEST_CASE("a failed restore in captured mode keeps the recorded baseline") {
  World w(Policy({Worker(std::nullopt)}));
  w.AddFormation("worker", 2);
  w.SetLatency("worker", 3.0);
  w.Pass(T(100));
  w.SetLatency("worker", 0.5);
  Plan p = w.PlanAt(T(200));
  REQUIRE(Summaries(p) == std::vector<std::string>{"worker scale 3 -> 2"});
  CHECK_FALSE(p.status.formations[0].event.captured_baseline.has_value());
  RecordActionFailure(p, 0, Status::Unavailable("HTTP 503"));
  CHECK(p.status.formations[0].event.captured_baseline == 2);
  w.status = p.status;
  p = w.PlanAt(T(260));
  CHECK(Summaries(p) == std::vector<std::string>{"worker scale 3 -> 2"});
  CHECK(p.actions[0].cause == ActionCause::kRestored);
}

TEST_CASE("a formation missing from the app degrades, acts on nothing, and keeps its status") {
  World w(Policy({Worker(std::nullopt)}));
  w.AddFormation("worker", 2);
  w.SetLatency("worker", 3.0);
  w.Pass(T(100));
  w.observation.formations.clear();
  Plan p = w.Pass(T(110));
  CHECK(p.actions.empty());
  CHECK_FALSE(p.formations[0].observed_quantity.has_value());
  CHECK(Cond(p, "worker", kReady).reason == "FormationMissing");
  CHECK(Cond(p, "worker", kDegraded).status == ConditionStatus::kTrue);
  CHECK(Cond(p, "worker", kDegraded).message ==
        "formation worker not found in app shop-prod (is it in the release's Procfile?)");
  CHECK(p.status.formations[0].event.captured_baseline == 2);
  CHECK(p.status.formations[0].event.started_at == T(100));
}

TEST_CASE("a status saved for another app is ignored") {
  World w(Policy({Worker(std::nullopt)}));
  w.AddFormation("worker", 3);
  w.SetLatency("worker", 3.0);
  PolicyStatus other;
  other.policy = "shop";
  other.app = "shop-staging";
  FormationStatus f;
  f.type = "worker";
  f.event.started_at = T(0);
  f.event.captured_baseline = 1;
  other.formations.push_back(f);
  w.status = other;
  Plan p = w.PlanAt(T(100));
  CHECK(p.notes == std::vector<std::string>{
                       "the saved status is for app shop-staging, not shop-prod: ignored"});
  CHECK(p.formations[0].baseline == 3);
  CHECK(Summaries(p) == std::vector<std::string>{"worker scale 3 -> 4"});
}

// ---------------------------------------------------------------------------------------------
// Laggards in the planner

TEST_CASE("judged dynos: up, past startupGrace and a full window since their last state change") {
  World w(Policy({Web(6)}));
  w.AddFormation("web", 6);
  w.AddWebDynos({140, 135, 612, 150, 138, 142}, T(1000));
  w.Dyno("web.2").state = "crashed";
  w.Dyno("web.4").updated_at = T(1000) - 90s;   // inside startupGrace 2m
  w.Dyno("web.5").updated_at = T(1000) - 200s;  // past the grace, inside the 5m window
  w.observation.latency["web"].per_dyno["web.9"].count = 500;  // gone from the dyno list
  w.SetEmptyStatus();  // else web.4's recent start would hold restarts (cooldown without a status)
  Plan p = w.PlanAt(T(1000));
  const auto& v = p.formations[0].verdicts;
  REQUIRE(v.size() == 7);
  CHECK(v[1].reason == "state crashed");
  CHECK(v[3].reason == "up for 1m30s, startupGrace is 2m");
  CHECK(v[4].reason ==
        "up for 3m20s: the 5m window still holds requests from before its last restart");
  CHECK(v[6].dyno == "web.9");
  CHECK_FALSE(v[6].judged);
  CHECK(v[6].reason == "not in the app's dyno list (gone or renamed since the window began)");
  CHECK(v[0].judged);
  CHECK(v[2].judged);
  CHECK(v[5].judged);
  CHECK(p.formations[0].laggards_decided);
  // One crashed dyno of 6: maxUnavailable 25% = 2 still allows one restart.
  REQUIRE(Summaries(p) == std::vector<std::string>{"web restart web.3"});
  CHECK(p.actions[0].cause == ActionCause::kLaggard);
  // web.1 and web.6 agree within 2 ms: the sd floor is the yardstick, so the reason gives the
  // ratio; the raw score (66.8 floored sd) stays in the verdict, for the JSON plan.
  CHECK(p.actions[0].reason ==
        "laggard: p50 612ms, 4.3x the other 2 dynos' mean 141ms (they agree within 2ms)");
  const LaggardVerdict& verdict = p.formations[0].verdicts[2];
  CHECK(verdict.dyno == "web.3");
  REQUIRE(verdict.score.has_value());
  CHECK(*verdict.score == doctest::Approx(66.8).epsilon(1e-3));
  CHECK(p.status.formations[0].restarts ==
        std::vector<RestartRecord>{
            {"web.3", T(1000), spec::LaggardAction::kRestart, p.actions[0].reason}});
}

TEST_CASE("laggards: worst first, maxPerCycle, and the rest noted") {
  spec::FormationSpec f = Web(8);
  f.laggards->method = spec::LaggardMethod::kMad;
  f.laggards->max_per_cycle = 2;
  f.laggards->max_unavailable = {false, 3};
  World w(Policy({f}));
  w.AddFormation("web", 8);
  w.AddWebDynos({100, 500, 102, 98, 900, 101, 99, 700}, T(1000));
  Plan p = w.PlanAt(T(1000));
  CHECK(Summaries(p) == std::vector<std::string>{"web restart web.5", "web restart web.8"});
  CHECK(HasNote(p.formations[0], "laggards web.2 wait: maxPerCycle 2, maxUnavailable 3"));
}

TEST_CASE("laggards: random selection is seeded, reproducible and picks only slow dynos") {
  spec::FormationSpec f = Web(10);
  f.laggards->method = spec::LaggardMethod::kMad;
  f.laggards->select = spec::LaggardSelect::kRandom;
  std::set<std::string> picked;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    World w(Policy({f}));
    w.AddFormation("web", 10);
    w.AddWebDynos({100, 500, 102, 98, 900, 101, 99, 700, 100, 100}, T(1000));
    w.rng.seed(seed);
    Plan a = w.PlanAt(T(1000));
    w.rng.seed(seed);
    Plan b = w.PlanAt(T(1000));
    REQUIRE(a.actions.size() == 1);
    CHECK(a.actions[0].dyno == b.actions[0].dyno);
    picked.insert(a.actions[0].dyno);
  }
  CHECK(picked == std::set<std::string>{"web.2", "web.5", "web.8"});
}

TEST_CASE("laggards: cooldown since the last restart, from the status or, without it, the dynos") {
  World w(Policy({Web(6)}));
  w.AddFormation("web", 6);
  w.AddWebDynos({140, 135, 612, 150, 138, 142}, T(1000));
  CHECK(Summaries(w.Pass(T(1000))) == std::vector<std::string>{"web restart web.3"});
  // web.3 is back and fast; now web.6 lags.
  w.Dyno("web.3").state = "up";
  w.observation.latency["web"].per_dyno["web.3"].p50 = 0.139;
  w.observation.latency["web"].per_dyno["web.6"].p50 = 0.700;
  Plan p = w.Pass(T(1000) + 4min);
  CHECK(p.actions.empty());
  CHECK(HasNote(p.formations[0],
                "laggards web.6 not restarted: cooldown: last restart 4m ago, cooldown is 10m"));
  // Without the status, web.3's state change 4 minutes ago stands in for the restart.
  Plan lost = w.PlanWithoutStatus(T(1000) + 4min);
  CHECK(lost.actions.empty());
  CHECK(HasNote(lost.formations[0],
                "cooldown: no status; last dyno state change 4m ago, cooldown is 10m"));
  // Past the cooldown (web.3 is judged again too, after its window).
  p = w.Pass(T(1000) + 10min);
  CHECK(Summaries(p) == std::vector<std::string>{"web restart web.6"});
}

TEST_CASE("laggards: a failed restart is not recorded and does not start the cooldown") {
  World w(Policy({Web(6)}));
  w.AddFormation("web", 6);
  w.AddWebDynos({140, 135, 612, 150, 138, 142}, T(1000));
  Plan p = w.PlanAt(T(1000));
  REQUIRE(p.actions.size() == 1);
  RecordActionFailure(p, 0, Status::NotFound("HTTP 404: dyno web.3 not found"));
  CHECK(p.status.formations[0].restarts.empty());
  CHECK(Cond(p, "web", kDegraded).message ==
        "restart web.3 failed: HTTP 404: dyno web.3 not found");
  w.status = p.status;
  CHECK(Summaries(w.PlanAt(T(1060))) == std::vector<std::string>{"web restart web.3"});
}

TEST_CASE("laggards: a restart of unknown outcome is kept: the cooldown runs, no second restart") {
  World w(Policy({Web(6)}));
  w.AddFormation("web", 6);
  w.AddWebDynos({140, 135, 612, 150, 138, 142}, T(1000));
  Plan p = w.PlanAt(T(1000));
  REQUIRE(p.actions.size() == 1);
  RecordActionUnknown(p, 0, Status::OutcomeUnknown("DELETE: no complete response within 30s"));
  CHECK(p.actions[0].outcome_unknown);
  CHECK_FALSE(p.actions[0].failed);
  CHECK(p.status.formations[0].restarts.size() == 1);
  const Condition& d = Cond(p, "web", kDegraded);
  CHECK(d.status == ConditionStatus::kTrue);
  CHECK(d.reason == "OutcomeUnknown");
  CHECK(d.message ==
        "restart web.3: outcome unknown (DELETE: no complete response within 30s); the next pass "
        "observes whether it took effect");
  w.status = p.status;
  CHECK(w.PlanAt(T(1060)).actions.empty());  // still slow, or not: within the cooldown
}

TEST_CASE("a step of unknown outcome keeps the captured baseline and the event's depth") {
  World w(Policy({Worker(std::nullopt)}));
  w.AddFormation("worker", 2);
  w.SetLatency("worker", 3.0);
  Plan p = w.PlanAt(T(100));
  REQUIRE(Summaries(p) == std::vector<std::string>{"worker scale 2 -> 3"});
  RecordActionUnknown(p, 0, Status::OutcomeUnknown("PATCH: connection lost"));
  CHECK(p.status.formations[0].event.captured_baseline == 2);
  CHECK(p.status.formations[0].event.depth == 1);
  CHECK(Cond(p, "worker", kDegraded).reason == "OutcomeUnknown");
  w.status = p.status;
  // It did happen: the formation is at 3; latency back to normal restores 2.
  w.SetQuantity("worker", 3, T(100));
  w.SetLatency("worker", 0.5);
  CHECK(Summaries(w.PlanAt(T(200))) == std::vector<std::string>{"worker scale 3 -> 2"});
}

TEST_CASE("laggards: maxUnavailable counts dynos not up and dynos missing from the list") {
  spec::FormationSpec f = Web(12);
  f.laggards->method = spec::LaggardMethod::kMad;  // three laggards of twelve
  f.laggards->max_per_cycle = 3;
  World w(Policy({f}));
  w.AddFormation("web", 12);
  w.AddWebDynos({140, 135, 612, 150, 138, 142, 700, 690, 141, 139, 137, 143}, T(1000));
  w.Dyno("web.1").state = "starting";
  w.Dyno("web.2").state = "crashed";
  w.Dyno("web.4").state = "down";
  w.SetEmptyStatus();
  Plan p = w.PlanAt(T(1000));
  CHECK(p.actions.empty());
  CHECK(HasNote(p.formations[0],
                "laggards web.7, web.8, web.3 not restarted: 3 of 12 dynos "
                "unavailable, already the most maxUnavailable 25% allows (3)"));

  // One down: 25% of 12 = 3 leaves room for two restarts though three are slow.
  w.Dyno("web.2").state = "up";
  w.Dyno("web.4").state = "up";
  p = w.PlanAt(T(1000));
  CHECK(Summaries(p) == std::vector<std::string>{"web restart web.7", "web restart web.8"});
  CHECK(HasNote(p.formations[0], "laggards web.3 wait: maxPerCycle 3, maxUnavailable 25%"));

  // The formation has 15 but the app lists 12 dynos: the 3 missing count as unavailable, and
  // with web.1 starting that is 4, all that 25% of 15 (rounded up) allows.
  w.Formation("web").quantity = 15;
  w.policy.formations[0].quantity = 15;
  p = w.PlanAt(T(1000));
  CHECK(p.actions.empty());
  CHECK(HasNote(p.formations[0],
                "4 of 15 dynos unavailable, already the most maxUnavailable 25% allows (4)"));
}

TEST_CASE(
    "laggards wait during a latency event unless duringEvent, and while the formation scales") {
  spec::FormationSpec f = Web(6);
  spec::AutoscaleSpec a;
  a.latency_threshold = 1s;
  a.restored_threshold = 1s;
  a.alert_interval = 10min;
  f.autoscale = a;
  World w(Policy({f}));
  w.AddFormation("web", 6);
  w.AddWebDynos({140, 135, 612, 150, 138, 142}, T(1000));
  // web.3 alone (p95 1.84s) is slow enough to push the formation's p95 over 1s: one dyno of
  // seven above latencyThreshold is a laggard, not a formation-wide slowdown, so it is judged.
  w.SetLatency("web", 3.0);
  w.Formation("web").quantity = 7;  // in an event, one step made a full window ago
  w.Formation("web").updated_at = T(1000) - 5min;
  w.observation.dynos.push_back({"web.7", "web", "up", T(1000) - 5min});
  w.SetEmptyStatus();  // else web.7's start would stand in for a restart (cooldown)
  Plan p = w.PlanAt(T(1000));
  CHECK(p.actions.empty());
  CHECK(p.formations[0].laggards_decided);
  CHECK(HasNote(p.formations[0], "a latency event is in progress (duringEvent is false)"));

  w.policy.formations[0].laggards->during_event = true;
  p = w.PlanAt(T(1000));
  CHECK(Summaries(p) == std::vector<std::string>{"web restart web.3"});

  // When the formation is being scaled in the same pass, restarts wait for the next one.
  p = w.PlanAt(T(1000) + 5min);
  CHECK(Summaries(p) == std::vector<std::string>{"web scale 7 -> 8"});
  CHECK(HasNote(p.formations[0], "the formation is being scaled; laggards wait for the next pass"));
}

TEST_CASE("laggards: no verdict until a full window has passed since the formation changed") {
  World w(Policy({Web(6)}));
  w.AddFormation("web", 6);
  w.AddWebDynos({140, 135, 612, 150, 138, 142}, T(1000));
  w.SetEmptyStatus();
  // Restored from 9 to 6 a minute ago: every window mixes the load of 9 dynos with that of 6.
  w.Formation("web").updated_at = T(1000) - 1min;
  Plan p = w.PlanAt(T(1000));
  CHECK(p.actions.empty());
  CHECK_FALSE(p.formations[0].laggards_decided);
  const std::string reason =
      "the formation changed 1m ago; laggards are judged once the 5m window holds only the new "
      "size";
  CHECK(HasNote(p.formations[0], "laggards: no verdict: " + reason));
  for (const LaggardVerdict& v : p.formations[0].verdicts) {
    CHECK_FALSE(v.slow);
    CHECK_FALSE(v.score.has_value());
    CHECK(v.reason == "no verdict: " + reason);
  }
  CheckSameDecisions(p, w.PlanWithoutStatus(T(1000)));
  // One second short of the window: still none. A full window after the change: judged.
  p = w.PlanAt(T(1000) + 4min - 1s);
  CHECK(p.actions.empty());
  CHECK_FALSE(p.formations[0].laggards_decided);
  p = w.PlanAt(T(1000) + 4min);
  CHECK(p.formations[0].laggards_decided);
  CHECK(Summaries(p) == std::vector<std::string>{"web restart web.3"});
  // The status plays no part: without it the same (its cooldown stand-in is an hour old).
  CheckSameDecisions(p, w.PlanWithoutStatus(T(1000) + 4min));
}

TEST_CASE("laggards: a formation-wide slowdown is not a laggard") {
  spec::FormationSpec f = Web(6);
  f.latency->statistic = spec::Statistic::kP50;
  f.laggards->during_event = true;  // even then: nothing here is a laggard
  spec::AutoscaleSpec a;
  a.latency_threshold = 500ms;
  a.restored_threshold = 300ms;
  a.max_extra_workers = 0;  // no step, so the scale does not hold the restarts instead
  f.autoscale = a;
  World w(Policy({f}));
  w.AddFormation("web", 6);
  // Overloaded: every dyno queues, one (by chance) more than the others. Leave-one-out alone
  // would call it a laggard: 2.59s is 1.9x the others' mean and far above their spread.
  w.AddWebDynos({1300, 1250, 1450, 1400, 1380, 2590}, T(1000));
  w.SetLatency("web", 1.74);
  w.SetEmptyStatus();
  Plan p = w.PlanAt(T(1000));
  CHECK(p.actions.empty());
  CHECK(p.formations[0].in_event);
  CHECK_FALSE(p.formations[0].laggards_decided);
  CHECK(HasNote(p.formations[0],
                "laggards: no verdict: 6 of 6 dynos have p50 above latencyThreshold 500ms: the "
                "whole formation is slow, which is not a laggard"));
  CHECK(p.formations[0].verdicts[5].reason.starts_with("no verdict: 6 of 6 dynos"));

  // The same, in the hysteresis band with no event recorded: the rule is about the dynos, not
  // about whether an event is on.
  w.SetLatency("web", 0.45);
  p = w.PlanAt(T(1000));
  CHECK_FALSE(p.formations[0].in_event);
  CHECK(p.actions.empty());
  CHECK_FALSE(p.formations[0].laggards_decided);

  // Half the dynos above the threshold is not "the whole formation": judged (and web.6 found).
  auto& per_dyno = w.observation.latency["web"].per_dyno;
  for (const char* name : {"web.1", "web.2", "web.3"})
    per_dyno[name].p50 = per_dyno[name].mean = 0.140;
  per_dyno["web.6"].p50 = per_dyno["web.6"].mean = 30.0;
  w.SetLatency("web", 1.2);
  p = w.PlanAt(T(1000));
  CHECK(p.formations[0].laggards_decided);
  CHECK(Summaries(p) == std::vector<std::string>{"web restart web.6"});

  // A dyno that is not up, or has fewer than minSamples requests, does not count either way.
  per_dyno["web.1"].count = 10;
  per_dyno["web.2"].count = 10;
  p = w.PlanAt(T(1000));
  CHECK(HasNote(p.formations[0], "laggards: no verdict: 3 of 4 dynos have p50 above"));
  w.Dyno("web.4").state = "crashed";
  p = w.PlanAt(T(1000));
  CHECK(HasNote(p.formations[0], "laggards: no verdict: 2 of 3 dynos have p50 above"));
  per_dyno["web.1"].count = per_dyno["web.2"].count = 200;
  w.Dyno("web.4").state = "up";

  // Without autoscale there is no latencyThreshold, and the rule does not apply.
  w.policy.formations[0].autoscale.reset();
  for (const char* name : {"web.1", "web.2", "web.3"})
    per_dyno[name].p50 = per_dyno[name].mean = 1.3;
  p = w.PlanAt(T(1000));
  CHECK(p.formations[0].laggards_decided);
}

TEST_CASE("laggards: no verdict while the windows still hold a formation-wide slowdown") {
  spec::FormationSpec f = Web(6);
  f.latency->window = 2min;
  f.latency->statistic = spec::Statistic::kP50;
  f.laggards->during_event = true;
  spec::AutoscaleSpec a;
  a.latency_threshold = 500ms;
  a.restored_threshold = 300ms;
  a.max_extra_workers = 0;
  f.autoscale = a;
  World w(Policy({f}));
  w.AddFormation("web", 6);
  w.AddWebDynos({1300, 1250, 1450, 1400, 1380, 2590}, T(1000));
  w.SetLatency("web", 1.74);
  w.SetEmptyStatus();
  Plan p = w.Pass(T(1000));
  CHECK(p.status.formations[0].overloaded_at == T(1000));

  // A minute later the overload is over, but web.6, which queued most, has not drained yet: its
  // window is half overload. The others are back; leave-one-out alone would restart web.6.
  auto& per_dyno = w.observation.latency["web"].per_dyno;
  for (const char* name : {"web.1", "web.2", "web.3", "web.4", "web.5"})
    per_dyno[name].p50 = per_dyno[name].mean = 0.180;
  per_dyno["web.6"].p50 = per_dyno["web.6"].mean = 0.950;
  w.SetLatency("web", 0.2);
  Plan without = w.PlanWithoutStatus(T(1060));
  p = w.Pass(T(1060));
  CHECK(p.actions.empty());
  CHECK(HasNote(p.formations[0],
                "laggards: no verdict: the whole formation was slow 1m ago (most dynos above "
                "latencyThreshold 500ms); laggards are judged once the 2m window no longer holds "
                "it"));
  CHECK(p.status.formations[0].overloaded_at == T(1000));  // kept, not moved
  // Only the status remembers the slowdown: without it web.6 is judged (docs/decisions.md).
  CHECK(Summaries(without) == std::vector<std::string>{"web restart web.6"});

  // One second short of a window after the slowdown: still none; a full window: judged.
  CHECK(w.PlanAt(T(1119)).actions.empty());
  CHECK(Summaries(w.PlanAt(T(1120))) == std::vector<std::string>{"web restart web.6"});
}

TEST_CASE("laggards: action stop plans a stop") {
  spec::FormationSpec f = Web(6);
  f.laggards->action = spec::LaggardAction::kStop;
  World w(Policy({f}));
  w.AddFormation("web", 6);
  w.AddWebDynos({140, 135, 612, 150, 138, 142}, T(1000));
  Plan p = w.Pass(T(1000));
  CHECK(Summaries(p) == std::vector<std::string>{"web stop web.3"});
  CHECK(p.actions[0].kind == ActionKind::kStop);
  CHECK(p.status.formations[0].restarts[0].action == spec::LaggardAction::kStop);
}

TEST_CASE("laggards: too few judged dynos is no verdict, and no latency at all degrades") {
  World w(Policy({Web(3)}));
  w.AddFormation("web", 3);
  w.AddWebDynos({140, 612, 150}, T(1000));
  w.Dyno("web.1").state = "starting";
  Plan p = w.PlanAt(T(1000));
  CHECK_FALSE(p.formations[0].laggards_decided);
  CHECK(HasNote(p.formations[0], "laggards: no verdict: 2 dynos judged, minDynos is 3"));
  CHECK(Cond(p, "web", kDegraded).status == ConditionStatus::kFalse);
  w.observation.latency.clear();
  p = w.PlanAt(T(1000));
  CHECK(Cond(p, "web", kDegraded).status == ConditionStatus::kTrue);
  CHECK(Cond(p, "web", kDegraded).message == "latency not observed: no laggard verdict");
}

TEST_CASE("the restart history keeps the newest entries") {
  World w(Policy({Web(6)}));
  w.AddFormation("web", 6);
  w.AddWebDynos({140, 135, 612, 150, 138, 142}, T(0));
  PolicyStatus s;
  s.policy = "shop";
  s.app = "shop-prod";
  FormationStatus f;
  f.type = "web";
  for (int i = 0; i < static_cast<int>(kMaxRestartHistory); ++i) {
    f.restarts.push_back(
        {"web." + std::to_string(i % 6 + 1), T(i), spec::LaggardAction::kRestart, "old"});
  }
  s.formations.push_back(f);
  w.status = s;
  Plan p = w.Pass(T(100000));
  REQUIRE(p.actions.size() == 1);
  const auto& restarts = p.status.formations[0].restarts;
  CHECK(restarts.size() == kMaxRestartHistory);
  CHECK(restarts.front().at == T(1));
  CHECK(restarts.back().at == T(100000));
}

TEST_CASE("the worked latency event of docs/decisions.md") {
  spec::FormationSpec f = Worker(4);
  f.type = "web";
  f.autoscale->restored_threshold = 1500ms;
  f.autoscale->alert_interval = 2min;
  f.autoscale->max_duration = 20min;
  f.autoscale->restore_delay = 5min;
  World w(Policy({f}));
  w.AddFormation("web", 4, T(0));
  struct Step {
    double minute;
    double p95;
    std::string action;  // "" for none
    std::string reason_or_note;
  };
  const std::vector<Step> timeline = {
      {0, 1.2, "", ""},
      {1, 2.41, "scale 4 -> 5", "latency event: p95 2.41s > 2s (step 1 of 2)"},
      {2, 2.6, "", "next step in 1m (alertInterval 2m)"},
      {3, 2.5, "scale 5 -> 6", "latency event: p95 2.5s > 2s (step 2 of 2)"},
      {5, 2.2, "", "at the ceiling: 6 = baseline 4 + maxExtraWorkers 2"},
      {6, 1.4, "", "p95 1.4s <= restoredThreshold 1.5s; restoring in 2m (restoreDelay 5m)"},
      {7, 1.8, "", "p95 1.8s is above restoredThreshold 1.5s: holding 6 until it is at or below"},
      {9, 1.4, "scale 6 -> 4", "latency restored: p95 1.4s <= 1.5s after 8m"},
  };
  for (const Step& s : timeline) {
    CAPTURE(s.minute);
    w.SetLatency("web", s.p95);
    Plan p = w.Pass(T(s.minute * 60));
    if (s.action.empty()) {
      CHECK(p.actions.empty());
      if (!s.reason_or_note.empty()) CHECK(HasNote(p.formations[0], s.reason_or_note));
    } else {
      REQUIRE(p.actions.size() == 1);
      CHECK(p.actions[0].Summary() == s.action);
      CHECK(p.actions[0].reason == s.reason_or_note);
    }
  }
}
