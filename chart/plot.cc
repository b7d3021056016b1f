#include "chart/plot.h"

#include <algorithm>
#include <cmath>

#include "chart/text.h"

namespace dynoherd::chart {
namespace {

constexpr double kPadding = 12;
constexpr double kTitleFont = 15;
constexpr double kTitleBaseline = 22;
constexpr double kLegendTop = 32;
constexpr double kLegendRowHeight = 18;
constexpr double kLegendFont = 12;
constexpr double kLegendSwatchWidth = 22;
constexpr double kLegendMaxLabel = 260;
constexpr double kRightMargin = 16;

struct PlacedLegendItem {
  const LegendItem* item = nullptr;
  std::string label;  // ellipsized
  double x = 0;
  int row = 0;
};

struct LegendLayout {
  std::vector<PlacedLegendItem> placed;
  std::size_t hidden = 0;  // items past the last row, summarised as "+N more"
  double more_x = 0;
  int rows = 0;
};

LegendLayout LayoutLegend(const std::vector<LegendItem>& items, double width) {
  LegendLayout layout;
  const double right = width - kPadding;
  const double more_width = TextWidth("+000 more", kLegendFont);
  double x = kPadding;
  int row = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::string label = Ellipsize(items[i].label, kLegendMaxLabel, kLegendFont);
    const double item_width = kLegendSwatchWidth + 6 + TextWidth(label, kLegendFont) + 18;
    const bool last_row = row == kMaxLegendRows - 1;
    // The last row keeps room for the summary in case later items do not fit.
    const double limit = last_row && i + 1 < items.size() ? right - more_width : right;
    if (x + item_width > limit && x > kPadding) {
      if (last_row) {
        layout.hidden = items.size() - i;
        layout.more_x = x;
        break;
      }
      ++row;
      x = kPadding;
    }
    layout.placed.push_back({&items[i], std::move(label), x, row});
    x += item_width;
  }
  layout.rows = items.empty() ? 0 : row + 1;
  return layout;
}

void DrawSwatch(SvgWriter& svg, Swatch swatch, double x, double mid) {
  const std::string x1 = Px(x);
  const std::string x2 = Px(x + kLegendSwatchWidth);
  const std::string y = Px(mid);
  switch (swatch) {
    case Swatch::kLine:
    case Swatch::kDashed:
    case Swatch::kDotted: {
      const char* style = swatch == Swatch::kDashed   ? "swatch-line dashed"
                          : swatch == Swatch::kDotted ? "swatch-line dotted"
                                                      : "swatch-line";
      svg.Empty("line", {{"class", style}, {"x1", x1}, {"y1", y}, {"x2", x2}, {"y2", y}});
      break;
    }
    case Swatch::kThreshold:
      svg.Empty("line",
                {{"class", "threshold-line"}, {"x1", x1}, {"y1", y}, {"x2", x2}, {"y2", y}});
      break;
    case Swatch::kArea:
    case Swatch::kBox:
      svg.Empty("rect", {{"class", swatch == Swatch::kArea ? "swatch-area" : "swatch-box"},
                         {"x", Px(x + 3)},
                         {"y", Px(mid - 6)},
                         {"width", Px(kLegendSwatchWidth - 6)},
                         {"height", "12"}});
      break;
    case Swatch::kMarker: {
      // The chart's marker in small: a line with a triangle on top.
      const double center = x + kLegendSwatchWidth / 2;
      svg.Empty("line", {{"class", "marker-line"},
                         {"x1", Px(center)},
                         {"y1", Px(mid - 3)},
                         {"x2", Px(center)},
                         {"y2", Px(mid + 7)}});
      svg.Empty("path",
                {{"class", "marker-head"},
                 // 'M', not "M": GCC 12 -O3 reports a false -Wrestrict on "literal" + string.
                 {"d", 'M' + Px(center - 4.5) + " " + Px(mid - 7) + "L" + Px(center + 4.5) + " " +
                           Px(mid - 7) + " " + Px(center) + " " + Px(mid - 0.5) + "Z"}});
      break;
    }
  }
}

}  // namespace

