// End-to-end tests of `dynoherd simulate`: the real binary on the shipped scenarios, its exit
// codes, its tables and its JSON.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/policy_documents.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace dynoherd::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_CASE("simulate --compare on the demo: six variants side by side, the same every time") {
  ProcessResult r = RunDynoherd({"simulate", "-f", "examples/demo.yaml", "--compare"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.rfind("demo (app demo-shop): 30m simulated, seed 42, a pass every 30s;", 0) == 0);
  // The header row of each formation's table names the variants, in this order.
  CHECK(Has(r.out, "\nweb (latencyThreshold 500ms)\n"));
  CHECK(Has(r.out, "\nworker (latencyThreshold 10s): jobs, by their time waiting in the queue\n"));
  size_t header = r.out.find("dynoherd  ", r.out.find("\nweb ("));
  REQUIRE(header != std::string::npos);
  std::string header_line = r.out.substr(header, r.out.find('\n', header) - header);
  CHECK(header_line.find("dynoherd") < header_line.find("without"));
  CHECK(header_line.find("without") < header_line.find("population"));
  CHECK(header_line.find("population") < header_line.find("step"));
  CHECK(header_line.find("step") < header_line.find("capacity"));
  CHECK(header_line.find("capacity") < header_line.find("heroku"));
  for (const char* row :
       {"\n  requests ", "\n  p50 ", "\n  p95 ", "\n  p99 ", "\n  slower than 500ms ",
        "\n  H12 (30s timeouts) ", "\n  unserved (H14) ", "\n  dyno-minutes ", "\n  jobs ",
        "\n  peak queue latency ", "\n    share ", "\n  surge absorbed in ",
        "\n  restores mid-surge ", "VARIANT", "ACTIONS SENT"}) {
    CHECK_MESSAGE(Has(r.out, row), row);
  }
  CHECK(Has(r.err, "simulated 30m 6 times in "));

  ProcessResult again = RunDynoherd({"simulate", "-f", "examples/demo.yaml", "--compare"});
  CHECK(again.exit_code == 0);
  CHECK(again.out == r.out);
}

