// End-to-end tests of `dynoherd validate` and `dynoherd schema`: the real binary, its exit
// codes and output; and the schema checked by an independent draft 2020-12 validator.
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

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

std::string Python() {
  // The Debian interpreter, for which `make deps` installs python3-jsonschema and python3-yaml.
  for (const char* candidate : {"/usr/bin/python3", "/usr/local/bin/python3"}) {
    if (std::filesystem::exists(candidate)) return candidate;
  }
  return "python3";
}

// Runs tests/support/check_json_schema.py; returns "valid" or "invalid: ..." per file.
std::map<std::string, std::string> SchemaVerdicts(const std::string& schema_file,
                                                  const std::vector<std::string>& files) {
  std::vector<std::string> args = {"tests/support/check_json_schema.py", schema_file};
  args.insert(args.end(), files.begin(), files.end());
  ProcessResult r = RunProcess(Python(), {.args = args, .timeout = 120s});
  INFO(r.out << r.err);
  REQUIRE_MESSAGE(r.exit_code == 0, "python3 with jsonschema and yaml is needed: make deps");
  std::map<std::string, std::string> verdicts;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    size_t hash = line.find('#');
    size_t space = line.find(' ', hash);
    verdicts[line.substr(0, hash)] += line.substr(space + 1);
  }
  return verdicts;
}

TEST_CASE("an independent validator accepts the schema and the examples") {
  TempDir dir;
  std::string schema = dir.Write("schema.json", RunDynoherd({"schema"}).out);
  std::vector<std::string> examples = {"examples/demo.yaml", "examples/shop-web.yaml",
                                       "examples/shop-worker.yaml",
                                       "examples/sidekiq-workers.yaml"};
  auto verdicts = SchemaVerdicts(schema, examples);
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
  auto verdicts = SchemaVerdicts(schema, files);
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
}  // namespace dynoherd::testing
