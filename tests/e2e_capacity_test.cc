// End-to-end tests of issue 19 through build/dynoherd: autoscale mode capacity on the shipped
// surge scenario (simulate --compare), a schedule raising the floor at a simulated time, and
// `validate` on bad schedules and capacity fields. The simulator runs on a simulated clock.
#include <doctest/doctest.h>
#include <httplib.h>
#include <signal.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "tests/support/fake_heroku_process.h"
#include "tests/support/json_schema.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace dynoherd::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr double kSurgeFrom = 600;  // examples/scenarios/capacity-surge.yaml: at 10m
constexpr double kSurgeTo = 2400;   // for 30m
constexpr double kInterval = 30;

json CompareJson(const std::vector<std::string>& files) {
  std::vector<std::string> args = {"simulate", "--compare", "-o", "json"};
  for (const std::string& f : files) {
    args.push_back("-f");
    args.push_back(f);
  }
  ProcessResult r = RunDynoherd(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

const json& Variant(const json& comparison, const std::string& name) {
  for (const json& v : comparison["variants"]) {
    if (v["name"] == name) return v["summary"];
  }
  FAIL("no variant " << name);
  return comparison;
}

const json& FormationOf(const json& summary, const std::string& type) {
  for (const json& f : summary["formations"]) {
    if (f["type"] == type) return f;
  }
  FAIL("no formation " << type);
  return summary;
}

// The formation's p99 over the phase of the run named after its surge.
double SurgeP99(const json& summary, const std::string& type) {
  for (const json& phase : summary["phases"]) {
    if (phase["name"].get<std::string>().find("surge " + type) != std::string::npos) {
      return phase["formations"][type]["p99"].get<double>();
    }
  }
  FAIL("no surge phase for " << type);
  return 0;
}

std::vector<json> ScalesOf(const json& summary, const std::string& type) {
  std::vector<json> out;
  for (const json& a : summary["actions"]) {
    if (a["formation"] == type && a["kind"] == "scale") out.push_back(a);
  }
  return out;
}

int RestoresDuringSurge(const json& summary, const std::string& type) {
  int n = 0;
  for (const json& a : ScalesOf(summary, type)) {
    const double at = a["atSeconds"];
    n += a["cause"] == "restored" && at >= kSurgeFrom && at < kSurgeTo;
  }
  return n;
}

TEST_CASE(
    "capacity on a x3 surge: one step within 2 passes, no restore in it, p99 cut 2x, "
    "at most 15% more dyno-minutes (web and a sidekiq worker)") {
  const json c = CompareJson({"examples/scenarios/capacity-surge.yaml"});
  const json& capacity = Variant(c, "capacity");
  const json& step = Variant(c, "step");
  for (const char* type : {"web", "worker"}) {
    INFO(type);
    const std::vector<json> scales = ScalesOf(capacity, type);
    REQUIRE_FALSE(scales.empty());
    // The first step comes within two passes of the surge and is the whole jump: the formation
    // never grows again during the surge.
    CHECK(scales[0]["atSeconds"].get<double>() <= kSurgeFrom + 2 * kInterval);
    CHECK(scales[0]["cause"] == "latency-event");
    for (size_t i = 1; i < scales.size(); ++i)
      CHECK(scales[i]["to"].get<int>() < scales[i]["from"].get<int>());
    CHECK(RestoresDuringSurge(capacity, type) == 0);
    CHECK(RestoresDuringSurge(step, type) >= 1);  // what mode step does on the same traffic
    CHECK(FormationOf(capacity, type)["truth"]["dynoMinutes"].get<double>() <=
          1.15 * FormationOf(step, type)["truth"]["dynoMinutes"].get<double>());
  }
  // The worker's queue is the trigger's and the step's too: a backlog it cannot drain starts the
  // event before the queue latency passes 10s, and the step drains it (docs/decisions.md).
  for (const char* type : {"web", "worker"}) {
    INFO(type);
    CHECK(SurgeP99(capacity, type) * 2 <= SurgeP99(step, type));
  }
  // Heroku's own autoscaling removes one dyno per event.
  for (const json& scale : ScalesOf(Variant(c, "heroku"), "web")) {
    if (scale["to"].get<int>() < scale["from"].get<int>())
      CHECK(scale["from"].get<int>() - scale["to"].get<int>() == 1);
  }
  // Every variant ends back at the baseline.
  for (const json& v : c["variants"]) {
    CHECK(FormationOf(v["summary"], "web")["endQuantity"] == 6);
  }
}

TEST_CASE("capacity in a calm scenario never scales") {
  TempDir dir;
  std::string calm = ReadFile("examples/scenarios/capacity-surge.yaml");
  calm = calm.substr(0, calm.find("    incidents:"));
  const json c = CompareJson({dir.Write("calm.yaml", calm)});
  for (const char* variant : {"capacity", "step", "heroku"}) {
    INFO(variant);
    CHECK(Variant(c, variant)["actions"].empty());
  }
}

TEST_CASE("the text comparison shows the surge rows and the sidekiq worker's queue latency") {
  ProcessResult r =
      RunDynoherd({"simulate", "-f", "examples/scenarios/capacity-surge.yaml", "--compare"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("\nworker (latencyThreshold 10s): jobs, by their time waiting in the queue\n") !=
        std::string::npos);
  for (const char* row : {"\n  surge absorbed in ", "\n  restores mid-surge ", "\n    share "}) {
    CHECK_MESSAGE(r.out.find(row) != std::string::npos, row);
  }
  ProcessResult plan = RunDynoherd({"plan", "-f", "examples/scenarios/capacity-surge.yaml"});
  CHECK(plan.out.find("worker  queues: default 0ms (0 jobs), mailers 0ms (0 jobs)") !=
        std::string::npos);
}

// The simulation starts on Thursday 2026-01-01 at 00:00 UTC.
constexpr const char* kScheduledPolicy = R"(apiVersion: dynoherd/v1
kind: FormationPolicy
metadata: {name: morning}
spec:
  app: shop
  provider: sim
  interval: 30s
  formations:
    - type: web
      quantity: 2
      schedules:
        - name: opening
          days: thu
          hours: "00:10-00:20"
          timezone: UTC
          min: 4
        - cron: "30 1 * * 4"
          for: 5m
          timezone: Europe/Paris   # 01:30 in Paris is 00:30 UTC in winter
          min: 3
  sim:
    duration: 40m
    formations:
      web: {quantity: 2, serviceTime: 100ms, rps: 10}
)";

TEST_CASE("schedules raise the floor at their simulated time and let go after") {
  TempDir dir;
  const std::string path = dir.Write("morning.yaml", kScheduledPolicy);
  ProcessResult r = RunDynoherd({"simulate", "-f", path, "-o", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  std::vector<std::string> scales;
  for (const json& a : ScalesOf(j, "web")) {
    scales.push_back(std::to_string(static_cast<int>(a["atSeconds"].get<double>())) + " " +
                     a["summary"].get<std::string>() + " " + a["cause"].get<std::string>());
  }
  // Opens at 10m (min 4), closes at 20m (back to the declared 2); the cron window in Paris time
  // opens at 30m UTC (min 3) for 5 minutes.
  CHECK(scales == std::vector<std::string>{"600 scale 2 -> 4 bounds", "1200 scale 4 -> 2 drift",
                                           "1800 scale 2 -> 3 bounds", "2100 scale 3 -> 2 drift"});
}

TEST_CASE("validate: bad schedules and capacity fields are located errors") {
  TempDir dir;
  const std::string path = dir.Write("bad.yaml", R"(apiVersion: dynoherd/v1
kind: FormationPolicy
metadata: {name: shop}
spec:
  app: shop
  formations:
    - type: web
      quantity: 2
      min: 3
      schedules:
        - cron: "0 25 * * *"
          for: 2h
          timezone: Mars/Olympus
          min: 4
        - days: mon-fri
        - days: mon-fri
          hours: "07:00-10:00"
          cron: "0 7 * * *"
          max: 1
      latency: {}
      autoscale: {latencyThreshold: 2s, mode: capacity, targetUtilization: 1.5}
    - type: worker
      latency: {}
      autoscale: {latencyThreshold: 2s, concurrency: 4}
)");
  ProcessResult r = RunDynoherd({"validate", "-f", path});
  CHECK(r.exit_code == 1);
  const std::string f = path + ":";
  for (const std::string& line : {
           f + "8:17: spec.formations[0].quantity: must be >= min 3 (got 2); use a schedule for "
               "a floor that changes with the time of day",
           f + "11:17: spec.formations[0].schedules[0].cron: hour \"25\": must be 0 to 23",
           f + "13:21: spec.formations[0].schedules[0].timezone: no time zone \"Mars/Olympus\"",
           f + "15:11: spec.formations[0].schedules[1].hours: required with days",
           f + "18:11: spec.formations[0].schedules[2].cron: a schedule is either cron and for, "
               "or days and hours, not both",
           f + "21:76: spec.formations[0].autoscale.targetUtilization: must be <= 1 (got 1.5)",
           f + "24:41: spec.formations[1].autoscale.concurrency: allowed only with mode: "
               "capacity (mode is step)",
       }) {
    CHECK_MESSAGE(r.err.find(line) != std::string::npos, line << "\n" << r.err);
  }
}

// --- against build/fake-heroku, the load read from its router log sessions

constexpr const char* kToken = "HRKU-e2e-capacity-secret-token";

// shop: 2 web dynos answering in about 1.5s, 700 requests each over the 5-minute window.
std::string SlowShop() {
  return std::string("token: ") + kToken + R"(
seed: 19
apps:
  - name: shop
    formations:
      - {type: web, quantity: 2}
    logs:
      window: 5m
      default: {medianMs: 1500, count: 700, spread: 0.2}
)";
}

std::string CapacityPolicy(const std::string& mode) {
  return R"(apiVersion: dynoherd/v1
kind: FormationPolicy
metadata: {name: shop-web}
spec:
  app: shop
  formations:
    - type: web
      quantity: 2
      latency: {source: router-logs}
      autoscale:
        mode: )" +
         mode + (mode == "capacity" ? "\n        concurrency: 2" : "") + R"(
        latencyThreshold: 1s
        maxExtraWorkers: 8
      schedules:
        - {name: always, days: mon-sun, hours: "00:00-24:00", min: 2, max: 6}
)";
}

// The estimate of the shop's 2 slow web dynos, as a pass shows it in JSON: about 4.7 requests a
// second (1400 lines over 5 minutes; `run`'s newest minute may hold more or fewer of them: 4.0
// was seen under ASan) of 1.5s each. The checks after it hold for the arrivals measured.
void CheckCapacityJson(const json& formation) {
  INFO(formation.dump());
  const json& capacity = formation.at("capacity");
  CHECK(capacity.at("targetUtilization") == 0.85);  // the default for router service times
  const double arrivals = capacity.at("arrivalsPerSecond").get<double>();
  const double service = capacity.at("serviceSeconds").get<double>();
  CHECK(arrivals > 3);
  CHECK(service == doctest::Approx(1.53).epsilon(0.05));
  CHECK(capacity.at("queuedJobs") == 0);
  // Busy slots over the 4 of 2 dynos, and the dynos that carry them at 2 x 85%.
  CHECK(capacity.at("utilization").get<double>() == doctest::Approx(arrivals * service / 4));
  CHECK(capacity.at("neededQuantity") ==
        static_cast<int>(std::ceil(arrivals * service / (2 * 0.85))));
  CHECK(formation.at("bounds") == json{{"min", 2}, {"max", 6}, {"schedule", "always"}});
}

// The value of the one series of `metrics` that starts with `series`, or NaN.
double MetricValue(const std::string& metrics, const std::string& series) {
  const size_t at = metrics.find("\n" + series + " ");
  if (at == std::string::npos) return std::nan("");
  return std::stod(metrics.substr(at + series.size() + 2));
}

TEST_CASE(
    "plan and reconcile against Heroku: capacity reads the load from the router logs and "
    "jumps, step adds one") {
  auto started = FakeHerokuProcess::Start(SlowShop());
  REQUIRE_MESSAGE(started.ok(), started.status().message());
  std::unique_ptr<FakeHerokuProcess> fake = std::move(started).value();
  TempDir dir;
  const std::string state = (dir.path() / "state.json").string();
  auto run = [&](const std::vector<std::string>& args) {
    std::vector<std::string> full = args;
    full.push_back("--state");
    full.push_back(state);
    return RunDynoherd(full, {.env = fake->Env(kToken)});
  };

  ProcessResult step = run({"plan", "-f", dir.Write("step.yaml", CapacityPolicy("step"))});
  INFO(step.err);
  CHECK(step.exit_code == 2);
  CHECK(step.out.find("scale 2 -> 3") != std::string::npos);

  const std::string capacity = dir.Write("capacity.yaml", CapacityPolicy("capacity"));
  ProcessResult plan = run({"plan", "-f", capacity, "-o", "json"});
  INFO(plan.err);
  REQUIRE(plan.exit_code == 2);
  json j = json::parse(plan.out);
  const json& action = j["policies"][0]["actions"][0];
  INFO(action.dump());
  // 1400 lines over 5m of about 1.5s each: 7.2 requests in progress, 5 dynos of 2 at 75%.
  CHECK(action["summary"] == "scale 2 -> 5");
  CHECK(action["reason"].get<std::string>().find("; the load needs 5 (4.68/s x 1.53s") !=
        std::string::npos);
  CHECK(fake->Requests("PATCH").empty());  // plan changes nothing
  CheckCapacityJson(j["policies"][0]["formations"][0]);
  const json step_plan = json::parse(
      run({"plan", "-f", dir.Write("step.yaml", CapacityPolicy("step")), "-o", "json"}).out);
  CHECK(step_plan["policies"][0]["formations"][0].at("capacity").is_null());

  ProcessResult text = run({"plan", "-f", capacity});
  CHECK(text.out.find("  web  capacity: 4.68/s x 1.53s needs 5 dynos (utilization 1.79 of the "
                      "slots there are)\n") != std::string::npos);
  CHECK(text.out.find("  web  bounds: min 2, max 6 (schedule always)\n") != std::string::npos);

  ProcessResult reconcile = run({"reconcile", "-f", capacity, "-o", "json"});
  INFO(reconcile.err);
  CHECK(reconcile.exit_code == 0);
  const std::vector<json> patches = fake->Requests("PATCH");
  REQUIRE(patches.size() == 1);
  CHECK(patches[0]["path"] == "/apps/shop/formation");
  CheckCapacityJson(json::parse(reconcile.out)["policies"][0]["formations"][0]);

  ProcessResult status = run({"status", "-f", capacity, "-o", "json"});
  INFO(status.err);
  CHECK(status.exit_code == 0);
  CheckCapacityJson(json::parse(status.out)["policies"][0]["lastPass"]["formations"][0]);
}

TEST_CASE("run in mode capacity: /status and /metrics carry the estimate and the schedule") {
  auto started = FakeHerokuProcess::Start(SlowShop());
  REQUIRE_MESSAGE(started.ok(), started.status().message());
  std::unique_ptr<FakeHerokuProcess> fake = std::move(started).value();
  TempDir dir;
  const std::string policy = dir.Write("capacity.yaml", CapacityPolicy("capacity"));
  auto run_started = Subprocess::Start(
      DynoherdBinary(),
      {.args = {"run", "-f", policy, "--state", (dir.path() / "state.json").string(), "--listen",
                "127.0.0.1:0", "--log-level", "debug"},
       .env = fake->Env(kToken)});
  REQUIRE(run_started.ok());
  Subprocess& run = *run_started;
  REQUIRE_MESSAGE(run.WaitForOutput("msg=\"dynoherd is running\"", 20s), run.err());
  REQUIRE_MESSAGE(run.WaitForOutput("msg=\"next pass scheduled\" policy=shop-web", 20s), run.err());
  std::smatch port;
  const std::string err = run.err();
  REQUIRE(std::regex_search(err, port, std::regex(R"(listen=http://127\.0\.0\.1:(\d+))")));
  httplib::Client client("127.0.0.1", std::stoi(port[1]));

  auto status = client.Get("/status");
  REQUIRE(status);
  const json formation = json::parse(status->body)["policies"][0]["lastPass"]["formations"][0];
  CheckCapacityJson(formation);
  const std::string page = dir.Write("status.json", status->body);
  auto verdicts = SchemaVerdicts("docs/schemas/status.schema.json", {page});
  REQUIRE_MESSAGE(verdicts.ok(), verdicts.status().message());
  CHECK((*verdicts)[page] == "valid");

  // The same pass in the metrics.
  auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  INFO(metrics->body);
  const json& capacity = formation["capacity"];
  const std::string web = "{app=\"shop\",formation=\"web\",policy=\"shop-web\"}";
  CHECK(MetricValue(metrics->body, "dynoherd_formation_needed_quantity" + web) ==
        capacity["neededQuantity"].get<double>());
  // Not a structured binding: CHECK_MESSAGE captures it in a lambda, which Clang 14 refuses.
  for (const std::pair<std::string, std::string>& metric :
       std::vector<std::pair<std::string, std::string>>{
           {"dynoherd_formation_utilization_ratio", "utilization"},
           {"dynoherd_formation_arrivals_per_second", "arrivalsPerSecond"},
           {"dynoherd_formation_service_seconds", "serviceSeconds"}}) {
    CHECK_MESSAGE(MetricValue(metrics->body, metric.first + web) ==
                      doctest::Approx(capacity[metric.second].get<double>()),
                  metric.first);
  }
  const std::string bound = "dynoherd_formation_bound_quantity{app=\"shop\",bound=\"";
  CHECK(MetricValue(metrics->body, bound + "min\",formation=\"web\",policy=\"shop-web\"}") == 2);
  CHECK(MetricValue(metrics->body, bound + "max\",formation=\"web\",policy=\"shop-web\"}") == 6);
  CHECK(MetricValue(metrics->body,
                    "dynoherd_formation_schedule_info{app=\"shop\",formation=\"web\","
                    "policy=\"shop-web\",schedule=\"always\"}") == 1);
  ProcessResult promtool =
      RunProcess("/usr/bin/promtool", {.args = {"check", "metrics"}, .stdin_data = metrics->body});
  CHECK_MESSAGE(promtool.exit_code == 0, promtool.out << promtool.err);
  REQUIRE(run.Signal(SIGTERM).ok());
  CHECK(run.Wait(20s).exit_code == 0);
}

}  // namespace
}  // namespace dynoherd::testing
