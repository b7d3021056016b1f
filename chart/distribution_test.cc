#include "chart/distribution.h"

#include <doctest/doctest.h>

#include <limits>
#include <string>

namespace dynoherd::chart {
namespace {

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
    ++n;
  return n;
}

TEST_CASE("BoxStatsFromSamples interpolates quartiles and ignores what cannot be drawn") {
  const auto stats = BoxStatsFromSamples({9, 1, 8, 2, 7, 3, 6, 4, 5}, 0.0, 1.0);
  REQUIRE(stats);
  CHECK(stats->low == 1);
  CHECK(stats->q1 == 3);
  CHECK(stats->median == 5);
  CHECK(stats->q3 == 7);
  CHECK(stats->high == 9);

  const auto even = BoxStatsFromSamples({1, 2, 3, 4});
  REQUIRE(even);
  CHECK(even->median == doctest::Approx(2.5));
  CHECK(even->q1 == doctest::Approx(1.75));
  CHECK(even->low == doctest::Approx(1.15));  // p5

  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto filtered = BoxStatsFromSamples({nan, 4, std::numeric_limits<double>::infinity()});
  REQUIRE(filtered);
  CHECK(filtered->low == 4);
  CHECK(filtered->high == 4);
  CHECK_FALSE(BoxStatsFromSamples({}));
  CHECK_FALSE(BoxStatsFromSamples({nan}));
}

BoxPlotChart FourDynos() {
  BoxPlotChart chart{.title = "latency per dyno", .threshold = Threshold{3.5, "threshold"}};
  chart.boxes.push_back({"web.1", BoxStats{0, 1, 2, 3, 4}});
  chart.boxes.push_back({"web.2", BoxStats{0.5, 1, 1.5, 2, 2.5}});
  chart.boxes.push_back({"web.3", BoxStats{1, 2, 3, 3.5, 4}, /*highlighted=*/true});
  chart.boxes.push_back({"web.4", std::nullopt});
  return chart;
}

TEST_CASE("Box plot: quartiles sit at their values, boxes centred in their bands") {
  const BoxPlotChart chart = FourDynos();
  const BoxPlotGeometry g = LayoutBoxPlot(chart);
  REQUIRE_FALSE(g.empty);
  REQUIRE(g.boxes.size() == 4);
  CHECK(g.y.scale.lo() == 0);
  CHECK(g.y.scale.hi() == doctest::Approx(4));
  const BoxGeometry& first = g.boxes[0];
  CHECK(first.present);
  CHECK(first.low == doctest::Approx(g.plot.bottom()));
  CHECK(first.q1 == doctest::Approx(g.plot.bottom() - g.plot.height / 4));
  CHECK(first.median == doctest::Approx(g.plot.top + g.plot.height / 2));
  CHECK(first.q3 == doctest::Approx(g.plot.top + g.plot.height / 4));
  CHECK(first.high == doctest::Approx(g.plot.top));
  const double band = g.plot.width / 4;
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(g.boxes[i].left + g.boxes[i].width / 2 ==
          doctest::Approx(g.plot.left + band * (static_cast<double>(i) + 0.5)));
  }
  CHECK_FALSE(g.boxes[3].present);

  const std::string svg = RenderBoxPlot(chart).markup();
  CHECK(Count(svg, "<g class=\"box plain\">") == 2);
  CHECK(Count(svg, "<g class=\"box highlight\">") == 1);
  CHECK(Count(svg, "<g class=\"box missing\">") == 1);
  CHECK(svg.find("<title>web.4: no data</title>") != std::string::npos);
  CHECK(svg.find("<title>web.1\nmedian 2\nquartiles 1 to 3\nwhiskers 0 to 4</title>") !=
        std::string::npos);
  CHECK(svg.find("class=\"tick-label emphasis\"") != std::string::npos);  // the laggard's name
  CHECK(svg.find("class=\"threshold-line\" x1=\"" + FormatCoordinate(g.plot.left) + "\" y1=\"" +
                 FormatCoordinate(g.y.Y(3.5)) + "\"") != std::string::npos);
  CHECK(svg.find(">highlighted</text>") != std::string::npos);  // its legend entry
}

TEST_CASE("Quantiles out of order cannot draw an inverted box") {
  BoxPlotChart chart;
  chart.boxes.push_back({"web.1", BoxStats{4, 3, 1, 2, 0}});
  const BoxGeometry box = LayoutBoxPlot(chart).boxes[0];
  CHECK(box.high <= box.q3);
  CHECK(box.q3 <= box.median);
  CHECK(box.median <= box.q1);
  CHECK(box.q1 <= box.low);
}

TEST_CASE("A box plot without any data says so") {
  BoxPlotChart chart{.empty_message = "no requests in the window"};
  chart.boxes.push_back({"web.1", std::nullopt});
  const std::string svg = RenderBoxPlot(chart).markup();
  CHECK(svg.find("no requests in the window") != std::string::npos);
  CHECK(svg.find("<g class=\"box") == std::string::npos);
  CHECK(RenderBoxPlot(BoxPlotChart{}).markup().find("No data") != std::string::npos);
}

