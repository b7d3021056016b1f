// End-to-end tests of `dynoherd validate` and `dynoherd schema`: the real binary, its exit
// codes and output; and the schema checked by an independent draft 2020-12 validator.
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/json_schema.h"
#include "tests/support/policy_documents.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace dynoherd::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("validate -f examples/ exits 0 and counts the policies") {
  ProcessResult r = RunDynoherd({"validate", "-f", "examples/"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "4 policies valid\n");
  CHECK(r.err == "");
}

TEST_CASE("validate warns of a declared quantity 0, which is valid but stops the formation") {
  const std::string policy =
      "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: shop}\n"
      "spec:\n  app: shop\n  formations:\n    - {type: web, quantity: 2}\n"
      "    - {type: worker, quantity: 0}\n";
  ProcessResult r = RunDynoherd({"validate", "-f", "-"}, {.stdin_data = policy});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "1 policy valid\n");
  CHECK(r.err ==
        "<stdin>:8:7: spec.formations[1].quantity: warning: 0 stops every worker dyno of shop on "
        "the next pass (omit quantity to leave the running size alone)\n");
}

TEST_CASE("validate: a file with three mistakes prints three located errors and exits 1") {
  const std::string file = "tests/fixtures/three-mistakes.yaml";
  ProcessResult r = RunDynoherd({"validate", "-f", file});
  CHECK(r.exit_code == 1);
  CHECK(r.out == "");
  CHECK(r.err == file + ":7:13: spec.interval: must be >= 10s (got 5s)\n" + file +
                     ":12:9: spec.formations[0].laggards.sigmaa: unknown field \"sigmaa\" (did "
                     "you mean \"sigma\"?)\n" +
                     file +
                     ":15:28: spec.formations[0].autoscale.restoredThreshold: must be <= "
                     "latencyThreshold 1s (got 2s)\n");
}

TEST_CASE("validate reads stdin with -, expands ${VAR} from its environment") {
  const std::string policy =
      "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: shop}\n"
      "spec: {app: '${HEROKU_APP_NAME}', formations: [{type: web}]}\n";
  ProcessResult ok =
      RunDynoherd({"validate", "-f", "-"},
                  {.env = {{"HEROKU_APP_NAME", "shop-production"}}, .stdin_data = policy});
  CHECK(ok.exit_code == 0);
  CHECK(ok.out == "1 policy valid\n");

  ProcessResult unset = RunDynoherd({"validate", "-f", "-"},
                                    {.unset_env = {"HEROKU_APP_NAME"}, .stdin_data = policy});
  CHECK(unset.exit_code == 1);
  CHECK(unset.err == "<stdin>:4:13: spec.app: environment variable HEROKU_APP_NAME is not set\n");

  // ${VAR:-default}: the default when unset; the checks apply to what it gives.
  const std::string defaulted =
      "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: shop}\n"
      "spec: {app: '${HEROKU_APP_NAME:-Shop Staging}', formations: [{type: web}]}\n";
  ProcessResult bad_default = RunDynoherd(
      {"validate", "-f", "-"}, {.unset_env = {"HEROKU_APP_NAME"}, .stdin_data = defaulted});
  CHECK(bad_default.exit_code == 1);
  CHECK(bad_default.err.find("got \"Shop Staging\" from \"${HEROKU_APP_NAME:-Shop Staging}\"") !=
        std::string::npos);
  ProcessResult set = RunDynoherd({"validate", "-f", "-"},
                                  {.env = {{"HEROKU_APP_NAME", "shop"}}, .stdin_data = defaulted});
  CHECK(set.exit_code == 0);
}

TEST_CASE("validate takes several -f: files, directories and stdin together") {
  TempDir dir;
  dir.Write("more/a.yaml",
            "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: a}\n"
            "spec: {app: shop, formations: [{type: web}]}\n---\n"
            "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: b}\n"
            "spec: {app: shop, formations: [{type: worker}]}\n");
  ProcessResult r = RunDynoherd(
      {"validate", "-f", "examples/shop-web.yaml", "-f", (dir.path() / "more").string(), "-f", "-"},
      {.stdin_data = "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: c}\n"
                     "spec: {app: blog, formations: [{type: web}]}\n"});
  CHECK(r.err == "");
  CHECK(r.out == "4 policies valid\n");
  CHECK(r.exit_code == 0);
}

