#include "tests/browser/chart_sample.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "chart/distribution.h"
#include "chart/format.h"
#include "chart/page.h"
#include "chart/time_series.h"

namespace dynoherd::testing {
namespace {

using namespace std::chrono_literals;
using chart::ValueFormat;

const TimePoint kStart = *ParseTimestamp("2026-12-06T09:00:00Z");
constexpr int kMinutes = 120;
constexpr double kThresholdSeconds = 2.0;

// Noise in [0, 1) that is the same on every platform (splitmix64), unlike the standard
// distributions.
double Noise(uint64_t i, uint64_t salt) {
  uint64_t z = i * 0x9E3779B97F4A7C15ull + salt * 0xD1B54A32D192ED03ull + 0x94D049BB133111EBull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / 9007199254740992.0;
}

TimePoint Minute(int m) {
  return kStart + std::chrono::minutes(m);
}

enum class Variant { kDynoherd, kOriginalRule, kWithout };

// How many times slower than normal the formation's tail is at minute m: a noisy neighbour on
// web.3 from minute 30 to 55, a surge from 75 to 100, each ended sooner by whoever acts on it.
double Slowdown(int m, Variant v) {
  double factor = 1;
  const int incident_fixed = v == Variant::kDynoherd ? 39 : v == Variant::kOriginalRule ? 35 : 55;
  if (m >= 30 && m < 55) factor = m < incident_fixed ? 6.0 : v == Variant::kOriginalRule ? 2.4 : 1;
  const int surge_fixed = v == Variant::kDynoherd ? 81 : v == Variant::kOriginalRule ? 87 : 100;
  if (m >= 75 && m < 100 && m < surge_fixed)
    factor = std::max(factor, std::min(5.0, 1 + (m - 74) * 0.6));
  return factor;
}

struct Percentiles {
  chart::Series p50{.name = "p50", .css_class = "c2"};
  chart::Series p95{.name = "p95", .css_class = "c1"};
  chart::Series p99{.name = "p99", .css_class = "c0"};
};

Percentiles Latency(Variant v, uint64_t salt) {
  Percentiles p;
  for (int m = 0; m <= kMinutes; ++m) {
    const TimePoint at = Minute(m);
    // The log source dropped out for three minutes: a gap, not zeros.
    if (v == Variant::kDynoherd && m >= 60 && m < 63) {
      for (chart::Series* s : {&p.p50, &p.p95, &p.p99})
        s->points.push_back({at, std::nullopt});
      continue;
    }
    const double f = Slowdown(m, v);
    p.p50.points.push_back({at, 0.075 * (1 + 0.15 * Noise(m, salt)) * (1 + (f - 1) * 0.12)});
    p.p95.points.push_back({at, 0.22 * (1 + 0.2 * Noise(m, salt + 1)) * (1 + (f - 1) * 0.45)});
    p.p99.points.push_back({at, 0.42 * (1 + 0.25 * Noise(m, salt + 2)) * f});
  }
  return p;
}

chart::Series Size(Variant v) {
  chart::Series s{.name = v == Variant::kDynoherd       ? "dynoherd"
                          : v == Variant::kOriginalRule ? "original rule"
                                                        : "without dynoherd",
                  .shape = chart::SeriesShape::kStep};
  for (int m = 0; m <= kMinutes; ++m) {
    int dynos = 4;
    if (v == Variant::kDynoherd && m >= 80 && m < 108) dynos = 6;
    if (v == Variant::kOriginalRule) dynos = m >= 35 && m < 86 ? 5 : m >= 86 && m < 112 ? 6 : 4;
    s.points.push_back({Minute(m), static_cast<double>(dynos)});
  }
  return s;
}

std::vector<chart::Span> Incidents() {
  return {{Minute(30), Minute(55), "incident", "noisy neighbour web.3 x6"},
          {Minute(75), Minute(100), "incident", "surge web x2.5"}};
}

std::vector<chart::Marker> Actions() {
  return {
      {Minute(38), "restart", "restart web.3: p99 2.9s, 6.1x its siblings' median"},
      {Minute(80), "scale up", "scale web 4 -> 6: p95 1.4s above the threshold for 3 passes"},
      {Minute(108), "scale down", "scale web 6 -> 4: p99 0.4s, below half the threshold for 5m"}};
}

double Mean(const chart::Series& s) {
  double sum = 0;
  int n = 0;
  for (const chart::TimeValue& p : s.points) {
    if (!p.value) continue;
    sum += *p.value;
    ++n;
  }
  return n == 0 ? 0 : sum / n;
}

int MinutesAbove(const chart::Series& s, double threshold) {
  return static_cast<int>(std::count_if(s.points.begin(), s.points.end(), [&](const auto& p) {
    return p.value && *p.value > threshold;
  }));
}

chart::Table Summary() {
  chart::Table table{.caption = "The whole run, per variant",
                     .columns = {{"variant"},
                                 {"mean p50", true},
                                 {"mean p99", true},
                                 {"minutes p99 > 2s", true},
                                 {"dyno-hours", true},
                                 {"actions", true}}};
  for (const Variant v : {Variant::kDynoherd, Variant::kOriginalRule, Variant::kWithout}) {
    const Percentiles p = Latency(v, 11);
    double dyno_minutes = 0;
    for (const chart::TimeValue& point : Size(v).points)
      dyno_minutes += *point.value;
    table.rows.push_back({{Size(v).name, chart::FormatValue(Mean(p.p50), ValueFormat::kSeconds),
                           chart::FormatValue(Mean(p.p99), ValueFormat::kSeconds),
                           std::to_string(MinutesAbove(p.p99, kThresholdSeconds)),
                           chart::FormatFixed(dyno_minutes / 60, 1),
                           v == Variant::kDynoherd       ? "3"
                           : v == Variant::kOriginalRule ? "3"
                                                         : "0"},
                          v == Variant::kWithout});
  }
  return table;
}

// Per-dyno latency while web.3 had the noisy neighbour: samples shaped like a long-tailed
// latency distribution, web.3 six times slower, web.6 just started and without requests yet.
chart::BoxPlotChart PerDyno() {
  chart::BoxPlotChart boxes{
      .title = "web: latency per dyno, minutes 30 to 38",
      .threshold = chart::Threshold{kThresholdSeconds, "latencyThreshold 2s"},
      .y = chart::YAxis{.scale = chart::ScaleKind::kLog, .format = ValueFormat::kSeconds},
      .box_label = "p25 to p75, whiskers p5 to p99",
      .highlight_label = "laggard",
      .size = chart::kHalfWidth};
  for (int dyno = 1; dyno <= 6; ++dyno) {
    const std::string name = "web." + std::to_string(dyno);
    if (dyno == 6) {
      boxes.boxes.push_back({.name = name, .sublabel = "0 req", .tooltip = "started 20s ago"});
      continue;
    }
    std::vector<double> samples;
    const double scale = dyno == 3 ? 6.0 : 1.0;
    for (int i = 0; i < 400; ++i) {
      const double u = Noise(i, 100 + dyno);
      samples.push_back(scale * 0.06 * std::exp(1.1 * (u - 0.5) * 2 + (u > 0.97 ? 1.2 : 0)));
    }
    boxes.boxes.push_back({.name = name,
                           .stats = chart::BoxStatsFromSamples(samples, 0.05, 0.99),
                           .highlighted = dyno == 3,
                           .sublabel = std::to_string(dyno == 3 ? 412 : 1790 + dyno * 13) + " req",
                           .tooltip = dyno == 3 ? "laggard: median 6.1x its siblings'" : ""});
  }
  return boxes;
}

chart::BarChart Requests() {
  chart::BarChart bars{.title = "web: requests per dyno, minutes 30 to 38",
                       .y = chart::YAxis{.tick_count = 4},
                       .bar_label = "requests",
                       .highlight_label = "laggard",
                       .size = chart::kHalfWidth};
  for (int dyno = 1; dyno <= 6; ++dyno) {
    bars.bars.push_back({.name = "web." + std::to_string(dyno),
                         .value = dyno == 6
                                      ? std::nullopt
                                      : std::optional<double>(dyno == 3 ? 412 : 1790 + dyno * 13),
                         .highlighted = dyno == 3});
  }
  return bars;
}

}  // namespace

ChartSample MakeChartSample() {
  ChartSample sample;
  chart::Page page("dynoherd simulate: shop");
  page.SetSubtitle(
      "Sample data: two hours of a web formation through a noisy neighbour and a surge, "
      "with dynoherd, with the original scaling rule, and without either.");
  page.SetFooter(
      "Made by the chart module's browser test from synthetic data "
      "(tests/browser/chart_sample.cc).");

  page.AddSection("web");
  page.AddFacts({{"Ready", "True", chart::Tone::kGood, "every formation observed"},
                 {"Degraded", "False", chart::Tone::kGood},
                 {"Laggards", "web.3 restarted", chart::Tone::kWarning, "restarted at 09:38"},
                 {"Dynos", "4 (peak 6)", chart::Tone::kNeutral}});

  const Percentiles dynoherd = Latency(Variant::kDynoherd, 11);
  chart::TimeSeriesChart latency{
      .title = "web: latency per minute, with dynoherd",
      .series = {dynoherd.p50, dynoherd.p95, dynoherd.p99},
      .spans = Incidents(),
      .markers = Actions(),
      .threshold = chart::Threshold{kThresholdSeconds, "latencyThreshold 2s"},
      .y = chart::YAxis{.format = ValueFormat::kSeconds},
      .size = {960, 320}};
  page.AddChart(chart::RenderTimeSeries(latency));

  chart::Series with = dynoherd.p99;
  with.name = "p99 with dynoherd";
  chart::Series original = Latency(Variant::kOriginalRule, 11).p99;
  original.name = "p99 with the original rule";
  original.css_class = "c3";
  original.line = chart::LineStyle::kDotted;
  chart::Series without = Latency(Variant::kWithout, 11).p99;
  without.name = "p99 without dynoherd";
  without.css_class = "c7";
  without.line = chart::LineStyle::kDashed;
  chart::TimeSeriesChart compare{
      .title = "web: p99 latency, three ways (log scale)",
      .series = {without, original, with},
      .spans = Incidents(),
      .markers = Actions(),
      .threshold = chart::Threshold{kThresholdSeconds, "latencyThreshold 2s"},
      .y = chart::YAxis{.scale = chart::ScaleKind::kLog, .format = ValueFormat::kSeconds},
      .size = {960, 300}};
  page.AddChart(chart::RenderTimeSeries(compare));

  chart::Series size_without = Size(Variant::kWithout);
  size_without.css_class = "c7";
  size_without.line = chart::LineStyle::kDashed;
  chart::Series size_original = Size(Variant::kOriginalRule);
  size_original.css_class = "c3";
  size_original.line = chart::LineStyle::kDotted;
  chart::Series size_dynoherd = Size(Variant::kDynoherd);
  size_dynoherd.css_class = "c0";
  chart::TimeSeriesChart size{.title = "web: dynos",
                              .series = {size_without, size_original, size_dynoherd},
                              .spans = Incidents(),
                              .y = chart::YAxis{.integers = true, .tick_count = 3},
                              .size = {960, 220}};
  page.AddChart(chart::RenderTimeSeries(size));
  page.AddChartRow({chart::RenderBoxPlot(PerDyno()), chart::RenderBarChart(Requests())});
  page.AddTable(Summary());

  page.AddSection("worker");
  page.AddParagraph(
      "The worker formation had no jobs queued in this sample: its chart says so "
      "rather than drawing a line at zero.");
  chart::TimeSeriesChart queue{.title = "worker: time in queue",
                               .series = {{.name = "p99", .points = {{Minute(0), std::nullopt}}}},
                               .y = chart::YAxis{.format = ValueFormat::kSeconds},
                               .size = {chart::kHalfWidth.width, 240},
                               .empty_message = "No jobs in this window"};
  chart::Series workers{
      .name = "worker dynos", .css_class = "c5", .shape = chart::SeriesShape::kStep};
  for (int m = 0; m <= kMinutes; m += 5)
    workers.points.push_back({Minute(m), m >= 60 && m < 90 ? 3.0 : 2.0});
  chart::TimeSeriesChart worker_size{.title = "worker: dynos",
                                     .series = {workers},
                                     .y = chart::YAxis{.integers = true, .tick_count = 3},
                                     .size = {chart::kHalfWidth.width, 240}};
  page.AddChartRow({chart::RenderTimeSeries(queue), chart::RenderTimeSeries(worker_size)});

  sample.html = page.Render();
  sample.charts = 7;
  sample.markers = 6;  // the actions on the latency chart and on the comparison
  sample.spans = 6;    // the incidents on the latency, comparison and size charts
  sample.boxes = 6;
  sample.bars = 6;
  sample.tables = 1;
  return sample;
}

}  // namespace dynoherd::testing
