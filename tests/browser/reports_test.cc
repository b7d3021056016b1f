// The pages the shipped binary writes and serves, opened in headless Chromium: `simulate --report`,
// `analyze --report` and the daemon's `/`. Each is loaded once; the checks look at the rendered
// DOM (charts, markers, boxes), the console and the screenshot.
//
// DYNOHERD_SCREENSHOT_DIR=<dir> keeps each page and its screenshot there, for people to look at.
#include <doctest/doctest.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <regex>
#include <fstream>
#include <set>
#include <tuple>

#include "chart/text.h"
#include "tests/support/browser.h"
#include "tests/support/png.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace dynoherd::testing {
namespace {

using json = nlohmann::json;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The page painted something: many shades (text, lines, fills), not one flat colour.
void CheckPainted(const BrowserPage& page) {
  const Result<Image> image = DecodePng(page.png);
  REQUIRE_MESSAGE(image.ok(), image.status().ToString());
  const ImageStats stats = MeasureImage(*image);
  CHECK(stats.distinct_colors > 100);
  CHECK(stats.background_share < 0.9);
}

TEST_CASE("simulate --compare --report: a chart per variant and formation, every action marked") {
  TempDir dir;
  const std::string report = (dir.path() / "demo.html").string();
  const ProcessResult r = RunDynoherd(
      {"simulate", "-f", "examples/demo.yaml", "--compare", "-o", "json", "--report", report});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json summary = json::parse(r.out);
  const std::string html = ReadFile(report);

  // Deterministic: the same command writes the same bytes.
  const std::string again = (dir.path() / "again.html").string();
  REQUIRE(RunDynoherd({"simulate", "-f", "examples/demo.yaml", "--compare", "--report", again})
              .exit_code == 0);
  CHECK(ReadFile(again) == html);

  // Markers at the same moment of the same chart are drawn as one.
  std::set<std::tuple<std::string, std::string, double>> marked;
  for (const json& variant : summary["variants"]) {
    for (const json& action : variant["summary"]["actions"])
      marked.emplace(variant["name"], action["formation"], action["atSeconds"]);
  }
  const size_t variants = summary["variants"].size();
  const size_t formations = summary["variants"][0]["summary"]["formations"].size();
  REQUIRE(variants == 6);
  REQUIRE(formations == 2);
  REQUIRE(marked.size() >= 5);  // the demo restarts web.3 and scales web up and back down

  const Result<BrowserPage> page =
      LoadInBrowser(FileUrl(report), {.count = {"svg.chart", "svg.chart.timeseries g.marker",
                                                "g.span", "table", "g.marker title"}});
  REQUIRE_MESSAGE(page.ok(), page.status().ToString());
  KeepForPeople("simulate-report.png", page->png);
  KeepForPeople("simulate-report.html", html);
  CHECK(page->title == "dynoherd simulate: demo");
  CHECK(page->console_errors.empty());
  CHECK(page->outside_requests.empty());
  // Per formation: latency for each variant, and the dynos of all of them.
  CHECK(page->counts.at("svg.chart") == static_cast<int>(formations * (variants + 1)));
  CHECK(page->counts.at("svg.chart.timeseries g.marker") == static_cast<int>(marked.size()));
  CHECK(page->counts.at("g.marker title") == static_cast<int>(marked.size()));
  // The noisy neighbour and the surge, on web's latency chart of each variant and its dynos chart.
  CHECK(page->counts.at("g.span") == static_cast<int>(2 * (variants + 1)));
  CHECK(page->counts.at("table") == static_cast<int>(1 + formations));
  // Each action's reason is on its marker.
  for (const json& action : summary["variants"][0]["summary"]["actions"]) {
    const std::string reason = action["reason"];
    CHECK_MESSAGE(html.find(chart::Escape(reason)) != std::string::npos, reason);
  }
  CheckPainted(*page);
}

// Router lines for `dynos` web dynos, 60 requests each over ten minutes; web.3 is eight times
// slower than its siblings.
std::string RouterLogWithLaggard(int dynos) {
  std::string log;
  for (int i = 0; i < 60; ++i) {
    for (int d = 1; d <= dynos; ++d) {
      const int service_ms = (d == 3 ? 800 : 100) + (i * 7 + d * 13) % 40;
      log += "2026-11-22T13:0" + std::to_string(i / 6) + ":" + std::to_string(i % 6) +
             "0.000000+00:00 heroku[router]: at=info method=GET path=\"/\" host=shop.example "
             "dyno=web." +
             std::to_string(d) + " connect=1ms service=" + std::to_string(service_ms) +
             "ms status=200 bytes=10 protocol=https\n";
    }
  }
  return log;
}

TEST_CASE("analyze --report: a box per dyno with the laggard highlighted, requests per dyno") {
  TempDir dir;
  const std::string log = dir.Write("router.log", RouterLogWithLaggard(5));
  const std::string report = (dir.path() / "analyze.html").string();
  const ProcessResult r = RunDynoherd({"analyze", log, "-o", "json", "--report", report});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(json::parse(r.out)["formations"][0]["laggards"]["slow"] == json::array({"web.3"}));

  const Result<BrowserPage> page = LoadInBrowser(
      FileUrl(report), {.count = {"svg.chart", "svg.chart.boxplot g.box", "g.box.highlight",
                                  "svg.chart.bars g.bar", "g.bar.highlight", "svg.chart.boxplot g.threshold .threshold-label", "table",
                                  "tr.highlight"}});
  REQUIRE_MESSAGE(page.ok(), page.status().ToString());
  KeepForPeople("analyze-report.png", page->png);
  KeepForPeople("analyze-report.html", ReadFile(report));
  CHECK(page->title == "dynoherd analyze");
  CHECK(page->console_errors.empty());
  CHECK(page->outside_requests.empty());
  CHECK(page->counts.at("svg.chart") == 2);
  CHECK(page->counts.at("svg.chart.boxplot g.box") == 5);
  CHECK(page->counts.at("g.box.highlight") == 1);
  CHECK(page->counts.at("svg.chart.bars g.bar") == 5);
  CHECK(page->counts.at("g.bar.highlight") == 1);
  CHECK(page->counts.at("svg.chart.boxplot g.threshold .threshold-label") == 1);  // minLatency
  CHECK(page->counts.at("table") == 1);
  CHECK(page->counts.at("tr.highlight") == 1);
  CheckPainted(*page);
}

// 20 simulated minutes at 60x: web.2 gets a noisy neighbour at 1m and is restarted at about 2m,
// some 2s of wall time after the start; the run lasts 20s, enough to look at the page meanwhile.
constexpr const char* kLivePolicy = R"(apiVersion: dynoherd/v1
kind: FormationPolicy
metadata: {name: demo}
spec:
  app: demo-shop
  provider: sim
  interval: 10s
  formations:
    - type: web
      quantity: 4
      latency: {source: sim, window: 1m, statistic: p50}
      laggards: {sigma: 2.0, minSamples: 20, cooldown: 5m}
      autoscale: {latencyThreshold: 500ms, restoredThreshold: 300ms, maxExtraWorkers: 2}
  sim:
    seed: 7
    speed: 60
    duration: 20m
    restartDelay: 10s
    formations:
      web: {quantity: 4, serviceTime: 100ms, rps: 20}
    incidents:
      - {at: 1m, kind: noisy-neighbor, dyno: web.2, factor: 4}
)";

