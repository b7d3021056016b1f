#include "app/analyze_page.h"

#include "chart/distribution.h"
#include "chart/format.h"
#include "chart/page.h"

namespace dynoherd::app {

namespace {

using chart::ValueFormat;

// The box: quartiles; the whiskers: p5 and p95, from each dyno's histogram in the window.
const std::vector<double> kBoxQuantiles = {0.05, 0.25, 0.5, 0.75, 0.95};

std::string Requests(int64_t count) {
  return chart::FormatValue(static_cast<double>(count), ValueFormat::kNumber) + " req";
}

chart::Threshold MinLatencyLine(const AnalyzeRules& rules) {
  return {ToSeconds(rules.laggards.min_latency),
          "minLatency " + FormatDuration(rules.laggards.min_latency)};
}

chart::Svg LatencyBoxes(const FormationAnalysis& result, const latency::LatencyWindow& window,
                        const AnalyzeRules& rules, TimePoint now) {
  chart::BoxPlotChart boxes{
      .title = result.type + ": latency per dyno",
      .threshold = MinLatencyLine(rules),
      .y = chart::YAxis{.scale = chart::ScaleKind::kLog, .format = ValueFormat::kSeconds},
      .box_label = "p25 to p75, whiskers p5 to p95",
      .highlight_label = "laggard",
      .size = {960, 320}};
  for (size_t i = 0; i < result.dynos.size(); ++i) {
    const latency::DynoReport& dyno = result.dynos[i];
    const reconciler::LaggardVerdict& verdict = result.laggards.verdicts[i];
    chart::Box box{.name = dyno.dyno,
                   .highlighted = verdict.slow,
                   .sublabel = Requests(dyno.stats.count),
                   .tooltip = std::string(VerdictWord(verdict)) + ": " + verdict.reason};
    const std::vector<double> q = window.DynoQuantiles(dyno.dyno, now, kBoxQuantiles);
    if (q.size() == kBoxQuantiles.size()) box.stats = chart::BoxStats{q[0], q[1], q[2], q[3], q[4]};
    boxes.boxes.push_back(std::move(box));
  }
  return chart::RenderBoxPlot(boxes);
}

chart::Svg RequestBars(const FormationAnalysis& result) {
  chart::BarChart bars{.title = result.type + ": requests per dyno",
                       .bar_label = "timed requests",
                       .highlight_label = "laggard",
                       .size = {960, 220}};
  for (size_t i = 0; i < result.dynos.size(); ++i) {
    const latency::DynoReport& dyno = result.dynos[i];
    bars.bars.push_back({.name = dyno.dyno,
                         .value = static_cast<double>(dyno.stats.count),
                         .highlighted = result.laggards.verdicts[i].slow,
                         .tooltip = std::to_string(dyno.stats.errors) + " router errors"});
  }
  return chart::RenderBarChart(bars);
}

std::string Latency(double seconds, int64_t count) {
  return count > 0 ? FormatLatency(seconds) : "-";
}

chart::Table DynoTable(const FormationAnalysis& result) {
  chart::Table table{.columns = {{"dyno"},
                                 {"requests", true},
                                 {"p50", true},
                                 {"p95", true},
                                 {"p99", true},
                                 {"max", true},
                                 {"errors", true},
                                 {"verdict"},
                                 {"why"}}};
  for (size_t i = 0; i < result.dynos.size(); ++i) {
    const model::LatencyStats& s = result.dynos[i].stats;
    const reconciler::LaggardVerdict& verdict = result.laggards.verdicts[i];
    table.rows.push_back({{result.dynos[i].dyno, std::to_string(s.count), Latency(s.p50, s.count),
                           Latency(s.p95, s.count), Latency(s.p99, s.count),
                           Latency(s.max, s.count), std::to_string(s.errors),
                           std::string(VerdictWord(verdict)), verdict.reason},
                          verdict.slow});
  }
  return table;
}

std::vector<chart::Fact> Findings(const FormationAnalysis& result, spec::Statistic statistic) {
  chart::Fact laggards{.label = "Laggards"};
  if (!result.laggards.decided) {
    laggards.value = "no verdict";
    laggards.detail = result.laggards.no_verdict_reason;
  } else if (result.laggards.slow.empty()) {
    laggards.value = "none";
    laggards.tone = chart::Tone::kGood;
  } else {
    for (const std::string& dyno : result.laggards.slow)
      laggards.value += (laggards.value.empty() ? "" : ", ") + dyno;
    laggards.tone = chart::Tone::kBad;
  }
  chart::Fact formation{.label = "Formation " + std::string(spec::Name(statistic))};
  if (result.latency.value) {
    formation.value = FormatLatency(*result.latency.value);
    formation.detail = "over " + std::to_string(result.latency.sample_count) + " requests";
  } else {
    formation.value = "unknown";
    formation.tone = chart::Tone::kWarning;
    formation.detail = result.latency.unknown_reason;
  }
  return {laggards, formation, {.label = "Dynos", .value = std::to_string(result.dynos.size())}};
}

}  // namespace

std::string RenderAnalyzePage(const AnalyzeRules& rules, const providers::RouterLogRead& read,
                              const latency::LatencyWindow& window,
                              const std::vector<FormationAnalysis>& results) {
  chart::Page page("dynoherd analyze");
  page.SetFooter("Made by dynoherd analyze --report.");
  const std::string input = DescribeInput(rules, read, window);
  for (size_t from = 0; from < input.size();) {
    const size_t end = input.find('\n', from);
    page.AddParagraph(input.substr(from, end - from));
    from = end == std::string::npos ? input.size() : end + 1;
  }
  if (results.empty()) page.AddParagraph("No router lines with a dyno found.");
  for (const FormationAnalysis& result : results) {
    page.AddSection(result.type);
    page.AddFacts(Findings(result, rules.formation_statistic));
    page.AddChart(LatencyBoxes(result, window, rules, read.now));
    page.AddChart(RequestBars(result));
    page.AddTable(DynoTable(result));
  }
  return page.Render();
}

}  // namespace dynoherd::app