TEST_CASE(
    "validate takes the labels and annotations Kustomize and Argo CD add; a bad one is located") {
  auto labelled = [](const std::string& team) {
    return "apiVersion: dynoherd/v1\nkind: FormationPolicy\n"
           "metadata:\n"
           "  name: shop\n"
           "  labels:\n"
           "    app.kubernetes.io/name: dynoherd\n"
           "    app.kubernetes.io/managed-by: kustomize\n"
           "    argocd.argoproj.io/instance: shop-production\n"
           "    team: " +
           team +
           "\n"
           "  annotations:\n"
           "    argocd.argoproj.io/sync-wave: \"2\"\n"
           "    config.kubernetes.io/origin: |\n"
           "      path: base/shop.yaml\n"
           "spec: {app: shop, formations: [{type: web}]}\n";
  };
  TempDir dir;
  const std::string good = dir.Write("good.yaml", labelled("core"));
  ProcessResult ok = RunDynoherd({"validate", "-f", good});
  CHECK(ok.exit_code == 0);
  CHECK(ok.out == "1 policy valid\n");
  CHECK(ok.err == "");

  const std::string bad = dir.Write("bad.yaml", labelled("core team"));
  ProcessResult r = RunDynoherd({"validate", "-f", bad});
  CHECK(r.exit_code == 1);
  CHECK(r.err == bad +
                     ":9:11: metadata.labels[\"team\"]: must be a label value: empty, or "
                     "letters, digits, '-', '_' or '.', starting and ending with a letter or digit "
                     "(got \"core team\")\n");
}

TEST_CASE("validate without -f is a usage error") {
  ProcessResult r = RunDynoherd({"validate"});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("--filename is required") != std::string::npos);
}

TEST_CASE("an unknown command is named, not mistaken for a missing one") {
  ProcessResult r = RunDynoherd({"frob", "-f", "examples/"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "dynoherd: unknown command \"frob\"; `dynoherd help` lists them\n");
  CHECK(r.out.empty());
  ProcessResult none = RunDynoherd({});
  CHECK(none.exit_code == 1);
  CHECK(none.err.find("A subcommand is required") != std::string::npos);
}

TEST_CASE("validate --help and help validate describe -f with examples") {
  for (const auto& args : {std::vector<std::string>{"validate", "--help"},
                           std::vector<std::string>{"help", "validate"}}) {
    ProcessResult r = RunDynoherd(args);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("-f,--filename PATH") != std::string::npos);
    CHECK(r.out.find("dynoherd validate -f policies/") != std::string::npos);
  }
}

TEST_CASE("schema prints the checked-in draft 2020-12 schema as JSON") {
  ProcessResult r = RunDynoherd({"schema"});
  CHECK(r.exit_code == 0);
  CHECK(r.err == "");
  json schema = json::parse(r.out);  // throws, failing the test, if it is not JSON
  CHECK(schema["$schema"] == "https://json-schema.org/draft/2020-12/schema");
  CHECK(schema["properties"]["kind"]["const"] == "FormationPolicy");
  CHECK(r.out == ReadFile("docs/formationpolicy.schema.json"));
}

// --- The schema under a real validator (Python jsonschema, Draft202012Validator)

// tests/support/json_schema.h, the test failing when the validator cannot run.
std::map<std::string, std::string> Verdicts(const std::string& schema_file,
                                            const std::vector<std::string>& files) {
  Result<std::map<std::string, std::string>> verdicts =
      dynoherd::testing::SchemaVerdicts(schema_file, files);
  REQUIRE_MESSAGE(verdicts.ok(), verdicts.status().message());
  return std::move(verdicts).value();
}

TEST_CASE("an independent validator accepts the schema and the examples") {
  TempDir dir;
  std::string schema = dir.Write("schema.json", RunDynoherd({"schema"}).out);
  std::vector<std::string> examples = {"examples/demo.yaml", "examples/shop-web.yaml",
                                       "examples/shop-worker.yaml",
                                       "examples/sidekiq-workers.yaml"};
  auto verdicts = Verdicts(schema, examples);
  for (const auto& example : examples)
    CHECK(verdicts[example] == "valid");
}

json HerokuPolicy() {
  return HerokuPolicyDocument();
}
json SimPolicy() {
  return SimPolicyDocument();
}

struct Case {
  std::string name;
  json document;
  bool loader_valid;
  bool schema_valid;  // differs from loader_valid only where JSON Schema cannot say the rule
};

