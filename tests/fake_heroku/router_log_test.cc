#include "tests/fake_heroku/router_log.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <regex>

using namespace dynoherd;
using namespace dynoherd::fake_heroku;
using namespace std::chrono_literals;

namespace {

const TimePoint kNow = TimePoint{} + 1795352400s;  // 2026-11-22T13:00:00Z

std::map<std::string, std::vector<int>> ServiceByDyno(const std::vector<std::string>& lines) {
  static const std::regex kInfo(
      R"(at=info .* dyno=(\S+) connect=\d+ms service=(\d+)ms status=200)");
  std::map<std::string, std::vector<int>> out;
  for (const std::string& line : lines) {
    std::smatch m;
    if (std::regex_search(line, m, kInfo)) out[m[1]].push_back(std::stoi(m[2]));
  }
  return out;
}

int Median(std::vector<int> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

TEST_CASE("router lines look like Heroku's and are deterministic for a seed") {
  LatencyProfile normal;
  normal.median_ms = 100;
  normal.count = 200;
  LatencyProfile laggard = normal;
  laggard.laggard_factor = 5;
  laggard.h12 = 3;
  std::vector<RouterLogSource> sources = {{"web.1", normal, {}}, {"web.2", laggard, {}}};
  auto lines = GenerateRouterLines("shop", sources, kNow, 5min, 7);
  CHECK(lines == GenerateRouterLines("shop", sources, kNow, 5min, 7));
  CHECK(lines != GenerateRouterLines("shop", sources, kNow, 5min, 8));
  REQUIRE(lines.size() == 403);

  static const std::regex kLine(
      R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00 heroku\[router\]: at=(info|error) .*method=GET path="/[^"]*" host=shop\.herokuapp\.com request_id=[0-9a-f-]{36} fwd="203\.0\.113\.\d+" dyno=web\.[12] connect=\dms service=\d+ms status=\d{3} bytes=\d+ protocol=https$)");
  for (const std::string& line : lines)
    CHECK_MESSAGE(std::regex_match(line, kLine), line);
  CHECK(std::is_sorted(lines.begin(), lines.end()));  // timestamps are fixed-width: oldest first
  CHECK(lines.front() >= "2026-11-22T12:55:00");
  CHECK(lines.back() < "2026-11-22T13:00:00");

  auto service = ServiceByDyno(lines);
  CHECK(Median(service["web.1"]) > 80);
  CHECK(Median(service["web.1"]) < 125);
  CHECK(Median(service["web.2"]) > 400);
  CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
          return l.find("code=H12 desc=\"Request timeout\"") != std::string::npos &&
                 l.find("dyno=web.2 connect=") != std::string::npos &&
                 l.find("service=30001ms status=503 bytes=0") != std::string::npos;
        }) == 3);
}

TEST_CASE("a dyno up for part of the window has part of the requests") {
  LatencyProfile p;
  p.count = 100;
  auto lines = GenerateRouterLines("shop", {{"web.1", p, kNow - 1min}}, kNow, 5min, 1);
  CHECK(lines.size() == 20);
  CHECK(lines.front() >= "2026-11-22T12:59:00");
  CHECK(GenerateRouterLines("shop", {{"web.1", p, kNow + 1s}}, kNow, 5min, 1).empty());
}

TEST_CASE("log timestamps carry microseconds and the +00:00 offset") {
  CHECK(FormatLogTimestamp(kNow + 123456us) == "2026-11-22T13:00:00.123456+00:00");
}
