#include "app/live_page.h"

#include <algorithm>

#include "app/listener.h"
#include "chart/page.h"
#include "chart/time_series.h"

namespace dynoherd::app {

namespace {

using chart::ValueFormat;

// How many of the newest actions the table lists.
constexpr size_t kActionRows = 10;

chart::Tone ToneOf(const model::Condition& c) {
  if (c.status == model::ConditionStatus::kUnknown) return chart::Tone::kWarning;
  const bool is_true = c.status == model::ConditionStatus::kTrue;
  if (c.type == model::kReady) return is_true ? chart::Tone::kGood : chart::Tone::kWarning;
  if (c.type == model::kDegraded) return is_true ? chart::Tone::kBad : chart::Tone::kGood;
  return is_true ? chart::Tone::kWarning : chart::Tone::kGood;  // LatencyEvent, Paused
}

std::vector<chart::Fact> ConditionFacts(const model::FormationStatus& formation) {
  std::vector<chart::Fact> facts;
  for (const model::Condition& c : formation.conditions) {
    facts.push_back({.label = c.type,
                     .value = std::string(model::Name(c.status)),
                     .tone = ToneOf(c),
                     .detail = c.reason + ": " + c.message});
  }
  return facts;
}

std::vector<chart::Marker> ActionMarkers(const std::vector<PassSample>& history,
                                         const std::string& formation) {
  std::vector<chart::Marker> markers;
  for (const PassSample& pass : history) {
    for (const ActionSample& a : pass.actions) {
      if (a.formation != formation) continue;
      std::string tooltip = FormatTimestamp(pass.at) + " " + a.summary + ": " + a.reason;
      if (!a.error.empty()) tooltip += " -- FAILED: " + a.error;
      markers.push_back({pass.at, a.error.empty() ? a.kind : "failed", std::move(tooltip)});
    }
  }
  return markers;
}

// The formation's latency statistic pass by pass, and its quantity as steps.
struct FormationSeries {
  chart::Series latency;
  chart::Series size;
};

FormationSeries SeriesOf(const std::vector<PassSample>& history, size_t index,
                         const std::string& statistic) {
  FormationSeries s{.latency = {.name = statistic, .css_class = "c0"},
                    .size = {.name = "dynos", .css_class = "c1",
                             .shape = chart::SeriesShape::kStep}};
  for (const PassSample& pass : history) {
    if (index >= pass.formations.size()) continue;
    const FormationSample& f = pass.formations[index];
    s.latency.points.push_back({pass.at, f.latency});
    s.size.points.push_back(
        {pass.at, f.quantity ? std::optional<double>(*f.quantity) : std::nullopt});
  }
  return s;
}

std::vector<chart::Svg> FormationCharts(const PolicySnapshot& p, size_t index, TimePoint now) {
  const spec::FormationSpec& spec = p.policy->formations[index];
  const std::string statistic =
      spec.latency ? std::string(spec::Name(spec.latency->statistic)) : "latency";
  FormationSeries series = SeriesOf(p.history, index, statistic);
  const std::optional<TimePoint> from =
      p.history.empty() ? std::nullopt : std::optional<TimePoint>(p.history.front().at);
  chart::TimeSeriesChart latency{
      .title = spec.type + ": " + statistic + " latency per pass",
      .series = {std::move(series.latency)},
      .markers = ActionMarkers(p.history, spec.type),
      .y = chart::YAxis{.scale = chart::ScaleKind::kLog, .format = ValueFormat::kSeconds},
      .from = from,
      .to = now,
      .size = chart::kHalfWidth,
      .empty_message = spec.latency ? "No latency yet" : "No latency source declared"};
  if (spec.autoscale) {
    latency.threshold = chart::Threshold{
        ToSeconds(spec.autoscale->latency_threshold),
        "latencyThreshold " + FormatLatency(ToSeconds(spec.autoscale->latency_threshold))};
  }
  chart::TimeSeriesChart size{.title = spec.type + ": dynos",
                              .series = {std::move(series.size)},
                              .y = chart::YAxis{.integers = true},
                              .from = from,
                              .to = now,
                              .size = chart::kHalfWidth,
                              .empty_message = "No pass yet"};
  return {chart::RenderTimeSeries(latency), chart::RenderTimeSeries(size)};
}

chart::Table LastActions(const std::vector<PassSample>& history) {
  chart::Table table{.caption = "Last actions",
                     .columns = {{"at"}, {"formation"}, {"action"}, {"reason"}}};
  for (auto pass = history.rbegin(); pass != history.rend(); ++pass) {
    for (const ActionSample& a : pass->actions) {
      if (table.rows.size() == kActionRows) return table;
      table.rows.push_back({{FormatTimestamp(pass->at), a.formation, a.summary,
                             a.error.empty() ? a.reason : a.reason + " -- FAILED: " + a.error},
                            !a.error.empty()});
    }
  }
  return table;
}

std::string PassLine(const PolicySnapshot& p) {
  std::string line = "provider " + std::string(spec::Name(p.policy->provider)) +
                     ", a pass every " + FormatDuration(p.policy->interval);
  if (p.policy->paused) line += ", paused";
  if (!p.last_pass) return line + "; no pass yet.";
  line += "; last pass " + FormatTimestamp(p.last_pass->started_at);
  line += p.last_pass->status.ok() ? ": ok" : ": failed: " + p.last_pass->status.message();
  if (p.consecutive_failures > 1) {
    line += " (" + std::to_string(p.consecutive_failures) + " failures in a row)";
  }
  return line + ".";
}

void AddPolicy(chart::Page& page, const PolicySnapshot& p, TimePoint now) {
  page.AddSection(p.policy->name + " (app " + p.policy->app + ")");
  page.AddParagraph(PassLine(p));
  for (size_t f = 0; f < p.policy->formations.size(); ++f) {
    const std::string& type = p.policy->formations[f].type;
    page.AddHeading(type);
    if (p.status) {
      if (const model::FormationStatus* status = p.status->FindFormation(type)) {
        page.AddFacts(ConditionFacts(*status));
      }
    }
    page.AddChartRow(FormationCharts(p, f, now));
  }
  const chart::Table actions = LastActions(p.history);
  if (actions.rows.empty()) {
    page.AddParagraph("No action sent in the last " + std::to_string(p.history.size()) +
                      " passes.");
  } else {
    page.AddTable(actions);
  }
}

}  // namespace

std::string RenderLivePage(const std::vector<PolicySnapshot>& policies, TimePoint now) {
  chart::Page page("dynoherd");
  page.SetRefresh(kLivePageRefresh);
  page.SetSubtitle("As of " + FormatTimestamp(now) + ": the last " +
                   std::to_string(kMaxPassHistory) +
                   " passes of each policy at most, since this process started. Reloads every " +
                   FormatDuration(kLivePageRefresh) + ".");
  std::string routes = "Also served:";
  for (const std::string& route : RouteIndex())
    routes += (routes.back() == ':' ? " " : "; ") + route;
  page.SetFooter(routes);
  if (policies.empty()) page.AddParagraph("No policy loaded.");
  for (const PolicySnapshot& p : policies)
    AddPolicy(page, p, now);
  return page.Render();
}

}  // namespace dynoherd::app
