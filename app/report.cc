#include "app/report.h"

#include <algorithm>
#include <cstdio>

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

std::optional<std::string> UnlessEmpty(const std::string& text) {
  return text.empty() ? std::nullopt : std::optional<std::string>(text);
}

std::vector<model::DynoReport> DynosOf(const model::Observation& observation,
                                       const std::string& type) {
  const model::FormationLatency* latency = nullptr;
  if (auto it = observation.latency.find(type); it != observation.latency.end()) {
    latency = &it->second;
  }
  std::vector<model::DynoReport> dynos;
  for (const auto& d : observation.dynos) {
    if (d.type != type) continue;
    model::DynoReport dyno{d.name, d.state, KnownIf(d.updated_at != TimePoint{}, d.updated_at),
                           std::nullopt};
    if (latency) {
      auto stats = latency->per_dyno.find(d.name);
      if (stats != latency->per_dyno.end() && stats->second.count > 0) dyno.latency = stats->second;
    }
    dynos.push_back(std::move(dyno));
  }
  std::stable_sort(dynos.begin(), dynos.end(), [](const auto& a, const auto& b) {
    return model::DynoNameLess(a.name, b.name);
  });
  return dynos;
}

// `applied`: the pass sent its actions; a failed one was not applied.
model::ActionReport ActionReportOf(const reconciler::Action& a, bool applied) {
  model::ActionReport out;
  out.kind = std::string(Name(a.kind));
  out.cause = std::string(Name(a.cause));
  out.formation = a.formation;
  if (a.kind == ActionKind::kScale) {
    out.from = a.from_quantity;
    out.to = a.to_quantity;
  } else {
    out.dyno = a.dyno;
  }
  out.summary = a.Summary();
  out.reason = a.reason;
  out.failed = a.failed;
  out.outcome_unknown = a.outcome_unknown;
  if (a.failed || a.outcome_unknown) out.error = a.error;
  out.applied = applied && !a.failed && !a.outcome_unknown;
  return out;
}

model::VerdictReport VerdictReportOf(const reconciler::LaggardVerdict& v) {
  return {v.dyno, v.judged, v.slow, v.value, v.score, v.reference, v.reason};
}

model::CapacityReport CapacityReportOf(const reconciler::FormationPlan& f,
                                       double target_utilization) {
  model::CapacityReport out;
  out.target_utilization = target_utilization;
  if (f.load) {
    out.arrivals_per_second = f.load->arrivals_per_second;
    out.service_seconds = f.load->service_seconds;
  }
  out.queued_jobs = f.queued_jobs;
  out.needed_quantity = f.needed_quantity;
  out.utilization = f.utilization;
  return out;
}

model::FormationReport FormationReportOf(const reconciler::FormationPlan& f,
                                         const spec::FormationSpec* spec,
                                         const model::Observation& observation) {
  model::FormationReport out;
  out.type = f.type;
  out.observed_quantity = f.observed_quantity;
  out.desired_quantity = f.desired_quantity;
  out.baseline_kind = std::string(Name(f.baseline_kind));
  out.baseline = f.baseline;
  if (spec && spec->latency) {
    model::FormationLatencyReport& latency = out.latency.emplace();
    latency.statistic = std::string(spec::Name(f.statistic));
    latency.seconds = f.latency_seconds;
    latency.samples = f.latency_samples;
    if (!f.latency_seconds) latency.unknown_reason = UnlessEmpty(f.latency_unknown_reason);
    latency.error = UnlessEmpty(f.latency_error);
    if (auto it = observation.latency.find(f.type); it != observation.latency.end())
      latency.queues = it->second.queues;
  }
  if (spec && spec->autoscale) {
    out.event = model::EventReport{f.in_event,    f.event_started_at, f.event_start_estimated,
                                   f.event_depth, f.max_depth,        f.event_exceeded_max_duration};
  }
  if (spec && spec->autoscale && spec->autoscale->mode == spec::AutoscaleMode::kCapacity) {
    out.capacity = CapacityReportOf(f, spec->TargetUtilization());
  }
  out.bounds = {f.min_quantity, f.max_quantity, UnlessEmpty(f.schedule)};
  if (spec && spec->laggards) {
    model::LaggardsReport& laggards = out.laggards.emplace();
    laggards.decided = f.laggards_decided;
    if (!f.laggards_decided) laggards.no_verdict_reason = UnlessEmpty(f.laggards_no_verdict_reason);
    for (const auto& v : f.verdicts)
      laggards.verdicts.push_back(VerdictReportOf(v));
    std::stable_sort(laggards.verdicts.begin(), laggards.verdicts.end(),
                     [](const auto& a, const auto& b) { return model::DynoNameLess(a.dyno, b.dyno); });
  }
  out.notes = f.notes;
  out.conditions = f.conditions;
  out.dynos = DynosOf(observation, f.type);
  return out;
}

