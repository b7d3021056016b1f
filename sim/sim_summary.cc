#include "sim/sim_summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "app/text_table.h"
#include "model/codec.h"

namespace dynoherd::sim {

using nlohmann::json;

void SimRunRecorder::Add(const app::PassResult& pass) {
  ++passes_;
  if (!pass.status.ok()) ++failed_passes_;
  if (!pass.plan) return;
  if (!pass.applied) {
    planned_not_applied_ += pass.ActionCount();
    return;
  }
  for (const auto& a : pass.plan->actions) {
    actions_.push_back({pass.plan->planned_at, a.kind, a.formation, a.dyno, a.from_quantity,
                        a.to_quantity, a.Summary(), std::string(reconciler::Name(a.cause)),
                        a.reason, a.failed ? a.error : std::string()});
  }
}

namespace {

// "web.3" -> 3; 0 when the name has no number.
int DynoNumber(const std::string& dyno) {
  size_t dot = dyno.rfind('.');
  if (dot == std::string::npos) return 0;
  int n = 0;
  for (size_t i = dot + 1; i < dyno.size(); ++i) {
    if (dyno[i] < '0' || dyno[i] > '9') return 0;
    n = n * 10 + (dyno[i] - '0');
  }
  return n;
}

// A noisy neighbour lasts until its dyno restarts, stops or is scaled away; a surge until its
// end event. Whatever has not ended by `end` ends there.
std::vector<SimIncident> IncidentSpans(const std::vector<SimEvent>& events, TimePoint end) {
  std::vector<SimIncident> spans;
  std::map<std::string, size_t> open_noisy;  // dyno -> index in spans
  std::map<std::string, size_t> open_surge;  // formation -> index in spans
  for (const SimEvent& e : events) {
    switch (e.kind) {
      case SimEventKind::kNoisyNeighbor:
        open_noisy[e.dyno] = spans.size();
        spans.push_back({"noisy-neighbor " + e.dyno + " " + FactorText(e.factor), e.formation,
                         e.at, end});
        break;
      case SimEventKind::kSurgeStart:
        open_surge[e.formation] = spans.size();
        spans.push_back(
            {"surge " + e.formation + " " + FactorText(e.factor), e.formation, e.at, end});
        break;
      case SimEventKind::kSurgeEnd:
        if (auto it = open_surge.find(e.formation); it != open_surge.end()) {
          spans[it->second].to = e.at;
          open_surge.erase(it);
        }
        break;
      case SimEventKind::kRestart:
      case SimEventKind::kStop:
        if (auto it = open_noisy.find(e.dyno); it != open_noisy.end()) {
          spans[it->second].to = e.at;
          open_noisy.erase(it);
        }
        break;
      case SimEventKind::kScale:
        for (auto it = open_noisy.begin(); it != open_noisy.end();) {
          bool removed =
              it->first.rfind(e.formation + ".", 0) == 0 && DynoNumber(it->first) > e.to_quantity;
          if (removed) {
            spans[it->second].to = e.at;
            it = open_noisy.erase(it);
          } else {
            ++it;
          }
        }
        break;
      case SimEventKind::kDynoUp:
        break;
    }
  }
  for (auto& s : spans)
    s.to = std::min(s.to, end);
  return spans;
}

struct PhaseCut {
  std::string name;
  TimePoint from{};
  TimePoint to{};
};

// Cuts [start, end) wherever an incident starts or ends; each piece is named after the incidents
// in progress during it.
std::vector<PhaseCut> Phases(const std::vector<SimIncident>& incidents, TimePoint start,
                             TimePoint end) {
  if (end <= start) return {};
  std::set<TimePoint> cuts = {start, end};
  std::optional<TimePoint> first_start, last_end;
  for (const auto& i : incidents) {
    if (i.from >= end || i.to <= i.from) continue;
    cuts.insert(std::max(i.from, start));
    cuts.insert(i.to);
    first_start = first_start ? std::min(*first_start, i.from) : i.from;
    last_end = last_end ? std::max(*last_end, i.to) : i.to;
  }
  std::vector<PhaseCut> phases;
  for (auto it = cuts.begin(); std::next(it) != cuts.end(); ++it) {
    const TimePoint from = *it, to = *std::next(it);
    std::string name;
    for (const auto& i : incidents) {
      if (i.from <= from && from < i.to) name += (name.empty() ? "" : " + ") + i.name;
    }
    if (name.empty()) {
      if (!first_start) {
        name = "whole run";
      } else if (from < *first_start) {
        name = "before";
      } else if (from >= *last_end) {
        name = "after";
      } else {
        name = "between";
      }
    }
    phases.push_back({std::move(name), from, to});
  }
  return phases;
}

std::optional<Duration> ThresholdOf(const spec::Policy& policy, const std::string& type) {
  const spec::FormationSpec* f = policy.FindFormation(type);
  if (!f || !f->autoscale) return std::nullopt;
  return f->autoscale->latency_threshold;
}

// The truth of `formation` for each minute of [start, end).
Result<std::vector<SimMinute>> MinuteByMinute(SimWorld& world, const std::string& formation,
                                              TimePoint start, TimePoint end) {
  std::vector<SimMinute> minutes;
  for (TimePoint from = start; from < end; from += std::chrono::minutes(1)) {
    Result<TruthSummary> truth =
        world.Truth(formation, from, std::min(end, from + std::chrono::minutes(1)));
    if (!truth.ok()) return truth.status();
    minutes.push_back({from, truth->latency});
  }
  return minutes;
}

// Each simulated formation over [s.start, end): the truth, the quantities, the actions sent.
Status AddFormations(SimWorld& world, const spec::Policy& policy, const SimRunRecorder& recorder,
                     TimePoint end, SimRunSummary& s) {
  for (const spec::SimFormationSpec& f : world.spec().formations) {
    SimFormationSummary fs;
    fs.type = f.type;
    fs.web = f.rps.has_value();
    fs.threshold = ThresholdOf(policy, f.type);
    if (const spec::FormationSpec* declared = policy.FindFormation(f.type);
        declared && declared->latency) {
      fs.statistic = declared->latency->statistic;
    }
    Result<TruthSummary> truth = world.Truth(f.type, s.start, end, fs.threshold);
    if (!truth.ok()) return truth.status();
    fs.truth = *truth;
    Result<int64_t> queued = world.JobsWaiting(f.type);
    if (!queued.ok()) return queued.status();
    fs.queued_at_end = *queued;
    fs.start_quantity = f.quantity;
    fs.end_quantity = f.quantity;
    fs.peak_quantity = f.quantity;
    for (const SimEvent& e : s.events) {
      if (e.kind != SimEventKind::kScale || e.formation != f.type) continue;
      fs.end_quantity = e.to_quantity;
      fs.peak_quantity = std::max(fs.peak_quantity, e.to_quantity);
    }
    for (const auto& a : recorder.actions())
      fs.actions += (a.formation == f.type && a.error.empty()) ? 1 : 0;
    Result<std::vector<SimMinute>> minutes = MinuteByMinute(world, f.type, s.start, end);
    if (!minutes.ok()) return minutes.status();
    fs.minutes = std::move(minutes).value();
    s.formations.push_back(std::move(fs));
  }
  return Status::Ok();
}

// Each action with its formation's truth over s.around before and after it, clamped to the run.
Status AddActions(SimWorld& world, const spec::Policy& policy, const SimRunRecorder& recorder,
                  TimePoint end, SimRunSummary& s) {
  for (const SimAction& a : recorder.actions()) {
    SimActionSummary as;
    as.action = a;
    as.offset = std::chrono::duration_cast<Duration>(a.at - s.start);
    const TimePoint before_from = std::max(s.start, a.at - s.around);
    const TimePoint after_to = std::max(a.at, std::min(end, a.at + s.around));
    as.before_span = std::chrono::duration_cast<Duration>(a.at - before_from);
    as.after_span = std::chrono::duration_cast<Duration>(after_to - a.at);
    const std::optional<Duration> threshold = ThresholdOf(policy, a.formation);
    Result<TruthSummary> before = world.Truth(a.formation, before_from, a.at, threshold);
    Result<TruthSummary> after = world.Truth(a.formation, a.at, after_to, threshold);
    if (!before.ok()) return before.status();
    if (!after.ok()) return after.status();
    as.before = *before;
    as.after = *after;
    s.actions.push_back(std::move(as));
  }
  return Status::Ok();
}

// The stretches of the run with the same incidents, and each formation's truth over them.
Status AddPhases(SimWorld& world, TimePoint end, SimRunSummary& s) {
  for (const PhaseCut& cut : Phases(s.incidents, s.start, end)) {
    SimPhaseSummary phase;
    phase.name = cut.name;
    phase.from = std::chrono::duration_cast<Duration>(cut.from - s.start);
    phase.to = std::chrono::duration_cast<Duration>(cut.to - s.start);
    for (const auto& f : s.formations) {
      Result<TruthSummary> truth = world.Truth(f.type, cut.from, cut.to, f.threshold);
      if (!truth.ok()) return truth.status();
      phase.formations.push_back({f.type, *truth});
    }
    s.phases.push_back(std::move(phase));
  }
  return Status::Ok();
}

}  // namespace

Result<SimRunSummary> BuildSimSummary(SimWorld& world, const spec::Policy& policy,
                                      const SimRunRecorder& recorder,
                                      const SimSummaryOptions& options) {
  SimRunSummary s;
  s.policy = policy.name;
  s.app = policy.app;
  s.seed = world.spec().seed;
  s.start = world.start_time();
  // The scenario only: a `run` that stops a moment late has simulated a little past it.
  const TimePoint end = std::min(world.Now(), world.end_time());
  s.simulated = std::chrono::duration_cast<Duration>(end - s.start);
  s.interval = policy.interval;
  s.around = options.around;
  s.scenario = world.spec().duration;
  s.passes = recorder.passes();
  s.failed_passes = recorder.failed_passes();
  s.planned_not_applied = recorder.planned_not_applied();
  s.events = world.Events();
  s.incidents = IncidentSpans(s.events, end);

  for (const auto& a : recorder.actions()) {
    if (!world.spec().formations.empty() &&
        std::none_of(world.spec().formations.begin(), world.spec().formations.end(),
                     [&](const auto& f) { return f.type == a.formation; })) {
      return Status::InvalidArgument("action on formation " + a.formation +
                                     ", which the simulated app does not have");
    }
  }
  if (Status st = AddFormations(world, policy, recorder, end, s); !st.ok()) return st;
  if (Status st = AddActions(world, policy, recorder, end, s); !st.ok()) return st;
  if (Status st = AddPhases(world, end, s); !st.ok()) return st;
  return s;
}

Result<SimRunSummary> BuildSimSummary(SimWorld& world, const spec::Policy& policy,
                                      const std::vector<app::PassResult>& passes,
                                      const SimSummaryOptions& options) {
  SimRunRecorder recorder;
  for (const auto& pass : passes)
    recorder.Add(pass);
  return BuildSimSummary(world, policy, recorder, options);
}

namespace {

std::string Latency(const TruthSummary& t, double seconds) {
  return t.latency.count > 0 ? FormatLatency(seconds) : "-";
}

// Whole seconds: `run` passes start a few simulated milliseconds after they are due.
std::string Offset(Duration d) {
  return d.count() == 0 ? "0s" : FormatDuration(std::chrono::floor<std::chrono::seconds>(d));
}

// "1234 (1.7%)"; "-" without a threshold.
std::string Slow(const TruthSummary& t, const std::optional<Duration>& threshold) {
  if (!threshold) return "-";
  if (t.latency.count == 0) return "0";
  double percent =
      100.0 * static_cast<double>(t.slower_than_threshold) / static_cast<double>(t.latency.count);
  return fmt::format("{} ({:.1f}%)", t.slower_than_threshold, percent);
}

std::string Quantities(const SimFormationSummary& f) {
  if (f.peak_quantity > std::max(f.start_quantity, f.end_quantity)) {
    return fmt::format("{} -> {} -> {}", f.start_quantity, f.peak_quantity, f.end_quantity);
  }
  return fmt::format("{} -> {}", f.start_quantity, f.end_quantity);
}

// The policy, how far the world ran, the seed and the passes.
std::string HeaderSection(const SimRunSummary& s) {
  std::string out = fmt::format("{} (app {}): {} simulated", s.policy, s.app, Offset(s.simulated));
  if (s.simulated < s.scenario) {
    out += fmt::format(" (stopped early: the scenario runs {})", FormatDuration(s.scenario));
  }
  out += fmt::format(", seed {}, a pass every {} ({} {}", s.seed, FormatDuration(s.interval),
                     s.passes, s.passes == 1 ? "pass" : "passes");
  if (s.failed_passes > 0) out += fmt::format(", {} failed", s.failed_passes);
  out += ")\n";
  return out;
}

// Every action sent, with the formation's latency before and after it.
std::string ActionsSection(const SimRunSummary& s) {
  using Align = app::TextTable::Align;
  std::string out;
  out += fmt::format("\nActions: {} sent", s.actions.size());
  if (s.planned_not_applied > 0) {
    out += fmt::format(", {} planned but not sent", s.planned_not_applied);
  }
  if (s.actions.empty()) {
    out += "\n";
  } else {
    out += fmt::format(" (the formation's p95 and p99 over {} before -> {} after)\n",
                       FormatDuration(s.around), FormatDuration(s.around));
    app::TextTable actions({{"AT", Align::kRight},
                            {"FORMATION"},
                            {"ACTION"},
                            {"P95 BEFORE", Align::kRight},
                            {"AFTER", Align::kRight},
                            {"P99 BEFORE", Align::kRight},
                            {"AFTER", Align::kRight},
                            {"REASON"}});
    for (const auto& a : s.actions) {
      std::string reason = a.action.reason;
      if (!a.action.error.empty()) reason = "FAILED: " + a.action.error + " (" + reason + ")";
      actions.AddRow(
          {Offset(a.offset), a.action.formation, a.action.action,
           Latency(a.before, a.before.latency.p95), Latency(a.after, a.after.latency.p95),
           Latency(a.before, a.before.latency.p99), Latency(a.after, a.after.latency.p99), reason});
    }
    out += actions.Render();
  }

  return out;
}

// Each stretch of the run with the same incidents, per formation.
std::string PhasesSection(const SimRunSummary& s) {
  using Align = app::TextTable::Align;
  std::string out;
  out +=
      "\nPhases (every request completed in the phase; SLOW: slower than the formation's "
      "latencyThreshold)\n";
  app::TextTable phases({{"PHASE"},
                         {"FROM", Align::kRight},
                         {"TO", Align::kRight},
                         {"FORMATION"},
                         {"REQUESTS", Align::kRight},
                         {"P50", Align::kRight},
                         {"P95", Align::kRight},
                         {"P99", Align::kRight},
                         {"SLOW", Align::kRight}});
  for (const auto& p : s.phases) {
    bool first = true;
    for (size_t i = 0; i < p.formations.size(); ++i) {
      const TruthSummary& t = p.formations[i].truth;
      const std::optional<Duration>& threshold = s.formations[i].threshold;
      phases.AddRow({first ? p.name : "", first ? Offset(p.from) : "", first ? Offset(p.to) : "",
                     p.formations[i].type, std::to_string(t.latency.count),
                     Latency(t, t.latency.p50), Latency(t, t.latency.p95),
                     Latency(t, t.latency.p99), Slow(t, threshold)});
      first = false;
    }
  }
  out += phases.Render();

  return out;
}

// Each formation over the whole run.
std::string FormationsSection(const SimRunSummary& s) {
  using Align = app::TextTable::Align;
  std::string out;
  out += "\nFormations over the whole run\n";
  app::TextTable formations({{"FORMATION"},
                             {"REQUESTS", Align::kRight},
                             {"P50", Align::kRight},
                             {"P95", Align::kRight},
                             {"P99", Align::kRight},
                             {"MAX", Align::kRight},
                             {"THRESHOLD", Align::kRight},
                             {"SLOW", Align::kRight},
                             {"H12", Align::kRight},
                             {"UNSERVED", Align::kRight},
                             {"PEAK QUEUE", Align::kRight},
                             {"QUEUED AT END", Align::kRight},
                             {"DYNOS", Align::kRight},
                             {"DYNO-MINUTES", Align::kRight}});
  bool any_worker = false;
  for (const auto& f : s.formations) {
    const TruthSummary& t = f.truth;
    any_worker = any_worker || !f.web;
    formations.AddRow(
        {f.type, std::to_string(t.latency.count), Latency(t, t.latency.p50),
         Latency(t, t.latency.p95), Latency(t, t.latency.p99), Latency(t, t.latency.max),
         f.threshold ? FormatLatency(ToSeconds(*f.threshold)) : "-", Slow(t, f.threshold),
         f.web ? std::to_string(t.latency.errors) : "-", f.web ? std::to_string(t.unserved) : "-",
         f.web ? "-" : FormatLatency(t.peak_queue_latency),
         f.web ? "-" : std::to_string(f.queued_at_end), Quantities(f),
         fmt::format("{:.1f}", t.dyno_minutes())});
  }
  out += formations.Render();
  if (any_worker) {
    out +=
        "  (worker formations: REQUESTS are jobs, their latency is the time they waited in "
        "the queue)\n";
  }
  return out;
}

}  // namespace

std::string RenderSimSummary(const SimRunSummary& s) {
  return HeaderSection(s) + ActionsSection(s) + PhasesSection(s) + FormationsSection(s);
}

namespace {

json OrNull(bool known, double value) {
  return known ? json(value) : json(nullptr);
}

json TruthJson(const TruthSummary& t, const std::optional<Duration>& threshold) {
  const bool known = t.latency.count > 0;
  json j = {{"count", t.latency.count},
            {"mean", OrNull(known, t.latency.mean)},
            {"p50", OrNull(known, t.latency.p50)},
            {"p95", OrNull(known, t.latency.p95)},
            {"p99", OrNull(known, t.latency.p99)},
            {"max", OrNull(known, t.latency.max)},
            {"h12", t.latency.errors},
            {"unserved", t.unserved},
            {"dynoMinutes", t.dyno_minutes()},
            {"peakQueueLatency", t.peak_queue_latency}};
  j["slowerThanThreshold"] = threshold ? json(t.slower_than_threshold) : json(nullptr);
  return j;
}

}  // namespace

json ToJson(const SimRunSummary& s) {
  auto seconds = [](Duration d) { return ToSeconds(d); };
  json j;
  j["name"] = s.policy;
  j["app"] = s.app;
  j["seed"] = s.seed;
  j["start"] = FormatTimestamp(s.start);
  j["simulatedSeconds"] = seconds(s.simulated);
  j["scenarioSeconds"] = seconds(s.scenario);
  j["intervalSeconds"] = seconds(s.interval);
  j["aroundSeconds"] = seconds(s.around);
  j["passes"] = s.passes;
  j["failedPasses"] = s.failed_passes;
  j["plannedNotApplied"] = s.planned_not_applied;

  j["formations"] = json::array();
  for (const auto& f : s.formations) {
    j["formations"].push_back(
        {{"type", f.type},
         {"kind", f.web ? "web" : "worker"},
         {"thresholdSeconds", f.threshold ? json(seconds(*f.threshold)) : json(nullptr)},
         {"startQuantity", f.start_quantity},
         {"peakQuantity", f.peak_quantity},
         {"endQuantity", f.end_quantity},
         {"actions", f.actions},
         {"queuedAtEnd", f.queued_at_end},
         {"truth", TruthJson(f.truth, f.threshold)}});
  }
  auto threshold_of = [&](const std::string& type) -> std::optional<Duration> {
    for (const auto& f : s.formations) {
      if (f.type == type) return f.threshold;
    }
    return std::nullopt;
  };

  j["actions"] = json::array();
  for (const auto& a : s.actions) {
    // The action in the shape every output shares (model/codec.h), with when and its effect.
    const SimAction& act = a.action;
    const bool scale = act.kind == reconciler::ActionKind::kScale;
    model::ActionReport shared;
    shared.kind = std::string(reconciler::Name(act.kind));
    shared.cause = act.cause;
    shared.formation = act.formation;
    if (scale) {
      shared.from = act.from_quantity;
      shared.to = act.to_quantity;
    } else {
      shared.dyno = act.dyno;
    }
    shared.summary = act.action;
    shared.reason = act.reason;
    shared.failed = !act.error.empty();
    shared.applied = !shared.failed;
    if (shared.failed) shared.error = act.error;
    json action = model::ToJson(shared);
    action.update({{"at", FormatTimestamp(act.at)},
                   {"atSeconds", seconds(a.offset)},
                   {"beforeSeconds", seconds(a.before_span)},
                   {"afterSeconds", seconds(a.after_span)},
                   {"before", TruthJson(a.before, threshold_of(a.action.formation))},
                   {"after", TruthJson(a.after, threshold_of(a.action.formation))}});
    j["actions"].push_back(std::move(action));
  }

  j["phases"] = json::array();
  for (const auto& p : s.phases) {
    json formations = json::object();
    for (const auto& f : p.formations)
      formations[f.type] = TruthJson(f.truth, threshold_of(f.type));
    j["phases"].push_back({{"name", p.name},
                           {"fromSeconds", seconds(p.from)},
                           {"toSeconds", seconds(p.to)},
                           {"formations", std::move(formations)}});
  }

  j["events"] = json::array();
  for (const auto& e : s.events) {
    json event = {{"at", FormatTimestamp(e.at)},
                  {"atSeconds", ToSeconds(e.at - s.start)},
                  {"kind", std::string(Name(e.kind))},
                  {"formation", e.formation},
                  {"message", e.message}};
    if (!e.dyno.empty()) event["dyno"] = e.dyno;
    j["events"].push_back(std::move(event));
  }
  return j;
}

}  // namespace dynoherd::sim
