// What every chart shares: its size, the value axis and its options, the threshold line, and the
// frame around the plot (title, legend, gridlines, "no data"). The chart kinds (time_series.h,
// distribution.h) build on these; the pieces are public so tests can check their geometry.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chart/format.h"
#include "chart/scale.h"
#include "chart/svg.h"

namespace dynoherd::chart {

// In SVG user units. The chart scales to the width of its container (viewBox), so this sets the
// proportions and the text size relative to the plot, not pixels on screen: a chart meant for
// half the page (Page::AddChartRow) should be about half as wide, or its text shrinks with it.
struct Size {
  double width = 960;
  double height = 300;
};
inline constexpr Size kHalfWidth{560, 320};  // one of two charts side by side

struct Rect {
  double left = 0;
  double top = 0;
  double width = 0;
  double height = 0;
  double right() const { return left + width; }
  double bottom() const { return top + height; }
};

struct Point {
  double x = 0;
  double y = 0;
  bool operator==(const Point&) const = default;
};

// The value axis of a chart. Charts hold it as `YAxis y = YAxis();` and callers set it with
// `.y = YAxis{.format = ...}`, not `= {}` or `.y = {...}`: GCC 12 builds a YAxis initialised by
// nested braces inside a chart field by field, destroys `label` twice on the exception path and
// reports -Wmaybe-uninitialized at -O3.
struct YAxis {
  ScaleKind scale = ScaleKind::kLinear;
  ValueFormat format = ValueFormat::kNumber;
  std::string label = {};  // above the axis, e.g. "p99 latency"; "" for none
  // Fixed ends instead of the data's; values beyond them are drawn at the edge of the plot.
  std::optional<double> min = {};
  std::optional<double> max = {};
  bool include_zero = true;  // linear: the axis starts at 0 (or ends there, for negative data)
  bool integers = false;     // ticks only at whole numbers: counts, formation sizes
  int tick_count = 5;        // about this many intervals
};

// A horizontal line at a value that matters (a policy's latency threshold). The automatic value
// axis always includes it, so it is never silently off the chart.
struct Threshold {
  double value = 0;
  std::string label = {};  // drawn at the line's right end, e.g. "threshold 2s"
};

// The rule for values that cannot be drawn, the same in every chart: NaN, infinities and
// magnitudes beyond 1e15 (no measurement is that large; the bound keeps the arithmetic finite)
// are missing, as are values <= 0 on a log axis. Missing values are gaps, never zeros.
std::optional<double> Plottable(std::optional<double> value, ScaleKind scale);

// The value axis of a plot: its scale (y grows downwards), ticks and their labels.
struct ValueAxis {
  Scale scale = Scale::Linear(0, 1, 1, 0);
  std::vector<double> ticks = {};
  std::vector<std::string> labels = {};
  // The pixel of `value`, clamped to the plot: fixed axis ends draw outliers at the edge.
  double Y(double value) const;
};

// The axis for plottable data in [data_lo, data_hi] (nullopt: no data) and the threshold, mapped
// onto [top, bottom] of the plot.
ValueAxis MakeValueAxis(const YAxis& options, std::optional<double> data_lo,
                        std::optional<double> data_hi, std::optional<double> threshold, double top,
                        double bottom);

// How a legend entry shows what it stands for.
enum class Swatch { kLine, kDashed, kDotted, kArea, kMarker, kThreshold, kBox };

struct LegendItem {
  std::string label = {};
  std::string css_class = {};  // the colour class of the thing it names
  Swatch swatch = Swatch::kLine;
};

// The parts of a chart around its plot. Writes the opening <svg> (with the title as its
// accessible name), the title and the legend, and says where the plot goes.
class Frame {
 public:
  // `kind` becomes a class of the <svg> ("timeseries", "boxplot", "bars").
  // `left_margin` makes room for the value labels, `bottom_margin` for the category or time axis.
  Frame(SvgWriter& svg, std::string_view kind, std::string_view title, Size size,
        const std::vector<LegendItem>& legend, std::string_view axis_label, double left_margin,
        double bottom_margin);

  const Rect& plot() const { return plot_; }

  // Horizontal gridlines and the value labels left of the plot.
  void DrawValueAxis(const ValueAxis& axis);
  // The threshold line with its label, when its value is inside the axis.
  void DrawThreshold(const Threshold& threshold, const ValueAxis& axis, ValueFormat format);
  // The names of a category axis (dynos) under their bands, with an optional second line each.
  // Names are shortened to their band; when bands are too narrow for even that, only every n-th
  // band is named (emphasized ones always are). Full names belong in the data's tooltips.
  void DrawCategoryAxis(const BandScale& bands, const std::vector<std::string>& names,
                        const std::vector<std::string>& sublabels,
                        const std::vector<bool>& emphasized);
  // An honest empty chart: a framed plot area that says so.
  void DrawNoData(std::string_view message);

 private:
  SvgWriter& svg_;
  Rect plot_;
};

// The room a category axis needs under the plot, with or without a second line.
inline constexpr double kTickFontSize = 11;  // the tick labels' font-size in the page's CSS
inline constexpr double kCategoryAxisMargin = 24;
inline constexpr double kCategoryAxisMarginTwoLines = 38;

// The room the value labels need left of the plot.
double ValueLabelMargin(const ValueAxis& axis);

// Lines of the legend when laid out in `width`; at most kMaxLegendRows, the rest summarised.
inline constexpr int kMaxLegendRows = 3;
int LegendRows(const std::vector<LegendItem>& items, double width);

// The default colour class of the n-th series ("c0".."c7", then round again), and of the n-th
// kind of marker ("m0".."m3"). The page's stylesheet defines them.
std::string PaletteClass(std::size_t index);
std::string MarkerClass(std::size_t index);

}  // namespace dynoherd::chart
