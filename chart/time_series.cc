#include "chart/time_series.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "chart/text.h"

namespace dynoherd::chart {
namespace {

constexpr double kTimeAxisMargin = 42;  // tick labels, then the caption
constexpr double kMarkerMergePx = 3;
constexpr std::size_t kMaxReasonsPerMarker = 5;

struct Sample {
  double t = 0;  // seconds since the epoch
  std::optional<double> value;
};

struct MarkerGroup {
  double x = 0;
  std::string css_class;
  std::vector<const Marker*> markers;
};

// Everything the SVG is drawn from, computed once.
struct Prepared {
  TimeSeriesGeometry geometry;
  TimePoint from{};
  TimePoint to{};
  std::vector<std::string> series_class;
  std::vector<std::string> span_class;    // per span
  std::vector<std::string> marker_kinds;  // in order of first appearance: MarkerClass(index)
  std::vector<MarkerGroup> markers;
};

double Seconds(TimePoint t) {
  return ToUnixSeconds(t);
}

// First, lowest, highest and last present value of each pixel column, with the column's gaps kept
// as one break before and one after them, so a reduced series still breaks where it broke.
std::vector<Sample> ReduceToColumns(const std::vector<Sample>& samples, const Scale& x, double left,
                                    int columns) {
  std::vector<Sample> out;
  std::vector<Sample> present;       // of the current column, in time order
  std::optional<double> gap_before;  // the time of the column's first gap before any value
  std::optional<double> gap_after;   // ... and after its first value
  int column = -1;
  const auto flush = [&] {
    if (gap_before) out.push_back({*gap_before, std::nullopt});
    if (!present.empty()) {
      const auto [lowest, highest] =
          std::minmax_element(present.begin(), present.end(),
                              [](const Sample& a, const Sample& b) { return *a.value < *b.value; });
      std::vector<const Sample*> keep = {&present.front(), &*lowest, &*highest, &present.back()};
      std::sort(keep.begin(), keep.end());  // pointers into one vector: time order
      keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
      for (const Sample* s : keep)
        out.push_back(*s);
    }
    if (gap_after) out.push_back({*gap_after, std::nullopt});
    present.clear();
    gap_before.reset();
    gap_after.reset();
  };
  for (const Sample& s : samples) {
    const int c = std::clamp(static_cast<int>(std::floor(x.Map(s.t) - left)), 0, columns - 1);
    if (c != column) {
      flush();
      column = c;
    }
    if (s.value) {
      present.push_back(s);
    } else if (present.empty()) {
      if (!gap_before) gap_before = s.t;
    } else {
      if (!gap_after) gap_after = s.t;
    }
  }
  flush();
  return out;
}

std::vector<std::vector<Point>> Runs(const std::vector<Sample>& samples, SeriesShape shape,
                                     const Scale& x, const ValueAxis& y) {
  std::vector<std::vector<Point>> runs;
  std::vector<Point> run;
  double held_y = 0;  // a step series' value holds until the next point, present or not
  for (const Sample& s : samples) {
    const double px = x.Map(s.t);
    const bool holding = shape == SeriesShape::kStep && !run.empty();
    if (!s.value) {
      if (holding) run.push_back({px, held_y});
      if (!run.empty()) runs.push_back(std::move(run));
      run.clear();
      continue;
    }
    const double py = y.Y(*s.value);
    if (holding && py != held_y) run.push_back({px, held_y});  // the corner of a step
    run.push_back({px, py});
    held_y = py;
  }
  if (!run.empty()) runs.push_back(std::move(run));
  return runs;
}

std::vector<LegendItem> Legend(const TimeSeriesChart& chart, const Prepared& prepared) {
  std::vector<LegendItem> legend;
  for (std::size_t i = 0; i < chart.series.size(); ++i) {
    const LineStyle line = chart.series[i].line;
    legend.push_back({chart.series[i].name, prepared.series_class[i],
                      line == LineStyle::kDashed   ? Swatch::kDashed
                      : line == LineStyle::kDotted ? Swatch::kDotted
                                                   : Swatch::kLine});
  }
  std::map<std::string, bool> seen;
  for (std::size_t i = 0; i < chart.spans.size(); ++i) {
    if (!seen.emplace("span:" + chart.spans[i].kind, true).second) continue;
    legend.push_back({chart.spans[i].kind, prepared.span_class[i], Swatch::kArea});
  }
  for (std::size_t i = 0; i < prepared.marker_kinds.size(); ++i) {
    legend.push_back({prepared.marker_kinds[i], MarkerClass(i), Swatch::kMarker});
  }
  if (chart.threshold) {
    legend.push_back({chart.threshold->label.empty() ? "threshold" : chart.threshold->label,
                      "threshold", Swatch::kThreshold});
  }
  return legend;
}

// The time axis' ends: the caller's, or the extent of everything there is to draw.
std::pair<TimePoint, TimePoint> TimeDomain(const TimeSeriesChart& chart) {
  std::optional<TimePoint> lo;
  std::optional<TimePoint> hi;
  const auto include = [&](TimePoint t) {
    lo = lo ? std::min(*lo, t) : t;
    hi = hi ? std::max(*hi, t) : t;
  };
  for (const Series& s : chart.series) {
    for (const TimeValue& p : s.points)
      include(p.at);
  }
  for (const Span& s : chart.spans) {
    include(s.from);
    include(s.to);
  }
  for (const Marker& m : chart.markers)
    include(m.at);
  TimePoint from = chart.from.value_or(lo.value_or(TimePoint{}));
  TimePoint to = chart.to.value_or(hi.value_or(from));
  if (to < from) std::swap(from, to);
  if (to == from) {  // one moment: a minute either side of it
    if (!chart.from) from -= std::chrono::seconds(30);
    if (!chart.to) to += std::chrono::seconds(30);
    if (to == from) to += std::chrono::seconds(60);
  }
  return {from, to};
}

Prepared Prepare(const TimeSeriesChart& chart, SvgWriter& svg, std::optional<Frame>& frame) {
  Prepared prepared;
  std::tie(prepared.from, prepared.to) = TimeDomain(chart);
  const double from_s = Seconds(prepared.from);
  const double to_s = Seconds(prepared.to);

  for (std::size_t i = 0; i < chart.series.size(); ++i) {
    const std::string own = CssClass(chart.series[i].css_class);
    prepared.series_class.push_back(own.empty() ? PaletteClass(i) : own);
  }
  std::vector<std::string> span_kinds;
  for (const Span& span : chart.spans) {
    auto it = std::find(span_kinds.begin(), span_kinds.end(), span.kind);
    if (it == span_kinds.end()) it = span_kinds.insert(span_kinds.end(), span.kind);
    // 'a', not "a": GCC 12 -O3 reports a false -Wrestrict on "literal" + string.
    prepared.span_class.push_back('a' + std::to_string((it - span_kinds.begin()) % 3));
  }
  for (const Marker& m : chart.markers) {
    std::vector<std::string>& kinds = prepared.marker_kinds;
    if (std::find(kinds.begin(), kinds.end(), m.kind) == kinds.end()) kinds.push_back(m.kind);
  }

  // The samples of each series inside the time axis, in time order, values filtered.
  std::vector<std::vector<Sample>> samples(chart.series.size());
  std::optional<double> lo;
  std::optional<double> hi;
  for (std::size_t i = 0; i < chart.series.size(); ++i) {
    for (const TimeValue& p : chart.series[i].points) {
      const double t = Seconds(p.at);
      if (t < from_s || t > to_s) continue;
      const std::optional<double> value = Plottable(p.value, chart.y.scale);
      samples[i].push_back({t, value});
      if (value) {
        lo = lo ? std::min(*lo, *value) : *value;
        hi = hi ? std::max(*hi, *value) : *value;
      }
    }
    std::stable_sort(samples[i].begin(), samples[i].end(),
                     [](const Sample& a, const Sample& b) { return a.t < b.t; });
  }
  const std::optional<double> threshold =
      chart.threshold ? std::optional<double>(chart.threshold->value) : std::nullopt;

  // The labels (and so the left margin) do not depend on where the axis lands.
  const double margin = ValueLabelMargin(MakeValueAxis(chart.y, lo, hi, threshold, 1, 0));
  frame.emplace(svg, "timeseries", chart.title, chart.size, Legend(chart, prepared), chart.y.label,
                margin, kTimeAxisMargin);
  const Rect plot = frame->plot();
  TimeSeriesGeometry& geometry = prepared.geometry;
  geometry.plot = plot;
  geometry.empty = !lo.has_value();
  geometry.x = Scale::Linear(from_s, to_s, plot.left, plot.right());
  geometry.y = MakeValueAxis(chart.y, lo, hi, threshold, plot.top, plot.bottom());
  if (geometry.empty) return prepared;

  const int columns = std::max(1, static_cast<int>(plot.width));
  for (std::size_t i = 0; i < chart.series.size(); ++i) {
    if (samples[i].size() > static_cast<std::size_t>(2 * columns)) {
      samples[i] = ReduceToColumns(samples[i], geometry.x, plot.left, columns);
    }
    geometry.runs.push_back(Runs(samples[i], chart.series[i].shape, geometry.x, geometry.y));
  }

  std::vector<const Marker*> markers;
  for (const Marker& m : chart.markers) {
    if (m.at >= prepared.from && m.at <= prepared.to) markers.push_back(&m);
  }
  std::stable_sort(markers.begin(), markers.end(),
                   [](const Marker* a, const Marker* b) { return a->at < b->at; });
  const std::vector<std::string>& marker_kinds = prepared.marker_kinds;
  for (const Marker* m : markers) {
    const double x = geometry.x.Map(Seconds(m->at));
    if (prepared.markers.empty() || x - prepared.markers.back().x >= kMarkerMergePx) {
      const auto kind = std::find(marker_kinds.begin(), marker_kinds.end(), m->kind);
      prepared.markers.push_back(
          {x, MarkerClass(static_cast<std::size_t>(kind - marker_kinds.begin())), {}});
    }
    prepared.markers.back().markers.push_back(m);
  }
  for (const MarkerGroup& group : prepared.markers)
    geometry.marker_x.push_back(group.x);
  return prepared;
}

std::string PathData(const std::vector<Point>& run) {
  // 'M', not "M": GCC 12 -O3 reports a false -Wrestrict on "literal" + string.
  std::string d = 'M' + Px(run[0].x) + " " + Px(run[0].y);
  for (std::size_t i = 1; i < run.size(); ++i) {
    d += i == 1 ? "L" : " ";
    d += Px(run[i].x) + " " + Px(run[i].y);
  }
  return d;
}

std::string MarkerTooltip(const MarkerGroup& group, std::chrono::minutes utc_offset) {
  std::string text;
  for (std::size_t i = 0; i < group.markers.size() && i < kMaxReasonsPerMarker; ++i) {
    if (i > 0) text += '\n';
    text += FormatClock(group.markers[i]->at, utc_offset) + " " + group.markers[i]->tooltip;
  }
  if (group.markers.size() > kMaxReasonsPerMarker) {
    text += "\nand " + std::to_string(group.markers.size() - kMaxReasonsPerMarker) + " more";
  }
  return text;
}

// The shaded areas go under everything; their labels (`labels`) over everything, so that no
// line crosses the words.
void DrawSpans(SvgWriter& svg, const TimeSeriesChart& chart, const Prepared& prepared,
               bool labels) {
  const TimeSeriesGeometry& g = prepared.geometry;
  svg.Open("g", {{"class", labels ? "span-labels" : "spans"}});
  for (std::size_t i = 0; i < chart.spans.size(); ++i) {
    const Span& span = chart.spans[i];
    const TimePoint from = std::max(std::min(span.from, span.to), prepared.from);
    const TimePoint to = std::min(std::max(span.from, span.to), prepared.to);
    if (to < from) continue;
    const double x1 = g.x.Map(Seconds(from));
    const double width = std::max(1.0, g.x.Map(Seconds(to)) - x1);
    if (labels) {
      const std::string label = Ellipsize(span.label, width - 8, 10.5);
      if (!label.empty()) {
        svg.Text("text",
                 {{"class", "span-label " + prepared.span_class[i]},
                  {"x", Px(x1 + 4)},
                  {"y", Px(g.plot.top + 13)}},
                 label);
      }
      continue;
    }
    svg.Open("g", {{"class", "span " + prepared.span_class[i]}});
    svg.Title(span.label.empty() ? span.kind : span.label);
    svg.Empty("rect", {{"class", "span-area"},
                       {"x", Px(x1)},
                       {"y", Px(g.plot.top)},
                       {"width", Px(width)},
                       {"height", Px(g.plot.height)}});
    svg.Close();
  }
  svg.Close();
}

void DrawTimeAxis(SvgWriter& svg, const TimeSeriesChart& chart, const Prepared& prepared) {
  const TimeSeriesGeometry& g = prepared.geometry;
  const TimeTicks ticks =
      MakeTimeTicks(prepared.from, prepared.to, chart.time_tick_count, chart.utc_offset);
  svg.Open("g", {{"class", "axis time-axis"}});
  svg.Empty("line", {{"class", "axis-line"},
                     {"x1", Px(g.plot.left)},
                     {"y1", Px(g.plot.bottom())},
                     {"x2", Px(g.plot.right())},
                     {"y2", Px(g.plot.bottom())}});
  double last_label_end = -1e9;
  for (const TimeTick& tick : ticks.ticks) {
    const double x = g.x.Map(Seconds(tick.at));
    svg.Empty("line", {{"class", tick.day_start ? "grid vertical day" : "grid vertical"},
                       {"x1", Px(x)},
                       {"y1", Px(g.plot.top)},
                       {"x2", Px(x)},
                       {"y2", Px(g.plot.bottom())}});
    const double half = TextWidth(tick.label, kTickFontSize) / 2;
    // A label that would overlap its neighbour or leave the chart is left out; its line stays.
    if (x - half < last_label_end + 6 || x - half < 0 || x + half > chart.size.width) continue;
    svg.Text("text",
             {{"class", tick.day_start ? "tick-label day" : "tick-label"},
              {"x", Px(x)},
              {"y", Px(g.plot.bottom() + 16)},
              {"text-anchor", "middle"}},
             tick.label);
    last_label_end = x + half;
  }
  svg.Text("text",
           {{"class", "axis-caption"},
            {"x", Px(g.plot.right())},
            {"y", Px(g.plot.bottom() + 34)},
            {"text-anchor", "end"}},
           ticks.caption);
  svg.Close();
}

void DrawSeries(SvgWriter& svg, const TimeSeriesChart& chart, const Prepared& prepared) {
  const TimeSeriesGeometry& g = prepared.geometry;
  for (std::size_t i = 0; i < chart.series.size(); ++i) {
    const Series& series = chart.series[i];
    const char* line = series.line == LineStyle::kDashed   ? " dashed"
                       : series.line == LineStyle::kDotted ? " dotted"
                                                           : "";
    svg.Open("g", {{"class", "series " + prepared.series_class[i] + line}});
    svg.Title(series.name);
    for (const std::vector<Point>& run : g.runs[i]) {
      if (run.size() == 1) {
        svg.Empty("circle",
                  {{"class", "dot"}, {"cx", Px(run[0].x)}, {"cy", Px(run[0].y)}, {"r", "2.5"}});
      } else {
        svg.Empty("path", {{"class", "line"}, {"d", PathData(run)}});
      }
    }
    svg.Close();
  }
}

void DrawMarkers(SvgWriter& svg, const Prepared& prepared, std::chrono::minutes utc_offset) {
  const TimeSeriesGeometry& g = prepared.geometry;
  svg.Open("g", {{"class", "markers"}});
  for (const MarkerGroup& group : prepared.markers) {
    const std::string x = Px(group.x);
    svg.Open("g", {{"class", "marker " + group.css_class}});
    svg.Title(MarkerTooltip(group, utc_offset));
    // A wide transparent line under the thin one makes the tooltip easy to hit.
    svg.Empty("line", {{"class", "marker-hit"},
                       {"x1", x},
                       {"y1", Px(g.plot.top - 8)},
                       {"x2", x},
                       {"y2", Px(g.plot.bottom())}});
    svg.Empty("line", {{"class", "marker-line"},
                       {"x1", x},
                       {"y1", Px(g.plot.top)},
                       {"x2", x},
                       {"y2", Px(g.plot.bottom())}});
    svg.Empty("path",
              {{"class", "marker-head"},
               // 'M', not "M": see PathData.
               {"d", 'M' + Px(group.x - 5) + " " + Px(g.plot.top - 8) + "L" + Px(group.x + 5) +
                         " " + Px(g.plot.top - 8) + " " + x + " " + Px(g.plot.top) + "Z"}});
    if (group.markers.size() > 1) {
      svg.Text("text",
               {{"class", "marker-count"}, {"x", Px(group.x + 7)}, {"y", Px(g.plot.top - 1)}},
               std::to_string(group.markers.size()));
    }
    svg.Close();
  }
  svg.Close();
}

}  // namespace

TimeSeriesGeometry LayoutTimeSeries(const TimeSeriesChart& chart) {
  SvgWriter scratch;
  std::optional<Frame> frame;
  return Prepare(chart, scratch, frame).geometry;
}

Svg RenderTimeSeries(const TimeSeriesChart& chart) {
  SvgWriter svg;
  std::optional<Frame> frame;
  const Prepared prepared = Prepare(chart, svg, frame);
  if (prepared.geometry.empty) {
    frame->DrawNoData(chart.empty_message);
    return svg.Finish();
  }
  DrawSpans(svg, chart, prepared, /*labels=*/false);
  frame->DrawValueAxis(prepared.geometry.y);
  DrawTimeAxis(svg, chart, prepared);
  DrawSeries(svg, chart, prepared);
  if (chart.threshold) frame->DrawThreshold(*chart.threshold, prepared.geometry.y, chart.y.format);
  DrawMarkers(svg, prepared, chart.utc_offset);
  if (!chart.spans.empty()) DrawSpans(svg, chart, prepared, /*labels=*/true);
  return svg.Finish();
}

}  // namespace dynoherd::chart
