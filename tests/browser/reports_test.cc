// The pages the shipped binary writes and serves, opened in headless Chromium: `simulate --report`,
// `analyze --report` and the daemon's `/`. Each is loaded once; the checks look at the rendered
// DOM (charts, markers, boxes), the console and the screenshot.
//
// DYNOHERD_SCREENSHOT_DIR=<dir> keeps each page and its screenshot there, for people to look at.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
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
  REQUIRE(variants == 3);
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
  // The noisy neighbour and the surge, on web's three latency charts and its dynos chart.
  CHECK(page->counts.at("g.span") == 2 * 4);
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

}  // namespace
}  // namespace dynoherd::testing
