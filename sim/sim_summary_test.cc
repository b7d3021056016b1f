#include "sim/sim_summary.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "app/text_table.h"
#include "spec/loader.h"

using namespace dynoherd;
using namespace dynoherd::sim;
using namespace std::chrono_literals;

namespace {

// 3 web dynos for 10 minutes: web.1 slowed down x4 at 1m, the load doubled from 7m to 9m.
constexpr const char* kPolicy = R"(
apiVersion: dynoherd/v1
kind: FormationPolicy
metadata: {name: small}
spec:
  app: small
  provider: sim
  interval: 30s
  formations:
    - type: web
      quantity: 3
      latency: {source: sim, window: 2m}
      autoscale: {latencyThreshold: 400ms}
  sim:
    seed: 3
    duration: 10m
    restartDelay: 20s
    formations:
      web: {quantity: 3, serviceTime: 100ms, rps: 10}
      worker: {quantity: 1, jobTime: 1s, jobsPerSecond: 0.2}
    incidents:
      - {at: 1m, kind: noisy-neighbor, dyno: web.1, factor: 4}
      - {at: 7m, kind: surge, formation: web, factor: 2, for: 2m}
)";

spec::Policy Load(std::string text) {
  spec::LoadResult loaded = spec::ParsePolicies(
      text, "small.yaml", [](const std::string&) { return std::optional<std::string>(); });
  INFO(loaded.ErrorText());
  REQUIRE(loaded.ok());
  return loaded.policies.at(0);
}

// A pass that sent `actions` at the clock's time.
app::PassResult Sent(TimePoint at, std::vector<reconciler::Action> actions) {
  app::PassResult pass;
  pass.observed = true;
  pass.applied = !actions.empty();
  pass.plan.emplace();
  pass.plan->planned_at = at;
  pass.plan->actions = std::move(actions);
  return pass;
}

reconciler::Action Restart(const std::string& dyno) {
  reconciler::Action a;
  a.kind = reconciler::ActionKind::kRestart;
  a.cause = reconciler::ActionCause::kLaggard;
  a.formation = "web";
  a.dyno = dyno;
  a.reason = "laggard: test";
  return a;
}

reconciler::Action Scale(int from, int to, reconciler::ActionCause cause) {
  reconciler::Action a;
  a.kind = reconciler::ActionKind::kScale;
  a.cause = cause;
  a.formation = "web";
  a.from_quantity = from;
  a.to_quantity = to;
  a.reason = "scale: test";
  return a;
}

// Plays the small world by hand, doing to it what the recorded passes say, as the pass would.
struct Played {
  spec::Policy policy = Load(kPolicy);
  ManualClock clock{TimePoint{} + 1767225600s};
  std::unique_ptr<SimWorld> world = SimWorld::Create("small", *policy.sim, clock).value();
  TimePoint start = world->start_time();
  std::vector<app::PassResult> passes;

  void RestartAt(Duration at, const std::string& dyno) {
    clock.Set(start + at);
    REQUIRE(world->Restart("small", dyno).ok());
    passes.push_back(Sent(start + at, {Restart(dyno)}));
  }
  void ScaleAt(Duration at, int from, int to, reconciler::ActionCause cause) {
    clock.Set(start + at);
    REQUIRE(world->Scale("small", {{"web", to}}).ok());
    passes.push_back(Sent(start + at, {Scale(from, to, cause)}));
  }
  TruthSummary Truth(Duration from, Duration to, const std::string& type = "web") {
    std::optional<Duration> threshold;
    if (type == "web") threshold = 400ms;
    return world->Truth(type, start + from, start + to, threshold).value();
  }
};

void CheckSame(const TruthSummary& got, const TruthSummary& want) {
  CHECK(got.latency.count == want.latency.count);
  CHECK(got.latency.p50 == want.latency.p50);
  CHECK(got.latency.p95 == want.latency.p95);
  CHECK(got.latency.p99 == want.latency.p99);
  CHECK(got.slower_than_threshold == want.slower_than_threshold);
  CHECK(got.dyno_seconds == doctest::Approx(want.dyno_seconds));
}

}  // namespace

