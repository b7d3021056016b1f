// Mode capacity and the bounds (min, max, schedules): the planner's side of docs/decisions.md,
// "Capacity mode" and "Schedules".
#include <doctest/doctest.h>

#include "reconciler/reconciler.h"
#include "spec/schedule.h"

using namespace dynoherd;
using namespace dynoherd::model;
using namespace dynoherd::reconciler;
using namespace std::chrono_literals;

namespace {

// Seconds after Friday 2027-01-15 08:00:00 UTC.
TimePoint At(double seconds) {
  return TimePoint(std::chrono::seconds(1'800'000'000LL) +
                   std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
}

// web, baseline 4, up to 10: latency events above 2s, back at 1s, stable 5m before going down.
spec::FormationSpec CapacityWeb() {
  spec::FormationSpec f;
  f.type = "web";
  f.quantity = 4;
  f.latency = spec::LatencySpec{};
  f.latency->window = 5min;
  spec::AutoscaleSpec a;
  a.mode = spec::AutoscaleMode::kCapacity;
  a.concurrency = 2;
  a.target_utilization = 0.75;
  a.latency_threshold = 2s;
  a.restored_threshold = 1s;
  a.alert_interval = 1min;
  a.max_extra_workers = 6;
  a.restore_delay = 5min;
  f.autoscale = a;
  return f;
}

// A Sidekiq worker, baseline 2: events above 10s of queue latency, back at 5s.
spec::FormationSpec SidekiqWorker() {
  spec::FormationSpec f = CapacityWeb();
  f.type = "worker";
  f.quantity = 2;
  f.latency->source = spec::LatencySourceKind::kSidekiq;
  f.autoscale->latency_threshold = 10s;
  f.autoscale->restored_threshold = 5s;
  return f;
}

// One formation driven pass by pass: what is observed, applied as Heroku would, and saved.
struct Driven {
  spec::Policy policy;
  Observation observation;
  std::optional<PolicyStatus> status;
  std::mt19937_64 rng{7};

  explicit Driven(spec::FormationSpec spec, int quantity) {
    policy.name = "shop";
    policy.app = "shop";
    policy.formations = {std::move(spec)};
    observation.formations.push_back(
        {policy.formations[0].type, quantity, "standard-1x", At(-3600)});
  }
  int quantity() const { return observation.formations[0].quantity; }
  // The formation's latency and, when `per_second` is given, its load.
  void Observe(double latency_seconds, std::optional<double> per_second = std::nullopt,
               double service_seconds = 0.4) {
    FormationLatency& l = observation.latency[policy.formations[0].type];
    l.value = latency_seconds;
    l.sample_count = 1000;
    l.load.reset();
    if (per_second) l.load = FormationLoad{*per_second, service_seconds, std::nullopt};
  }
  Plan Pass(TimePoint now) {
    Plan plan = Reconcile(policy, observation, status ? &*status : nullptr, now, rng);
    for (const Action& a : plan.actions) {
      if (a.kind != ActionKind::kScale) continue;
      observation.formations[0].quantity = a.to_quantity;
      observation.formations[0].updated_at = now;
    }
    status = plan.status;
    return plan;
  }
};

std::string OnlyAction(const Plan& plan) {
  REQUIRE(plan.actions.size() == 1);
  return plan.actions[0].Summary();
}

bool Noted(const Plan& plan, std::string_view text) {
  for (const std::string& n : plan.formations[0].notes) {
    if (n.find(text) != std::string::npos) return true;
  }
  return false;
}

spec::ScheduleSpec Weekdays(std::string hours, std::optional<int> min, std::optional<int> max) {
  spec::ScheduleSpec s;
  s.name = "morning";
  s.days = "mon-fri";
  s.hours = std::move(hours);
  spec::WeeklyWindow window;
  window.days = *spec::ParseDays(s.days);
  REQUIRE(spec::ParseHours(s.hours, window).ok());
  s.weekly = window;
  s.min = min;
  s.max = max;
  return s;
}

}  // namespace

TEST_CASE("capacity: a surge is absorbed in one step to what the load needs") {
  Driven web(CapacityWeb(), 4);
  web.Observe(0.3, 10);  // 10/s x 400ms = 4 busy slots: 4 dynos of 2 at 75% carry 6
  CHECK(web.Pass(At(0)).actions.empty());

  web.Observe(3.5, 30);  // x3: 12 busy slots need ceil(12 / 1.5) = 8 dynos
  Plan plan = web.Pass(At(60));
  CHECK(OnlyAction(plan) == "scale 4 -> 8");
  CHECK(plan.actions[0].cause == ActionCause::kLatencyEvent);
  CHECK(plan.actions[0].reason ==
        "latency event: p95 3.5s > 2s; the load needs 8 (30/s x 400ms = 12 busy of 2 x 75% per "
        "dyno)");
  CHECK(plan.formations[0].needed_quantity == 8);
  CHECK(plan.formations[0].event_depth == 4);
}

TEST_CASE("capacity: the step stops at baseline + maxExtraWorkers") {
  Driven web(CapacityWeb(), 4);
  web.Observe(9, 60);  // 24 busy slots would need 16
  Plan plan = web.Pass(At(0));
  CHECK(OnlyAction(plan) == "scale 4 -> 10");
  CHECK(plan.actions[0].reason.ends_with(", capped at 10 = baseline 4 + maxExtraWorkers 6"));
}

TEST_CASE("capacity: never restored while the load needs the extra dynos, then down in steps") {
  Driven web(CapacityWeb(), 4);
  web.Observe(3.5, 30);
  CHECK(OnlyAction(web.Pass(At(0))) == "scale 4 -> 8");

  // Latency is back long past restoreDelay, and the surge goes on: held, the event continues.
  web.Observe(0.3, 30);
  for (double t = 60; t <= 1800; t += 60) {
    Plan plan = web.Pass(At(t));
    INFO(t);
    CHECK(plan.actions.empty());
    CHECK(plan.formations[0].in_event);
  }
  Plan held = web.Pass(At(1860));
  CHECK(Noted(held, "the load needs 8 (30/s x 400ms = 12 busy of 2 x 75% per dyno): holding 8"));
  const Condition* event = FindCondition(held.formations[0].conditions, kLatencyEvent);
  REQUIRE(event);
  CHECK(event->reason == "LoadHigh");

  // The surge eases to 7.5 busy slots: down to the 5 that carry it.
  web.Observe(0.3, 18.75);
  Plan eased = web.Pass(At(1920));
  CHECK(OnlyAction(eased) == "scale 8 -> 5");
  CHECK(eased.actions[0].cause == ActionCause::kCapacity);
  CHECK(eased.formations[0].in_event);

  // Over: back to the baseline only after restoreDelay since that change.
  web.Observe(0.2, 10);
  CHECK(web.Pass(At(1980)).actions.empty());
  Plan restored = web.Pass(At(1920 + 300));
  CHECK(OnlyAction(restored) == "scale 5 -> 4");
  CHECK(restored.actions[0].cause == ActionCause::kRestored);
  CHECK_FALSE(restored.formations[0].in_event);
}

TEST_CASE("capacity: a scale-down waits restoreDelay after the last change") {
  Driven web(CapacityWeb(), 4);
  web.Observe(3.5, 30);
  CHECK(OnlyAction(web.Pass(At(0))) == "scale 4 -> 8");
  web.Observe(0.3, 12);  // 4.8 busy: 4 dynos would do, but the formation changed 1m ago
  Plan plan = web.Pass(At(60));
  CHECK(plan.actions.empty());
  CHECK(Noted(plan, "restoring in 4m"));
  CHECK(OnlyAction(web.Pass(At(300))) == "scale 8 -> 4");
}

TEST_CASE("capacity: unknown load falls back to one dyno per alertInterval") {
  Driven web(CapacityWeb(), 4);
  web.Observe(3.5);
  Plan plan = web.Pass(At(0));
  CHECK(OnlyAction(plan) == "scale 4 -> 5");
  CHECK(plan.actions[0].reason.ends_with("; load unknown, one dyno at a time"));
  CHECK_FALSE(plan.formations[0].needed_quantity.has_value());
  CHECK(web.Pass(At(30)).actions.empty());
  CHECK(OnlyAction(web.Pass(At(60))) == "scale 5 -> 6");
}

TEST_CASE(
    "capacity: latency still high once the formation carries the load: one more after a "
    "window") {
  Driven web(CapacityWeb(), 4);
  web.Observe(3.5, 30);
  CHECK(OnlyAction(web.Pass(At(0))) == "scale 4 -> 8");
  web.Observe(3.0, 30);  // the window still holds the slow minutes before the step
  Plan waiting = web.Pass(At(120));
  CHECK(waiting.actions.empty());
  CHECK(Noted(waiting, "no more than the 8 there are: waiting 3m for latency to follow"));
  Plan more = web.Pass(At(300));
  CHECK(OnlyAction(more) == "scale 8 -> 9");
  CHECK(more.actions[0].reason.ends_with("but latency says more: one more dyno"));
}

TEST_CASE("capacity: a busy but fast formation that carries its load is not scaled") {
  Driven web(CapacityWeb(), 4);
  web.Observe(0.5, 18);  // 7.2 busy of the 8 slots: the estimate says 5, latency says the 4 cope
  for (double t = 0; t <= 600; t += 60) {
    Plan plan = web.Pass(At(t));
    CHECK(plan.actions.empty());
    REQUIRE(plan.formations[0].utilization);
    CHECK(*plan.formations[0].utilization == doctest::Approx(0.9));
  }
}

TEST_CASE("capacity: a web formation past its slots still waits for latency") {
  // Router service times include the wait in each dyno's own backlog: one slow dyno's queue
  // pushes the estimate past the slots while its siblings idle, and that is a laggard's case.
  Driven web(CapacityWeb(), 4);
  web.Observe(0.5, 25);  // 10 busy of the 8 slots, latency fine
  Plan plan = web.Pass(At(0));
  CHECK(plan.actions.empty());
  REQUIRE(plan.formations[0].utilization);
  CHECK(*plan.formations[0].utilization == doctest::Approx(1.25));
  CHECK_FALSE(plan.formations[0].in_event);
}

TEST_CASE("capacity: a Sidekiq backlog the workers cannot drain is a trigger before latency") {
  Driven worker(SidekiqWorker(), 2);
  // 2.4 jobs/s x 2s = 4.8 busy of the 4 slots, and 10 jobs waiting: 10 x 2s / 1m = 0.333 more.
  worker.Observe(6, 2.4, 2);
  worker.observation.latency["worker"].queues = {{"default", 10, 6.0, ""}};
  Plan plan = worker.Pass(At(0));
  CHECK(OnlyAction(plan) == "scale 2 -> 4");
  CHECK(plan.actions[0].cause == ActionCause::kLatencyEvent);
  CHECK(plan.actions[0].reason ==
        "overload: utilization 1.28 of the 4 slots there are, p95 6s <= 10s; the load needs 4 "
        "(2.4/s x 2s = 4.8 busy + 0.333 to drain 10 queued jobs in 1m of 2 x 75% per dyno)");
  const Condition* event = FindCondition(plan.formations[0].conditions, kLatencyEvent);
  REQUIRE(event);
  CHECK(event->reason == "Overloaded");
  // Carried: the queue drained, the load within the slots, held while it needs them.
  worker.observation.latency["worker"].queues = {{"default", 0, 0.0, ""}};
  worker.Observe(0, 2.4, 2);
  Plan held = worker.Pass(At(60));
  CHECK(held.actions.empty());
  CHECK(held.formations[0].in_event);
}

TEST_CASE("capacity: the step also drains the jobs already queued within alertInterval") {
  Driven worker(SidekiqWorker(), 2);
  // 1.6 jobs/s x 2s = 3.2 busy of the 4 slots, and 45 jobs waiting: 45 x 2s / 1m = 1.5 more.
  worker.Observe(12, 1.6, 2);
  worker.observation.latency["worker"].queues = {{"default", 40, 12.0, ""},
                                                 {"mailers", 5, 1.0, ""}};
  Plan plan = worker.Pass(At(0));
  CHECK(plan.formations[0].queued_jobs == 45);
  REQUIRE(plan.formations[0].utilization);
  CHECK(*plan.formations[0].utilization == doctest::Approx(1.175));
  CHECK(OnlyAction(plan) == "scale 2 -> 4");
  CHECK(plan.actions[0].reason ==
        "latency event: p95 12s > 10s; the load needs 4 (1.6/s x 2s = 3.2 busy + 1.5 to drain 45 "
        "queued jobs in 1m of 2 x 75% per dyno)");
  // Drained: the arrivals alone need 3, down to it after restoreDelay.
  worker.observation.latency["worker"].queues = {{"default", 0, 0.0, ""}, {"mailers", 0, 0.0, ""}};
  worker.Observe(0, 1.6, 2);
  CHECK(worker.Pass(At(60)).actions.empty());
  CHECK(OnlyAction(worker.Pass(At(300))) == "scale 4 -> 3");
}

TEST_CASE("capacity: without a known load a backlog alone is no trigger") {
  Driven worker(SidekiqWorker(), 2);
  worker.Observe(6);
  worker.observation.latency["worker"].queues = {{"default", 40, 6.0, ""}};
  Plan plan = worker.Pass(At(0));
  CHECK(plan.actions.empty());
  CHECK_FALSE(plan.formations[0].utilization.has_value());
}

TEST_CASE("targetUtilization defaults to 0.75 of job times and 0.85 of router service times") {
  spec::FormationSpec web = CapacityWeb();
  web.autoscale->target_utilization.reset();
  CHECK(web.TargetUtilization() == 0.85);
  spec::FormationSpec worker = SidekiqWorker();
  worker.autoscale->target_utilization.reset();
  CHECK(worker.TargetUtilization() == 0.75);
  worker.autoscale->target_utilization = 0.6;
  CHECK(worker.TargetUtilization() == 0.6);
}

TEST_CASE("restore one dyno at a time (the simulator's heroku variant): one per alertInterval") {
  spec::FormationSpec f = CapacityWeb();
  f.autoscale->mode = spec::AutoscaleMode::kStep;
  f.autoscale->restore_one_at_a_time = true;
  Driven web(f, 4);
  web.Observe(3.5);
  CHECK(OnlyAction(web.Pass(At(0))) == "scale 4 -> 5");
  CHECK(OnlyAction(web.Pass(At(60))) == "scale 5 -> 6");
  CHECK(OnlyAction(web.Pass(At(120))) == "scale 6 -> 7");
  web.Observe(0.5);
  CHECK(web.Pass(At(180)).actions.empty());  // restoreDelay since the last change first
  Plan first = web.Pass(At(420));
  CHECK(OnlyAction(first) == "scale 7 -> 6");
  CHECK(first.actions[0].cause == ActionCause::kRestored);
  CHECK(first.actions[0].reason ==
        "latency restored: p95 500ms <= 1s; one dyno at a time, 2 more to the baseline 4");
  CHECK(first.formations[0].in_event);
  CHECK(web.Pass(At(450)).actions.empty());
  CHECK(OnlyAction(web.Pass(At(480))) == "scale 6 -> 5");
  Plan last = web.Pass(At(540));
  CHECK(OnlyAction(last) == "scale 5 -> 4");
  CHECK_FALSE(last.formations[0].in_event);
}

TEST_CASE("capacity: a source that could not observe leaves the load unknown") {
  Driven web(CapacityWeb(), 4);
  web.Observe(3.5, 30);
  web.observation.latency["web"].error = "log session refused";
  Plan plan = web.Pass(At(0));
  CHECK(plan.actions.empty());
  CHECK_FALSE(plan.formations[0].load.has_value());
}

TEST_CASE("bounds: min and max hold a formation without autoscale") {
  spec::FormationSpec f;
  f.type = "worker";
  f.min = 2;
  f.max = 5;
  Driven worker(f, 1);
  Plan up = worker.Pass(At(0));
  CHECK(OnlyAction(up) == "scale 1 -> 2");
  CHECK(up.actions[0].cause == ActionCause::kBounds);
  CHECK(up.actions[0].reason == "bounds: the formation's min 2");
  worker.observation.formations[0].quantity = 9;
  CHECK(OnlyAction(worker.Pass(At(60))) == "scale 9 -> 5");
  worker.observation.formations[0].quantity = 3;
  CHECK(worker.Pass(At(120)).actions.empty());
}

TEST_CASE("schedules: an open window raises the floor of a declared formation, then lets go") {
  spec::FormationSpec f;
  f.type = "web";
  f.quantity = 2;
  f.schedules = {Weekdays("08:30-10:00", 6, std::nullopt)};
  Driven web(f, 2);
  CHECK(web.Pass(At(0)).actions.empty());  // Friday 08:00 UTC: closed
  Plan open = web.Pass(At(1800));          // 08:30: open
  CHECK(OnlyAction(open) == "scale 2 -> 6");
  CHECK(open.actions[0].reason == "bounds: schedule morning sets min 6");
  CHECK(open.formations[0].schedule == "morning");
  CHECK(web.Pass(At(3600)).actions.empty());
  Plan closed = web.Pass(At(7200));  // 10:00: closed again
  CHECK(OnlyAction(closed) == "scale 6 -> 2");
  CHECK(closed.actions[0].cause == ActionCause::kDrift);
}

TEST_CASE("schedules: with autoscale the floor is the baseline and the ceiling caps the event") {
  spec::FormationSpec f = CapacityWeb();
  f.schedules = {Weekdays("08:30-10:00", 6, 8)};
  Driven web(f, 4);
  web.Observe(0.3, 10);
  CHECK(web.Pass(At(0)).actions.empty());
  Plan open = web.Pass(At(1800));
  CHECK(OnlyAction(open) == "scale 4 -> 6");
  CHECK(open.formations[0].baseline == 6);
  web.Observe(3.5, 45);  // needs 12
  Plan surge = web.Pass(At(1860));
  CHECK(OnlyAction(surge) == "scale 6 -> 8");
  CHECK(surge.actions[0].reason.ends_with("capped at 8 (schedule morning sets max 8)"));
  // Closed, the surge over and restoreDelay past: back to the declared 4.
  web.Observe(0.2, 10);
  CHECK(OnlyAction(web.Pass(At(7200))) == "scale 8 -> 4");
}
