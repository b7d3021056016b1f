// The chart sample page in a real browser: every chart is there and painted, nothing failed,
// nothing was fetched, and narrow windows get narrow charts.
//
// DYNOHERD_SCREENSHOT_DIR=<dir> keeps chart-sample.png and chart-sample.html there (for
// docs/images/chart-sample.png).
#include "tests/browser/chart_sample.h"

#include <doctest/doctest.h>

#include "tests/support/browser.h"
#include "tests/support/png.h"
#include "tests/support/temp_dir.h"

namespace dynoherd::testing {
namespace {

TEST_CASE("Every chart of the sample page renders in Chromium") {
  const ChartSample sample = MakeChartSample();
  TempDir dir;
  const std::string path = dir.Write("chart-sample.html", sample.html);
  Result<BrowserPage> page = LoadInBrowser(
      FileUrl(path), {.viewport_width = 1280,
                      .count = {"svg.chart", "g.marker", "g.span", "g.box", "g.bar", "table",
                                "svg.chart .series path.line", "svg.chart.timeseries .no-data"},
                      .boxes_of = "svg.chart"});
  REQUIRE_MESSAGE(page.ok(), page.status().ToString());
  KeepForPeople("chart-sample.png", page->png);
  KeepForPeople("chart-sample.html", sample.html);

  CHECK(page->title == "dynoherd simulate: shop");
  CHECK(page->console_errors.empty());
  CHECK(page->outside_requests.empty());
  CHECK(page->counts.at("svg.chart") == sample.charts);
  CHECK(page->counts.at("g.marker") == sample.markers);
  CHECK(page->counts.at("g.span") == sample.spans);
  CHECK(page->counts.at("g.box") == sample.boxes);
  CHECK(page->counts.at("g.bar") == sample.bars);
  CHECK(page->counts.at("table") == sample.tables);
  CHECK(page->counts.at("svg.chart .series path.line") >= 10);
  CHECK(page->counts.at("svg.chart.timeseries .no-data") == 1);

  const Result<Image> image = DecodePng(page->png);
  REQUIRE_MESSAGE(image.ok(), image.status().ToString());
  const ImageStats whole = MeasureImage(*image);
  CHECK(whole.distinct_colors > 200);    // text, lines, fills: anti-aliased, many shades
  CHECK(whole.background_share < 0.85);  // the page is not one flat colour
  // Each chart painted something inside its own box, and the boxes are real sizes.
  REQUIRE(page->boxes.size() == static_cast<std::size_t>(sample.charts));
  for (const ElementBox& box : page->boxes) {
    CAPTURE(box.y);
    CHECK(box.width >= 400);
    CHECK(box.height >= 80);
    const ImageStats chart = MeasureImage(*image, box.x, box.y, box.width, box.height);
    CHECK(chart.distinct_colors >= 16);
    CHECK(chart.background_share < 0.97);
  }
}

TEST_CASE("In a narrow window the charts shrink to fit instead of overflowing") {
  const ChartSample sample = MakeChartSample();
  TempDir dir;
  const std::string path = dir.Write("chart-sample.html", sample.html);
  const Result<BrowserPage> page = LoadInBrowser(
      FileUrl(path), {.viewport_width = 420, .viewport_height = 800, .boxes_of = "svg.chart"});
  REQUIRE_MESSAGE(page.ok(), page.status().ToString());
  REQUIRE(page->boxes.size() == static_cast<std::size_t>(sample.charts));
  for (const ElementBox& box : page->boxes) {
    CHECK(box.x >= 0);
    CHECK(box.x + box.width <= 420);
    CHECK(box.height <= box.width);  // the viewBox keeps its proportions: wider than tall
  }
  CHECK(page->console_errors.empty());
}

}  // namespace
}  // namespace dynoherd::testing