TEST_CASE("the summary's numbers are the world's ground truth over the right time ranges") {
  Played p;
  p.RestartAt(3min, "web.1");
  p.ScaleAt(7min + 30s, 3, 5, reconciler::ActionCause::kLatencyEvent);
  p.ScaleAt(9min + 30s, 5, 3, reconciler::ActionCause::kRestored);
  p.clock.Set(p.start + 10min);

  Result<SimRunSummary> built =
      BuildSimSummary(*p.world, p.policy, p.passes, SimSummaryOptions{.around = 2min});
  REQUIRE(built.ok());
  const SimRunSummary& s = *built;
  CHECK(s.simulated == 10min);
  CHECK(s.passes == 3);
  CHECK(s.seed == 3);

  REQUIRE(s.formations.size() == 2);
  const SimFormationSummary& web = s.formations[0];
  CHECK(web.type == "web");
  CHECK(web.web);
  CHECK(web.threshold == Duration(400ms));
  // Billing by hand: 3 dynos for 10 minutes, 2 more from 7m30s to 9m30s.
  CHECK(web.truth.dyno_minutes() == doctest::Approx(3 * 10 + 2 * 2));
  CHECK(web.start_quantity == 3);
  CHECK(web.peak_quantity == 5);
  CHECK(web.end_quantity == 3);
  CHECK(web.actions == 3);
  CheckSame(web.truth, p.Truth(0s, 10min));
  CHECK(web.truth.slower_than_threshold > 0);
  CHECK(s.formations[1].type == "worker");
  CHECK_FALSE(s.formations[1].web);
  CHECK_FALSE(s.formations[1].threshold);  // the policy does not manage the workers
  CHECK(s.formations[1].truth.dyno_minutes() == doctest::Approx(10));

  REQUIRE(s.actions.size() == 3);
  const SimActionSummary& restart = s.actions[0];
  CHECK(restart.action.action == "restart web.1");
  CHECK(restart.action.cause == "laggard");
  CHECK(restart.offset == 3min);
  CHECK(restart.before_span == 2min);
  CHECK(restart.after_span == 2min);
  CheckSame(restart.before, p.Truth(1min, 3min));
  CheckSame(restart.after, p.Truth(3min, 5min));
  // The noisy host was the trouble: once web.1 is restarted the formation is fast again.
  CHECK(restart.before.latency.p99 > 2 * restart.after.latency.p99);
  const SimActionSummary& restore = s.actions[2];
  CHECK(restore.action.action == "scale 5 -> 3");
  CHECK(restore.after_span == 30s);  // the run ends 30s after it
  CheckSame(restore.after, p.Truth(9min + 30s, 10min));

  // Phases by hand: the noisy neighbour lasts until its restart, the surge its 2 minutes.
  struct Want {
    std::string name;
    Duration from, to;
  };
  std::vector<Want> want = {{"before", 0s, 1min},
                            {"noisy-neighbor web.1 x4", 1min, 3min},
                            {"between", 3min, 7min},
                            {"surge web x2", 7min, 9min},
                            {"after", 9min, 10min}};
  REQUIRE(s.phases.size() == want.size());
  int64_t requests = 0;
  double dyno_seconds = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    CHECK(s.phases[i].name == want[i].name);
    CHECK(s.phases[i].from == want[i].from);
    CHECK(s.phases[i].to == want[i].to);
    REQUIRE(s.phases[i].formations.size() == 2);
    CheckSame(s.phases[i].formations[0].truth, p.Truth(want[i].from, want[i].to));
    CheckSame(s.phases[i].formations[1].truth, p.Truth(want[i].from, want[i].to, "worker"));
    requests += s.phases[i].formations[0].truth.latency.count;
    dyno_seconds += s.phases[i].formations[0].truth.dyno_seconds;
  }
  // The phases cover the run once: no request counted twice or lost.
  CHECK(requests == web.truth.latency.count);
  CHECK(dyno_seconds == doctest::Approx(web.truth.dyno_seconds));
  CHECK(s.phases[1].formations[0].truth.latency.p95 > s.phases[2].formations[0].truth.latency.p95);
}

TEST_CASE("phases: incidents that overlap, and a noisy dyno scaled away") {
  Played p;
  // The noisy neighbour on web.1 (from 1m) is still there when the surge starts at 7m; web.1 is
  // never removed by scaling (scale-down removes the highest numbers), so it lasts to the end.
  p.ScaleAt(8min, 3, 4, reconciler::ActionCause::kLatencyEvent);
  p.clock.Set(p.start + 10min);
  Result<SimRunSummary> s = BuildSimSummary(*p.world, p.policy, p.passes);
  REQUIRE(s.ok());
  std::vector<std::string> names;
  for (const auto& phase : s->phases)
    names.push_back(phase.name);
  CHECK(names == std::vector<std::string>{"before", "noisy-neighbor web.1 x4",
                                          "noisy-neighbor web.1 x4 + surge web x2",
                                          "noisy-neighbor web.1 x4"});
  CHECK(s->phases.back().to == 10min);

  spec::Policy policy =
      Load(std::string(kPolicy).replace(std::string(kPolicy).find("web.1"), 5, "web.3"));
  ManualClock clock{TimePoint{} + 1767225600s};
  auto world = SimWorld::Create("small", *policy.sim, clock).value();
  clock.Advance(4min);
  REQUIRE(world->Scale("small", {{"web", 2}}).ok());  // web.3 goes, and its noisy host with it
  clock.Advance(6min);
  Result<SimRunSummary> scaled = BuildSimSummary(*world, policy, std::vector<app::PassResult>{});
  REQUIRE(scaled.ok());
  REQUIRE(scaled->phases.size() >= 2);
  CHECK(scaled->phases[1].name == "noisy-neighbor web.3 x4");
  CHECK(scaled->phases[1].to == 4min);
  CHECK(scaled->phases[2].name == "between");
}

