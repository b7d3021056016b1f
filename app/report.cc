#include "app/report.h"

#include <algorithm>

#include "model/codec.h"

namespace dynoherd::app {

namespace {

using nlohmann::json;
using reconciler::ActionKind;

// How the laggard detector's reason says a dyno is statistically far from the others but not
// slow enough to act on (reconciler/laggard_detector.cc; report_test keeps the two in step).
constexpr std::string_view kNotSlowMarker = "; not slow: ";

using model::OrNull;
using model::TimeOrNull;

std::optional<TimePoint> KnownIf(bool known, TimePoint t) {
  return known ? std::optional<TimePoint>(t) : std::nullopt;
}

json DynosJson(const model::Observation& observation, const std::string& type) {
  const model::FormationLatency* latency = nullptr;
  if (auto it = observation.latency.find(type); it != observation.latency.end()) {
    latency = &it->second;
  }
  json dynos = json::array();
  for (const auto& d : observation.dynos) {
    if (d.type != type) continue;
    json dyno = {{"name", d.name},
                 {"state", d.state},
                 {"updatedAt", TimeOrNull(KnownIf(d.updated_at != TimePoint{}, d.updated_at))},
                 {"latency", nullptr}};
    if (latency) {
      auto stats = latency->per_dyno.find(d.name);
      if (stats != latency->per_dyno.end() && stats->second.count > 0) {
        const model::LatencyStats& s = stats->second;
        dyno["latency"] = {{"requests", s.count}, {"mean", s.mean}, {"p50", s.p50},
                           {"p95", s.p95},        {"p99", s.p99},   {"max", s.max},
                           {"errors", s.errors}};
      }
    }
    dynos.push_back(std::move(dyno));
  }
  return dynos;
}

// `applied`: the pass sent its actions; a failed one was not applied.
json ActionJson(const reconciler::Action& a, bool applied) {
  json j = {{"kind", Name(a.kind)}, {"cause", Name(a.cause)}, {"formation", a.formation}};
  if (a.kind == ActionKind::kScale) {
    j["from"] = a.from_quantity;
    j["to"] = a.to_quantity;
  } else {
    j["dyno"] = a.dyno;
  }
  j["summary"] = a.Summary();
  j["reason"] = a.reason;
  j["failed"] = a.failed;
  j["error"] = a.failed ? json(a.error) : json(nullptr);
  j["applied"] = applied && !a.failed;
  return j;
}

json VerdictJson(const reconciler::LaggardVerdict& v) {
  return {{"dyno", v.dyno},    {"judged", v.judged},       {"slow", v.slow},
          {"value", v.value},  {"score", OrNull(v.score)}, {"reference", v.reference},
          {"reason", v.reason}};
}

json FormationJson(const reconciler::FormationPlan& f, const model::Observation& observation) {
  json verdicts = json::array();
  for (const auto& v : f.verdicts)
    verdicts.push_back(VerdictJson(v));
  json conditions = json::array();
  for (const auto& c : f.conditions)
    conditions.push_back(model::ToJson(c));
  json latency = {{"statistic", spec::Name(f.statistic)},
                  {"seconds", OrNull(f.latency_seconds)},
                  {"samples", f.latency_samples}};
  if (!f.latency_unknown_reason.empty()) latency["unknownReason"] = f.latency_unknown_reason;
  if (auto it = observation.latency.find(f.type);
      it != observation.latency.end() && !it->second.queues.empty()) {
    json queues = json::array();
    for (const auto& q : it->second.queues)
      queues.push_back(model::ToJson(q));
    latency["queues"] = std::move(queues);
  }
  return {{"type", f.type},
          {"observedQuantity", OrNull(f.observed_quantity)},
          {"desiredQuantity", OrNull(f.desired_quantity)},
          {"baseline", {{"kind", Name(f.baseline_kind)}, {"quantity", OrNull(f.baseline)}}},
          {"latency", std::move(latency)},
          {"event",
           {{"inEvent", f.in_event},
            {"startedAt", TimeOrNull(f.event_started_at)},
            {"startEstimated", f.event_start_estimated},
            {"depth", f.event_depth},
            {"maxDepth", f.max_depth},
            {"exceededMaxDuration", f.event_exceeded_max_duration}}},
          {"laggards", {{"decided", f.laggards_decided}, {"verdicts", std::move(verdicts)}}},
          {"notes", f.notes},
          {"conditions", std::move(conditions)},
          {"dynos", DynosJson(observation, f.type)}};
}

bool Paused(const PassResult& r) {
  return r.plan && !r.plan->apply;
}

// "1 scale, 2 restarts"; empty when `counts` are all zero.
std::string CountText(int scales, int restarts, int stops) {
  std::string out;
  auto add = [&out](int n, const char* one, const char* many) {
    if (n == 0) return;
    if (!out.empty()) out += ", ";
    out += std::to_string(n) + " " + (n == 1 ? one : many);
  };
  add(scales, "scale", "scales");
  add(restarts, "restart", "restarts");
  add(stops, "stop", "stops");
  return out;
}

struct KindCounts {
  int scales = 0, restarts = 0, stops = 0;
  void Add(ActionKind kind) {
    (kind == ActionKind::kScale ? scales : kind == ActionKind::kRestart ? restarts : stops)++;
  }
  std::string Text() const { return CountText(scales, restarts, stops); }
};

std::string Pad(std::string text, size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

// One policy's block: lines of (formation, text), or policy-level lines with an empty formation.
class Block {
 public:
  void Add(std::string formation, std::string text) {
    lines_.push_back({std::move(formation), std::move(text)});
  }
  std::string Render() const {
    size_t width = 0;
    for (const auto& [formation, text] : lines_)
      width = std::max(width, formation.size());
    std::string out;
    for (const auto& [formation, text] : lines_) {
      out += "  ";
      if (!formation.empty()) out += Pad(formation, width) + "  ";
      out += text + "\n";
    }
    return out;
  }

 private:
  std::vector<std::pair<std::string, std::string>> lines_;
};

// Why nothing (more) is done for a formation, where a reader would wonder: latency unknown, a
// missing formation, an event in progress, the notes of the planner.
void ExplainFormation(const reconciler::FormationPlan& fp, Block& block) {
  for (const auto& c : fp.conditions) {
    if (c.status != model::ConditionStatus::kTrue) continue;
    if (c.type == model::kDegraded && c.reason != "ActionFailed" && !c.message.empty()) {
      block.Add(fp.type, c.message);
    } else if (c.type == model::kLatencyEvent) {
      std::string text = "latency event: " + c.message;
      if (fp.baseline) {
        text += " (" + std::to_string(fp.event_depth) + " of " + std::to_string(fp.max_depth) +
                " extra dynos)";
      }
      block.Add(fp.type, text);
    }
  }
  for (const auto& note : fp.notes)
    block.Add(fp.type, note);
  // A dyno far from the others that the detector still found not slow (minLatency, minRatio):
  // the case where a reader sees a number and wonders why nothing happens.
  for (const auto& v : fp.verdicts) {
    if (!v.slow && v.reason.find(kNotSlowMarker) != std::string::npos) {
      block.Add(fp.type, v.dyno + " not restarted: " + v.reason);
    }
  }
}

// "queues: default 42s (17 jobs), mailers 0s (0 jobs)" for a formation fed by Sidekiq.
void AddQueues(const std::string& type, const model::Observation& observation, Block& block) {
  auto it = observation.latency.find(type);
  if (it == observation.latency.end() || it->second.queues.empty()) return;
  block.Add(type, "queues: " + model::QueuesText(it->second.queues));
}

std::string RenderPolicy(const PassResult& r) {
  std::string out = r.policy + " (app " + r.app + ")";
  if (Paused(r)) out += " [paused: actions are planned, not applied]";
  out += "\n";
  Block block;
  if (!r.plan) {
    block.Add("", "Error: " + r.status.ToString());
    return out + block.Render();
  }
  const reconciler::Plan& plan = *r.plan;
  size_t summary_width = 18;
  for (const auto& a : plan.actions)
    summary_width = std::max(summary_width, a.Summary().size());
  for (const auto& a : plan.actions) {
    block.Add(a.formation, Pad(a.Summary(), summary_width) + "  " + a.reason);
    if (a.failed) block.Add(a.formation, Pad("", summary_width) + "  failed: " + a.error);
  }
  if (plan.actions.empty()) block.Add("", "No changes.");
  for (const auto& note : plan.notes)
    block.Add("", note);
  for (const auto& fp : plan.formations) {
    AddQueues(fp.type, r.observation, block);
    ExplainFormation(fp, block);
  }
  // An error that no action explains (e.g. the status could not be saved) still shows.
  if (!r.status.ok() && std::none_of(plan.actions.begin(), plan.actions.end(),
                                     [](const reconciler::Action& a) { return a.failed; })) {
    block.Add("", "Error: " + r.status.ToString());
  }
  return out + block.Render();
}

}  // namespace

json PassResultJson(const PassResult& r) {
  json j = {{"policy", r.policy},
            {"app", r.app},
            {"result", r.status.ok() ? "ok" : "error"},
            {"error", r.status.ok() ? json(nullptr) : json(r.status.ToString())},
            {"startedAt", FormatTimestamp(r.started_at)},
            {"finishedAt", FormatTimestamp(r.finished_at)},
            {"durationSeconds", std::max(0.0, ToSeconds(r.finished_at - r.started_at))},
            {"observedAt", TimeOrNull(KnownIf(r.observed, r.observation.observed_at))},
            {"paused", Paused(r)},
            {"applied", r.applied}};
  if (!r.plan) {
    j["plannedAt"] = nullptr;
    j["actions"] = json::array();
    j["formations"] = json::array();
    j["notes"] = json::array();
    return j;
  }
  json actions = json::array();
  for (const auto& a : r.plan->actions)
    actions.push_back(ActionJson(a, r.applied));
  json formations = json::array();
  for (const auto& f : r.plan->formations)
    formations.push_back(FormationJson(f, r.observation));
  j["plannedAt"] = FormatTimestamp(r.plan->planned_at);
  j["actions"] = std::move(actions);
  j["formations"] = std::move(formations);
  j["notes"] = r.plan->notes;
  return j;
}

PassTotals Totals(const std::vector<PassResult>& results) {
  PassTotals t;
  for (const auto& r : results) {
    ++t.policies;
    if (!r.status.ok()) ++t.failed_policies;
    if (!r.plan) continue;
    for (const auto& a : r.plan->actions) {
      if (Paused(r)) {
        ++t.held;
        continue;
      }
      ++t.planned;
      if (a.failed) {
        ++t.failed_actions;
      } else if (r.applied) {
        ++t.applied;
      }
    }
  }
  return t;
}

json PassResultsJson(const std::vector<PassResult>& results, bool dry_run) {
  json policies = json::array();
  for (const auto& r : results)
    policies.push_back(PassResultJson(r));
  const PassTotals t = Totals(results);
  return {{"dryRun", dry_run},
          {"policies", std::move(policies)},
          {"summary",
           {{"policies", t.policies},
            {"failedPolicies", t.failed_policies},
            {"plannedActions", t.planned},
            {"heldActions", t.held},
            {"appliedActions", t.applied},
            {"failedActions", t.failed_actions}}}};
}

std::string RenderPasses(const std::vector<PassResult>& results, RenderMode mode) {
  std::string out;
  KindCounts planned, held, applied, failed;
  std::vector<const PassResult*> failed_policies;
  for (const auto& r : results) {
    if (!out.empty()) out += "\n";
    out += RenderPolicy(r);
    if (!r.status.ok()) failed_policies.push_back(&r);
    if (!r.plan) continue;
    for (const auto& a : r.plan->actions) {
      if (Paused(r)) {
        held.Add(a.kind);
      } else if (mode == RenderMode::kPlan) {
        planned.Add(a.kind);
      } else if (a.failed) {
        failed.Add(a.kind);
      } else if (r.applied) {
        applied.Add(a.kind);
      }
    }
  }
  if (!out.empty()) out += "\n";
  // "no changes" is only what the policies that could be planned say.
  std::string none = "no changes.";
  if (failed_policies.size() == results.size() && !results.empty()) {
    none = mode == RenderMode::kPlan ? "nothing could be planned." : "nothing could be applied.";
  } else if (!failed_policies.empty()) {
    none = "no changes in the other policies.";
  }
  if (mode == RenderMode::kPlan) {
    const std::string text = planned.Text();
    out += "Plan: " + (text.empty() ? none : text + ".");
  } else {
    const std::string text = applied.Text();
    out += "Applied: " + (text.empty() ? none : text + ".");
    if (const std::string f = failed.Text(); !f.empty()) out += " Failed: " + f + ".";
  }
  if (const std::string h = held.Text(); !h.empty()) {
    out += " Paused policies hold " + h + ".";
  }
  out += "\n";
  if (!failed_policies.empty()) {
    out += std::to_string(failed_policies.size()) + " of " + std::to_string(results.size()) +
           (results.size() == 1 ? " policy" : " policies") + " failed:\n";
    for (const PassResult* r : failed_policies) {
      out += "  " + r->policy + ": " + r->status.ToString() + "\n";
    }
  }
  return out;
}

}  // namespace dynoherd::app
