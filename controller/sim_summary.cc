#include "controller/sim_summary.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace dynoherd::controller {

namespace {

using providers::sim::SimWorld;
using providers::sim::TruthSummary;

// Columns padded to their widest cell, two spaces apart, indented; the last one is not padded.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string Render(const std::string& indent) const {
    std::vector<size_t> width;
    for (const auto& row : rows_) {
      if (width.size() < row.size()) width.resize(row.size(), 0);
      for (size_t i = 0; i < row.size(); ++i)
        width[i] = std::max(width[i], row[i].size());
    }
    std::string out;
    for (const auto& row : rows_) {
      std::string line = indent;
      for (size_t i = 0; i < row.size(); ++i) {
        line += row[i];
        if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
      }
      while (!line.empty() && line.back() == ' ')
        line.pop_back();
      out += line + "\n";
    }
    return out;
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

std::string Count(int64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string Percent(int64_t part, int64_t whole) {
  if (whole <= 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * static_cast<double>(part) / whole);
  return buf;
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

std::string Factor(double factor) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "x%g", factor);
  return buf;
}

// "p50 -> p50" over the two ranges; "-" where nothing was served.
std::string BeforeAfter(const TruthSummary& before, const TruthSummary& after,
                        spec::Statistic statistic) {
  auto one = [&](const TruthSummary& t) {
    return t.latency.count > 0 ? FormatLatency(t.latency.Get(statistic)) : std::string("-");
  };
  return one(before) + " -> " + one(after);
}

Duration WindowOf(const spec::Policy& policy, const std::string& formation) {
  const spec::FormationSpec* f = policy.FindFormation(formation);
  return f && f->latency ? f->latency->window : Duration{std::chrono::minutes(2)};
}

std::optional<Duration> ThresholdOf(const spec::Policy& policy, const std::string& formation) {
  const spec::FormationSpec* f = policy.FindFormation(formation);
  if (f && f->autoscale) return f->autoscale->latency_threshold;
  return std::nullopt;
}

bool IsWeb(const spec::SimSpec& sim, const std::string& formation) {
  for (const auto& f : sim.formations) {
    if (f.type == formation) return f.rps.has_value();
  }
  return false;
}

// "restart", "scale-up", "scale-down", "restore", "stop": how the tally counts an action.
std::string Category(const SimAction& a) {
  switch (a.kind) {
    case reconciler::ActionKind::kRestart:
      return "restart";
    case reconciler::ActionKind::kStop:
      return "stop";
    case reconciler::ActionKind::kScale:
      if (a.cause == reconciler::Name(reconciler::ActionCause::kRestored)) return "restore";
      return a.to_quantity > a.from_quantity ? "scale-up" : "scale-down";
  }
  return "action";
}

std::string ActionTally(const std::vector<SimAction>& actions) {
  std::vector<std::pair<std::string, int>> tally;  // in order of first appearance
  for (const auto& a : actions) {
    std::string category = Category(a);
    auto it = std::find_if(tally.begin(), tally.end(),
                           [&](const auto& entry) { return entry.first == category; });
    if (it == tally.end()) {
      tally.emplace_back(category, 1);
    } else {
      ++it->second;
    }
  }
  std::string out;
  for (const auto& [category, n] : tally) {
    if (!out.empty()) out += ", ";
    out += std::to_string(n) + " " + category + (n == 1 ? "" : "s");
  }
  return out;
}

}  // namespace

void SimActionLog::Record(const PassResult& pass) {
  if (!pass.applied || !pass.plan) return;
  std::lock_guard lock(mu_);
  for (const auto& a : pass.plan->actions) {
    if (a.failed) continue;
    SimAction action;
    action.at = pass.plan->planned_at;
    action.kind = a.kind;
    action.formation = a.formation;
    action.from_quantity = a.from_quantity;
    action.to_quantity = a.to_quantity;
    action.summary = a.Summary();
    action.cause = std::string(reconciler::Name(a.cause));
    action.reason = a.reason;
    actions_.emplace_back(pass.policy, std::move(action));
  }
}

std::vector<SimAction> SimActionLog::For(const std::string& policy) const {
  std::lock_guard lock(mu_);
  std::vector<SimAction> out;
  for (const auto& [name, action] : actions_) {
    if (name == policy) out.push_back(action);
  }
  return out;
}

