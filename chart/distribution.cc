#include "chart/distribution.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "chart/text.h"

namespace dynoherd::chart {
namespace {

constexpr double kMaxBoxWidth = 56;
constexpr double kMaxBarWidth = 64;

double Quantile(const std::vector<double>& sorted, double q) {
  const double position = std::clamp(q, 0.0, 1.0) * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  const double share = position - static_cast<double>(below);
  return sorted[below] + share * (sorted[above] - sorted[below]);
}

// The five values in order, or nullopt when one of them cannot be drawn at all. On a log axis a
// value <= 0 still draws, at the bottom edge (ValueAxis::Y clamps), so a 0 ms whisker does not
// hide its whole box.
std::optional<std::array<double, 5>> Drawable(const std::optional<BoxStats>& stats) {
  if (!stats) return std::nullopt;
  std::array<double, 5> values = {stats->low, stats->q1, stats->median, stats->q3, stats->high};
  for (const double v : values) {
    if (!Plottable(v, ScaleKind::kLinear)) return std::nullopt;
  }
  std::sort(values.begin(), values.end());
  return values;
}

void Include(std::optional<double>& lo, std::optional<double>& hi, double value, ScaleKind scale) {
  const std::optional<double> v = Plottable(value, scale);
  if (!v) return;
  lo = lo ? std::min(*lo, *v) : *v;
  hi = hi ? std::max(*hi, *v) : *v;
}

std::vector<LegendItem> Legend(const std::string& plain, const std::string& highlight,
                               bool any_highlighted, const std::optional<Threshold>& threshold,
                               Swatch swatch) {
  std::vector<LegendItem> legend;
  if (!plain.empty()) legend.push_back({plain, "plain", swatch});
  if (any_highlighted) legend.push_back({highlight, "highlight", swatch});
  if (threshold) {
    legend.push_back({threshold->label.empty() ? "threshold" : threshold->label, "threshold",
                      Swatch::kThreshold});
  }
  return legend;
}

std::string BoxTooltip(const Box& box, const std::optional<std::array<double, 5>>& v,
                       ValueFormat format) {
  std::string text = box.name;
  if (!v) {
    text += ": no data";
  } else {
    text += "\nmedian " + FormatValue((*v)[2], format) + "\nquartiles " +
            FormatValue((*v)[1], format) + " to " + FormatValue((*v)[3], format) + "\nwhiskers " +
            FormatValue((*v)[0], format) + " to " + FormatValue((*v)[4], format);
  }
  if (!box.tooltip.empty()) text += "\n" + box.tooltip;
  return text;
}

struct BoxPrepared {
  BoxPlotGeometry geometry;
  BandScale bands{0, 0, 0};
  std::vector<std::optional<std::array<double, 5>>> values;
};

BoxPrepared PrepareBoxPlot(const BoxPlotChart& chart, SvgWriter& svg, std::optional<Frame>& frame) {
  BoxPrepared prepared;
  std::optional<double> lo;
  std::optional<double> hi;
  bool any_highlighted = false;
  bool any_sublabel = false;
  for (const Box& box : chart.boxes) {
    prepared.values.push_back(Drawable(box.stats));
    if (prepared.values.back()) {
      for (const double v : *prepared.values.back())
        Include(lo, hi, v, chart.y.scale);
    }
    any_highlighted = any_highlighted || box.highlighted;
    any_sublabel = any_sublabel || !box.sublabel.empty();
  }
  const std::optional<double> threshold =
      chart.threshold ? std::optional<double>(chart.threshold->value) : std::nullopt;
  const double margin = ValueLabelMargin(MakeValueAxis(chart.y, lo, hi, threshold, 1, 0));
  frame.emplace(svg, "boxplot", chart.title, chart.size,
                Legend(chart.box_label, chart.highlight_label, any_highlighted, chart.threshold,
                       Swatch::kBox),
                chart.y.label, margin,
                any_sublabel ? kCategoryAxisMarginTwoLines : kCategoryAxisMargin);
  BoxPlotGeometry& g = prepared.geometry;
  g.plot = frame->plot();
  g.empty = !lo.has_value();
  g.y = MakeValueAxis(chart.y, lo, hi, threshold, g.plot.top, g.plot.bottom());
  prepared.bands = BandScale(chart.boxes.size(), g.plot.left, g.plot.right(), 0.35);
  const double width = std::min(prepared.bands.Width(), kMaxBoxWidth);
  for (std::size_t i = 0; i < chart.boxes.size(); ++i) {
    BoxGeometry box;
    box.left = prepared.bands.Center(i) - width / 2;
    box.width = width;
    if (const auto& v = prepared.values[i]) {
      box.present = true;
      box.low = g.y.Y((*v)[0]);
      box.q1 = g.y.Y((*v)[1]);
      box.median = g.y.Y((*v)[2]);
      box.q3 = g.y.Y((*v)[3]);
      box.high = g.y.Y((*v)[4]);
    }
    g.boxes.push_back(box);
  }
  return prepared;
}

// A band whose dyno has no data: dashed, saying so where it has the room.
void DrawMissing(SvgWriter& svg, double left, double width, const Rect& plot) {
  svg.Empty("rect", {{"class", "box-missing"},
                     {"x", Px(left)},
                     {"y", Px(plot.top)},
                     {"width", Px(width)},
                     {"height", Px(plot.height)}});
  if (TextWidth("no data", 10) <= width - 4) {
    svg.Text("text",
             {{"class", "missing-label"},
              {"x", Px(left + width / 2)},
              {"y", Px(plot.bottom() - 8)},
              {"text-anchor", "middle"}},
             "no data");
  }
}

void DrawBox(SvgWriter& svg, const Box& box, const BoxGeometry& g, const Rect& plot,
             const std::string& tooltip) {
  const double center = g.left + g.width / 2;
  const std::string cx = Px(center);
  if (!g.present) {
    svg.Open("g", {{"class", "box missing"}});
    svg.Title(tooltip);
    DrawMissing(svg, g.left, g.width, plot);
    svg.Close();
    return;
  }
  svg.Open("g", {{"class", box.highlighted ? "box highlight" : "box plain"}});
  svg.Title(tooltip);
  const double cap = g.width / 4;
  svg.Empty("line",
            {{"class", "whisker"}, {"x1", cx}, {"y1", Px(g.high)}, {"x2", cx}, {"y2", Px(g.q3)}});
  svg.Empty("line",
            {{"class", "whisker"}, {"x1", cx}, {"y1", Px(g.q1)}, {"x2", cx}, {"y2", Px(g.low)}});
  for (const double y : {g.low, g.high}) {
    svg.Empty("line", {{"class", "whisker"},
                       {"x1", Px(center - cap)},
                       {"y1", Px(y)},
                       {"x2", Px(center + cap)},
                       {"y2", Px(y)}});
  }
  svg.Empty("rect", {{"class", "box-body"},
                     {"x", Px(g.left)},
                     {"y", Px(g.q3)},
                     {"width", Px(g.width)},
                     {"height", Px(std::max(1.0, g.q1 - g.q3))}});
  svg.Empty("line", {{"class", "median"},
                     {"x1", Px(g.left)},
                     {"y1", Px(g.median)},
                     {"x2", Px(g.left + g.width)},
                     {"y2", Px(g.median)}});
  svg.Close();
}

struct BarPrepared {
  BarChartGeometry geometry;
  BandScale bands{0, 0, 0};
  std::vector<std::optional<double>> values;
};

BarPrepared PrepareBarChart(const BarChart& chart, SvgWriter& svg, std::optional<Frame>& frame) {
  BarPrepared prepared;
  std::optional<double> lo;
  std::optional<double> hi;
  bool any_highlighted = false;
  for (const Bar& bar : chart.bars) {
    prepared.values.push_back(Plottable(bar.value, chart.y.scale));
    if (prepared.values.back()) Include(lo, hi, *prepared.values.back(), chart.y.scale);
    any_highlighted = any_highlighted || bar.highlighted;
  }
  const std::optional<double> threshold =
      chart.threshold ? std::optional<double>(chart.threshold->value) : std::nullopt;
  const double margin = ValueLabelMargin(MakeValueAxis(chart.y, lo, hi, threshold, 1, 0));
  frame.emplace(svg, "bars", chart.title, chart.size,
                Legend(chart.bar_label, chart.highlight_label, any_highlighted, chart.threshold,
                       Swatch::kBox),
                chart.y.label, margin, kCategoryAxisMargin);
  BarChartGeometry& g = prepared.geometry;
  g.plot = frame->plot();
  g.empty = !lo.has_value();
  g.y = MakeValueAxis(chart.y, lo, hi, threshold, g.plot.top, g.plot.bottom());
  prepared.bands = BandScale(chart.bars.size(), g.plot.left, g.plot.right(), 0.3);
  const double width = std::min(prepared.bands.Width(), kMaxBarWidth);
  // Bars grow from zero; on a log axis, or when zero is off a fixed axis, from its bottom.
  const bool zero_inside =
      chart.y.scale == ScaleKind::kLinear && g.y.scale.lo() <= 0 && g.y.scale.hi() >= 0;
  const double baseline = zero_inside ? g.y.Y(0) : g.plot.bottom();
  for (std::size_t i = 0; i < chart.bars.size(); ++i) {
    BarGeometry bar;
    bar.left = prepared.bands.Center(i) - width / 2;
    bar.width = width;
    if (const std::optional<double>& v = prepared.values[i]) {
      bar.present = true;
      const double y = g.y.Y(*v);
      bar.top = std::min(y, baseline);
      bar.bottom = std::max(y, baseline);
    }
    g.bars.push_back(bar);
  }
  return prepared;
}

}  // namespace

std::optional<BoxStats> BoxStatsFromSamples(std::vector<double> samples, double low_quantile,
                                            double high_quantile) {
  std::erase_if(samples, [](double v) { return !Plottable(v, ScaleKind::kLinear); });
  if (samples.empty()) return std::nullopt;
  std::sort(samples.begin(), samples.end());
  return BoxStats{Quantile(samples, low_quantile), Quantile(samples, 0.25), Quantile(samples, 0.5),
                  Quantile(samples, 0.75), Quantile(samples, high_quantile)};
}

BoxPlotGeometry LayoutBoxPlot(const BoxPlotChart& chart) {
  SvgWriter scratch;
  std::optional<Frame> frame;
  return PrepareBoxPlot(chart, scratch, frame).geometry;
}

Svg RenderBoxPlot(const BoxPlotChart& chart) {
  SvgWriter svg;
  std::optional<Frame> frame;
  const BoxPrepared prepared = PrepareBoxPlot(chart, svg, frame);
  const BoxPlotGeometry& g = prepared.geometry;
  if (g.empty) {
    frame->DrawNoData(chart.empty_message);
    return svg.Finish();
  }
  frame->DrawValueAxis(g.y);
  std::vector<std::string> names;
  std::vector<std::string> sublabels;
  std::vector<bool> emphasized;
  for (const Box& box : chart.boxes) {
    names.push_back(box.name);
    sublabels.push_back(box.sublabel);
    emphasized.push_back(box.highlighted);
  }
  frame->DrawCategoryAxis(prepared.bands, names, sublabels, emphasized);
  svg.Open("g", {{"class", "boxes"}});
  for (std::size_t i = 0; i < chart.boxes.size(); ++i) {
    DrawBox(svg, chart.boxes[i], g.boxes[i], g.plot,
            BoxTooltip(chart.boxes[i], prepared.values[i], chart.y.format));
  }
  svg.Close();
  if (chart.threshold) frame->DrawThreshold(*chart.threshold, g.y, chart.y.format);
  return svg.Finish();
}

BarChartGeometry LayoutBarChart(const BarChart& chart) {
  SvgWriter scratch;
  std::optional<Frame> frame;
  return PrepareBarChart(chart, scratch, frame).geometry;
}

Svg RenderBarChart(const BarChart& chart) {
  SvgWriter svg;
  std::optional<Frame> frame;
  const BarPrepared prepared = PrepareBarChart(chart, svg, frame);
  const BarChartGeometry& g = prepared.geometry;
  if (g.empty) {
    frame->DrawNoData(chart.empty_message);
    return svg.Finish();
  }
  frame->DrawValueAxis(g.y);
  std::vector<std::string> names;
  std::vector<bool> emphasized;
  for (const Bar& bar : chart.bars) {
    names.push_back(bar.name);
    emphasized.push_back(bar.highlighted);
  }
  frame->DrawCategoryAxis(prepared.bands, names, {}, emphasized);
  svg.Open("g", {{"class", "bars"}});
  for (std::size_t i = 0; i < chart.bars.size(); ++i) {
    const Bar& bar = chart.bars[i];
    const BarGeometry& geometry = g.bars[i];
    const std::optional<double>& value = prepared.values[i];
    const std::string value_text = value ? FormatValue(*value, chart.y.format) : "no data";
    svg.Open("g", {{"class", !value            ? "bar missing"
                             : bar.highlighted ? "bar highlight"
                                               : "bar plain"}});
    svg.Title(bar.name + ": " + value_text + (bar.tooltip.empty() ? "" : "\n" + bar.tooltip));
    if (value) {
      svg.Empty("rect", {{"class", "bar-body"},
                         {"x", Px(geometry.left)},
                         {"y", Px(geometry.top)},
                         {"width", Px(geometry.width)},
                         {"height", Px(std::max(geometry.bottom - geometry.top, 0.5))},
                         {"rx", "2"}});
      if (chart.value_labels && TextWidth(value_text, 10.5) <= prepared.bands.Step() - 2) {
        const bool below = *value < 0;
        svg.Text("text",
                 {{"class", "bar-value"},
                  {"x", Px(geometry.left + geometry.width / 2)},
                  {"y", Px(below ? geometry.bottom + 12 : geometry.top - 4)},
                  {"text-anchor", "middle"}},
                 value_text);
      }
    } else {
      DrawMissing(svg, geometry.left, geometry.width, g.plot);
    }
    svg.Close();
  }
  svg.Close();
  if (chart.threshold) frame->DrawThreshold(*chart.threshold, g.y, chart.y.format);
  return svg.Finish();
}

}  // namespace dynoherd::chart