bool Paused(const PassResult& r) {
  return r.plan && !r.plan->apply;
}

bool OutcomeUnknown(const PassResult& r) {
  return r.status.code() == Status::Code::kOutcomeUnknown;
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

// "31.2", "0.83": three significant digits.
std::string Significant(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, v >= 100 ? "%.0f" : "%.3g", v);
  return buffer;
}

// Mode capacity's estimate: "capacity: 66/s x 150ms needs 10 dynos (utilization 1.65 of the
// slots there are)", with " + 14 queued jobs" for a Sidekiq backlog.
void AddCapacity(const reconciler::FormationPlan& fp, Block& block) {
  if (!fp.needed_quantity || !fp.load) return;
  std::string text = "capacity: " + Significant(fp.load->arrivals_per_second) + "/s x " +
                     FormatLatency(fp.load->service_seconds);
  if (fp.queued_jobs > 0) text += " + " + std::to_string(fp.queued_jobs) + " queued jobs";
  text += " needs " + std::to_string(*fp.needed_quantity) + " dynos";
  if (fp.utilization) {
    text += " (utilization " + Significant(*fp.utilization) + " of the slots there are)";
  }
  block.Add(fp.type, text);
}

// The floor and ceiling in force: "bounds: min 8, max 14 (schedule morning)".
void AddBounds(const reconciler::FormationPlan& fp, Block& block) {
  if (!fp.min_quantity && !fp.max_quantity) return;
  std::string text = "bounds:";
  if (fp.min_quantity) text += " min " + std::to_string(*fp.min_quantity);
  if (fp.max_quantity) {
    text += std::string(fp.min_quantity ? "," : "") + " max " + std::to_string(*fp.max_quantity);
  }
  text += fp.schedule.empty() ? " (the formation's)" : " (schedule " + fp.schedule + ")";
  block.Add(fp.type, text);
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
    if (a.outcome_unknown) {
      block.Add(a.formation, Pad("", summary_width) + "  outcome unknown: " + a.error);
    }
  }
  if (plan.actions.empty()) block.Add("", "No changes.");
  for (const auto& note : plan.notes)
    block.Add("", note);
  for (const auto& fp : plan.formations) {
    AddQueues(fp.type, r.observation, block);
    AddCapacity(fp, block);
    AddBounds(fp, block);
    ExplainFormation(fp, block);
  }
  // An error that no action explains (e.g. the status could not be saved) still shows.
  if (!r.status.ok() && std::none_of(plan.actions.begin(), plan.actions.end(),
                                     [](const reconciler::Action& a) {
                                       return a.failed || a.outcome_unknown;
                                     })) {
    block.Add("", "Error: " + r.status.ToString());
  }
  return out + block.Render();
}

}  // namespace