std::optional<double> Plottable(std::optional<double> value, ScaleKind scale) {
  if (!value || !std::isfinite(*value) || std::abs(*value) > 1e15) return std::nullopt;
  if (scale == ScaleKind::kLog && *value <= 0) return std::nullopt;
  return value;
}

double ValueAxis::Y(double value) const {
  const double low = std::min(scale.range_from(), scale.range_to());
  const double high = std::max(scale.range_from(), scale.range_to());
  return std::clamp(scale.Map(value), low, high);
}

ValueAxis MakeValueAxis(const YAxis& options, std::optional<double> data_lo,
                        std::optional<double> data_hi, std::optional<double> threshold, double top,
                        double bottom) {
  const bool log = options.scale == ScaleKind::kLog;
  std::optional<double> lo;
  std::optional<double> hi;
  const auto include = [&](std::optional<double> value) {
    value = Plottable(value, options.scale);
    if (!value) return;
    lo = lo ? std::min(*lo, *value) : *value;
    hi = hi ? std::max(*hi, *value) : *value;
  };
  include(data_lo);
  include(data_hi);
  include(threshold);
  if (!log && options.include_zero) include(0.0);
  const std::optional<double> fixed_min = Plottable(options.min, options.scale);
  const std::optional<double> fixed_max = Plottable(options.max, options.scale);
  if (fixed_min) {
    lo = fixed_min;
    hi = hi ? std::max(*hi, *fixed_min) : *fixed_min;
  }
  if (fixed_max) {
    hi = fixed_max;
    lo = lo ? std::min(*lo, *fixed_max) : *fixed_max;
  }
  if (!lo) {  // nothing to show: an axis of the usual shape
    lo = log ? 1.0 : 0.0;
    hi = log ? 10.0 : 1.0;
  }

  const Ticks ticks = log ? LogTicks(*lo, *hi, options.tick_count)
                          : LinearTicks(*lo, *hi, options.tick_count, options.integers);
  double domain_lo = fixed_min.value_or(ticks.lo);
  double domain_hi = fixed_max.value_or(ticks.hi);
  if (!(domain_hi > domain_lo)) {  // fixed ends that leave no room
    domain_lo = ticks.lo;
    domain_hi = ticks.hi;
  }

  ValueAxis axis;
  axis.scale = log ? Scale::Log(domain_lo, domain_hi, bottom, top)
                   : Scale::Linear(domain_lo, domain_hi, bottom, top);
  const double tolerance = (domain_hi - domain_lo) * 1e-9;
  for (const double t : ticks.values) {
    if (t >= domain_lo - tolerance && t <= domain_hi + tolerance) axis.ticks.push_back(t);
  }
  if (log) {
    for (const double t : axis.ticks)
      axis.labels.push_back(FormatValue(t, options.format));
  } else {
    axis.labels = LinearTickLabels(axis.ticks, options.format);
  }
  return axis;
}

double ValueLabelMargin(const ValueAxis& axis) {
  double widest = 0;
  for (const std::string& label : axis.labels)
    widest = std::max(widest, TextWidth(label, kTickFontSize));
  return std::max(40.0, widest + 20);
}

int LegendRows(const std::vector<LegendItem>& items, double width) {
  return LayoutLegend(items, width).rows;
}

// 'c' and 'm', not "c" and "m": GCC 12 -O3 reports a false -Wrestrict on "literal" + string.
std::string PaletteClass(std::size_t index) {
  return 'c' + std::to_string(index % 8);
}
std::string MarkerClass(std::size_t index) {
  return 'm' + std::to_string(index % 4);
}