std::vector<Case> Corpus() {
  std::vector<Case> cases;
  auto add = [&](std::string name, json document, bool loader_valid, bool schema_valid) {
    cases.push_back({std::move(name), std::move(document), loader_valid, schema_valid});
  };
  auto both = [&](std::string name, json document, bool valid) {
    add(std::move(name), std::move(document), valid, valid);
  };
  json p;
  both("heroku", HerokuPolicy(), true);
  both("sim", SimPolicy(), true);
  p = HerokuPolicy();
  p["spec"]["formations"][0]["latency"] = {
      {"source", "prometheus"}, {"url", "http://127.0.0.1:9090"}, {"query", "up"}};
  both("prometheus", p, true);
  p["spec"]["formations"][0]["latency"].erase("url");
  both("prometheus-without-url", p, false);
  p["spec"]["formations"][0]["latency"]["url"] = "http://127.0.0.1:9090";
  p["spec"]["formations"][0]["latency"]["via"] = "session";
  both("prometheus-with-via", p, false);
  p = HerokuPolicy();
  p["spec"]["formations"][0]["latency"]["url"] = "http://127.0.0.1:9090";
  both("router-logs-with-url", p, false);
  p = HerokuPolicy();
  p["spec"]["formations"][0]["latency"]["source"] = "sim";
  both("heroku-with-sim-source", p, false);
  p = SimPolicy();
  p["spec"].erase("sim");
  both("sim-without-sim-block", p, false);
  p = SimPolicy();
  p["spec"]["provider"] = "heroku";
  p["spec"]["formations"][0]["latency"]["source"] = "router-logs";
  both("heroku-with-sim-block", p, false);
  p = SimPolicy();
  p["spec"]["formations"][0]["latency"] = json::object();
  both("sim-with-default-source", p, false);
  p = HerokuPolicy();
  p["spec"]["formations"][0].erase("latency");
  both("laggards-without-latency", p, false);
  p = HerokuPolicy();
  p["metadata"]["labels"] = {{"app.kubernetes.io/name", "dynoherd"}, {"empty", ""}};
  p["metadata"]["annotations"] = {{"argocd.argoproj.io/sync-wave", "2"}};
  both("labels-and-annotations", p, true);
  p["metadata"]["labels"] = {{"Example.com/x", "a"}};
  both("label-key-with-uppercase-prefix", p, false);
  p["metadata"]["labels"] = {{std::string(64, 'k'), "a"}};
  both("label-key-name-too-long", p, false);
  p["metadata"]["labels"] = {{"team", "-core"}};
  both("label-value-starting-with-dash", p, false);
  p["metadata"]["labels"] = {{"version", 2}};
  both("label-value-not-a-string", p, false);
  p["metadata"]["labels"] = json::object();
  p["metadata"]["annotations"] = {{"a/b/c", "x"}};
  both("annotation-key-with-two-slashes", p, false);
  p = SimPolicy();
  p["spec"]["sim"]["formations"]["web"]["jobTime"] = "1s";
  both("sim-formation-mixed", p, false);
  p = SimPolicy();
  p["spec"]["sim"]["formations"]["web"] = {{"quantity", 3}};
  both("sim-formation-neither", p, false);
  p = SimPolicy();
  p["spec"]["sim"]["incidents"][0].erase("dyno");
  both("noisy-without-dyno", p, false);
  p = SimPolicy();
  p["spec"]["sim"]["incidents"][0]["factor"] = 0.5;
  both("noisy-factor-below-1", p, false);
  p = SimPolicy();
  p["spec"]["sim"]["incidents"][1]["dyno"] = "web.1";
  both("surge-with-dyno", p, false);
  p = HerokuPolicy();
  p["spec"]["formations"][0]["laggards"]["sigmaa"] = 2;
  both("unknown-field", p, false);
  p = HerokuPolicy();
  p["spec"]["formations"][0]["laggards"]["maxUnavailable"] = "0%";
  both("max-unavailable-0-percent", p, false);
  p["spec"]["formations"][0]["laggards"]["maxUnavailable"] = 2;
  both("max-unavailable-count", p, true);
  p = HerokuPolicy();
  p["spec"]["interval"] = 60;
  both("bare-number-duration", p, false);
  p = HerokuPolicy();
  p["spec"]["app"] = "${HEROKU_APP_NAME}";
  both("app-from-environment", p, true);
  // What only the loader can check.
  p = HerokuPolicy();
  p["spec"]["formations"][0]["autoscale"]["restoredThreshold"] = "3s";
  add("restored-above-latency-threshold", p, false, true);
  p = HerokuPolicy();
  p["spec"]["formations"].push_back({{"type", "web"}});
  add("duplicate-formation-type", p, false, true);
  p = HerokuPolicy();
  p["spec"]["interval"] = "5s";
  add("interval-below-10s", p, false, true);
  p = SimPolicy();
  p["spec"]["sim"]["incidents"][0]["dyno"] = "web.9";
  add("dyno-beyond-quantity", p, false, true);
  return cases;
}

