// `dynoherd analyze` end to end: the real binary on fixture files.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace {

using dynoherd::testing::ProcessResult;
using dynoherd::testing::ReadFile;

// Runs `dynoherd analyze ARGS` from the source root (the test's working directory).
ProcessResult Analyze(std::vector<std::string> args, std::string stdin_data = "") {
  args.insert(args.begin(), "analyze");
  return dynoherd::testing::RunDynoherd(std::move(args), {.stdin_data = std::move(stdin_data)});
}

const std::string kLog = "tests/fixtures/analyze/router.log";
const std::string kFrames = "tests/fixtures/analyze/router.logplex";

// The element of `formation[list]` whose `key` is `name`.
const nlohmann::json& Find(const nlohmann::json& formation, const char* list, const char* key,
                           const std::string& name) {
  for (const auto& item : formation[list]) {
    if (item[key] == name) return item;
  }
  FAIL("no " << key << " " << name);
  static const nlohmann::json none;
  return none;
}

// A dyno's requests in the window ({requests, mean, p50, ...}).
const nlohmann::json& Dyno(const nlohmann::json& formation, const std::string& name) {
  return Find(formation, "dynos", "name", name)["latency"];
}

// The laggard detector's verdict on a dyno ({dyno, judged, slow, score, ...}).
const nlohmann::json& Verdict(const nlohmann::json& formation, const std::string& name) {
  return Find(formation["laggards"], "verdicts", "dyno", name);
}

}  // namespace

TEST_CASE("analyze prints a table per formation, the counts and the formation statistic") {
  ProcessResult run = Analyze({kLog});
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("Read 35 lines: 32 router, 2 ignored, 1 malformed.") != std::string::npos);
  CHECK(run.out.find("First problem: line 35: unterminated quoted value") != std::string::npos);
  CHECK(run.out.find("Router lines from 2026-11-22T13:00:10.000Z to 2026-11-22T13:04:59.000Z "
                     "(4m49s); window: all of it.") != std::string::npos);
  CHECK(run.out.find("web: 3 dynos, 31 timed requests") != std::string::npos);
  CHECK(run.out.find("DYNO   REQUESTS   MEAN    P50    P95    P99    MAX  ERRORS  Z  VERDICT") !=
        std::string::npos);
  CHECK(run.out.find("web.1        10  100ms  100ms  100ms  100ms  100ms       0  -  not judged") !=
        std::string::npos);
  CHECK(run.out.find("web.3        10  600ms  600ms  600ms  600ms  600ms       0  -  not judged") !=
        std::string::npos);
  // The spec defaults want 30 requests a dyno: this small log gives no verdict, and says why.
  CHECK(run.out.find("  web.1: 10 requests in the window, minSamples is 30") != std::string::npos);
  CHECK(run.out.find("laggards: no verdict (0 dynos judged, minDynos is 3)") != std::string::npos);
  CHECK(run.out.find("router errors: H12 1") != std::string::npos);
  CHECK(run.out.find("formation p95: 602ms over 31 requests") != std::string::npos);
  CHECK(run.out.find("Router errors without a dyno: 1 (H10 1)") != std::string::npos);
}

TEST_CASE("analyze --output json has the numbers in seconds") {
  ProcessResult run = Analyze({"--output", "json", kLog});
  REQUIRE(run.exit_code == 0);
  const nlohmann::json out = nlohmann::json::parse(run.out);
  CHECK(out["input"]["lines"] == 35);
  CHECK(out["input"]["router"] == 32);
  CHECK(out["input"]["malformed"] == 1);
  CHECK(out["input"]["format"] == "lines");
  CHECK(out["window"]["seconds"].is_null());
  REQUIRE(out["formations"].size() == 1);
  const nlohmann::json& web = out["formations"][0];
  CHECK(web["type"] == "web");
  CHECK(web["latency"]["statistic"] == "p95");
  CHECK(web["latency"]["samples"] == 31);
  CHECK(web["latency"]["seconds"].get<double>() == doctest::Approx(0.6).epsilon(0.02));
  const nlohmann::json& web2 = Dyno(web, "web.2");
  CHECK(web2["requests"] == 11);
  CHECK(web2["errors"] == 1);
  CHECK(Find(web, "dynos", "name", "web.2")["errorsByCode"]["H12"] == 1);
  CHECK(web2["max"].get<double>() == 30.001);
  CHECK(web2["p50"].get<double>() == doctest::Approx(0.12).epsilon(0.02));
  CHECK(web2["mean"].get<double>() == doctest::Approx((10 * 0.12 + 30.001) / 11));
  CHECK(out["unattributedErrors"]["byCode"]["H10"] == 1);
}

