// `dynoherd analyze` end to end: the real binary on fixture files, through a shell.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

namespace {

struct Run {
  int exit_code = -1;
  std::string out;  // stdout, and stderr when asked for
};

std::string Binary() {
  const char* dir = std::getenv("DYNOHERD_BUILD_DIR");
  return std::string(dir ? dir : "build") + "/dynoherd";
}

// Runs `dynoherd ARGS` from the source root (the test's working directory).
Run Dynoherd(const std::string& args) {
  Run run;
  FILE* pipe = popen((Binary() + " " + args).c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    run.out.append(buffer.data(), n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

const std::string kLog = "tests/fixtures/analyze/router.log";
const std::string kFrames = "tests/fixtures/analyze/router.logplex";

const nlohmann::json& Dyno(const nlohmann::json& formation, const std::string& name) {
  for (const auto& dyno : formation["dynos"]) {
    if (dyno["dyno"] == name) return dyno;
  }
  FAIL("no dyno " << name);
  static const nlohmann::json none;
  return none;
}

}  // namespace

TEST_CASE("analyze prints a table per formation, the counts and the formation statistic") {
  Run run = Dynoherd("analyze " + kLog);
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("Read 35 lines: 32 router, 2 ignored, 1 malformed.") != std::string::npos);
  CHECK(run.out.find("First problem: line 35: unterminated quoted value") != std::string::npos);
  CHECK(run.out.find("Router lines from 2026-11-22T13:00:10.000Z to 2026-11-22T13:04:59.000Z "
                     "(4m49s); window: all of it.") != std::string::npos);
  CHECK(run.out.find("web: 3 dynos, 31 timed requests") != std::string::npos);
  CHECK(run.out.find("DYNO   REQUESTS   MEAN    P50    P95    P99    MAX  ERRORS") !=
        std::string::npos);
  CHECK(run.out.find("web.1        10  100ms  100ms  100ms  100ms  100ms       0") !=
        std::string::npos);
  CHECK(run.out.find("web.3        10  600ms  600ms  600ms  600ms  600ms       0") !=
        std::string::npos);
  CHECK(run.out.find("router errors: H12 1") != std::string::npos);
  CHECK(run.out.find("formation p95: 602ms over 31 requests") != std::string::npos);
  CHECK(run.out.find("Router errors without a dyno: 1 (H10 1)") != std::string::npos);
}

TEST_CASE("analyze --output json has the numbers in seconds") {
  Run run = Dynoherd("analyze --output json " + kLog);
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
  CHECK(web["statistic"] == "p95");
  CHECK(web["sample_count"] == 31);
  CHECK(web["value"].get<double>() == doctest::Approx(0.6).epsilon(0.02));
  const nlohmann::json& web2 = Dyno(web, "web.2");
  CHECK(web2["requests"] == 11);
  CHECK(web2["errors"] == 1);
  CHECK(web2["errors_by_code"]["H12"] == 1);
  CHECK(web2["max"].get<double>() == 30.001);
  CHECK(web2["p50"].get<double>() == doctest::Approx(0.12).epsilon(0.02));
  CHECK(web2["mean"].get<double>() == doctest::Approx((10 * 0.12 + 30.001) / 11));
  CHECK(out["unattributed_errors"]["by_code"]["H10"] == 1);
}

TEST_CASE("analyze reads stdin, logplex frames, and the last --window of the input") {
  Run stdin_run = Dynoherd("analyze --output json - < " + kLog);
  REQUIRE(stdin_run.exit_code == 0);
  CHECK(nlohmann::json::parse(stdin_run.out)["formations"][0]["sample_count"] == 31);

  Run frames = Dynoherd("analyze --output json " + kFrames);
  REQUIRE(frames.exit_code == 0);
  const nlohmann::json framed = nlohmann::json::parse(frames.out);
  CHECK(framed["input"]["format"] == "logplex");
  CHECK(framed["input"]["lines"] == 30);
  CHECK(framed["input"]["framing_problems"] == 0);
  CHECK(framed["formations"][0]["sample_count"] == 30);

  // The last two minutes of the file: 13:02:59 to 13:04:59, in 12-second buckets.
  Run window = Dynoherd("analyze --output json --window 2m " + kLog);
  REQUIRE(window.exit_code == 0);
  const nlohmann::json windowed = nlohmann::json::parse(window.out);
  CHECK(windowed["window"]["seconds"] == 120.0);
  CHECK(Dyno(windowed["formations"][0], "web.1")["requests"] == 4);
  CHECK(Dyno(windowed["formations"][0], "web.2")["requests"] == 5);
  CHECK(windowed["formations"][0]["sample_count"] == 13);
  CHECK(windowed["input"]["late"] == 0);  // in time order: older lines expire, none arrive late
}

TEST_CASE("analyze --formation and --formation-statistic") {
  Run run = Dynoherd("analyze --formation web --formation-statistic max " + kLog);
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("formation max: 30s over 31 requests") != std::string::npos);
  Run none = Dynoherd("analyze --formation worker " + kLog);
  CHECK(none.exit_code == 0);
  CHECK(none.out.find("formation p95: unknown (no router lines for worker)") != std::string::npos);
}

TEST_CASE("analyze explains bad input and bad flags") {
  Run missing = Dynoherd("analyze tests/fixtures/analyze/no-such-file.log 2>&1");
  CHECK(missing.exit_code == 1);
  CHECK(missing.out.find("dynoherd analyze: cannot open tests/fixtures/analyze/no-such-file.log: "
                         "No such file or directory") != std::string::npos);
  Run directory = Dynoherd("analyze tests/fixtures 2>&1");
  CHECK(directory.exit_code == 1);
  CHECK(directory.out.find("tests/fixtures: read failed: Is a directory") != std::string::npos);
  Run window = Dynoherd("analyze --window 5 " + kLog + " 2>&1");
  CHECK(window.exit_code == 1);
  CHECK(window.out.find("--window: duration \"5\" needs a unit") != std::string::npos);
  Run statistic = Dynoherd("analyze --formation-statistic p42 " + kLog + " 2>&1");
  CHECK(statistic.exit_code == 1);
  CHECK(statistic.out.find("unknown statistic \"p42\"") != std::string::npos);
  Run nothing = Dynoherd("analyze - < /dev/null");
  CHECK(nothing.exit_code == 0);
  CHECK(nothing.out.find("No router lines found.") != std::string::npos);
}