std::vector<SimPhase> SimPhases(const spec::SimSpec& sim) {
  std::map<Duration, std::vector<std::string>> cuts;  // boundary -> what starts there
  for (const auto& incident : sim.incidents) {
    if (incident.at >= sim.duration) continue;
    if (incident.kind == spec::IncidentKind::kNoisyNeighbor) {
      cuts[incident.at].push_back(incident.dyno + " noisy neighbour " + Factor(incident.factor));
    } else {
      cuts[incident.at].push_back(incident.formation + " surge " + Factor(incident.factor));
      if (incident.duration && incident.at + *incident.duration < sim.duration) {
        cuts[incident.at + *incident.duration].push_back("after " + incident.formation + " surge");
      }
    }
  }
  std::vector<SimPhase> phases;
  Duration from{0};
  std::string name = cuts.empty() ? "whole run" : "before the incidents";
  for (const auto& [at, labels] : cuts) {
    if (at > from) phases.push_back({name, from, at});
    name.clear();
    for (const auto& label : labels)
      name += (name.empty() ? "" : " + ") + label;
    from = at;
  }
  phases.push_back({name, from, sim.duration});
  return phases;
}

std::string FormatSimSummary(const spec::Policy& policy, SimWorld& world,
                             const std::vector<SimAction>& actions,
                             std::chrono::milliseconds wall_elapsed) {
  const spec::SimSpec& sim = world.spec();
  const TimePoint start = world.start_time();
  const Duration simulated =
      std::min(sim.duration, std::chrono::floor<Duration>(world.Now() - start));
  char speed[32];
  std::snprintf(speed, sizeof speed, "%g", sim.speed);

  std::string out = "\nSimulation \"" + policy.name + "\" (app " + policy.app + ", seed " +
                    std::to_string(sim.seed) + "): " + FormatDuration(simulated) +
                    " simulated at speed " + speed + " in " +
                    FormatDuration(std::chrono::floor<std::chrono::seconds>(wall_elapsed)) +
                    " of wall time\n";
  if (simulated < sim.duration) {
    out += "(stopped early: the scenario runs " + FormatDuration(sim.duration) + ")\n";
  }

  out +=
      "\nActions taken: " + (actions.empty() ? std::string("none") : ActionTally(actions)) + "\n";
  if (!actions.empty()) {
    TextTable table(
        {"at", "formation", "action", "p50 before -> after", "p99 before -> after", "reason"});
    for (const auto& a : actions) {
      // Before: the latency window that led to the action; after: the same length once the
      // action has taken effect (dynos boot for restartDelay).
      const Duration window = WindowOf(policy, a.formation);
      const TimePoint effective = a.at + sim.restart_delay;
      auto before = world.Truth(a.formation, a.at - window, a.at);
      auto after = world.Truth(a.formation, effective, effective + window);
      std::string p50 = "-", p99 = "-";
      if (before.ok() && after.ok()) {
        p50 = BeforeAfter(*before, *after, spec::Statistic::kP50);
        p99 = BeforeAfter(*before, *after, spec::Statistic::kP99);
      }
      table.Add({FormatDuration(std::chrono::floor<std::chrono::seconds>(a.at - start)),
                 a.formation, a.summary, p50, p99, a.reason});
    }
    out += table.Render("  ");
    out +=
        "  (before: the latency window up to the action; after: the same length from when it "
        "took effect)\n";
  }

  const std::vector<SimPhase> phases = SimPhases(sim);
  for (const auto& formation : world.formation_types()) {
    const bool web = IsWeb(sim, formation);
    const std::optional<Duration> threshold = ThresholdOf(policy, formation);
    out += "\n" + formation + ": " +
           (web ? "latency of every request" : "time every job waited in the queue") +
           ", by phase (ground truth)\n";
    std::vector<std::string> header = {"phase", "sim time", web ? "requests" : "jobs",
                                       "p50",   "p95",      "p99"};
    if (threshold) header.push_back("> " + FormatDuration(*threshold));
    if (web) header.push_back("errors");
    header.push_back("dyno-min");
    TextTable table(header);
    std::vector<SimPhase> rows = phases;
    if (rows.size() > 1) rows.push_back({"whole run", Duration{0}, sim.duration});
    for (const auto& phase : rows) {
      if (phase.from >= simulated) continue;
      auto truth = world.Truth(formation, start + phase.from, start + std::min(phase.to, simulated),
                               threshold);
      if (!truth.ok()) continue;
      const auto& l = truth->latency;
      bool any = l.count > 0;
      std::vector<std::string> row = {
          phase.name,
          FormatDuration(phase.from) + "-" + FormatDuration(std::min(phase.to, simulated)),
          Count(l.count),
          any ? FormatLatency(l.p50) : "-",
          any ? FormatLatency(l.p95) : "-",
          any ? FormatLatency(l.p99) : "-"};
      if (threshold) row.push_back(Percent(truth->slower_than_threshold, l.count));
      if (web) row.push_back(Count(l.errors + truth->unserved));
      row.push_back(Number(truth->dyno_minutes()));
      table.Add(std::move(row));
    }
    out += table.Render("  ");
  }
  return out;
}

}  // namespace dynoherd::controller