TEST_CASE("On a log axis a zero whisker lies on the floor instead of hiding its box") {
  BoxPlotChart chart{.y = YAxis{.scale = ScaleKind::kLog, .format = ValueFormat::kSeconds}};
  chart.boxes.push_back({"web.1", BoxStats{0, 0.05, 0.08, 0.12, 0.4}});
  chart.boxes.push_back({"web.2", BoxStats{0.04, 0.06, 0.09, 2, 20}, true});
  const BoxPlotGeometry g = LayoutBoxPlot(chart);
  CHECK(g.boxes[0].present);
  CHECK(g.boxes[0].low == doctest::Approx(g.plot.bottom()));
  CHECK(g.boxes[0].median == doctest::Approx(g.y.Y(0.08)));
  CHECK(g.y.scale.lo() == doctest::Approx(0.01));
}

TEST_CASE("Hundreds of dynos: boxes stay in their bands and names are thinned out") {
  BoxPlotChart chart;
  for (int i = 1; i <= 300; ++i) {
    chart.boxes.push_back({"web." + std::to_string(i), BoxStats{1, 2, 3, 4, 5}, i == 217});
  }
  const BoxPlotGeometry g = LayoutBoxPlot(chart);
  for (std::size_t i = 0; i + 1 < g.boxes.size(); ++i) {
    CHECK(g.boxes[i].left + g.boxes[i].width <= g.boxes[i + 1].left);
  }
  const std::string svg = RenderBoxPlot(chart).markup();
  const int labels = Count(svg, "class=\"tick-label");
  CHECK(labels < 100);
  CHECK(svg.find(">web.217</text>") != std::string::npos);  // the highlighted one always
  CHECK(svg.size() < 300'000);
}

TEST_CASE("Long dyno names are shortened under the axis and whole in the tooltip") {
  BoxPlotChart chart;
  const std::string name = "a-process-type-with-a-name-nobody-can-read-at-a-glance.12";
  for (int i = 0; i < 8; ++i)
    chart.boxes.push_back({name, BoxStats{1, 2, 3, 4, 5}});
  const std::string svg = RenderBoxPlot(chart).markup();
  CHECK(svg.find(">" + name + "</text>") == std::string::npos);
  CHECK(svg.find("\xE2\x80\xA6</text>") != std::string::npos);
  CHECK(svg.find("<title>" + name + "\n") != std::string::npos);
}

TEST_CASE("Bars grow from zero, negative ones downwards; a missing one keeps its band") {
  BarChart chart{.title = "requests per dyno"};
  chart.bars.push_back({"web.1", 10.0});
  chart.bars.push_back({"web.2", 20.0, true});
  chart.bars.push_back({"web.3", 0.0});
  chart.bars.push_back({"web.4", std::nullopt});
  chart.bars.push_back({"web.5", -5.0});
  const BarChartGeometry g = LayoutBarChart(chart);
  REQUIRE(g.bars.size() == 5);
  const double zero = g.y.Y(0);
  CHECK(g.bars[0].bottom == doctest::Approx(zero));
  CHECK(g.bars[0].top == doctest::Approx(g.y.Y(10)));
  CHECK(zero - g.bars[1].top == doctest::Approx(2 * (zero - g.bars[0].top)));
  CHECK(g.bars[2].top == doctest::Approx(g.bars[2].bottom));
  CHECK_FALSE(g.bars[3].present);
  CHECK(g.bars[4].top == doctest::Approx(zero));
  CHECK(g.bars[4].bottom == doctest::Approx(g.y.Y(-5)));

  const std::string svg = RenderBarChart(chart).markup();
  CHECK(Count(svg, "<g class=\"bar plain\">") == 3);
  CHECK(Count(svg, "<g class=\"bar highlight\">") == 1);
  CHECK(svg.find("<title>web.4: no data</title>") != std::string::npos);
  CHECK(svg.find(">20</text>") != std::string::npos);  // value labels
}

TEST_CASE("Huge bar values are labelled briefly") {
  BarChart chart;
  chart.bars.push_back({"web.1", 1e12});
  chart.bars.push_back({"web.2", 4e11});
  const std::string svg = RenderBarChart(chart).markup();
  CHECK(svg.find(">1T</text>") != std::string::npos);
  CHECK(svg.find(">1.0T</text>") != std::string::npos);  // the axis
  CHECK(svg.find("nan") == std::string::npos);
}

TEST_CASE("Dyno names, tooltips and legends are escaped") {
  const std::string evil = "<script>alert(1)</script>\"&'";
  BoxPlotChart boxes{
      .title = evil, .threshold = Threshold{1, evil}, .box_label = evil, .highlight_label = evil};
  boxes.boxes.push_back({evil, BoxStats{1, 2, 3, 4, 5}, true, evil, evil});
  BarChart bars{.title = evil, .bar_label = evil};
  bars.bars.push_back({evil, 3.0, true, evil});
  for (const std::string& svg : {RenderBoxPlot(boxes).markup(), RenderBarChart(bars).markup()}) {
    CHECK(svg.find("<script") == std::string::npos);
    CHECK(svg.find("\"&'") == std::string::npos);
    CHECK(svg.find("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;&#39;") != std::string::npos);
  }
}

TEST_CASE("Box plots and bar charts are deterministic") {
  const BoxPlotChart chart = FourDynos();
  CHECK(RenderBoxPlot(chart).markup() == RenderBoxPlot(chart).markup());
  BarChart bars;
  bars.bars.push_back({"web.1", 3.0});
  CHECK(RenderBarChart(bars).markup() == RenderBarChart(bars).markup());
}

}  // namespace
}  // namespace dynoherd::chart