TEST_CASE("analyze reads stdin, logplex frames, and the last --window of the input") {
  ProcessResult stdin_run = Analyze({"--output", "json", "-"}, ReadFile(kLog));
  REQUIRE(stdin_run.exit_code == 0);
  CHECK(nlohmann::json::parse(stdin_run.out)["formations"][0]["latency"]["samples"] == 31);

  ProcessResult frames = Analyze({"--output", "json", kFrames});
  REQUIRE(frames.exit_code == 0);
  const nlohmann::json framed = nlohmann::json::parse(frames.out);
  CHECK(framed["input"]["format"] == "logplex");
  CHECK(framed["input"]["lines"] == 30);
  CHECK(framed["input"]["framingProblems"] == 0);
  CHECK(framed["formations"][0]["latency"]["samples"] == 30);

  // The last two minutes of the file: 13:02:59 to 13:04:59, in 12-second buckets.
  ProcessResult window = Analyze({"--output", "json", "--window", "2m", kLog});
  REQUIRE(window.exit_code == 0);
  const nlohmann::json windowed = nlohmann::json::parse(window.out);
  CHECK(windowed["window"]["seconds"] == 120.0);
  CHECK(Dyno(windowed["formations"][0], "web.1")["requests"] == 4);
  CHECK(Dyno(windowed["formations"][0], "web.2")["requests"] == 5);
  CHECK(windowed["formations"][0]["latency"]["samples"] == 13);
  CHECK(windowed["input"]["late"] == 0);  // in time order: older lines expire, none arrive late
}

TEST_CASE("analyze --formation and --formation-statistic") {
  ProcessResult run = Analyze({"--formation", "web", "--formation-statistic", "max", kLog});
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("formation max: 30s over 31 requests") != std::string::npos);
  ProcessResult none = Analyze({"--formation", "worker", kLog});
  CHECK(none.exit_code == 0);
  CHECK(none.out.find("formation p95: unknown (no router lines for worker)") != std::string::npos);
}

TEST_CASE("analyze explains bad input and bad flags") {
  ProcessResult missing = Analyze({"tests/fixtures/analyze/no-such-file.log"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("dynoherd analyze: cannot open tests/fixtures/analyze/no-such-file.log: "
                         "No such file or directory") != std::string::npos);
  ProcessResult directory = Analyze({"tests/fixtures"});
  CHECK(directory.exit_code == 1);
  CHECK(directory.err.find("tests/fixtures: read failed: Is a directory") != std::string::npos);
  ProcessResult window = Analyze({"--window", "5", kLog});
  CHECK(window.exit_code == 1);
  CHECK(window.err.find("--window: duration \"5\" needs a unit") != std::string::npos);
  ProcessResult statistic = Analyze({"--formation-statistic", "p42", kLog});
  CHECK(statistic.exit_code == 1);
  CHECK(statistic.err.find("unknown statistic \"p42\"") != std::string::npos);
  ProcessResult nothing = Analyze({"-"});
  CHECK(nothing.exit_code == 0);
  CHECK(nothing.out.find("No router lines found.") != std::string::npos);
}

TEST_CASE("analyze -f takes the window, statistics and laggard rules from a policy") {
  const std::string kPolicies = "tests/fixtures/analyze/policies.yaml";
  ProcessResult run = Analyze(
      {"--output", "json", "-f", kPolicies, "--policy", "shop", "--formation", "web", kLog});
  REQUIRE(run.exit_code == 0);
  const nlohmann::json out = nlohmann::json::parse(run.out);
  CHECK(out["rules"]["origin"] == "policy shop, formation web");
  CHECK(out["rules"]["method"] == "mad");
  CHECK(out["rules"]["sigma"] == 3.5);
  CHECK(out["rules"]["statistic"] == "mean");
  CHECK(out["rules"]["minSamples"] == 4);
  CHECK(out["window"]["seconds"] == 120.0);  // latency.window
  REQUIRE(out["formations"].size() == 1);
  CHECK(out["formations"][0]["latency"]["statistic"] == "p50");  // latency.statistic
  CHECK(out["formations"][0]["latency"]["samples"] == 13);

  // A flag given on the command line wins over the policy.
  ProcessResult overridden =
      Analyze({"--output", "json", "-f", kPolicies, "--policy", "shop", "--formation", "web",
               "--sigma", "2.5", "--window", "all", kLog});
  REQUIRE(overridden.exit_code == 0);
  const nlohmann::json o = nlohmann::json::parse(overridden.out);
  CHECK(o["rules"]["sigma"] == 2.5);
  CHECK(o["rules"]["method"] == "mad");
  CHECK(o["window"]["seconds"].is_null());
  CHECK(o["formations"][0]["latency"]["samples"] == 31);

  // A policy with one formation declaring latency needs no --formation.
  ProcessResult api = Analyze({"-f", kPolicies, "--policy", "api", kLog});
  CHECK(api.exit_code == 0);
  CHECK(api.out.find("window: the last 10m.") != std::string::npos);
  CHECK(api.out.find("Laggard rules (policy api, formation web (no laggards section: defaults)): "
                     "leave-one-out on p50, sigma 2,") != std::string::npos);
}

TEST_CASE("analyze -f says which policy or formation to choose, and reports bad files") {
  const std::string kPolicies = "tests/fixtures/analyze/policies.yaml";
  ProcessResult two = Analyze({"-f", kPolicies, kLog});
  CHECK(two.exit_code == 1);
  CHECK(two.err.find("the files hold 2 policies; choose one with --policy (shop, api)") !=
        std::string::npos);
  ProcessResult formations = Analyze({"-f", kPolicies, "--policy", "shop", kLog});
  CHECK(formations.exit_code == 1);
  CHECK(formations.err.find("policy shop declares latency for web, worker; choose one with "
                            "--formation") != std::string::npos);
  ProcessResult unknown =
      Analyze({"-f", kPolicies, "--policy", "shop", "--formation", "api", kLog});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err.find("policy shop has no formation \"api\" (formations: web, worker)") !=
        std::string::npos);
  // The log file given where a policy should be: the loader's located errors.
  ProcessResult bad = Analyze({"-f", kLog, kLog});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("tests/fixtures/analyze/router.log:1:1: ") != std::string::npos);
}