TEST_CASE("run: the / page draws each formation's latency and dynos from the recent passes") {
  using namespace std::chrono_literals;
  TempDir dir;
  const std::string policy = dir.Write("demo.yaml", kLivePolicy);
  auto started = Subprocess::Start(DynoherdBinary(),
                                   {.args = {"run", "-f", policy, "--listen", "127.0.0.1:0"}});
  REQUIRE(started.ok());
  Subprocess& run = *started;
  REQUIRE_MESSAGE(run.WaitForOutput("msg=\"dynoherd is running\"", 20s), run.err());
  std::smatch port;
  const std::string err = run.err();
  REQUIRE(std::regex_search(err, port, std::regex(R"(listen=(http://127\.0\.0\.1:\d+))")));
  const std::string url = port[1].str() + "/";
  // The restarted dyno is up again: the restart lies well inside the page's time axis.
  REQUIRE_MESSAGE(run.WaitForOutput("msg=\"web.2 is up\"", 20s), run.err());

  const Result<BrowserPage> page =
      LoadInBrowser(url, {.count = {"svg.chart", "svg.chart.timeseries g.marker",
                                    "svg.chart .series path.line", "dl.facts dt",
                                    "meta[http-equiv=refresh]", "table"}});
  REQUIRE(run.Signal(SIGTERM).ok());
  const ProcessResult stopped = run.Wait(20s);
  CHECK(stopped.exit_code == 0);
  REQUIRE_MESSAGE(page.ok(), page.status().ToString());
  KeepForPeople("live-page.png", page->png);
  KeepForPeople("live-page.html", page->dom);
  CHECK(page->title == "dynoherd");
  CHECK(page->console_errors.empty());
  CHECK(page->outside_requests.empty());
  CHECK(page->counts.at("svg.chart") == 2);  // web: latency, dynos
  CHECK(page->counts.at("svg.chart.timeseries g.marker") == 1);  // the restart
  CHECK(page->counts.at("svg.chart .series path.line") >= 2);
  CHECK(page->counts.at("dl.facts dt") == 4);  // Ready, LatencyEvent, Degraded, Paused
  CHECK(page->counts.at("meta[http-equiv=refresh]") == 1);
  CHECK(page->counts.at("table") == 1);  // the last actions
  CHECK(page->dom.find("restart web.2: laggard: p50") != std::string::npos);
  CheckPainted(*page);
}

}  // namespace
}  // namespace dynoherd::testing
