#include "common/logging.h"

#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>

using namespace dynoherd;
using namespace std::chrono_literals;

TEST_CASE("logfmt quotes only what needs quoting") {
  ManualClock clock(TimePoint{} + 1795352400s);
  StreamLogger log(clock, LogFormat::kLogfmt, LogLevel::kInfo);
  std::string line = log.Format(LogLevel::kWarn, "restarting laggard dyno",
                                {{"policy", "shop-web"}, {"dyno", "web.3"}, {"z", 4.1}, {"p50Ms", 612},
                                 {"reason", "say \"hi\""}, {"empty", ""}});
  CHECK(line ==
        "time=2026-11-22T13:00:00.000Z level=warn msg=\"restarting laggard dyno\" policy=shop-web "
        "dyno=web.3 z=4.1 p50Ms=612 reason=\"say \\\"hi\\\"\" empty=\"\"");
}

TEST_CASE("JSON logs are one object per line") {
  ManualClock clock(TimePoint{} + 1795352400s);
  StreamLogger log(clock, LogFormat::kJson, LogLevel::kInfo);
  auto j = nlohmann::json::parse(log.Format(LogLevel::kInfo, "scaled", {{"to", 5}}));
  CHECK(j["level"] == "info");
  CHECK(j["msg"] == "scaled");
  CHECK(j["to"] == 5);
}

TEST_CASE("JSON logs write numbers as numbers and booleans as booleans, as logfmt shows them") {
  ManualClock clock(TimePoint{} + 1795352400s);
  const LogFields fields = {{"count", int64_t{-12}}, {"z", 4.125},     {"whole", 2.0},
                            {"ok", true},            {"text", "4.1"}, {"nan", std::nan("")}};
  auto j = nlohmann::json::parse(
      StreamLogger(clock, LogFormat::kJson, LogLevel::kInfo).Format(LogLevel::kInfo, "m", fields));
  CHECK(j["count"] == -12);
  CHECK(j["count"].is_number_integer());
  CHECK(j["z"] == doctest::Approx(4.125));
  CHECK(j["whole"] == 2);
  CHECK(j["ok"] == true);
  CHECK(j["text"] == "4.1");  // a string that looks like a number stays a string
  CHECK(j["nan"] == "NaN");   // JSON has no NaN
  const std::string logfmt =
      StreamLogger(clock, LogFormat::kLogfmt, LogLevel::kInfo).Format(LogLevel::kInfo, "m", fields);
  CHECK(logfmt.find("count=-12 z=4.125 whole=2 ok=true text=4.1 nan=NaN") != std::string::npos);
}

TEST_CASE("secrets are redacted from the written line") {
  CHECK(Redact("token=abc123 again abc123", {"abc123"}) == "token=[REDACTED] again [REDACTED]");
  CHECK(Redact("nothing", {""}) == "nothing");
  ManualClock clock(TimePoint{});
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  StreamLogger log(clock, LogFormat::kLogfmt, LogLevel::kDebug, f);
  log.AddSecret("HRKU-supersecret");
  log.Error("request failed", {{"detail", "Authorization: Bearer HRKU-supersecret"}});
  std::rewind(f);
  char buf[512] = {};
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  std::string written(buf, n);
  CHECK(written.find("HRKU-supersecret") == std::string::npos);
  CHECK(written.find("[REDACTED]") != std::string::npos);
}

TEST_CASE("levels filter and parse") {
  ManualClock clock(TimePoint{});
  StreamLogger log(clock, LogFormat::kLogfmt, LogLevel::kWarn);
  CHECK_FALSE(log.Enabled(LogLevel::kInfo));
  CHECK(log.Enabled(LogLevel::kError));
  CHECK(ParseLogLevel("warn").value() == LogLevel::kWarn);
  CHECK_FALSE(ParseLogLevel("loud").ok());
}