Frame::Frame(SvgWriter& svg, std::string_view kind, std::string_view title, Size size,
             const std::vector<LegendItem>& legend, std::string_view axis_label, double left_margin,
             double bottom_margin)
    : svg_(svg) {
  svg_.Open("svg", {{"xmlns", "http://www.w3.org/2000/svg"},
                    {"class", "chart " + std::string(kind)},
                    {"viewBox", "0 0 " + Px(size.width) + " " + Px(size.height)},
                    {"width", Px(size.width)},
                    {"height", Px(size.height)},
                    {"role", "img"},
                    {"aria-label", std::string(title)}});
  svg_.Title(title);
  // Bold text runs about 8% wider than the regular the estimate is made for.
  svg_.Text("text", {{"class", "title"}, {"x", Px(kPadding)}, {"y", Px(kTitleBaseline)}},
            Ellipsize(title, (size.width - 2 * kPadding) / 1.08, kTitleFont));

  const LegendLayout layout = LayoutLegend(legend, size.width);
  double y = kLegendTop;
  if (!layout.placed.empty()) {
    svg_.Open("g", {{"class", "legend"}});
    for (const PlacedLegendItem& placed : layout.placed) {
      const double row_top = kLegendTop + placed.row * kLegendRowHeight;
      svg_.Open("g", {{"class", "legend-item " + placed.item->css_class}});
      if (placed.label != placed.item->label) svg_.Title(placed.item->label);
      DrawSwatch(svg_, placed.item->swatch, placed.x, row_top + kLegendRowHeight / 2);
      svg_.Text("text", {{"x", Px(placed.x + kLegendSwatchWidth + 6)}, {"y", Px(row_top + 13)}},
                placed.label);
      svg_.Close();
    }
    if (layout.hidden > 0) {
      const double row_top = kLegendTop + (layout.rows - 1) * kLegendRowHeight;
      svg_.Text("text",
                {{"class", "legend-more"}, {"x", Px(layout.more_x)}, {"y", Px(row_top + 13)}},
                '+' + std::to_string(layout.hidden) + " more");  // '+': see PaletteClass
    }
    svg_.Close();
    y += layout.rows * kLegendRowHeight;
  }
  if (!axis_label.empty()) {
    svg_.Text("text", {{"class", "axis-label"}, {"x", Px(kPadding)}, {"y", Px(y + 12)}},
              Ellipsize(axis_label, size.width - 2 * kPadding, kTickFontSize));
    y += 16;
  }
  plot_.left = std::min(left_margin, size.width / 2);
  plot_.top = y + 12;
  plot_.width = std::max(10.0, size.width - kRightMargin - plot_.left);
  plot_.height = std::max(10.0, size.height - bottom_margin - plot_.top);
}

void Frame::DrawValueAxis(const ValueAxis& axis) {
  svg_.Open("g", {{"class", "axis value-axis"}});
  for (std::size_t i = 0; i < axis.ticks.size(); ++i) {
    const std::string y = Px(axis.Y(axis.ticks[i]));
    svg_.Empty("line", {{"class", axis.ticks[i] == 0 ? "grid zero" : "grid"},
                        {"x1", Px(plot_.left)},
                        {"y1", y},
                        {"x2", Px(plot_.right())},
                        {"y2", y}});
    svg_.Text("text",
              {{"class", "tick-label"},
               {"x", Px(plot_.left - 8)},
               {"y", Px(axis.Y(axis.ticks[i]) + 4)},
               {"text-anchor", "end"}},
              axis.labels[i]);
  }
  svg_.Close();
}

