// Values over time: latency percentiles as lines, a formation's size as steps, incidents as shaded
// spans, actions as markers whose reason shows on hover, and a threshold line.
//
//   TimeSeriesChart chart{.title = "web: p99 latency",
//                         .y = YAxis{.format = ValueFormat::kSeconds}};
//   chart.series.push_back({.name = "p99", .points = p99_per_minute});
//   chart.markers.push_back({.at = t, .kind = "restart", .tooltip = "restart web.3: 6.2x slower"});
//   page.AddChart(RenderTimeSeries(chart));
//
// Rules: points may come in any order (they are sorted by time); a missing value (nullopt, or
// anything Plottable() refuses) breaks the line, never interpolates; a point with no neighbour on
// either side is drawn as a dot. A series with more points than twice the plot's width in pixels
// is reduced to the first, lowest, highest and last value of each pixel column (spikes survive),
// so the output stays bounded whatever the input. Markers closer than 3 pixels are merged into
// one whose tooltip lists their reasons.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "chart/plot.h"
#include "chart/svg.h"
#include "common/time.h"

namespace dynoherd::chart {

struct TimeValue {
  TimePoint at{};
  std::optional<double> value = {};  // nullopt (or NaN): no value at this time, a gap
};

enum class LineStyle { kSolid, kDashed, kDotted };

enum class SeriesShape {
  kLine,  // straight segments between points
  kStep,  // a value holds until the next point's time (formation sizes)
};

struct Series {
  std::string name = {};  // in the legend
  std::vector<TimeValue> points = {};
  std::string css_class = {};  // the colour class; "" takes the palette's next (PaletteClass)
  LineStyle line = LineStyle::kSolid;
  SeriesShape shape = SeriesShape::kLine;
};

// A stretch of time to shade: an incident, a surge.
struct Span {
  TimePoint from{};
  TimePoint to{};
  std::string kind = {};   // the legend entry, shared by spans of one kind: "incident"
  std::string label = {};  // this span, written in it and on hover: "noisy neighbour web.3 x4"
};

// A moment something was done: a restart, a scale.
struct Marker {
  TimePoint at{};
  std::string kind = {};     // the legend entry and the colour: markers of one kind look alike
  std::string tooltip = {};  // on hover: what was done and why
};

struct TimeSeriesChart {
  std::string title = {};
  std::vector<Series> series = {};
  std::vector<Span> spans = {};
  std::vector<Marker> markers = {};
  std::optional<Threshold> threshold = {};
  YAxis y = YAxis();  // not `= {}`: see YAxis
  // The time axis; by default the extent of the points, spans and markers. With fixed ends,
  // what lies outside is left out (spans are cut at the ends).
  std::optional<TimePoint> from = {};
  std::optional<TimePoint> to = {};
  std::chrono::minutes utc_offset{0};  // the clock the time labels are in (scale.h)
  int time_tick_count = 8;             // at most this many intervals
  Size size = {};
  std::string empty_message = "No data";  // shown when no series has a plottable value
};

// The chart as an <svg class="chart timeseries"> element, ready for Page::AddChart. Each series is
// a <g class="series ..."> with one <path> per unbroken run, each marker a <g class="marker">.
Svg RenderTimeSeries(const TimeSeriesChart& chart);

// The geometry RenderTimeSeries draws, exposed for tests: for each series (in order) its runs
// of unbroken points in SVG coordinates, after sorting, filtering and reducing as described above.
struct TimeSeriesGeometry {
  Rect plot = {};
  Scale x = Scale::Linear(0, 1, 0, 1);  // seconds since the epoch to pixels
  ValueAxis y = {};
  std::vector<std::vector<std::vector<Point>>> runs = {};  // [series][run][point]
  std::vector<double> marker_x = {};                       // after merging, in time order
  bool empty = true;                                       // no plottable value at all
};
TimeSeriesGeometry LayoutTimeSeries(const TimeSeriesChart& chart);

}  // namespace dynoherd::chart
