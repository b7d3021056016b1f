// A report-like page with every chart kind, built from synthetic data: two hours of a web
// formation through a noisy-neighbour incident and a surge, with and without dynoherd. The
// browser test opens it; docs/images/chart-sample.png is its screenshot.
#pragma once

#include <string>

namespace dynoherd::testing {

struct ChartSample {
  std::string html;
  // What the page must show, for the checks on the rendered DOM.
  int charts = 0;   // svg.chart
  int markers = 0;  // g.marker
  int spans = 0;    // g.span
  int boxes = 0;    // g.box
  int bars = 0;     // g.bar
  int tables = 0;
};

ChartSample MakeChartSample();

}  // namespace dynoherd::testing