model::PassReport ReportOf(const PassResult& r, const spec::Policy* policy) {
  model::PassReport out;
  out.name = r.policy;
  out.app = r.app;
  out.ok = r.status.ok();
  if (!r.status.ok()) out.error = r.status.ToString();
  out.started_at = r.started_at;
  out.finished_at = r.finished_at;
  out.observed_at = KnownIf(r.observed, r.observation.observed_at);
  out.paused = Paused(r);
  out.applied = r.applied;
  if (!r.plan) return out;
  out.planned_at = r.plan->planned_at;
  for (const auto& a : r.plan->actions)
    out.actions.push_back(ActionReportOf(a, r.applied));
  for (const auto& f : r.plan->formations) {
    const spec::FormationSpec* spec = policy ? policy->FindFormation(f.type) : nullptr;
    out.formations.push_back(FormationReportOf(f, spec, r.observation));
  }
  out.notes = r.plan->notes;
  return out;
}

json PassResultJson(const PassResult& r, const spec::Policy* policy) {
  return model::ToJson(ReportOf(r, policy));
}

PassTotals Totals(const std::vector<PassResult>& results) {
  PassTotals t;
  for (const auto& r : results) {
    ++t.policies;
    if (OutcomeUnknown(r)) {
      ++t.unknown_policies;
    } else if (!r.status.ok()) {
      ++t.failed_policies;
    }
    if (!r.plan) continue;
    for (const auto& a : r.plan->actions) {
      if (Paused(r)) {
        ++t.held;
        continue;
      }
      ++t.planned;
      if (a.failed) {
        ++t.failed_actions;
      } else if (a.outcome_unknown) {
        ++t.unknown_actions;
      } else if (r.applied) {
        ++t.applied;
      }
    }
  }
  return t;
}

json PassResultsJson(const std::vector<PassResult>& results,
                     const std::vector<spec::Policy>& policies_run, bool dry_run) {
  json policies = json::array();
  for (const auto& r : results) {
    const spec::Policy* policy = nullptr;
    for (const auto& p : policies_run) {
      if (p.name == r.policy) policy = &p;
    }
    policies.push_back(PassResultJson(r, policy));
  }
  const PassTotals t = Totals(results);
  return {{"dryRun", dry_run},
          {"policies", std::move(policies)},
          {"summary",
           {{"policies", t.policies},
            {"failedPolicies", t.failed_policies},
            {"plannedActions", t.planned},
            {"heldActions", t.held},
            {"appliedActions", t.applied},
            {"failedActions", t.failed_actions},
            {"unknownPolicies", t.unknown_policies},
            {"unknownActions", t.unknown_actions}}}};
}

std::string RenderPasses(const std::vector<PassResult>& results, RenderMode mode) {
  std::string out;
  KindCounts planned, held, applied, failed, unknown;
  std::vector<const PassResult*> failed_policies, unknown_policies;
  for (const auto& r : results) {
    if (!out.empty()) out += "\n";
    out += RenderPolicy(r);
    if (OutcomeUnknown(r)) {
      unknown_policies.push_back(&r);
    } else if (!r.status.ok()) {
      failed_policies.push_back(&r);
    }
    if (!r.plan) continue;
    for (const auto& a : r.plan->actions) {
      if (Paused(r)) {
        held.Add(a.kind);
      } else if (mode == RenderMode::kPlan) {
        planned.Add(a.kind);
      } else if (a.failed) {
        failed.Add(a.kind);
      } else if (a.outcome_unknown) {
        unknown.Add(a.kind);
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
    if (const std::string u = unknown.Text(); !u.empty()) out += " Outcome unknown: " + u + ".";
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
  if (!unknown_policies.empty()) {
    out += std::to_string(unknown_policies.size()) + " of " + std::to_string(results.size()) +
           (results.size() == 1 ? " policy" : " policies") +
           " sent a change that was never answered; the next pass observes whether it took "
           "effect:\n";
    for (const PassResult* r : unknown_policies) {
      out += "  " + r->policy + ": " + r->status.ToString() + "\n";
    }
  }
  return out;
}

}  // namespace dynoherd::app
