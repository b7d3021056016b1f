#include "chart/time_series.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "chart/format.h"

namespace dynoherd::chart {
namespace {

using namespace std::chrono_literals;

const TimePoint kStart = *ParseTimestamp("2026-12-06T12:00:00Z");
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
    ++n;
  return n;
}

// A series whose i-th value is at kStart + i minutes.
Series PerMinute(std::vector<std::optional<double>> values, std::string name = "p99") {
  Series s{.name = std::move(name)};
  for (std::size_t i = 0; i < values.size(); ++i) {
    s.points.push_back({kStart + std::chrono::minutes(i), values[i]});
  }
  return s;
}

TEST_CASE("The path of a tiny series runs through the scaled points") {
  TimeSeriesChart chart{.title = "tiny"};
  chart.series.push_back(PerMinute({0, 5, 10}));
  const TimeSeriesGeometry g = LayoutTimeSeries(chart);
  REQUIRE_FALSE(g.empty);
  CHECK(g.y.ticks == std::vector<double>{0, 2, 4, 6, 8, 10});
  REQUIRE(g.runs.size() == 1);
  REQUIRE(g.runs[0].size() == 1);
  const std::vector<Point>& run = g.runs[0][0];
  REQUIRE(run.size() == 3);
  CHECK(run[0].x == doctest::Approx(g.plot.left));
  CHECK(run[0].y == doctest::Approx(g.plot.bottom()));
  CHECK(run[1].x == doctest::Approx(g.plot.left + g.plot.width / 2));
  CHECK(run[1].y == doctest::Approx(g.plot.top + g.plot.height / 2));
  CHECK(run[2].x == doctest::Approx(g.plot.right()));
  CHECK(run[2].y == doctest::Approx(g.plot.top));
  CHECK(g.x.Invert(run[1].x) == doctest::Approx(ToUnixSeconds(kStart + 1min)));

  const std::string svg = RenderTimeSeries(chart).markup();
  const std::string d = "M" + FormatCoordinate(run[0].x) + " " + FormatCoordinate(run[0].y) + "L" +
                        FormatCoordinate(run[1].x) + " " + FormatCoordinate(run[1].y) + " " +
                        FormatCoordinate(run[2].x) + " " + FormatCoordinate(run[2].y);
  CHECK(svg.find("d=\"" + d + "\"") != std::string::npos);
  CHECK(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart timeseries\""));
}

TEST_CASE("A missing value breaks the line instead of bridging it") {
  TimeSeriesChart chart;
  chart.series.push_back(PerMinute({1, std::nullopt, 3, 4, kNaN, 6, 7}));
  const TimeSeriesGeometry g = LayoutTimeSeries(chart);
  REQUIRE(g.runs[0].size() == 3);
  CHECK(g.runs[0][0].size() == 1);  // alone between the start and a gap: a dot
  CHECK(g.runs[0][1].size() == 2);
  CHECK(g.runs[0][2].size() == 2);
  CHECK(g.runs[0][1][0].x == doctest::Approx(g.x.Map(ToUnixSeconds(kStart + 2min))));
  const std::string svg = RenderTimeSeries(chart).markup();
  CHECK(Count(svg, "<circle class=\"dot\"") == 1);
  CHECK(Count(svg, "<path class=\"line\"") == 2);
}

TEST_CASE("A step series holds each value until the next point, gaps included") {
  TimeSeriesChart chart{.y = YAxis{.integers = true}};
  Series size = PerMinute({2, 3, 3, std::nullopt, 4}, "web dynos");
  size.shape = SeriesShape::kStep;
  chart.series.push_back(size);
  const TimeSeriesGeometry g = LayoutTimeSeries(chart);
  const auto x = [&](int minute) {
    return g.x.Map(ToUnixSeconds(kStart + std::chrono::minutes(minute)));
  };
  const auto y = [&](double v) { return g.y.Y(v); };
  REQUIRE(g.runs[0].size() == 2);
  const std::vector<Point> expected = {
      {x(0), y(2)}, {x(1), y(2)}, {x(1), y(3)}, {x(2), y(3)}, {x(3), y(3)}};
  REQUIRE(g.runs[0][0].size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CHECK(g.runs[0][0][i].x == doctest::Approx(expected[i].x));
    CHECK(g.runs[0][0][i].y == doctest::Approx(expected[i].y));
  }
  CHECK(g.runs[0][1].size() == 1);  // 4 after the gap, with nothing after it
  for (const double t : g.y.ticks)
    CHECK(t == std::floor(t));
}

