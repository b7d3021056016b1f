#include "spec/loader.h"

#include <doctest/doctest.h>

#include <map>
#include <sstream>

#include "tests/support/temp_dir.h"

namespace dynoherd::spec {
namespace {

using testing::TempDir;

EnvLookup Env(std::map<std::string, std::string> vars = {}) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// Every error of loading `yaml` as "t.yaml", one per line.
std::string Errors(std::string_view yaml, const EnvLookup& env = Env()) {
  return ParsePolicies(yaml, "t.yaml", env).ErrorText();
}

Policy LoadOne(std::string_view yaml, const EnvLookup& env = Env()) {
  LoadResult result = ParsePolicies(yaml, "t.yaml", env);
  INFO(result.ErrorText());
  REQUIRE(result.ok());
  REQUIRE(result.policies.size() == 1);
  return result.policies[0];
}

std::string Trim(std::string_view text) {
  if (!text.empty() && text.front() == '\n') text.remove_prefix(1);
  return std::string(text);
}

// A heroku policy whose one formation is `web` plus `body`: body's first line is line 9 and
// its fields are indented 6 spaces.
std::string Web(std::string_view body) {
  return "apiVersion: dynoherd/v1\n"
         "kind: FormationPolicy\n"
         "metadata:\n"
         "  name: shop\n"
         "spec:\n"
         "  app: shop\n"
         "  formations:\n"
         "    - type: web\n" +
         Trim(body);
}

// A sim policy with one formation `web` (latency source sim); `body` is the inside of spec.sim,
// indented 4 spaces, from line 12.
std::string Sim(std::string_view body) {
  return "apiVersion: dynoherd/v1\n"
         "kind: FormationPolicy\n"
         "metadata:\n"
         "  name: demo\n"
         "spec:\n"
         "  app: demo\n"
         "  provider: sim\n"
         "  formations:\n"
         "    - type: web\n"
         "      latency: {source: sim}\n"
         "  sim:\n" +
         Trim(body);
}

const char* const kWebSim =
    "    formations:\n      web: {serviceTime: 100ms, rps: 10, quantity: 3}\n";

// --- Valid documents and defaults

TEST_CASE("a minimal policy gets every default from policy.h") {
  Policy p = LoadOne(Web(R"(
      latency: {}
      laggards: {}
      autoscale: {latencyThreshold: 2s}
)"));
  CHECK(p.name == "shop");
  CHECK(p.app == "shop");
  CHECK(p.provider == ProviderKind::kHeroku);
  CHECK_FALSE(p.paused);
  CHECK(p.interval == Policy{}.interval);
  CHECK_FALSE(p.sim.has_value());
  REQUIRE(p.formations.size() == 1);
  const FormationSpec& f = p.formations[0];
  CHECK(f.type == "web");
  CHECK_FALSE(f.quantity.has_value());
  REQUIRE(f.latency.has_value());
  CHECK(*f.latency == LatencySpec{});
  REQUIRE(f.laggards.has_value());
  CHECK(*f.laggards == LaggardSpec{});
  REQUIRE(f.autoscale.has_value());
  CHECK(f.autoscale->latency_threshold == 2s);
  CHECK(f.autoscale->restored_threshold == 2s);  // omitted: latencyThreshold
  CHECK(f.autoscale->alert_interval == AutoscaleSpec{}.alert_interval);
  CHECK(f.autoscale->max_extra_workers == AutoscaleSpec{}.max_extra_workers);
  CHECK_FALSE(f.autoscale->max_duration.has_value());
  CHECK(f.autoscale->restore_delay == 5min);
  CHECK(p.location.ToString() == "t.yaml:1:1");
  CHECK(f.location.ToString() == "t.yaml:8:7");
}

TEST_CASE("every field is stored where it belongs") {
  Policy p = LoadOne(R"(
apiVersion: dynoherd/v1
kind: FormationPolicy
metadata:
  name: shop-web
spec:
  app: shop-production
  provider: heroku
  paused: true
  interval: 1m30s
  formations:
    - type: web
      quantity: 4
      latency:
        source: router-logs
        window: 10m
        statistic: p99
        via: drain
      laggards:
        sigma: 3.5
        method: mad
        statistic: mean
        minRatio: 2
        minDynos: 4
        minSamples: 50
        minLatency: 0.5s
        action: stop
        select: random
        maxPerCycle: 2
        cooldown: 15m
        maxUnavailable: 2
        startupGrace: 90s
        duringEvent: true
      autoscale:
        latencyThreshold: 3s
        restoredThreshold: 1500ms
        alertInterval: 30s
        maxExtraWorkers: 5
        maxDuration: 2h
        restoreDelay: 90s
    - type: worker
      latency:
        source: prometheus
        url: https://prom.example.com:9090/
        query: max(queue_latency_seconds)
        dynoLabel: instance
)");
  CHECK(p.name == "shop-web");
  CHECK(p.app == "shop-production");
  CHECK(p.paused);
  CHECK(p.interval == 90s);
  REQUIRE(p.formations.size() == 2);
  const FormationSpec& web = p.formations[0];
  CHECK(web.quantity == 4);
  CHECK(web.latency->source == LatencySourceKind::kRouterLogs);
  CHECK(web.latency->window == 10min);
  CHECK(web.latency->statistic == Statistic::kP99);
  CHECK(web.latency->via == RouterLogsVia::kDrain);
  const LaggardSpec& l = *web.laggards;
  CHECK(l.sigma == 3.5);
  CHECK(l.method == LaggardMethod::kMad);
  CHECK(l.statistic == Statistic::kMean);
  CHECK(l.min_ratio == 2.0);
  CHECK(l.min_dynos == 4);
  CHECK(l.min_samples == 50);
  CHECK(l.min_latency == 500ms);
  CHECK(l.action == LaggardAction::kStop);
  CHECK(l.select == LaggardSelect::kRandom);
  CHECK(l.max_per_cycle == 2);
  CHECK(l.cooldown == 15min);
  CHECK(l.max_unavailable == CountOrPercent{false, 2});
  CHECK(l.startup_grace == 90s);
  CHECK(l.during_event);
  const AutoscaleSpec& a = *web.autoscale;
  CHECK(a.latency_threshold == 3s);
  CHECK(a.restored_threshold == 1500ms);
  CHECK(a.alert_interval == 30s);
  CHECK(a.max_extra_workers == 5);
  CHECK(a.max_duration == 2h);
  CHECK(a.restore_delay == 90s);
  const FormationSpec& worker = p.formations[1];
  CHECK(worker.latency->source == LatencySourceKind::kPrometheus);
  CHECK(worker.latency->url == "https://prom.example.com:9090/");
  CHECK(worker.latency->query == "max(queue_latency_seconds)");
  CHECK(worker.latency->dyno_label == "instance");
  CHECK_FALSE(worker.laggards.has_value());
  CHECK_FALSE(worker.autoscale.has_value());
  CHECK(p.FindFormation("worker") == &p.formations[1]);
}

TEST_CASE("the sim block is stored in full") {
  Policy p = LoadOne(R"(
apiVersion: dynoherd/v1
kind: FormationPolicy
metadata: {name: demo}
spec:
  app: demo
  provider: sim
  formations:
    - type: web
      latency: {source: sim}
    - type: worker
  sim:
    seed: 7
    speed: 60
    duration: 45m
    restartDelay: 30s
    formations:
      web: {quantity: 6, serviceTime: 120ms, rps: 40}
      worker: {quantity: 2, jobTime: 2s, jobsPerSecond: 0.8}
    incidents:
      - {at: 3m, kind: noisy-neighbor, dyno: web.3, factor: 4}
      - {at: 12m, kind: surge, formation: web, factor: 2.5, for: 8m}
      - {at: 20m, kind: surge, formation: worker, factor: 3}
)");
  CHECK(p.provider == ProviderKind::kSim);
  REQUIRE(p.sim.has_value());
  const SimSpec& sim = *p.sim;
  CHECK(sim.seed == 7);
  CHECK(sim.speed == 60.0);
  CHECK(sim.duration == 45min);
  CHECK(sim.restart_delay == 30s);
  REQUIRE(sim.formations.size() == 2);
  CHECK(sim.formations[0].type == "web");
  CHECK(sim.formations[0].quantity == 6);
  CHECK(sim.formations[0].service_time == 120ms);
  CHECK(sim.formations[0].rps == 40.0);
  CHECK_FALSE(sim.formations[0].job_time.has_value());
  CHECK(sim.formations[1].type == "worker");
  CHECK(sim.formations[1].job_time == 2s);
  CHECK(sim.formations[1].jobs_per_second == 0.8);
  REQUIRE(sim.incidents.size() == 3);
  CHECK(sim.incidents[0].at == 3min);
  CHECK(sim.incidents[0].kind == IncidentKind::kNoisyNeighbor);
  CHECK(sim.incidents[0].dyno == "web.3");
  CHECK(sim.incidents[0].factor == 4.0);
  CHECK_FALSE(sim.incidents[0].duration.has_value());
  CHECK(sim.incidents[1].kind == IncidentKind::kSurge);
  CHECK(sim.incidents[1].formation == "web");
  CHECK(sim.incidents[1].factor == 2.5);
  CHECK(sim.incidents[1].duration == 8min);
  CHECK_FALSE(sim.incidents[2].duration.has_value());
}

TEST_CASE("sim defaults come from policy.h") {
  Policy p = LoadOne(Sim(kWebSim));
  REQUIRE(p.sim.has_value());
  CHECK(p.sim->seed == SimSpec{}.seed);
  CHECK(p.sim->speed == SimSpec{}.speed);
  CHECK(p.sim->duration == SimSpec{}.duration);
  CHECK(p.sim->restart_delay == SimSpec{}.restart_delay);
  CHECK(p.sim->incidents.empty());
}

// --- Structure: unknown fields, duplicates, missing fields, types

TEST_CASE("an unknown field is located at its key, with a did-you-mean for near misses") {
  CHECK(Errors(Web(R"(
      latency: {}
      laggards:
        sigmaa: 2
)")) == "t.yaml:11:9: spec.formations[0].laggards.sigmaa: unknown field \"sigmaa\" "
        "(did you mean \"sigma\"?)\n");
  CHECK(Errors(Web(R"(
      latency: {}
      laggards:
        min_ratio: 2
)")) == "t.yaml:11:9: spec.formations[0].laggards.min_ratio: unknown field \"min_ratio\" "
        "(did you mean \"minRatio\"?)\n");
  CHECK(Errors(Web(R"(
      autoscale:
        latencyThreshold: 1s
        foo: 1
      latency: {}
)")) == "t.yaml:11:9: spec.formations[0].autoscale.foo: unknown field \"foo\" (allowed here: "
        "latencyThreshold, restoredThreshold, alertInterval, maxExtraWorkers, maxDuration, "
        "restoreDelay)\n");
}

TEST_CASE("an unknown top-level field") {
  CHECK(Errors("apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: a}\n"
               "spec: {app: shop, formations: [{type: web}]}\nstatus: {}\n") ==
        "t.yaml:5:1: status: unknown field \"status\" (allowed here: apiVersion, kind, "
        "metadata, spec)\n");
}

TEST_CASE("a duplicate key is an error at the second one") {
  CHECK(Errors(Web(R"(
      quantity: 2
      quantity: 3
)")) == "t.yaml:10:7: spec.formations[0].quantity: duplicate key \"quantity\"; first set at "
        "line 9\n");
}

TEST_CASE("missing required fields are located at the mapping that lacks them") {
  CHECK(Errors("kind: FormationPolicy\nspec:\n  formations: [{type: web}]\n") ==
        "t.yaml:1:1: apiVersion: required field is missing\n"
        "t.yaml:1:1: metadata: required field is missing\n"
        "t.yaml:2:1: spec.app: required field is missing\n");
  CHECK(Errors("apiVersion: dynoherd/v1\nmetadata: {}\nspec: {app: shop}\n") ==
        "t.yaml:1:1: kind: required field is missing\n"
        "t.yaml:2:1: metadata.name: required field is missing\n"
        "t.yaml:3:1: spec.formations: required field is missing\n");
  CHECK(Errors(Web(R"(
      latency: {}
      autoscale:
        restoredThreshold: 1s
)")) == "t.yaml:10:7: spec.formations[0].autoscale.latencyThreshold: required field is "
        "missing\n");
  CHECK(Errors("apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: a}\n"
               "spec:\n  app: shop\n  formations:\n    - quantity: 1\n") ==
        "t.yaml:7:7: spec.formations[0].type: required field is missing\n");
}

TEST_CASE("apiVersion and kind must be exactly the supported ones") {
  CHECK(Errors("apiVersion: dynoherd/v2\nkind: Policy\nmetadata: {name: a}\n"
               "spec: {app: shop, formations: [{type: web}]}\n") ==
        "t.yaml:1:13: apiVersion: must be dynoherd/v1 (got the string \"dynoherd/v2\")\n"
        "t.yaml:2:7: kind: must be FormationPolicy (got the string \"Policy\")\n");
}

TEST_CASE("wrong types say what was expected and what was found") {
  CHECK(Errors(Web(R"(
      quantity: "3"
)")) == "t.yaml:9:17: spec.formations[0].quantity: must be an integer (got the string \"3\")\n");
  CHECK(Errors(Web(R"(
      quantity: 2.5
)")) == "t.yaml:9:17: spec.formations[0].quantity: must be an integer (got the number 2.5)\n");
  CHECK(Errors(Web(R"(
      quantity: 3.0
)")) == "t.yaml:9:17: spec.formations[0].quantity: must be an integer (got the number 3.0; "
        "write it without a fraction)\n");
  CHECK(Errors(Web(R"(
      quantity: [3]
)")) == "t.yaml:9:17: spec.formations[0].quantity: must be an integer (got a list)\n");
  CHECK(Errors(Web(R"(
      latency: {}
      laggards:
        sigma: high
)")) == "t.yaml:11:16: spec.formations[0].laggards.sigma: must be a number (got the string "
        "\"high\")\n");
  CHECK(Errors(Web(R"(
      latency: {}
      laggards:
        duringEvent: yes
)")) == "t.yaml:11:22: spec.formations[0].laggards.duringEvent: must be true or false (got "
        "the string \"yes\")\n");
  CHECK(Errors(Web(R"(
      latency: 5m
)")) == "t.yaml:9:16: spec.formations[0].latency: must be a mapping (got the string \"5m\")\n");
  CHECK(Errors(Web(R"(
      latency:
)")) == "t.yaml:9:7: spec.formations[0].latency: must be a mapping (got null; write "
        "\"latency: {}\" for every default)\n");
  CHECK(Errors("apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: a}\n"
               "spec: {app: shop, formations: {type: web}}\n") ==
        "t.yaml:4:31: spec.formations: must be a list (got a mapping)\n");
  CHECK(Errors("apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: a}\n"
               "spec: {app: shop, formations: [web]}\n") ==
        "t.yaml:4:32: spec.formations[0]: must be a mapping (got the string \"web\")\n");
}

TEST_CASE("a number where a string belongs must be quoted") {
  CHECK(Errors(Web(R"(
      latency:
        source: prometheus
        url: http://127.0.0.1:9090
        query: 42
)")) == "t.yaml:12:16: spec.formations[0].latency.query: must be a string (got the number 42; "
        "quote it: \"42\")\n");
  Policy p = LoadOne(Web(R"(
      latency:
        source: prometheus
        url: http://127.0.0.1:9090
        query: "42"
)"));
  CHECK(p.formations[0].latency->query == "42");
}

TEST_CASE("enums list their values and suggest near misses") {
  CHECK(Errors(Web(R"(
      latency: {}
      laggards:
        method: leave-on-out
)")) == "t.yaml:11:17: spec.formations[0].laggards.method: must be one of leave-one-out, "
        "population, mad (got the string \"leave-on-out\"; did you mean \"leave-one-out\"?)\n");
  CHECK(Errors(Web(R"(
      latency:
        statistic: median
)")) == "t.yaml:10:20: spec.formations[0].latency.statistic: must be one of mean, p50, p95, "
        "p99, max (got the string \"median\")\n");
}

TEST_CASE("laggards.statistic is only mean, p50 or p95") {
  CHECK(Errors(Web(R"(
      latency: {}
      laggards:
        statistic: p99
)")) == "t.yaml:11:20: spec.formations[0].laggards.statistic: must be one of mean, p50, p95 "
        "(got the string \"p99\"; did you mean \"p95\"?)\n");
}

// --- Ranges

TEST_CASE("numbers out of range name the bound") {
  CHECK(Errors(Web(R"(
      latency: {}
      laggards:
        sigma: -1
)")) == "t.yaml:11:16: spec.formations[0].laggards.sigma: must be > 0 (got -1)\n");
  CHECK(Errors(Web(R"(
      latency: {}
      laggards:
        sigma: 0
        minRatio: 0.5
        minDynos: 1
        minSamples: 0
        maxPerCycle: 0
)")) == "t.yaml:11:16: spec.formations[0].laggards.sigma: must be > 0 (got 0)\n"
        "t.yaml:12:19: spec.formations[0].laggards.minRatio: must be >= 1 (got 0.5)\n"
        "t.yaml:13:19: spec.formations[0].laggards.minDynos: must be >= 2 (got 1)\n"
        "t.yaml:14:21: spec.formations[0].laggards.minSamples: must be >= 1 (got 0)\n"
        "t.yaml:15:22: spec.formations[0].laggards.maxPerCycle: must be >= 1 (got 0)\n");
  CHECK(Errors(Web(R"(
      quantity: -1
      latency: {}
      laggards: {sigma: 11}
      autoscale: {latencyThreshold: 1s, maxExtraWorkers: 101}
)")) == "t.yaml:9:17: spec.formations[0].quantity: must be >= 0 (got -1)\n"
        "t.yaml:11:25: spec.formations[0].laggards.sigma: must be <= 10 (got 11)\n"
        "t.yaml:12:58: spec.formations[0].autoscale.maxExtraWorkers: must be <= 100 (got 101)\n");
  CHECK(Errors(Web(R"(
      quantity: 99999999999999999999999
)")) == "t.yaml:9:17: spec.formations[0].quantity: must be <= 1000 (got "
        "99999999999999999999999)\n");
}

TEST_CASE("numbers in every YAML 1.2 spelling; infinities are not numbers") {
  auto sigma = [](std::string value) {
    return Web("      latency: {}\n      laggards:\n        sigma: " + value + "\n");
  };
  CHECK(LoadOne(sigma("0x3")).formations[0].laggards->sigma == 3.0);
  CHECK(LoadOne(sigma("0o7")).formations[0].laggards->sigma == 7.0);
  CHECK(LoadOne(sigma("2.5e0")).formations[0].laggards->sigma == 2.5);
  CHECK(LoadOne(sigma(".5")).formations[0].laggards->sigma == 0.5);
  CHECK(Errors(sigma(".inf")) ==
        "t.yaml:11:16: spec.formations[0].laggards.sigma: must be a finite number (got .inf)\n");
  CHECK(Errors(sigma(".nan")) ==
        "t.yaml:11:16: spec.formations[0].laggards.sigma: must be a finite number (got .nan)\n");
  CHECK(Errors(sigma("1e999")) ==
        "t.yaml:11:16: spec.formations[0].laggards.sigma: must be a finite number (got 1e999)\n");
  CHECK(LoadOne(Web("      quantity: 0x10\n")).formations[0].quantity == 16);
}

TEST_CASE("durations: units are required, ranges are checked") {
  CHECK(Errors(Web(R"(
      latency:
        window: 300
)")) == "t.yaml:10:17: spec.formations[0].latency.window: duration \"300\" needs a unit "
        "(units: ms, s, m, h; e.g. 500ms, 90s, 5m, 1m30s)\n");
  CHECK(Errors(Web(R"(
      latency:
        window: 5 min
)")) == "t.yaml:10:17: spec.formations[0].latency.window: unknown unit \" min\" in duration "
        "\"5 min\" (units: ms, s, m, h; e.g. 500ms, 90s, 5m, 1m30s)\n");
  CHECK(Errors(Web(R"(
      latency:
        window: 10s
)")) == "t.yaml:10:17: spec.formations[0].latency.window: must be >= 30s (got 10s)\n");
  CHECK(Errors(Web(R"(
      latency:
        window: 2h
)")) == "t.yaml:10:17: spec.formations[0].latency.window: must be <= 1h (got 2h)\n");
  CHECK(Errors(Web(R"(
      latency:
        window: -5m
)")) == "t.yaml:10:17: spec.formations[0].latency.window: duration must not be negative "
        "(got \"-5m\")\n");
  CHECK(Errors(Web(R"(
      latency:
        window: true
)")) == "t.yaml:10:17: spec.formations[0].latency.window: must be a duration like 90s (got "
        "the boolean true)\n");
}

TEST_CASE("interval is at least 10s") {
  std::string doc = Web("");
  std::string slow = doc;
  slow.replace(slow.find("  formations:"), 0, "  interval: 5s\n");
  CHECK(Errors(slow) == "t.yaml:7:13: spec.interval: must be >= 10s (got 5s)\n");
  std::string ok = doc;
  ok.replace(ok.find("  formations:"), 0, "  interval: 10s\n");
  CHECK(LoadOne(ok).interval == 10s);
}

TEST_CASE("maxUnavailable is a count >= 1 or a percentage 1%..100%") {
  auto with = [](std::string value) {
    return Web("      latency: {}\n      laggards:\n        maxUnavailable: " + value + "\n");
  };
  CHECK(LoadOne(with("3")).formations[0].laggards->max_unavailable == CountOrPercent{false, 3});
  CHECK(LoadOne(with("50%")).formations[0].laggards->max_unavailable == CountOrPercent{true, 50});
  CHECK(LoadOne(with("100%")).formations[0].laggards->max_unavailable == CountOrPercent{true, 100});
  CHECK(Errors(with("0")) ==
        "t.yaml:11:25: spec.formations[0].laggards.maxUnavailable: must be >= 1 (got 0)\n");
  CHECK(Errors(with("0%")) ==
        "t.yaml:11:25: spec.formations[0].laggards.maxUnavailable: a "
        "percentage must be a whole number between 1% and 100% (got 0%)\n");
  CHECK(Errors(with("150%")) ==
        "t.yaml:11:25: spec.formations[0].laggards.maxUnavailable: a percentage must be a whole "
        "number between 1% and 100% (got 150%)\n");
  CHECK(Errors(with("12.5%")) ==
        "t.yaml:11:25: spec.formations[0].laggards.maxUnavailable: a percentage must be a whole "
        "number between 1% and 100% (got 12.5%)\n");
  CHECK(Errors(with("\"3\"")) ==
        "t.yaml:11:25: spec.formations[0].laggards.maxUnavailable: must be a count like 2 or a "
        "percentage like 25% (got the string \"3\")\n");
  CHECK(Errors(with("half")) ==
        "t.yaml:11:25: spec.formations[0].laggards.maxUnavailable: must be a count like 2 or a "
        "percentage like 25% (got the string \"half\")\n");
}

// --- Names

// --- Labels and annotations

std::string WithMetadata(std::string_view metadata_lines) {
  return "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata:\n  name: shop\n" +
         std::string(metadata_lines) + "spec: {app: shop, formations: [{type: web}]}\n";
}

TEST_CASE("labels and annotations as Kustomize and Argo CD write them are kept") {
  Policy policy =
      LoadOne(WithMetadata("  labels:\n"
                           "    app.kubernetes.io/name: dynoherd\n"
                           "    app.kubernetes.io/part-of: shop\n"
                           "    argocd.argoproj.io/instance: shop-prod\n"
                           "    empty: \"\"\n"
                           "  annotations:\n"
                           "    argocd.argoproj.io/sync-wave: \"2\"\n"
                           "    config.kubernetes.io/origin: |\n"
                           "      path: base/policy.yaml\n"));
  CHECK(policy.labels ==
        std::map<std::string, std::string>{{"app.kubernetes.io/name", "dynoherd"},
                                           {"app.kubernetes.io/part-of", "shop"},
                                           {"argocd.argoproj.io/instance", "shop-prod"},
                                           {"empty", ""}});
  CHECK(policy.annotations.at("argocd.argoproj.io/sync-wave") == "2");
  CHECK(policy.annotations.at("config.kubernetes.io/origin") == "path: base/policy.yaml\n");
}

TEST_CASE("label and annotation keys and values are checked as Kubernetes does, each located") {
  CHECK(Errors(WithMetadata("  labels:\n    Example.com/x: a\n")) ==
        "t.yaml:6:5: metadata.labels[\"Example.com/x\"]: invalid key: the prefix must be a DNS "
        "subdomain: lowercase labels of a-z, 0-9 and '-', each starting and ending with a letter "
        "or digit, joined by '.'\n");
  CHECK(Errors(WithMetadata("  labels:\n    team: -core\n")) ==
        "t.yaml:6:11: metadata.labels[\"team\"]: must be a label value: empty, or letters, "
        "digits, '-', '_' or '.', starting and ending with a letter or digit (got \"-core\")\n");
  CHECK(Errors(WithMetadata("  labels:\n    version: 2\n")) ==
        "t.yaml:6:14: metadata.labels[\"version\"]: must be a string (got the number 2; quote "
        "it: \"2\")\n");
  CHECK(Errors(WithMetadata("  labels:\n    x: " + std::string(64, 'v') + "\n")) ==
        "t.yaml:6:8: metadata.labels[\"x\"]: must be at most 63 characters (got 64)\n");
  CHECK(Errors(WithMetadata("  annotations:\n    " + std::string(64, 'k') + ": v\n")) ==
        "t.yaml:6:5: metadata.annotations[\"" + std::string(64, 'k') +
            "\"]: invalid key: the name must be at most 63 characters (got 64)\n");
  CHECK(Errors(WithMetadata("  annotations:\n    a/b/c: v\n")) ==
        "t.yaml:6:5: metadata.annotations[\"a/b/c\"]: invalid key: the name may hold only letters, "
        "digits, '-', '_' and '.' (one '/' after a prefix)\n");
  CHECK(Errors(WithMetadata("  labels: [a]\n")) ==
        "t.yaml:5:11: metadata.labels: must be a mapping of strings (got a list)\n");
  CHECK(Errors(WithMetadata("  labels:\n    a: x\n    a: y\n")) ==
        "t.yaml:7:5: metadata.labels[\"a\"]: duplicate key \"a\"; first set at line 6\n");
}

TEST_CASE("annotations total at most 256 KiB, like Kubernetes") {
  const std::string big(130 << 10, 'x');
  std::string two = "  annotations:\n    a: " + big + "\n    b: " + big + "\n";
  CHECK(Errors(WithMetadata(two)) ==
        "t.yaml:6:5: metadata.annotations: keys and values must total at most 262144 bytes (got " +
            std::to_string(2 * big.size() + 2) + ")\n");
  CHECK(LoadOne(WithMetadata("  annotations:\n    a: " + big + "\n")).annotations.at("a") == big);
}

TEST_CASE("-a replaces spec.app without expanding what is written, and is checked like it") {
  const std::string yaml =
      "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: a}\n"
      "spec: {app: '${UNSET}', formations: [{type: web}]}\n";
  LoadResult moved = ParsePolicies(yaml, "t.yaml", Env(), {.app = "shop-staging"});
  REQUIRE(moved.ok());
  CHECK(moved.policies[0].app == "shop-staging");
  CHECK(ParsePolicies(yaml, "t.yaml", Env(), {.app = "Shop"}).ErrorText() ==
        "t.yaml:4:13: spec.app: must be a Heroku app name (3 to 30 characters: a-z, 0-9 and '-', "
        "starting with a letter) or an app id (UUID) (got \"Shop\" from -a)\n");
}

TEST_CASE("policy names are lowercase DNS labels of at most 63 characters") {
  auto named = [](std::string name) {
    return "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata:\n  name: " + name +
           "\nspec: {app: shop, formations: [{type: web}]}\n";
  };
  CHECK(LoadOne(named("shop-web-2")).name == "shop-web-2");
  CHECK(Errors(named("Shop_Web")) ==
        "t.yaml:4:9: metadata.name: must be a lowercase DNS label: a-z, 0-9 and '-', starting "
        "and ending with a letter or digit (got \"Shop_Web\")\n");
  CHECK(Errors(named("-shop")) ==
        "t.yaml:4:9: metadata.name: must be a lowercase DNS label: a-z, 0-9 and '-', starting "
        "and ending with a letter or digit (got \"-shop\")\n");
  CHECK(Errors(named(std::string(64, 'a'))) ==
        "t.yaml:4:9: metadata.name: must be at most 63 characters (got 64)\n");
  CHECK(LoadOne(named(std::string(63, 'a'))).name.size() == 63);
}

TEST_CASE("policy names are unique across documents and files") {
  const std::string doc =
      "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: shop}\n"
      "spec: {app: shop, formations: [{type: web}]}\n";
  CHECK(Errors(doc + "---\n" + doc) ==
        "t.yaml:8:18: metadata.name: duplicate policy name \"shop\"; first defined at "
        "t.yaml:3:18\n");
  TempDir dir;
  std::string a = dir.Write("a.yaml", doc);
  std::string b = dir.Write("b.yaml", doc);
  std::istringstream no_stdin;
  LoadResult result = LoadPolicies({a, b}, Env(), no_stdin);
  CHECK(result.ErrorText() == b + ":3:18: metadata.name: duplicate policy name \"shop\"; first " +
                                  "defined at " + a + ":3:18\n");
  CHECK(result.policies.empty());
}

TEST_CASE("one Heroku formation is managed by one policy only") {
  auto policy = [](std::string name, std::string app, std::string types) {
    return "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: " + name +
           "}\nspec:\n  app: " + app + "\n  formations: [" + types + "]\n";
  };
  // The same app and type in two policies: they would undo each other's quantity every pass.
  CHECK(Errors(policy("a", "shop", "{type: web}") + "---\n" +
               policy("b", "shop", "{type: worker}, {type: web}")) ==
        "t.yaml:13:32: spec.formations[1]: formation \"web\" of app \"shop\" is already managed "
        "by policy \"a\" (t.yaml:6:16); two policies would undo each other's scaling\n");
  // Other formations of the same app, or the same type in another app, are fine.
  CHECK(Errors(policy("a", "shop", "{type: web}") + "---\n" +
               policy("b", "shop", "{type: worker}") + "---\n" +
               policy("c", "blog", "{type: web}")) == "");
}

TEST_CASE("formation types are valid process types, unique in their policy") {
  CHECK(Errors(Web(R"(
    - type: worker
    - type: web
)")) == "t.yaml:10:13: spec.formations[2].type: duplicate formation type \"web\"; first "
        "declared at line 8\n");
  CHECK(Errors(Web(R"(
    - type: web app
)")) == "t.yaml:9:13: spec.formations[1].type: must be a Heroku process type: 1 to 128 "
        "letters, digits, '_' or '-' (got \"web app\")\n");
  CHECK(Errors("apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: a}\n"
               "spec: {app: shop, formations: []}\n") ==
        "t.yaml:4:31: spec.formations: needs at least 1 entry (got 0)\n");
}

TEST_CASE("app is a Heroku app name or id") {
  auto app = [](std::string value) {
    return "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: a}\nspec:\n  app: " +
           value + "\n  formations: [{type: web}]\n";
  };
  CHECK(LoadOne(app("01234567-89ab-cdef-0123-456789abcdef")).app ==
        "01234567-89ab-cdef-0123-456789abcdef");
  CHECK(Errors(app("Shop")) ==
        "t.yaml:5:8: spec.app: must be a Heroku app name (3 to 30 characters: a-z, 0-9 and "
        "'-', starting with a letter) or an app id (UUID) (got \"Shop\")\n");
  CHECK(Errors(app("ab")) ==
        "t.yaml:5:8: spec.app: must be a Heroku app name (3 to 30 characters: a-z, 0-9 and "
        "'-', starting with a letter) or an app id (UUID) (got \"ab\")\n");
}

// --- Rules between fields

TEST_CASE("latency is required when laggards or autoscale is set") {
  CHECK(Errors(Web(R"(
      laggards: {}
)")) == "t.yaml:8:7: spec.formations[0].latency: required when laggards or autoscale is set\n");
  CHECK(Errors(Web(R"(
      autoscale: {latencyThreshold: 1s}
)")) == "t.yaml:8:7: spec.formations[0].latency: required when laggards or autoscale is set\n");
  CHECK(LoadOne(Web("      latency: {}\n")).formations[0].latency.has_value());
}

// A heroku policy whose one formation is `worker` plus `body` (line 9 on, indented 6).
std::string Worker(std::string_view body) {
  std::string doc = Web(body);
  doc.replace(doc.find("- type: web"), 11, "- type: worker");
  return doc;
}

TEST_CASE("sidekiq: url, queues, namespace and TLS settings are read; statistic is max") {
  Policy p = LoadOne(Worker(R"(
      latency:
        source: sidekiq
        url: ${REDIS_URL}
        queues: [default, "mailers"]
        namespace: myapp
        tlsVerify: false
      autoscale: {latencyThreshold: 30s, maxExtraWorkers: 3}
)"),
                     Env({{"REDIS_URL", "rediss://:s3cret@ec2.example.com:6380"}}));
  const LatencySpec& latency = *p.formations[0].latency;
  CHECK(latency.source == LatencySourceKind::kSidekiq);
  CHECK(latency.url == "rediss://:s3cret@ec2.example.com:6380");
  CHECK(latency.queues == std::vector<std::string>{"default", "mailers"});
  CHECK(latency.key_namespace == "myapp");
  CHECK_FALSE(latency.tls_verify);
  CHECK(latency.tls_ca_file.empty());
  CHECK(latency.statistic == Statistic::kMax);

  Policy all = LoadOne(Worker(R"(
      latency: {source: sidekiq, url: "redis://127.0.0.1:6379/2", queues: ["*"], tlsCaFile: ca.pem}
)"));
  CHECK(all.formations[0].latency->queues == std::vector<std::string>{"*"});
  CHECK(all.formations[0].latency->tls_verify);
  CHECK(all.formations[0].latency->tls_ca_file == "ca.pem");
}

TEST_CASE("sidekiq: url and queues are required, located where the latency is") {
  CHECK(Errors(Worker(R"(
      latency:
        source: sidekiq
)")) == "t.yaml:9:7: spec.formations[0].latency.url: required with source: sidekiq (Sidekiq's "
        "Redis)\n"
        "t.yaml:9:7: spec.formations[0].latency.queues: required with source: sidekiq: the "
        "queues this formation works, or [\"*\"]\n");
}

TEST_CASE("sidekiq: bad urls are refused at their place, never echoing the password") {
  const std::string http = Errors(Worker(R"(
      latency: {source: sidekiq, url: "http://:pw@127.0.0.1:6379", queues: [default]}
)"));
  CHECK(http ==
        "t.yaml:9:39: spec.formations[0].latency.url: must be a redis:// or rediss:// URL with "
        "source: sidekiq\n");
  const std::string port = Errors(Worker(R"(
      latency: {source: sidekiq, url: "redis://:hunter2@127.0.0.1:99999", queues: [default]}
)"));
  CHECK(port.find("t.yaml:9:39: spec.formations[0].latency.url: ") == 0);
  CHECK(port.find("port") != std::string::npos);
  CHECK(port.find("hunter2") == std::string::npos);
  const std::string expanded = Errors(Worker(R"(
      latency: {source: sidekiq, url: "${REDIS_URL}", queues: [default]}
)"),
                                      Env({{"REDIS_URL", "redis://:hunter2@host:6379?ssl=true"}}));
  CHECK(expanded.find("spec.formations[0].latency.url") != std::string::npos);
  CHECK(expanded.find("hunter2") == std::string::npos);
  CHECK(Errors(Worker(R"(
      latency: {source: sidekiq, url: "${REDIS_URL}", queues: [default]}
)"))
            .find("REDIS_URL") != std::string::npos);
}

TEST_CASE("sidekiq: queue lists are checked item by item") {
  CHECK(Errors(Worker(R"(
      latency:
        source: sidekiq
        url: redis://127.0.0.1
        queues: [default, "two words"]
)")) == "t.yaml:12:27: spec.formations[0].latency.queues[1]: must be a queue name (no spaces, "
        "at most 200 characters) or * (got \"two words\")\n");
  CHECK(Errors(Worker(R"(
      latency:
        source: sidekiq
        url: redis://127.0.0.1
        queues: [default, mailers, default]
)")) == "t.yaml:12:36: spec.formations[0].latency.queues[2]: duplicate queue \"default\"; first "
        "at queues[0]\n");
  CHECK(Errors(Worker(R"(
      latency: {source: sidekiq, url: redis://127.0.0.1, queues: []}
)")) == "t.yaml:9:66: spec.formations[0].latency.queues: needs at least 1 entry (got 0)\n");
  CHECK(Errors(Worker(R"(
      latency: {source: sidekiq, url: redis://127.0.0.1, queues: default}
)"))
            .find("spec.formations[0].latency.queues: must be a list of strings") !=
        std::string::npos);
  CHECK(Errors(Worker(R"(
      latency: {source: sidekiq, url: redis://127.0.0.1, queues: [[a]]}
)"))
            .find("spec.formations[0].latency.queues[0]: must be a string") != std::string::npos);
}

TEST_CASE("sidekiq: what belongs to other sources, and what a queue latency cannot do") {
  CHECK(Errors(Worker(R"(
      latency:
        source: sidekiq
        url: redis://127.0.0.1
        queues: [default]
        window: 1m
        statistic: p95
        query: up
        namespace: "app:"
        tlsVerify: false
        tlsCaFile: ca.pem
      laggards: {}
)")) == "t.yaml:13:9: spec.formations[0].latency.window: not with source: sidekiq, whose queues "
        "are read as they are at each pass\n"
        "t.yaml:14:20: spec.formations[0].latency.statistic: must be max with source: sidekiq, "
        "whose formation latency is the longest wait in its queues (got p95)\n"
        "t.yaml:15:9: spec.formations[0].latency.query: allowed only with source: prometheus "
        "(source is sidekiq)\n"
        "t.yaml:16:20: spec.formations[0].latency.namespace: must be a key prefix without spaces "
        "or a trailing ':' (got \"app:\")\n"
        "t.yaml:18:9: spec.formations[0].latency.tlsCaFile: needs tlsVerify: true (a CA file is "
        "for verifying; tlsVerify: false trusts any certificate)\n"
        "t.yaml:19:7: spec.formations[0].laggards: not with latency.source: sidekiq: queue "
        "latency says nothing about single dynos\n");
  CHECK(Errors(Worker(R"(
      latency: {url: "redis://127.0.0.1", queues: [default], namespace: x}
)")) == "t.yaml:9:17: spec.formations[0].latency.url: allowed only with source: prometheus or "
        "sidekiq (source is router-logs)\n"
        "t.yaml:9:43: spec.formations[0].latency.queues: allowed only with source: sidekiq "
        "(source is router-logs)\n"
        "t.yaml:9:62: spec.formations[0].latency.namespace: allowed only with source: sidekiq "
        "(source is router-logs)\n");
  CHECK(Errors(Worker(R"(
      latency: {source: prometheus, url: "redis://127.0.0.1", query: up}
)")) == "t.yaml:9:42: spec.formations[0].latency.url: must be an http:// or https:// URL with "
        "source: prometheus\n");
  CHECK(Errors(Sim(R"(
    formations:
      web: {serviceTime: 100ms, rps: 10, quantity: 3}
)")
                   .replace(Sim("").find("{source: sim}"), 13,
                            "{source: sidekiq, url: redis://h, queues: [a]}"))
            .find("spec.formations[0].latency.source: must be sim with provider: sim (got "
                  "sidekiq)") != std::string::npos);
}

TEST_CASE("prometheus needs url and query; they belong to prometheus only") {
  CHECK(Errors(Web(R"(
      latency:
        source: prometheus
)")) == "t.yaml:9:7: spec.formations[0].latency.url: required with source: prometheus\n"
        "t.yaml:9:7: spec.formations[0].latency.query: required with source: prometheus\n");
  CHECK(Errors(Web(R"(
      latency:
        url: http://127.0.0.1:9090
        query: up
        dynoLabel: instance
)")) == "t.yaml:10:9: spec.formations[0].latency.url: allowed only with source: prometheus or "
        "sidekiq (source is router-logs)\n"
        "t.yaml:11:9: spec.formations[0].latency.query: allowed only with source: prometheus "
        "(source is router-logs)\n"
        "t.yaml:12:9: spec.formations[0].latency.dynoLabel: allowed only with source: "
        "prometheus (source is router-logs)\n");
  CHECK(Errors(Web(R"(
      latency:
        source: prometheus
        url: http://127.0.0.1:9090
        query: up
        via: session
)")) == "t.yaml:13:9: spec.formations[0].latency.via: allowed only with source: router-logs "
        "(source is prometheus)\n");
  CHECK(Errors(Web(R"(
      latency:
        source: prometheus
        url: ftp://prom
        query: up
)")) == "t.yaml:11:14: spec.formations[0].latency.url: must be an http(s):// URL (prometheus) "
        "or a redis:// or rediss:// URL (sidekiq)\n");
  CHECK(Errors(Web(R"(
      latency:
        source: prometheus
        url: http://127.0.0.1:9090
        query: up
        dynoLabel: 1abc
)")) == "t.yaml:13:20: spec.formations[0].latency.dynoLabel: must be a Prometheus label name "
        "(got \"1abc\")\n");
}

TEST_CASE("restoredThreshold is at most latencyThreshold") {
  CHECK(Errors(Web(R"(
      latency: {}
      autoscale:
        latencyThreshold: 2s
        restoredThreshold: 3s
)")) == "t.yaml:12:28: spec.formations[0].autoscale.restoredThreshold: must be <= "
        "latencyThreshold 2s (got 3s)\n");
  Policy equal = LoadOne(Web(R"(
      latency: {}
      autoscale: {latencyThreshold: 2s, restoredThreshold: 2s}
)"));
  CHECK(equal.formations[0].autoscale->restored_threshold == 2s);
  // A broken latencyThreshold is reported once, not again as a broken comparison.
  CHECK(Errors(Web(R"(
      latency: {}
      autoscale:
        latencyThreshold: 20m
        restoredThreshold: 3s
)")) == "t.yaml:11:27: spec.formations[0].autoscale.latencyThreshold: must be <= 10m (got "
        "20m)\n");
}

TEST_CASE("provider sim <=> spec.sim <=> latency.source sim") {
  std::string no_sim = Sim("");
  no_sim.resize(no_sim.find("  sim:\n"));
  CHECK(Errors(no_sim) == "t.yaml:5:1: spec.sim: required with provider: sim\n");

  std::string heroku_with_sim = Sim(kWebSim);
  heroku_with_sim.replace(heroku_with_sim.find("provider: sim"), 13, "provider: heroku");
  CHECK(Errors(heroku_with_sim) ==
        "t.yaml:10:25: spec.formations[0].latency.source: sim needs provider: sim (provider is "
        "heroku)\n"
        "t.yaml:11:3: spec.sim: allowed only with provider: sim (provider is heroku)\n");

  std::string router_logs = Sim(kWebSim);
  router_logs.replace(router_logs.find("{source: sim}"), 13, "{source: router-logs}");
  CHECK(Errors(router_logs) ==
        "t.yaml:10:25: spec.formations[0].latency.source: must be sim "
        "with provider: sim (got router-logs)\n");

  std::string defaulted = Sim(kWebSim);
  defaulted.replace(defaulted.find("{source: sim}"), 13, "{}");
  CHECK(Errors(defaulted) ==
        "t.yaml:10:7: spec.formations[0].latency.source: must be sim with "
        "provider: sim (the default is router-logs)\n");
}

TEST_CASE("every formation of a sim policy has a simulated formation") {
  CHECK(Errors(Sim(R"(
    formations:
      worker: {jobTime: 1s, jobsPerSecond: 1}
)")) == "t.yaml:9:13: spec.formations[0].type: no simulated formation \"web\" in "
        "spec.sim.formations\n");
}

TEST_CASE("a simulated formation is web (serviceTime, rps) or worker (jobTime, jobsPerSecond)") {
  CHECK(Errors(Sim(R"(
    formations:
      web: {quantity: 2}
)")) == "t.yaml:13:7: spec.sim.formations.web: needs serviceTime and rps (a web formation) or "
        "jobTime and jobsPerSecond (a worker formation)\n");
  CHECK(Errors(Sim(R"(
    formations:
      web: {serviceTime: 100ms, rps: 10, jobTime: 1s}
)")) == "t.yaml:13:7: spec.sim.formations.web: mixes web fields (serviceTime, rps) with worker "
        "fields (jobTime, jobsPerSecond); a formation is one or the other\n");
  CHECK(Errors(Sim(R"(
    formations:
      web: {rps: 10}
)")) == "t.yaml:13:7: spec.sim.formations.web.serviceTime: required with rps\n");
  CHECK(Errors(Sim(R"(
    formations:
      web: {serviceTime: 10ms}
)")) == "t.yaml:13:7: spec.sim.formations.web.rps: required with serviceTime\n");
  CHECK(Errors(Sim(R"(
    formations:
      web: {serviceTime: 10ms, rps: 1}
      worker: {jobsPerSecond: 1}
)")) == "t.yaml:14:7: spec.sim.formations.worker.jobTime: required with jobsPerSecond\n");
  CHECK(Errors(Sim(R"(
    formations:
      web: {serviceTime: 10ms, rps: 1}
      worker: {jobTime: 1s}
)")) == "t.yaml:14:7: spec.sim.formations.worker.jobsPerSecond: required with jobTime\n");
  CHECK(Errors(Sim(R"(
    formations:
      web: {serviceTime: 10ms, rps: 1}
      "bad name": {jobTime: 1s, jobsPerSecond: 1}
)")) == "t.yaml:14:7: spec.sim.formations.bad name: key must be a Heroku process type: 1 to "
        "128 letters, digits, '_' or '-' (got \"bad name\")\n");
}

TEST_CASE("incidents name an existing formation and a plausible dyno") {
  auto incidents = [](std::string list) {
    return Sim(std::string(kWebSim) + "    incidents:\n" + list);
  };
  // Line 15 is the first incident.
  CHECK(Errors(incidents("      - {at: 1m, kind: noisy-neighbor, factor: 2}\n")) ==
        "t.yaml:15:9: spec.sim.incidents[0].dyno: required with kind: noisy-neighbor\n");
  CHECK(Errors(incidents("      - {at: 1m, kind: noisy-neighbor, dyno: web.4, factor: 2}\n")) ==
        "t.yaml:15:46: spec.sim.incidents[0].dyno: no dyno \"web.4\" at the start of the "
        "simulation: web has 3 (web.1 to web.3)\n");
  CHECK(Errors(incidents("      - {at: 1m, kind: noisy-neighbor, dyno: api.1, factor: 2}\n")) ==
        "t.yaml:15:46: spec.sim.incidents[0].dyno: no simulated formation \"api\" in "
        "spec.sim.formations\n");
  CHECK(Errors(incidents("      - {at: 1m, kind: noisy-neighbor, dyno: web, factor: 2}\n")) ==
        "t.yaml:15:46: spec.sim.incidents[0].dyno: must be a dyno name like web.3 (got "
        "\"web\")\n");
  CHECK(Errors(incidents("      - {at: 1m, kind: noisy-neighbor, dyno: web.1, factor: 0.5}\n")) ==
        "t.yaml:15:61: spec.sim.incidents[0].factor: must be >= 1 for a noisy neighbour, which "
        "slows its dyno down (got 0.5)\n");
  CHECK(Errors(incidents("      - {at: 1m, kind: noisy-neighbor, dyno: web.1, factor: 2, "
                         "formation: web, for: 1m}\n")) ==
        "t.yaml:15:64: spec.sim.incidents[0].formation: allowed only with kind: surge (a noisy "
        "neighbour names its dyno)\n"
        "t.yaml:15:80: spec.sim.incidents[0].for: allowed only with kind: surge (a noisy "
        "neighbour lasts until its dyno restarts)\n");
  CHECK(Errors(incidents("      - {at: 1m, kind: surge, factor: 2}\n")) ==
        "t.yaml:15:9: spec.sim.incidents[0].formation: required with kind: surge\n");
  CHECK(Errors(incidents("      - {at: 1m, kind: surge, formation: api, factor: 2}\n")) ==
        "t.yaml:15:42: spec.sim.incidents[0].formation: no simulated formation \"api\" in "
        "spec.sim.formations\n");
  CHECK(Errors(incidents("      - {at: 1m, kind: surge, formation: web, dyno: web.1, "
                         "factor: 2}\n")) ==
        "t.yaml:15:47: spec.sim.incidents[0].dyno: allowed only with kind: noisy-neighbor (a "
        "surge names its formation)\n");
  CHECK(Errors(incidents("      - {at: 30m, kind: surge, formation: web, factor: 2}\n")) ==
        "t.yaml:15:14: spec.sim.incidents[0].at: must be before the end of the simulation, "
        "duration 30m (got 30m)\n");
  CHECK(Errors(incidents("      - {at: 1m, kind: flood, formation: web, factor: 2}\n")) ==
        "t.yaml:15:24: spec.sim.incidents[0].kind: must be one of noisy-neighbor, surge (got the "
        "string \"flood\")\n");
  CHECK(Errors(incidents("      - {at: 1m, kind: surge, formation: web}\n")) ==
        "t.yaml:15:9: spec.sim.incidents[0].factor: required field is missing\n");
}

// --- YAML itself

TEST_CASE("malformed YAML is reported at the parser's position") {
  CHECK(Errors("apiVersion: dynoherd/v1\nkind: [FormationPolicy\nmetadata: {name: a}\n") ==
        "t.yaml:3:9: invalid YAML: end of sequence flow not found\n");
  CHECK(Errors("apiVersion: dynoherd/v1\n  kind: x\n") ==
        "t.yaml:2:7: invalid YAML: illegal map value\n");
}

TEST_CASE("inputs that once hung or crashed the loader are errors (found by fuzzing)") {
  // yaml-cpp 0.7 loops forever, collecting empty documents, on a stray ',' at a document's start.
  CHECK(Errors(",\n") ==
        "t.yaml:1:1: invalid YAML: unexpected content at the start of a document (a stray ',', "
        "or text the parser cannot read past)\n");
  CHECK(Errors("# comment\n%YAML 1.2\n,\n").find("t.yaml:3:1: invalid YAML: unexpected content") ==
        0);
  // A long plain scalar overflowed the stack of std::regex in the number check.
  const std::string digits(300000, '1');
  CHECK(Errors(Web("      quantity: " + digits + "\n")) ==
        "t.yaml:9:17: spec.formations[0].quantity: must be <= 1000 (got " + digits + ")\n");
  CHECK(Errors(Web("      quantity: 1." + digits + "\n")).find("must be an integer") !=
        std::string::npos);
  // And a long string in a field with a pattern but no length limit of its own.
  const std::string long_url = "http://prometheus:9090/" + std::string(60000, 'a');
  CHECK(Errors(Web("      latency: {source: prometheus, query: up, url: " + long_url + "}\n"))
            .find("spec.formations[0].latency.url: must be at most 10000 characters (got 60023)") !=
        std::string::npos);
}

TEST_CASE("a document that is not a mapping, and an input without documents") {
  CHECK(Errors("- a\n- b\n") ==
        "t.yaml:1:1: a FormationPolicy document must be a mapping (got a list)\n");
  CHECK(Errors("") == "t.yaml: no FormationPolicy documents\n");
  CHECK(Errors("# nothing here\n---\n") == "t.yaml: no FormationPolicy documents\n");
}

TEST_CASE("unsupported tags and non-string keys are errors") {
  CHECK(Errors(Web("      quantity: !custom 3\n")) ==
        "t.yaml:9:17: spec.formations[0].quantity: unsupported YAML tag \"!custom\"\n");
  CHECK(Errors(Web("      ? [a]\n      : 1\n")) ==
        "t.yaml:9:9: spec.formations[0]: keys must be plain names (got a list)\n");
  // Standard tags are honoured: !!str makes a string of what would be a number.
  CHECK(LoadOne(Web("      latency:\n        source: prometheus\n        url: http://h\n"
                    "        query: !!str 1\n"))
            .formations[0]
            .latency->query == "1");
}

TEST_CASE("multi-document files: each document is a policy, empty ones are skipped") {
  const std::string a =
      "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: a}\n"
      "spec: {app: shop, formations: [{type: web}]}\n";
  const std::string b =
      "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: b}\n"
      "spec: {app: shop, formations: [{type: web, quantity: x}]}\n";
  LoadResult ok = ParsePolicies("---\n" + a + "---\n---\n" + a + "...\n", "t.yaml", Env());
  CHECK(ok.ErrorText() ==
        "t.yaml:10:18: metadata.name: duplicate policy name \"a\"; first "
        "defined at t.yaml:4:18\n");
  std::string c =
      a.substr(0, a.find("{name: a}")) + "{name: c}" + a.substr(a.find("{name: a}") + 9);
  c.replace(c.find("app: shop"), 9, "app: blog");
  LoadResult two = ParsePolicies(a + "---\n" + c, "t.yaml", Env());
  REQUIRE(two.ok());
  REQUIRE(two.policies.size() == 2);
  CHECK(two.policies[0].name == "a");
  CHECK(two.policies[1].name == "c");
  CHECK(two.policies[1].location.ToString() == "t.yaml:6:1");
  // Errors in the second document carry that document's line numbers.
  CHECK(Errors(a + "---\n" + b) ==
        "t.yaml:9:54: spec.formations[0].quantity: must be an integer (got the string \"x\")\n");
}

TEST_CASE("three mistakes in one file give three located errors") {
  const std::string file = "tests/fixtures/three-mistakes.yaml";
  std::istringstream no_stdin;
  LoadResult result = LoadPolicies({file}, Env(), no_stdin);
  CHECK(result.policies.empty());
  REQUIRE(result.errors.size() == 3);
  CHECK(result.errors[0].ToString() == file + ":7:13: spec.interval: must be >= 10s (got 5s)");
  CHECK(result.errors[1].ToString() ==
        file +
            ":12:9: spec.formations[0].laggards.sigmaa: unknown field \"sigmaa\" (did you "
            "mean \"sigma\"?)");
  CHECK(result.errors[2].ToString() ==
        file +
            ":15:28: spec.formations[0].autoscale.restoredThreshold: must be <= "
            "latencyThreshold 1s (got 2s)");
  CHECK(result.errors[2].location.line == 15);
  CHECK(result.errors[2].location.column == 28);
  CHECK(result.errors[2].field == "spec.formations[0].autoscale.restoredThreshold");
  CHECK(result.errors[2].message == "must be <= latencyThreshold 1s (got 2s)");
}

// --- ${VAR}

TEST_CASE("${VAR} is expanded in app, url and query") {
  Policy p = LoadOne(R"(
apiVersion: dynoherd/v1
kind: FormationPolicy
metadata: {name: shop}
spec:
  app: ${HEROKU_APP_NAME}
  formations:
    - type: worker
      latency:
        source: prometheus
        url: ${PROM_URL}/
        query: 'max(latency{app="${HEROKU_APP_NAME}"}) > $$5 or up$'
)",
                     Env({{"HEROKU_APP_NAME", "shop-production"}, {"PROM_URL", "http://prom"}}));
  CHECK(p.app == "shop-production");
  CHECK(p.formations[0].latency->url == "http://prom/");
  CHECK(p.formations[0].latency->query == "max(latency{app=\"shop-production\"}) > $5 or up$");
}

TEST_CASE("an unset variable is an error naming it") {
  CHECK(Errors("apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: a}\n"
               "spec:\n  app: ${HEROKU_APP_NAME}\n  formations: [{type: web}]\n") ==
        "t.yaml:5:8: spec.app: environment variable HEROKU_APP_NAME is not set\n");
}

TEST_CASE("an expanded value is checked, and a secret-bearing url is never echoed") {
  const std::string doc = R"(
apiVersion: dynoherd/v1
kind: FormationPolicy
metadata: {name: a}
spec:
  app: ${APP}
  formations:
    - type: worker
      latency:
        source: prometheus
        url: ${PROM_URL}
        query: up
)";
  CHECK(Errors(doc, Env({{"APP", "Bad App"}, {"PROM_URL", "user:hunter2@prom"}})) ==
        "t.yaml:6:8: spec.app: must be a Heroku app name (3 to 30 characters: a-z, 0-9 and '-', "
        "starting with a letter) or an app id (UUID) (got \"Bad App\" from \"${APP}\")\n"
        "t.yaml:11:14: spec.formations[0].latency.url: must be an http(s):// URL (prometheus) "
        "or a redis:// or rediss:// URL (sidekiq)\n");
}

TEST_CASE("fields that do not expand keep ${...} as written") {
  CHECK(Errors("apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata:\n  name: ${NAME}\n"
               "spec: {app: shop, formations: [{type: web}]}\n",
               Env({{"NAME", "shop"}})) ==
        "t.yaml:4:9: metadata.name: must be a lowercase DNS label: a-z, 0-9 and '-', starting "
        "and ending with a letter or digit (got \"${NAME}\")\n");
}

// --- Inputs: files, directories, stdin

const char* const kPolicyA =
    "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: a}\n"
    "spec: {app: shop, formations: [{type: web}]}\n";
const char* const kPolicyB =
    "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: b}\n"
    "spec: {app: blog, formations: [{type: web}]}\n";
const char* const kPolicyC =
    "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: c}\n"
    "spec: {app: wiki, formations: [{type: web}]}\n";

std::vector<std::string> Names(const LoadResult& result) {
  std::vector<std::string> names;
  for (const auto& p : result.policies)
    names.push_back(p.name);
  return names;
}

TEST_CASE("a directory loads its *.yaml and *.yml files, sorted, not recursively") {
  TempDir dir;
  dir.Write("policies/b.yml", kPolicyB);
  dir.Write("policies/a.yaml", kPolicyA);
  dir.Write("policies/notes.txt", "not yaml");
  dir.Write("policies/.hidden.yaml", "not: [valid");
  dir.Write("policies/nested/c.yaml", kPolicyC);
  std::istringstream no_stdin;
  LoadResult result = LoadPolicies({(dir.path() / "policies").string()}, Env(), no_stdin);
  INFO(result.ErrorText());
  CHECK(result.ok());
  CHECK(Names(result) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("errors name the file as reached through the directory") {
  TempDir dir;
  dir.Write("p/a.yaml", kPolicyA);
  dir.Write("p/b.yaml", "apiVersion: dynoherd/v1\nkind: Nope\n");
  std::istringstream no_stdin;
  const std::string p = (dir.path() / "p").string();
  LoadResult result = LoadPolicies({p + "/"}, Env(), no_stdin);
  CHECK(result.ErrorText() ==
        p + "/b.yaml:1:1: metadata: required field is missing\n" + p +
            "/b.yaml:1:1: spec: required field is missing\n" + p +
            "/b.yaml:2:7: kind: must be FormationPolicy (got the string \"Nope\")\n");
}

TEST_CASE("stdin, several -f, and a file named twice is read once") {
  TempDir dir;
  std::string a = dir.Write("a.yaml", kPolicyA);
  std::string b = dir.Write("b.yaml", kPolicyB);
  std::istringstream in(kPolicyC);
  LoadResult result = LoadPolicies({a, "-", dir.path().string(), b}, Env(), in);
  INFO(result.ErrorText());
  CHECK(result.ok());
  CHECK(Names(result) == std::vector<std::string>{"a", "c", "b"});
}

TEST_CASE("stdin errors are located in <stdin>; - twice is an error") {
  std::istringstream in(
      "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: A}\n"
      "spec: {app: shop, formations: [{type: web}]}\n");
  LoadResult result = LoadPolicies({"-", "-"}, Env(), in);
  CHECK(result.ErrorText() ==
        "<stdin>:3:18: metadata.name: must be a lowercase DNS label: a-z, 0-9 and '-', starting "
        "and ending with a letter or digit (got \"A\")\n"
        "<stdin>: \"-\" (standard input) given twice\n");
}

TEST_CASE("missing paths, empty directories and oversized files are errors; others still load") {
  TempDir dir;
  dir.Write("empty/readme.md", "");
  std::string big = dir.Write("big.yaml", std::string((4 << 20) + 1, '#'));
  std::string a = dir.Write("a.yaml", kPolicyA);
  std::istringstream no_stdin;
  const std::string missing = (dir.path() / "missing.yaml").string();
  const std::string empty = (dir.path() / "empty").string();
  LoadResult result = LoadPolicies({missing, empty, big, a}, Env(), no_stdin);
  CHECK(result.ErrorText() == missing + ": no such file or directory\n" + empty +
                                  ": no *.yaml or *.yml files in this directory\n" + big +
                                  ": larger than 4 MiB; is this a policy file?\n");
  CHECK(result.policies.empty());  // never a partial set
}

TEST_CASE("LoadError::ToString leaves out what is unknown") {
  CHECK(LoadError{{"f.yaml", 3, 5}, "spec.app", "bad"}.ToString() == "f.yaml:3:5: spec.app: bad");
  CHECK(LoadError{{"f.yaml", 3, 5}, "", "invalid YAML: x"}.ToString() ==
        "f.yaml:3:5: invalid YAML: x");
  LoadError whole_file;  // built field by field: GCC 12 -O3 misreads the nested braced temporary
  whole_file.location.file = "f.yaml";
  whole_file.message = "no such file or directory";
  CHECK(whole_file.ToString() == "f.yaml: no such file or directory");
}

TEST_CASE("the examples are valid") {
  std::istringstream no_stdin;
  LoadResult result = LoadPolicies({"examples/"}, Env(), no_stdin);
  INFO(result.ErrorText());
  CHECK(result.ok());
  CHECK(Names(result) ==
        std::vector<std::string>{"demo", "shop-web", "shop-worker", "shop-workers"});
  const Policy& demo = result.policies[0];
  REQUIRE(demo.sim.has_value());
  CHECK(demo.sim->speed == 30.0);
  CHECK(demo.sim->duration == 30min);
  REQUIRE(demo.sim->incidents.size() == 2);
  CHECK(demo.sim->incidents[0].dyno == "web.3");
  CHECK(demo.sim->incidents[1].duration == 8min);
  CHECK(demo.FindFormation("web")->laggards.has_value());
  CHECK(demo.FindFormation("web")->autoscale.has_value());
  CHECK_FALSE(demo.FindFormation("worker")->laggards.has_value());
  CHECK(result.policies[2].formations[0].latency->source == LatencySourceKind::kPrometheus);
  CHECK_FALSE(result.policies[2].formations[0].laggards.has_value());
  const LatencySpec& sidekiq = *result.policies[3].formations[0].latency;
  CHECK(sidekiq.source == LatencySourceKind::kSidekiq);
  CHECK(sidekiq.queues == std::vector<std::string>{"default", "mailers"});
}

}  // namespace
}  // namespace dynoherd::spec