TEST_CASE("simulate --compare -o json parses and holds every variant's summary") {
  ProcessResult r =
      RunDynoherd({"simulate", "-f", "examples/demo.yaml", "--compare", "--output", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  REQUIRE_FALSE(j.is_discarded());
  CHECK(j["name"] == "demo");
  CHECK(j["seed"] == 42);
  CHECK(j["simulatedSeconds"] == 1800.0);
  REQUIRE(j["variants"].size() == 6);
  std::vector<std::string> names;
  for (const auto& v : j["variants"]) {
    names.push_back(v["name"]);
    CHECK(v["summary"]["formations"].size() == 2);
    CHECK(v["summary"]["formations"][0]["truth"]["p99"].is_number());
    CHECK(v["summary"]["phases"].size() >= 3);
  }
  CHECK(names == std::vector<std::string>{"dynoherd", "without", "population", "step", "capacity",
                                          "heroku"});
  CHECK(j["variants"][1]["summary"]["actions"].empty());
  bool restarted_web3 = false;
  for (const auto& a : j["variants"][0]["summary"]["actions"])
    restarted_web3 = restarted_web3 || a["summary"] == "restart web.3";
  CHECK(restarted_web3);
}

TEST_CASE("simulate prints the summary of one run; --seed changes the luck, not the format") {
  ProcessResult r = RunDynoherd({"simulate", "-f", "examples/demo.yaml"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  for (const char* part :
       {"Actions: ", "restart web.3", "scale 6 -> 7", "Phases", "before", "noisy-neighbor web.3 x4",
        "surge web x2.5", "after", "Formations over the whole run", "DYNO-MINUTES"}) {
    CHECK_MESSAGE(Has(r.out, part), part);
  }
  CHECK(r.err.rfind("simulated 30m once in ", 0) == 0);

  ProcessResult seeded =
      RunDynoherd({"simulate", "-f", "examples/demo.yaml", "--seed", "7", "-o", "json"});
  REQUIRE(seeded.exit_code == 0);
  json j = json::parse(seeded.out, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  CHECK(j["seed"] == 7);

  // Seeds are those spec.sim.seed takes: a negative or too large one is refused, never wrapped.
  for (const char* bad : {"-1", "9007199254740992", "99999999999999999999"}) {
    ProcessResult refused = RunDynoherd({"simulate", "-f", "examples/demo.yaml", "--seed", bad});
    CHECK_MESSAGE(refused.exit_code == 1, bad);
    CHECK_MESSAGE(Has(refused.err, "--seed"), bad);
    CHECK(refused.out.empty());
  }
}

TEST_CASE("simulate --log-level info tells the story with simulated times") {
  ProcessResult r = RunDynoherd({"simulate", "-f", "examples/demo.yaml", "--log-level", "info"});
  REQUIRE(r.exit_code == 0);
  CHECK(Has(r.err, "time=2026-01-01T00:"));
  CHECK(Has(r.err, "level=warn msg=\"restarting laggard dyno\""));
  CHECK(Has(r.err, "dyno=web.3"));
  ProcessResult quiet = RunDynoherd({"simulate", "-f", "examples/demo.yaml"});
  CHECK_FALSE(Has(quiet.err, "level="));  // off by default: the summary is the output
}

TEST_CASE("simulate picks its policy: --policy among several, errors say what to do") {
  ProcessResult several = RunDynoherd({"simulate", "-f", "examples/scenarios/"});
  CHECK(several.exit_code == 1);
  CHECK(several.out == "");
  CHECK(several.err ==
        "dynoherd simulate: 3 sim policies loaded (capacity-surge, laggard-3-dynos, long-surge); "
        "choose one with --policy\n");

  ProcessResult chosen =
      RunDynoherd({"simulate", "-f", "examples/scenarios/", "--policy", "laggard-3-dynos"});
  CHECK(chosen.exit_code == 0);
  CHECK(chosen.out.rfind("laggard-3-dynos (app small-shop)", 0) == 0);

  ProcessResult unknown =
      RunDynoherd({"simulate", "-f", "examples/scenarios/", "--policy", "nope"});
  CHECK(unknown.exit_code == 1);
  CHECK(Has(unknown.err,
            "no policy named \"nope\" (sim policies loaded: capacity-surge, laggard-3-dynos, "
            "long-surge)"));

  ProcessResult heroku = RunDynoherd({"simulate", "-f", "examples/shop-web.yaml"});
  CHECK(heroku.exit_code == 1);
  CHECK(Has(heroku.err, "no policy uses provider sim"));

  ProcessResult named_heroku =
      RunDynoherd({"simulate", "-f", "examples/shop-web.yaml", "--policy", "shop-web"});
  CHECK(named_heroku.exit_code == 1);
  CHECK(Has(named_heroku.err, "policy shop-web uses provider heroku"));

  ProcessResult bad_output =
      RunDynoherd({"simulate", "-f", "examples/demo.yaml", "--output", "yaml"});
  CHECK(bad_output.exit_code == 1);
}

TEST_CASE("simulate reports an invalid policy like validate, and a paused one plays as declared") {
  TempDir dir;
  json doc = SimPolicyDocument();
  doc["spec"]["interval"] = "5s";
  ProcessResult invalid = RunDynoherd({"simulate", "-f", dir.Write("bad.yaml", doc.dump(2))});
  CHECK(invalid.exit_code == 1);
  CHECK(Has(invalid.err, "spec.interval: must be >= 10s"));

  json paused = SimPolicyDocument();
  paused["spec"]["paused"] = true;
  paused["spec"]["sim"]["duration"] = "5m";
  ProcessResult r = RunDynoherd({"simulate", "-f", dir.Write("paused.yaml", paused.dump(2))});
  CHECK(r.exit_code == 0);
  CHECK(Has(r.err, "policy shop is paused"));
  CHECK(Has(r.out, "Actions: 0 sent"));
}

TEST_CASE("simulate --report writes the same page every time, and says when it cannot") {
  TempDir dir;
  const std::string first = (dir.path() / "first.html").string();
  const std::string second = (dir.path() / "second.html").string();
  ProcessResult r = RunDynoherd({"simulate", "-f", "examples/demo.yaml", "--report", first});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(Has(r.out, "Actions: 5 sent"));  // the text summary still goes to stdout
  REQUIRE(RunDynoherd({"simulate", "-f", "examples/demo.yaml", "--report", second}).exit_code ==
          0);
  auto read = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string html = read(first);
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(Has(html, "<title>dynoherd simulate: demo</title>"));
  CHECK_FALSE(Has(html, "<script"));
  CHECK(read(second) == html);

  r = RunDynoherd({"simulate", "-f", "examples/demo.yaml", "--report",
                   (dir.path() / "missing" / "r.html").string()});
  CHECK(r.exit_code == 1);
  CHECK(Has(r.err, "dynoherd simulate: --report: cannot write the report"));
}

}  // namespace
}  // namespace dynoherd::testing