TEST_CASE("No plottable value gives an honest empty chart") {
  for (const auto& values : std::vector<std::vector<std::optional<double>>>{
           {}, {std::nullopt, std::nullopt}, {kNaN, kInf, -kInf, 1e300}}) {
    TimeSeriesChart chart{.title = "latency", .empty_message = "no requests yet"};
    chart.series.push_back(PerMinute(values));
    CHECK(LayoutTimeSeries(chart).empty);
    const std::string svg = RenderTimeSeries(chart).markup();
    CHECK(svg.find("class=\"no-data\"") != std::string::npos);
    CHECK(svg.find("no requests yet") != std::string::npos);
    CHECK(svg.find("<path") == std::string::npos);
    CHECK(svg.find("p99") != std::string::npos);  // the legend still says what would be here
  }
  const std::string none = RenderTimeSeries(TimeSeriesChart{.title = "nothing"}).markup();
  CHECK(none.find("No data") != std::string::npos);
  CHECK(none.ends_with("</svg>\n"));
}

TEST_CASE("One point is a dot in the middle of a minute-wide axis") {
  TimeSeriesChart chart;
  chart.series.push_back(PerMinute({0.25}));
  const TimeSeriesGeometry g = LayoutTimeSeries(chart);
  REQUIRE(g.runs[0].size() == 1);
  REQUIRE(g.runs[0][0].size() == 1);
  CHECK(g.runs[0][0][0].x == doctest::Approx(g.plot.left + g.plot.width / 2));
  CHECK(g.x.Invert(g.plot.right()) - g.x.Invert(g.plot.left) == doctest::Approx(60));
  CHECK(RenderTimeSeries(chart).markup().find("<circle class=\"dot\"") != std::string::npos);
}

TEST_CASE("All-equal values draw a flat line inside the plot") {
  for (const double v : {7.0, 0.0, -3.0}) {
    TimeSeriesChart chart;
    chart.series.push_back(PerMinute({v, v, v, v}));
    const TimeSeriesGeometry g = LayoutTimeSeries(chart);
    REQUIRE(g.runs[0].size() == 1);
    for (const Point& p : g.runs[0][0]) {
      CHECK(p.y == doctest::Approx(g.runs[0][0][0].y));
      CHECK(p.y >= g.plot.top);
      CHECK(p.y <= g.plot.bottom());
    }
    CHECK(g.y.scale.lo() < g.y.scale.hi());
    const std::string svg = RenderTimeSeries(chart).markup();
    CHECK(svg.find("nan") == std::string::npos);
    CHECK(svg.find("inf") == std::string::npos);
  }
}

TEST_CASE("Huge values get short labels and finite coordinates") {
  TimeSeriesChart chart;
  chart.series.push_back(PerMinute({1e12, 5e11, 1e3}));
  const std::string svg = RenderTimeSeries(chart).markup();
  CHECK(svg.find(">1.0T</text>") != std::string::npos);
  CHECK(svg.find("nan") == std::string::npos);
  CHECK(svg.find("inf") == std::string::npos);
  CHECK(svg.find("e+") == std::string::npos);
}

TEST_CASE("Non-finite and absurd values are gaps; negatives stay on a linear axis") {
  TimeSeriesChart chart;
  chart.series.push_back(PerMinute({1, -2, kInf, 3, kNaN, 4, 1e16, 5}));
  TimeSeriesGeometry g = LayoutTimeSeries(chart);
  CHECK(g.runs[0].size() == 4);  // {1, -2} {3} {4} {5}
  CHECK(g.y.scale.lo() <= -2);
  CHECK(RenderTimeSeries(chart).markup().find("grid zero") != std::string::npos);

  // On a log axis a value <= 0 cannot be drawn either.
  chart.y.scale = ScaleKind::kLog;
  chart.series[0] = PerMinute({0.1, 0, 0.2, -1, 0.3});
  g = LayoutTimeSeries(chart);
  CHECK(g.runs[0].size() == 3);
  CHECK(g.y.scale.lo() > 0);
}