TEST_CASE("a run without incidents is one phase; without actions the table says so") {
  std::string text = kPolicy;
  text = text.substr(0, text.find("    incidents:"));
  Played p;
  p.policy = Load(text);
  p.world = SimWorld::Create("small", *p.policy.sim, p.clock).value();
  p.clock.Advance(5min);
  Result<SimRunSummary> s = BuildSimSummary(*p.world, p.policy, std::vector<app::PassResult>{});
  REQUIRE(s.ok());
  REQUIRE(s->phases.size() == 1);
  CHECK(s->phases[0].name == "whole run");
  CHECK(s->phases[0].to == 5min);
  CHECK(s->actions.empty());
  std::string rendered = RenderSimSummary(*s);
  CHECK(rendered.find("Actions: 0 sent\n") != std::string::npos);
  CHECK(rendered.find("whole run") != std::string::npos);
}

TEST_CASE("the recorder keeps sent actions, failures and what was planned but not sent") {
  SimRunRecorder recorder;
  TimePoint at = TimePoint{} + 100s;
  app::PassResult sent =
      Sent(at, {Scale(3, 4, reconciler::ActionCause::kLatencyEvent), Restart("web.2")});
  sent.plan->actions[1].failed = true;
  sent.plan->actions[1].error = "dyno \"web.2\" not found";
  sent.status = Status::Unavailable("web restart web.2: dyno not found");
  recorder.Add(sent);
  app::PassResult planned = Sent(at + 30s, {Restart("web.1")});
  planned.applied = false;  // paused or plan-only
  recorder.Add(planned);
  app::PassResult blind;  // observing failed: nothing planned
  blind.status = Status::Unavailable("observe app small: timed out");
  recorder.Add(blind);

  CHECK(recorder.passes() == 3);
  CHECK(recorder.failed_passes() == 2);
  CHECK(recorder.planned_not_applied() == 1);
  REQUIRE(recorder.actions().size() == 2);
  const SimAction& scale = recorder.actions()[0];
  CHECK(scale.action == "scale 3 -> 4");
  CHECK(scale.kind == reconciler::ActionKind::kScale);
  CHECK(scale.from_quantity == 3);
  CHECK(scale.to_quantity == 4);
  CHECK(scale.cause == "latency-event");
  CHECK(scale.error.empty());
  const SimAction& restart = recorder.actions()[1];
  CHECK(restart.action == "restart web.2");
  CHECK(restart.dyno == "web.2");
  CHECK(restart.error == "dyno \"web.2\" not found");
  CHECK(restart.at == at);
}

TEST_CASE("an action on a formation the world does not have is refused") {
  Played p;
  p.clock.Advance(1min);
  reconciler::Action a = Restart("api.1");
  a.formation = "api";
  Result<SimRunSummary> s =
      BuildSimSummary(*p.world, p.policy, std::vector<app::PassResult>{Sent(p.start + 30s, {a})});
  CHECK_FALSE(s.ok());
  CHECK(s.status().message().find("api") != std::string::npos);
}

TEST_CASE("a run that went a little past the scenario is summarised up to its end") {
  Played p;
  p.clock.Set(p.start + 10min + 45s);  // `run` stopped a moment late
  SimRunSummary s = BuildSimSummary(*p.world, p.policy, p.passes).value();
  CHECK(s.simulated == 10min);
  CheckSame(s.formations[0].truth, p.Truth(0s, 10min));
  CHECK(s.phases.back().to == 10min);
  CHECK(p.world->Now() == p.start + 10min + 45s);  // the world itself went on
}

TEST_CASE("a run stopped early is summarised as far as it went, and says so") {
  Played p;
  p.RestartAt(2min + 7ms, "web.1");  // `run`'s passes start a few milliseconds after they are due
  p.clock.Set(p.start + 4min);
  SimRunSummary s = BuildSimSummary(*p.world, p.policy, p.passes).value();
  CHECK(s.simulated == 4min);
  CHECK(s.scenario == 10min);
  std::string text = RenderSimSummary(s);
  INFO(text);
  CHECK(text.rfind("small (app small): 4m simulated (stopped early: the scenario runs 10m), seed "
                   "3, a pass every 30s (1 pass)\n",
                   0) == 0);
  CHECK(text.find("surge web x2") == std::string::npos);  // starts at 7m: never reached
  CHECK(text.find("\n  2m  web        restart web.1") != std::string::npos);  // whole seconds
}