TEST_CASE("the schema and the loader agree on a corpus of documents, rule by rule") {
  TempDir dir;
  std::string schema = dir.Write("schema.json", RunDynoherd({"schema"}).out);
  std::vector<Case> corpus = Corpus();
  std::vector<std::string> files;
  for (const auto& c : corpus)
    files.push_back(dir.Write(c.name + ".json", c.document.dump(2)));
  auto verdicts = Verdicts(schema, files);
  for (size_t i = 0; i < corpus.size(); ++i) {
    INFO(corpus[i].name << ": schema says " << verdicts[files[i]]);
    ProcessResult loader = RunDynoherd({"validate", "-f", files[i]},
                                       {.env = {{"HEROKU_APP_NAME", "shop-production"}}});
    INFO("loader says " << loader.err);
    CHECK((loader.exit_code == 0) == corpus[i].loader_valid);
    CHECK((verdicts[files[i]] == "valid") == corpus[i].schema_valid);
  }
}

}  // namespace

// --- The output schemas (docs/schemas/) against what the commands print

TEST_CASE("plan, reconcile, status and analyze print what docs/schemas/ describe") {
  TempDir dir;
  const std::string state = (dir.path() / "state.json").string();
  // The demo on the embedded simulator, 5 minutes in: web.3 is a laggard to restart.
  auto run = [&state](std::vector<std::string> args) {
    args.insert(args.end(), {"--state", state, "--output", "json"});
    return RunDynoherd(args);
  };
  const ProcessResult plan = run({"plan", "-f", "examples/demo.yaml", "--sim-at", "5m"});
  CHECK(plan.exit_code == 2);
  const ProcessResult reconcile = run({"reconcile", "-f", "examples/demo.yaml", "--sim-at", "5m"});
  CHECK(reconcile.exit_code == 0);
  const ProcessResult status = run({"status", "-f", "examples/demo.yaml"});
  CHECK(status.exit_code == 0);
  const ProcessResult analyze =
      RunDynoherd({"analyze", "--output", "json", "tests/fixtures/analyze/router.log"});
  CHECK(analyze.exit_code == 0);

  const std::string plan_file = dir.Write("plan.json", plan.out);
  const std::string reconcile_file = dir.Write("reconcile.json", reconcile.out);
  json plan_json = json::parse(plan.out);
  // What the schema must refuse: a key in another style, a number as a string.
  json snake = plan_json;
  snake["policies"][0]["started_at"] = snake["policies"][0]["startedAt"];
  json stringly = plan_json;
  stringly["policies"][0]["formations"][0]["observedQuantity"] = "6";
  const std::string snake_file = dir.Write("snake.json", snake.dump());
  const std::string stringly_file = dir.Write("stringly.json", stringly.dump());
  auto plans = Verdicts("docs/schemas/plan.schema.json",
                        {plan_file, reconcile_file, snake_file, stringly_file});
  CHECK(plans[plan_file] == "valid");
  CHECK(plans[reconcile_file] == "valid");
  CHECK(plans[snake_file].starts_with("invalid: Additional properties are not allowed"));
  CHECK(plans[stringly_file] == "invalid: '6' is not of type 'integer', 'null'");

  const std::string status_file = dir.Write("status.json", status.out);
  CHECK(Verdicts("docs/schemas/status.schema.json", {status_file})[status_file] == "valid");
  const std::string analyze_file = dir.Write("analyze.json", analyze.out);
  CHECK(Verdicts("docs/schemas/analyze.schema.json", {analyze_file})[analyze_file] == "valid");

  // One shape for the same thing: the pass `status` shows is the one `reconcile` printed.
  json status_json = json::parse(status.out);
  json reconciled = json::parse(reconcile.out)["policies"][0];
  REQUIRE(status_json["policies"].size() == 1);
  json& last_pass = status_json["policies"][0]["lastPass"];
  CHECK(last_pass["durationSeconds"].get<double>() ==
        doctest::Approx(reconciled["durationSeconds"].get<double>()).epsilon(0.01));
  last_pass.erase("durationSeconds");  // the state file keeps timestamps to the millisecond
  reconciled.erase("durationSeconds");
  CHECK(last_pass == reconciled);
  CHECK(status_json["policies"][0]["lastActions"]["actions"] == reconciled["actions"]);
}

}  // namespace dynoherd::testing