void Frame::DrawThreshold(const Threshold& threshold, const ValueAxis& axis, ValueFormat format) {
  const std::optional<double> value = Plottable(threshold.value, axis.scale.kind());
  const double span = axis.scale.hi() - axis.scale.lo();
  if (!value || *value < axis.scale.lo() - span * 1e-9 || *value > axis.scale.hi() + span * 1e-9) {
    return;
  }
  const std::string value_text = FormatValue(*value, format);
  const std::string label = threshold.label.empty() ? "threshold " + value_text : threshold.label;
  const double y = axis.Y(*value);
  svg_.Open("g", {{"class", "threshold"}});
  svg_.Title((threshold.label.empty() ? "threshold" : threshold.label) + ": " + value_text);
  svg_.Empty("line", {{"class", "threshold-line"},
                      {"x1", Px(plot_.left)},
                      {"y1", Px(y)},
                      {"x2", Px(plot_.right())},
                      {"y2", Px(y)}});
  svg_.Text("text",
            {{"class", "threshold-label"},
             {"x", Px(plot_.right() - 4)},
             {"y", Px(y - 5)},
             {"text-anchor", "end"}},
            Ellipsize(label, plot_.width / 2, kTickFontSize));
  svg_.Close();
}

void Frame::DrawCategoryAxis(const BandScale& bands, const std::vector<std::string>& names,
                             const std::vector<std::string>& sublabels,
                             const std::vector<bool>& emphasized) {
  constexpr double kMinLabelWidth = 36;
  const double step = std::max(bands.Step(), 1e-9);
  const std::size_t every =
      step >= kMinLabelWidth ? 1 : static_cast<std::size_t>(std::ceil(kMinLabelWidth / step));
  const double room = step * static_cast<double>(every) - 6;
  svg_.Open("g", {{"class", "axis category-axis"}});
  svg_.Empty("line", {{"class", "axis-line"},
                      {"x1", Px(plot_.left)},
                      {"y1", Px(plot_.bottom())},
                      {"x2", Px(plot_.right())},
                      {"y2", Px(plot_.bottom())}});
  // Emphasized names are written whole (up to a limit) and push aside the plain names they would
  // overlap.
  constexpr double kEmphasisMaxWidth = 140;
  std::vector<std::pair<double, double>> taken;  // x extents of the emphasized labels
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i >= emphasized.size() || !emphasized[i]) continue;
    const double half = std::min(TextWidth(names[i], kTickFontSize), kEmphasisMaxWidth) / 2;
    taken.emplace_back(bands.Center(i) - half - 4, bands.Center(i) + half + 4);
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    const bool emphasis = i < emphasized.size() && emphasized[i];
    const double center = bands.Center(i);
    std::string label =
        Ellipsize(names[i], emphasis ? std::max(room, kEmphasisMaxWidth) : room, kTickFontSize);
    if (!emphasis) {
      if (i % every != 0) continue;
      const double half = TextWidth(label, kTickFontSize) / 2;
      const bool overlaps = std::any_of(taken.begin(), taken.end(), [&](const auto& extent) {
        return center + half > extent.first && center - half < extent.second;
      });
      if (overlaps) continue;
    }
    const std::string x = Px(center);
    svg_.Text("text",
              {{"class", emphasis ? "tick-label emphasis" : "tick-label"},
               {"x", x},
               {"y", Px(plot_.bottom() + 16)},
               {"text-anchor", "middle"}},
              label);
    if (i < sublabels.size() && !sublabels[i].empty()) {
      svg_.Text("text",
                {{"class", "tick-sublabel"},
                 {"x", x},
                 {"y", Px(plot_.bottom() + 30)},
                 {"text-anchor", "middle"}},
                Ellipsize(sublabels[i], room, 10));
    }
  }
  svg_.Close();
}

void Frame::DrawNoData(std::string_view message) {
  svg_.Open("g", {{"class", "no-data"}});
  svg_.Empty("rect", {{"class", "no-data-area"},
                      {"x", Px(plot_.left)},
                      {"y", Px(plot_.top)},
                      {"width", Px(plot_.width)},
                      {"height", Px(plot_.height)}});
  svg_.Text("text",
            {{"x", Px(plot_.left + plot_.width / 2)},
             {"y", Px(plot_.top + plot_.height / 2 + 5)},
             {"text-anchor", "middle"}},
            Ellipsize(message.empty() ? "No data" : message, plot_.width - 20, 14));
  svg_.Close();
}

}  // namespace dynoherd::chart
