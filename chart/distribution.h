// Per-dyno charts for `analyze`: a box plot of each dyno's latency distribution with the laggard
// highlighted and the threshold drawn, and a bar chart of requests per dyno. Dynos are bands along
// the x axis in the order given; both charts take the same order, so they line up on a page.
//
// Rules: a dyno with no data keeps its band (marked "no data") so the dynos stay in step across
// charts; the five values of a box are sorted before drawing, so inconsistent quantiles cannot
// draw an inverted box; values are filtered by Plottable() (plot.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "chart/plot.h"

namespace dynoherd::chart {

// The five values a box shows. What the whiskers stand for (min and max, p5 and p95, ...) is the
// caller's choice, stated in BoxPlotChart::box_label.
struct BoxStats {
  double low = 0;
  double q1 = 0;
  double median = 0;
  double q3 = 0;
  double high = 0;
};

// Quartiles of `samples` (linear interpolation between order statistics) and whiskers at the
// given quantiles. Samples Plottable() refuses are left out; nullopt when none is left.
std::optional<BoxStats> BoxStatsFromSamples(std::vector<double> samples, double low_quantile = 0.05,
                                            double high_quantile = 0.95);

struct Box {
  std::string name = {};               // under the band, and first in the tooltip
  std::optional<BoxStats> stats = {};  // nullopt: no data for this one
  bool highlighted = false;            // the laggard
  std::string sublabel = {};           // a second line under the name: "1.2k requests"
  std::string tooltip = {};            // on hover, after the numbers
};

struct BoxPlotChart {
  std::string title = {};
  std::vector<Box> boxes = {};
  std::optional<Threshold> threshold = {};
  YAxis y = YAxis();                                              // not `= {}`: see YAxis
  std::string box_label = "box: quartiles, whiskers: p5 to p95";  // the legend of a plain box
  std::string highlight_label = "highlighted";                    // the legend of a highlighted one
  Size size{960, 320};
  std::string empty_message = "No data";  // shown when no box has stats
};

struct BoxGeometry {
  bool present = false;  // false: no data, nothing but the band
  double left = 0;
  double width = 0;
  double low = 0;  // y of each of the five values
  double q1 = 0;
  double median = 0;
  double q3 = 0;
  double high = 0;
};

struct BoxPlotGeometry {
  Rect plot = {};
  ValueAxis y = {};
  std::vector<BoxGeometry> boxes = {};
  bool empty = true;
};

// <svg class="chart boxplot">, each box a <g class="box"> (class "box highlight" when highlighted).
Svg RenderBoxPlot(const BoxPlotChart& chart);
BoxPlotGeometry LayoutBoxPlot(const BoxPlotChart& chart);  // what RenderBoxPlot draws, for tests

struct Bar {
  std::string name = {};
  std::optional<double> value = {};  // nullopt: no data
  bool highlighted = false;
  std::string tooltip = {};  // on hover, after the name and value
};

struct BarChart {
  std::string title = {};
  std::vector<Bar> bars = {};
  std::optional<Threshold> threshold = {};
  YAxis y = YAxis();                            // not `= {}`: see YAxis
  std::string bar_label = {};                   // the legend of a plain bar; "" for none
  std::string highlight_label = "highlighted";  // the legend of a highlighted one
  bool value_labels = true;                     // values over the bars, where they fit
  Size size{960, 260};
  std::string empty_message = "No data";
};

struct BarGeometry {
  bool present = false;
  double left = 0;
  double width = 0;
  double top = 0;  // the bar spans [top, bottom] in y, from the baseline (0) to its value
  double bottom = 0;
};

struct BarChartGeometry {
  Rect plot = {};
  ValueAxis y = {};
  std::vector<BarGeometry> bars = {};
  bool empty = true;
};

// <svg class="chart bars">, each bar a <g class="bar"> ("bar highlight").
Svg RenderBarChart(const BarChart& chart);
BarChartGeometry LayoutBarChart(const BarChart& chart);

}  // namespace dynoherd::chart
