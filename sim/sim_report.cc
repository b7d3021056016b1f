#include "sim/sim_report.h"

#include <fmt/format.h>

#include <iterator>

#include "chart/page.h"
#include "chart/time_series.h"

namespace dynoherd::sim {

namespace {

using chart::ValueFormat;

// "03:30 restart web.3 (laggard): web.3 p50 480ms is 4.1x ..."; failed ones say so.
std::string ActionTooltip(const SimActionSummary& a) {
  // Appended piece by piece: GCC 12 reports a false -Wrestrict on `"+" + std::string` at -O3.
  std::string text = "+";
  text += FormatDuration(std::chrono::floor<std::chrono::seconds>(a.offset));
  text += " " + a.action.action + " (" + a.action.cause + "): " + a.action.reason;
  if (!a.action.error.empty()) text += " -- FAILED: " + a.action.error;
  return text;
}

std::vector<chart::Marker> ActionMarkers(const SimRunSummary& run, const std::string& formation) {
  std::vector<chart::Marker> markers;
  for (const SimActionSummary& a : run.actions) {
    if (a.action.formation != formation) continue;
    const std::string kind =
        a.action.error.empty() ? std::string(reconciler::Name(a.action.kind)) : "failed";
    markers.push_back({a.action.at, kind, ActionTooltip(a)});
  }
  return markers;
}

std::vector<chart::Span> IncidentSpans(const SimRunSummary& run, const std::string& formation) {
  std::vector<chart::Span> spans;
  for (const SimIncident& i : run.incidents) {
    if (i.formation == formation) spans.push_back({i.from, i.to, "incident", i.name});
  }
  return spans;
}

// p50, p95 and p99 of each minute; a minute with nothing answered is a gap.
std::vector<chart::Series> Percentiles(const SimFormationSummary& formation) {
  chart::Series p50{.name = "p50", .css_class = "c2", .line = chart::LineStyle::kDotted};
  chart::Series p95{.name = "p95", .css_class = "c1", .line = chart::LineStyle::kDashed};
  chart::Series p99{.name = "p99", .css_class = "c0"};
  for (const SimMinute& m : formation.minutes) {
    const bool any = m.latency.count > 0;
    p50.points.push_back({m.from, any ? std::optional(m.latency.p50) : std::nullopt});
    p95.points.push_back({m.from, any ? std::optional(m.latency.p95) : std::nullopt});
    p99.points.push_back({m.from, any ? std::optional(m.latency.p99) : std::nullopt});
  }
  return {p50, p95, p99};
}

std::optional<chart::Threshold> ThresholdLine(const SimFormationSummary& formation) {
  if (!formation.threshold) return std::nullopt;
  return chart::Threshold{ToSeconds(*formation.threshold),
                          "latencyThreshold " + FormatLatency(ToSeconds(*formation.threshold))};
}

chart::Svg LatencyChart(const SimRunSummary& run, size_t f, SimVariant variant) {
  const SimFormationSummary& formation = run.formations[f];
  const TimePoint end = run.start + run.simulated;
  chart::TimeSeriesChart chart{
      .title = fmt::format("{}: {} per minute, {}", formation.type,
                           formation.web ? "latency" : "time in the queue", Name(variant)),
      .series = Percentiles(formation),
      .spans = IncidentSpans(run, formation.type),
      .markers = ActionMarkers(run, formation.type),
      .threshold = ThresholdLine(formation),
      .y = chart::YAxis{.scale = chart::ScaleKind::kLog, .format = ValueFormat::kSeconds},
      .from = run.start,
      .to = end,
      .size = {960, 260}};
  return chart::RenderTimeSeries(chart);
}

// The quantity as declared, then after every scale the world carried out, held to the end.
chart::Series SizeSeries(const SimRunSummary& run, size_t f, size_t variant_index) {
  const SimFormationSummary& formation = run.formations[f];
  chart::Series series{.name = {},
                       .css_class = chart::PaletteClass(variant_index),
                       .shape = chart::SeriesShape::kStep};
  double quantity = formation.start_quantity;
  series.points.push_back({run.start, quantity});
  for (const SimEvent& e : run.events) {
    if (e.kind != SimEventKind::kScale || e.formation != formation.type) continue;
    quantity = e.to_quantity;
    series.points.push_back({e.at, quantity});
  }
  series.points.push_back({run.start + run.simulated, quantity});
  return series;
}

chart::Svg SizeChart(const SimComparison& c, size_t f) {
  const SimRunSummary& first = c.runs.front().summary;
  chart::TimeSeriesChart chart{
      .title = first.formations[f].type + ": dynos",
      .spans = IncidentSpans(first, first.formations[f].type),
      .y = chart::YAxis{.label = "dynos", .integers = true},
      .from = first.start,
      .to = first.start + first.simulated,
      .size = {960, 200}};
  const chart::LineStyle styles[] = {chart::LineStyle::kSolid, chart::LineStyle::kDashed,
                                     chart::LineStyle::kDotted};
  for (size_t v = 0; v < c.runs.size(); ++v) {
    chart::Series series = SizeSeries(c.runs[v].summary, f, v);
    series.name = std::string(Name(c.runs[v].variant));
    series.line = styles[v % std::size(styles)];
    chart.series.push_back(std::move(series));
  }
  return chart::RenderTimeSeries(chart);
}

chart::Table VariantTable(const SimComparison& c) {
  chart::Table table{.columns = {{"variant"}, {"actions sent"}, {"what dynoherd may do"}}};
  for (VariantRow& row : DescribeVariants(c))
    table.rows.push_back({{std::move(row.name), std::move(row.actions), std::move(row.description)}});
  return table;
}

chart::Table SummaryTable(const SimComparison& c, const FormationComparison& formation) {
  chart::Table table{.caption = "The whole run, per variant", .columns = {{""}}};
  for (const SimulationRun& run : c.runs)
    table.columns.push_back({std::string(Name(run.variant)), true});
  for (const ComparisonRow& row : formation.rows) {
    chart::Table::Row cells{{row.label}};
    cells.cells.insert(cells.cells.end(), row.cells.begin(), row.cells.end());
    table.rows.push_back(std::move(cells));
  }
  return table;
}

}  // namespace

std::string RenderSimReport(const SimComparison& c) {
  if (c.runs.empty()) return "";
  const SimRunSummary& first = c.runs.front().summary;
  chart::Page page("dynoherd simulate: " + first.policy);
  page.SetSubtitle(DescribeComparison(c) +
                   ". Latencies are the simulator's ground truth, minute by minute; shaded: "
                   "incidents; marks: actions (hover for the reason).");
  page.SetFooter("Made by dynoherd simulate --report: the same command writes the same page.");
  page.AddTable(VariantTable(c));
  const std::vector<FormationComparison> tables = CompareFormations(c);
  for (size_t f = 0; f < first.formations.size(); ++f) {
    page.AddSection(first.formations[f].type);
    page.AddParagraph(tables[f].heading);
    for (const SimulationRun& run : c.runs)
      page.AddChart(LatencyChart(run.summary, f, run.variant));
    page.AddChart(SizeChart(c, f));
    page.AddTable(SummaryTable(c, tables[f]));
  }
  return page.Render();
}

}  // namespace dynoherd::sim