TEST_CASE("jobs still queued at the end are counted apart from those the truth has seen") {
  std::string text = kPolicy;
  text.replace(text.find("worker: {quantity: 1, jobTime: 1s, jobsPerSecond: 0.2}"), 54,
               "worker: {quantity: 1, jobTime: 1s, jobsPerSecond: 3}");  // 170% busy
  Played p;
  p.policy = Load(text);
  p.world = SimWorld::Create("small", *p.policy.sim, p.clock).value();
  p.clock.Advance(5min);
  SimRunSummary s = BuildSimSummary(*p.world, p.policy, std::vector<app::PassResult>{}).value();
  const SimFormationSummary& worker = s.formations.at(1);
  CHECK(worker.queued_at_end > 300);
  // Sidekiq's view: jobs started in the window plus those waiting (docs/simulator.md).
  model::FormationLatency latency = p.world->Latency("worker", 10s, spec::Statistic::kP95).value();
  int64_t started = 0;
  for (const auto& [dyno, stats] : latency.per_dyno)
    started += stats.count;
  CHECK(worker.queued_at_end == latency.sample_count - started);
  CHECK(s.formations.at(0).queued_at_end == 0);  // web
  CHECK(RenderSimSummary(s).find(std::to_string(worker.queued_at_end)) != std::string::npos);
}

TEST_CASE("rendered for people and for programs") {
  Played p;
  p.RestartAt(3min, "web.1");
  p.clock.Set(p.start + 10min);
  SimRunSummary s = BuildSimSummary(*p.world, p.policy, p.passes).value();

  std::string text = RenderSimSummary(s);
  CHECK(text.rfind("small (app small): 10m simulated, seed 3, a pass every 30s (1 pass)\n", 0) ==
        0);
  for (const char* column :
       {"AT", "FORMATION", "ACTION", "P95 BEFORE", "P99 BEFORE", "REASON", "PHASE", "REQUESTS",
        "SLOW", "DYNO-MINUTES", "PEAK QUEUE", "QUEUED AT END"}) {
    CHECK(text.find(column) != std::string::npos);
  }
  CHECK(text.find("3m  web        restart web.1") != std::string::npos);
  CHECK(text.find("noisy-neighbor web.1 x4") != std::string::npos);
  CHECK(text.find("worker formations: REQUESTS are jobs") != std::string::npos);
  CHECK(text.find(" \n") == std::string::npos);  // no trailing spaces

  nlohmann::json j = ToJson(s);
  CHECK(j["name"] == "small");
  CHECK(j["seed"] == 3);
  CHECK(j["simulatedSeconds"] == 600.0);
  CHECK(j["start"] == "2026-01-01T00:00:00.000Z");
  REQUIRE(j["actions"].size() == 1);
  CHECK(j["actions"][0]["atSeconds"] == 180.0);
  CHECK(j["actions"][0]["summary"] == "restart web.1");
  CHECK(j["actions"][0]["dyno"] == "web.1");
  CHECK(j["actions"][0]["error"].is_null());
  CHECK(j["actions"][0]["before"]["p99"].get<double>() == s.actions[0].before.latency.p99);
  CHECK(j["formations"][0]["kind"] == "web");
  CHECK(j["formations"][0]["thresholdSeconds"] == 0.4);
  CHECK(j["formations"][0]["truth"]["count"] == s.formations[0].truth.latency.count);
  CHECK(j["formations"][1]["truth"]["slowerThanThreshold"].is_null());
  CHECK(j["phases"].size() == s.phases.size());
  CHECK(j["phases"][1]["formations"]["web"]["p95"].get<double>() ==
        s.phases[1].formations[0].truth.latency.p95);
  bool restart_event = false;
  for (const auto& e : j["events"])
    restart_event = restart_event || (e["kind"] == "restart" && e["dyno"] == "web.1");
  CHECK(restart_event);
}

TEST_CASE("text tables: aligned columns, right-aligned numbers, no trailing spaces") {
  app::TextTable t({{"NAME"}, {"COUNT", app::TextTable::Align::kRight}, {"NOTE"}});
  t.AddRow({"web", "12", ""});
  t.AddRow({"worker", "3", "jobs"});
  t.AddRow({"añb"});  // a short row; two bytes, one column for the ñ
  CHECK(t.Render("> ") ==
        "> NAME    COUNT  NOTE\n"
        "> web        12\n"
        "> worker      3  jobs\n"
        "> añb\n");
}