TEST_CASE("A log axis spreads latencies of different magnitudes") {
  TimeSeriesChart chart{.y = YAxis{.scale = ScaleKind::kLog, .format = ValueFormat::kSeconds}};
  chart.series.push_back(PerMinute({0.04, 0.05, 0.045}, "p50"));
  chart.series.push_back(PerMinute({0.2, 20, 0.3}, "p99"));
  const TimeSeriesGeometry g = LayoutTimeSeries(chart);
  // p50 keeps a sixth of the height below it instead of lying flat on the floor.
  CHECK(g.plot.bottom() - g.runs[0][0][1].y > g.plot.height / 6);
  const std::string svg = RenderTimeSeries(chart).markup();
  CHECK(svg.find(">10ms</text>") != std::string::npos);
  CHECK(svg.find(">100s</text>") != std::string::npos);
}

TEST_CASE("A fixed axis end draws what lies beyond it at the edge") {
  TimeSeriesChart chart{.y = YAxis{.max = 2.0}};
  chart.series.push_back(PerMinute({1, 30, 1}));
  const TimeSeriesGeometry g = LayoutTimeSeries(chart);
  CHECK(g.runs[0][0][1].y == doctest::Approx(g.plot.top));
  CHECK(g.y.ticks.back() == doctest::Approx(2));
}