TEST_CASE("analyze checks the laggard flags against the policy schema's limits") {
  ProcessResult sigma = Analyze({"--sigma", "11", kLog});
  CHECK(sigma.exit_code == 1);
  CHECK(sigma.err.find("--sigma: 11 is out of range (above 0, at most 10)") != std::string::npos);
  ProcessResult dynos = Analyze({"--min-dynos", "2.5", kLog});
  CHECK(dynos.exit_code == 1);
  CHECK(dynos.err.find("--min-dynos: \"2.5\" is not an integer") != std::string::npos);
  ProcessResult method = Analyze({"--method", "median", kLog});
  CHECK(method.exit_code == 1);
  CHECK(method.err.find("--method: unknown method \"median\"") != std::string::npos);
  ProcessResult statistic = Analyze({"--statistic", "p99", kLog});
  CHECK(statistic.exit_code == 1);
  CHECK(statistic.err.find("expected mean, p50 or p95") != std::string::npos);
  ProcessResult latency = Analyze({"--min-latency", "2h", kLog});
  CHECK(latency.exit_code == 1);
  CHECK(latency.err.find("--min-latency: 2h is out of range (between 0s and 1m)") !=
        std::string::npos);
}

TEST_CASE("analyze gives each dyno a z-score and a verdict under the laggard rules") {
  ProcessResult run = Analyze({"--min-samples", "5", kLog});
  REQUIRE(run.exit_code == 0);
  CHECK(run.out.find("web.3        10  600ms  600ms  600ms  600ms  600ms       0  34.44  SLOW") !=
        std::string::npos);
  CHECK(
      run.out.find("  web.3: p50 600ms, 34.4 sd above the other 2 dynos (5.5x their mean 110ms)") !=
      std::string::npos);
  CHECK(run.out.find("laggards: web.3") != std::string::npos);

  ProcessResult json = Analyze({"--output", "json", "--min-samples", "5", kLog});
  REQUIRE(json.exit_code == 0);
  const nlohmann::json web = nlohmann::json::parse(json.out)["formations"][0];
  CHECK(web["laggards"]["decided"] == true);
  CHECK(web["laggards"]["slow"] == nlohmann::json::array({"web.3"}));
  CHECK(Verdict(web, "web.3")["slow"] == true);
  CHECK(Verdict(web, "web.3")["score"].get<double>() == doctest::Approx(34.44).epsilon(0.001));
  CHECK(Verdict(web, "web.1")["judged"] == true);
  CHECK(Verdict(web, "web.1")["slow"] == false);

  // The same dyno is not slow once the rules ask for more than it is: 600ms is under 10x the
  // others' mean (minRatio).
  ProcessResult strict =
      Analyze({"--output", "json", "--min-samples", "5", "--min-ratio", "10", kLog});
  REQUIRE(strict.exit_code == 0);
  const nlohmann::json strict_web = nlohmann::json::parse(strict.out)["formations"][0];
  CHECK(strict_web["laggards"]["slow"].empty());
  CHECK(Verdict(strict_web, "web.3")["judged"] == true);
  CHECK(Verdict(strict_web, "web.3")["slow"] == false);

  // Two dynos are too few for a verdict under minDynos 3.
  ProcessResult few = Analyze({"--output", "json", "--min-samples", "11", kLog});
  REQUIRE(few.exit_code == 0);
  const nlohmann::json few_web = nlohmann::json::parse(few.out)["formations"][0];
  CHECK(few_web["laggards"]["decided"] == false);
  CHECK(few_web["laggards"]["noVerdictReason"] == "1 dyno judged, minDynos is 3");
  CHECK(Verdict(few_web, "web.2")["judged"] == true);
  CHECK(Verdict(few_web, "web.1")["judged"] == false);
}