TEST_CASE("A million points are reduced to a bounded path that keeps spikes and gaps") {
  TimeSeriesChart chart;
  Series s{.name = "p99"};
  constexpr int kPoints = 1'000'000;
  for (int i = 0; i < kPoints; ++i) {
    std::optional<double> v = 1 + std::sin(i / 5000.0);
    if (i == 123'457) v = 50;                    // one spike
    if (i >= 600'000 && i < 650'000) v.reset();  // a long gap
    s.points.push_back({kStart + std::chrono::milliseconds(i * 100), v});
  }
  chart.series.push_back(std::move(s));
  const TimeSeriesGeometry g = LayoutTimeSeries(chart);
  std::size_t points = 0;
  double highest = g.plot.bottom();
  for (const auto& run : g.runs[0]) {
    points += run.size();
    for (const Point& p : run)
      highest = std::min(highest, p.y);
  }
  CHECK(points <= 6 * static_cast<std::size_t>(g.plot.width));
  CHECK(highest == doctest::Approx(g.y.Y(50)));
  CHECK(g.runs[0].size() == 2);
  const double gap_start =
      g.x.Map(ToUnixSeconds(kStart + std::chrono::milliseconds(600'000 * 100)));
  CHECK(g.runs[0][0].back().x <= gap_start);
  CHECK(RenderTimeSeries(chart).markup().size() < 200'000);
}

TEST_CASE("Markers sit at their time, carry their reason, and merge when they touch") {
  TimeSeriesChart chart;
  chart.series.push_back(PerMinute({1, 2, 3}));
  chart.markers.push_back({kStart + 1min, "restart", "restart web.3: p99 4.1s, 6.2x its siblings"});
  chart.markers.push_back({kStart + 2min, "scale", "scale web 4 -> 6"});
  TimeSeriesGeometry g = LayoutTimeSeries(chart);
  REQUIRE(g.marker_x.size() == 2);
  CHECK(g.marker_x[0] == doctest::Approx(g.plot.left + g.plot.width / 2));
  CHECK(g.marker_x[1] == doctest::Approx(g.plot.right()));
  std::string svg = RenderTimeSeries(chart).markup();
  CHECK(Count(svg, "<g class=\"marker ") == 2);
  CHECK(svg.find("<g class=\"marker m0\">\n<title>12:01:00 restart web.3: p99 4.1s, 6.2x its "
                 "siblings</title>") != std::string::npos);
  CHECK(svg.find("<g class=\"marker m1\">") != std::string::npos);

  // A second restart 200 ms later is less than a pixel away: one marker, both reasons.
  chart.markers.push_back({kStart + 1min + 200ms, "restart", "restart web.4"});
  g = LayoutTimeSeries(chart);
  CHECK(g.marker_x.size() == 2);
  svg = RenderTimeSeries(chart).markup();
  CHECK(Count(svg, "<g class=\"marker ") == 2);
  CHECK(svg.find("siblings\n12:01:00 restart web.4</title>") != std::string::npos);
  CHECK(svg.find("class=\"marker-count\"") != std::string::npos);
}

TEST_CASE("Thousands of markers stay a bounded page") {
  TimeSeriesChart chart;
  chart.series.push_back(PerMinute({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  for (int i = 0; i < 20'000; ++i) {
    chart.markers.push_back({kStart + std::chrono::milliseconds(i * 30), "restart", "again"});
  }
  const TimeSeriesGeometry g = LayoutTimeSeries(chart);
  CHECK(g.marker_x.size() <= static_cast<std::size_t>(g.plot.width / 3) + 1);
  const std::string svg = RenderTimeSeries(chart).markup();
  CHECK(svg.size() < 400'000);
  CHECK(svg.find("and ") != std::string::npos);  // "... and N more" in a merged tooltip
}

TEST_CASE("Spans shade their stretch, cut at the axis ends") {
  TimeSeriesChart chart{.from = kStart, .to = kStart + 10min};
  chart.series.push_back(PerMinute({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  chart.spans.push_back({kStart + 2min, kStart + 4min, "incident", "noisy neighbour web.3 x4"});
  chart.spans.push_back({kStart - 5min, kStart + 1min, "incident", "started before"});
  const TimeSeriesGeometry g = LayoutTimeSeries(chart);
  const std::string svg = RenderTimeSeries(chart).markup();
  const std::string x = FormatCoordinate(g.x.Map(ToUnixSeconds(kStart + 2min)));
  const std::string width = FormatCoordinate(g.plot.width / 5);
  CHECK(svg.find("<rect class=\"span-area\" x=\"" + x + "\" y=\"" + FormatCoordinate(g.plot.top) +
                 "\" width=\"" + width + "\"") != std::string::npos);
  CHECK(svg.find("<rect class=\"span-area\" x=\"" + FormatCoordinate(g.plot.left) + "\"") !=
        std::string::npos);
  CHECK(Count(svg, "<g class=\"span a0\">") == 2);
  CHECK(Count(svg, "class=\"legend-item a0\"") == 1);  // one legend entry per kind
}

TEST_CASE("Without fixed ends the time axis covers every span and marker, not only the points") {
  TimeSeriesChart chart;
  chart.series.push_back(PerMinute({1, 2, 3}));
  chart.spans.push_back({kStart - 4min, kStart + 1min, "incident", "began before the data"});
  chart.markers.push_back({kStart + 6min, "scale", "after the last point"});
  const TimeSeriesGeometry g = LayoutTimeSeries(chart);
  CHECK(g.x.lo() == doctest::Approx(ToUnixSeconds(kStart - 4min)));
  CHECK(g.x.hi() == doctest::Approx(ToUnixSeconds(kStart + 6min)));
  REQUIRE(g.marker_x.size() == 1);
  CHECK(g.marker_x[0] == doctest::Approx(g.plot.right()));
}

TEST_CASE("The threshold is drawn, and the axis stretches to show it") {
  TimeSeriesChart chart{.threshold = Threshold{2.0, "latencyThreshold 2s"},
                        .y = YAxis{.format = ValueFormat::kSeconds}};
  chart.series.push_back(PerMinute({0.2, 0.3, 0.25}));
  const TimeSeriesGeometry g = LayoutTimeSeries(chart);
  CHECK(g.y.scale.hi() >= 2.0);
  const std::string svg = RenderTimeSeries(chart).markup();
  const std::string y = FormatCoordinate(g.y.Y(2.0));
  CHECK(svg.find("class=\"threshold-line\" x1=\"" + FormatCoordinate(g.plot.left) + "\" y1=\"" + y +
                 "\"") != std::string::npos);
  CHECK(svg.find("latencyThreshold 2s: 2s</title>") != std::string::npos);
}

TEST_CASE("Day boundaries on the time axis are labelled with the date") {
  TimeSeriesChart chart{.utc_offset = 60min};
  Series s{.name = "p50"};
  const TimePoint from = *ParseTimestamp("2026-12-06T21:00:00Z");
  for (int i = 0; i <= 6 * 60; i += 10)
    s.points.push_back({from + std::chrono::minutes(i), 1.0});
  chart.series.push_back(s);
  const std::string svg = RenderTimeSeries(chart).markup();
  CHECK(svg.find("class=\"tick-label day\" x=") != std::string::npos);
  CHECK(svg.find(">Dec 7</text>") != std::string::npos);  // 23:00Z is midnight at UTC+01:00
  CHECK(svg.find(">2026-12-06 to 2026-12-07, UTC+01:00</text>") != std::string::npos);
}

TEST_CASE("Long titles and names are shortened on the chart and kept whole on hover") {
  const std::string long_title(400, 'T');
  TimeSeriesChart chart{.title = long_title};
  chart.series.push_back(PerMinute({1, 2}, std::string(300, 'n')));
  const std::string svg = RenderTimeSeries(chart).markup();
  CHECK(svg.find("<title>" + long_title + "</title>") != std::string::npos);
  CHECK(svg.find(std::string(50, 'T') + "\xE2\x80\xA6</text>") != std::string::npos);
  CHECK(svg.find("<title>" + std::string(300, 'n') + "</title>") != std::string::npos);
  CHECK(svg.find(std::string(300, 'n') + "</text>") == std::string::npos);
}

TEST_CASE("Many series: the legend keeps to its rows and says how many it left out") {
  TimeSeriesChart chart;
  for (int i = 0; i < 60; ++i)
    chart.series.push_back(PerMinute({1.0 * i, 2.0 * i}, "dyno web." + std::to_string(i)));
  const std::string svg = RenderTimeSeries(chart).markup();
  CHECK(svg.find("class=\"legend-more\"") != std::string::npos);
  CHECK(svg.find(" more</text>") != std::string::npos);
  CHECK(svg.find("class=\"series c7\"") != std::string::npos);  // the palette comes round again
}

TEST_CASE("Every string that reaches the chart is escaped") {
  const std::string evil = "<script>alert(1)</script> \"quoted\" & 'single'";
  TimeSeriesChart chart{.title = evil, .threshold = Threshold{5, evil}, .y = YAxis{.label = evil}};
  Series s = PerMinute({1, 2, 3}, evil);
  s.css_class = "x\" onmouseover=\"alert(1)";
  chart.series.push_back(s);
  chart.spans.push_back({kStart, kStart + 1min, evil, evil});
  chart.markers.push_back({kStart + 1min, evil, evil});
  const std::string svg = RenderTimeSeries(chart).markup();
  CHECK(svg.find("<script") == std::string::npos);
  CHECK(svg.find("onmouseover=") == std::string::npos);
  CHECK(svg.find("\"quoted\"") == std::string::npos);
  CHECK(svg.find("'single'") == std::string::npos);
  CHECK(
      svg.find("&lt;script&gt;alert(1)&lt;/script&gt; &quot;quoted&quot; &amp; &#39;single&#39;") !=
      std::string::npos);
  CHECK(Count(svg, "&lt;script&gt;") >= 6);
}

TEST_CASE("The same input gives the same bytes, whatever the order of its points") {
  TimeSeriesChart chart{.title = "p99", .threshold = Threshold{3, ""}};
  chart.series.push_back(PerMinute({1, 2.5, std::nullopt, 4, 3}));
  chart.markers.push_back({kStart + 2min, "restart", "why"});
  chart.spans.push_back({kStart + 1min, kStart + 3min, "incident", "what"});
  const std::string first = RenderTimeSeries(chart).markup();
  CHECK(RenderTimeSeries(chart).markup() == first);
  std::reverse(chart.series[0].points.begin(), chart.series[0].points.end());
  CHECK(RenderTimeSeries(chart).markup() == first);
}

}  // namespace
}  // namespace dynoherd::chart
