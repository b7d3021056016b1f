#include "sim/simulation.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <random>

#include "app/pass.h"
#include "app/runtime.h"
#include "app/text_table.h"
#include "common/sleeper.h"
#include "sim/sim_runtime.h"

namespace dynoherd::sim {

std::string_view Name(SimVariant variant) {
  switch (variant) {
    case SimVariant::kDeclared:
      return "dynoherd";
    case SimVariant::kUnmanaged:
      return "without";
    case SimVariant::kPopulation:
      return "population";
    case SimVariant::kStep:
      return "step";
    case SimVariant::kCapacity:
      return "capacity";
    case SimVariant::kHeroku:
      return "heroku";
  }
  return "?";
}

std::string_view Describe(SimVariant variant) {
  switch (variant) {
    case SimVariant::kDeclared:
      return "the policy as declared";
    case SimVariant::kUnmanaged:
      return "passes plan but never act: the formations as if nobody managed them";
    case SimVariant::kPopulation:
      return "laggards.method population: the original slayer's rule";
    case SimVariant::kStep:
      return "autoscale mode step: one dyno per alertInterval (amigo's rule)";
    case SimVariant::kCapacity:
      return "autoscale mode capacity: the dynos the load needs, in one step";
    case SimVariant::kHeroku:
      return "autoscaling as Heroku's: web only, p95 target, one dyno at a time";
  }
  return "?";
}

namespace {

void SetMode(spec::AutoscaleSpec& autoscale, SimVariant variant) {
  if (variant == SimVariant::kStep) {
    autoscale.mode = spec::AutoscaleMode::kStep;
    return;
  }
  autoscale.mode = spec::AutoscaleMode::kCapacity;
  // The simulator knows how much work its dynos do at once.
  if (!autoscale.concurrency) autoscale.concurrency = SimOptions{}.concurrency;
}

bool SimulatedAsWeb(const spec::Policy& policy, const std::string& type) {
  for (const auto& f : policy.sim->formations) {
    if (f.type == type) return f.rps.has_value();
  }
  return false;
}

// Heroku's autoscaling as its users know it: web dynos only, a p95 response-time target, one
// dyno at a time. Laggards stay as declared, so the comparison is of the autoscaling alone.
void PlayHerokuAutoscaling(const spec::Policy& policy, spec::FormationSpec& formation) {
  if (!formation.autoscale) return;
  if (!SimulatedAsWeb(policy, formation.type)) {
    formation.autoscale.reset();
    return;
  }
  formation.autoscale->mode = spec::AutoscaleMode::kStep;
  formation.autoscale->restored_threshold = formation.autoscale->latency_threshold;
  formation.autoscale->restore_one_at_a_time = true;
  formation.latency->statistic = spec::Statistic::kP95;
}

}  // namespace

spec::Policy PolicyFor(const spec::Policy& policy, SimVariant variant) {
  spec::Policy copy = policy;
  switch (variant) {
    case SimVariant::kDeclared:
      break;
    case SimVariant::kUnmanaged:
      copy.paused = true;
      break;
    case SimVariant::kPopulation:
      for (auto& f : copy.formations) {
        if (f.laggards) f.laggards->method = spec::LaggardMethod::kPopulation;
      }
      break;
    case SimVariant::kStep:
    case SimVariant::kCapacity:
      for (auto& f : copy.formations) {
        if (f.autoscale) SetMode(*f.autoscale, variant);
      }
      break;
    case SimVariant::kHeroku:
      for (auto& f : copy.formations)
        PlayHerokuAutoscaling(copy, f);
      break;
  }
  return copy;
}

Result<SimulationRun> RunSimulation(const spec::Policy& policy, const SimulationOptions& options) {
  if (policy.provider != spec::ProviderKind::kSim || !policy.sim) {
    return Status::FailedPrecondition("policy " + policy.name + " uses provider " +
                                      std::string(spec::Name(policy.provider)) +
                                      "; simulate needs provider: sim and a spec.sim block");
  }
  if (policy.interval <= Duration{0}) {
    return Status::InvalidArgument("policy " + policy.name + ": interval must be > 0");
  }
  spec::Policy played = PolicyFor(policy, options.variant);
  if (options.seed) played.sim->seed = *options.seed;

  ManualClock clock(kSimulationStart);
  std::unique_ptr<Logger> logger = options.make_logger ? options.make_logger(clock, options.variant)
                                                       : std::make_unique<NullLogger>();
  app::RuntimeOptions runtime_options;
  runtime_options.mode = app::RunMode::kDaemon;  // passes repeat, as in `run`
  SystemSleeper sleeper;                         // nothing waits: the world answers at once
  app::RuntimeFactory factory(std::move(runtime_options), clock, sleeper, *logger, nullptr);
  auto worlds = std::make_shared<SimWorlds>(clock);
  RegisterSimulator(factory, worlds);
  Result<std::shared_ptr<app::PolicyRuntime>> runtime = factory.Build(played);
  if (!runtime.ok()) return runtime.status();
  SimWorld* world = worlds->Find(played.name);
  if (!world) return Status::Internal("no simulated world for policy " + played.name);

  app::PassRunner runner(clock, *logger, nullptr);
  std::mt19937_64 rng(played.sim->seed);
  std::optional<model::PolicyStatus> status;
  SimRunRecorder recorder;
  const TimePoint end = world->end_time();
  for (TimePoint t = world->start_time(); t < end; t += played.interval) {
    clock.Set(t);
    app::PassResult pass = runner.Run(played, **runtime, status ? &*status : nullptr, rng, {});
    if (pass.plan) status = pass.plan->status;  // failed actions already taken out of it
    recorder.Add(pass);
  }
  clock.Set(end);

  Result<SimRunSummary> summary = BuildSimSummary(*world, played, recorder, options.summary);
  if (!summary.ok()) return summary.status();
  return SimulationRun{options.variant, std::move(summary).value()};
}

Result<SimComparison> CompareSimulation(const spec::Policy& policy,
                                        const SimulationOptions& options) {
  SimComparison comparison;
  for (SimVariant variant : {SimVariant::kDeclared, SimVariant::kUnmanaged, SimVariant::kPopulation,
                             SimVariant::kStep, SimVariant::kCapacity, SimVariant::kHeroku}) {
    SimulationOptions variant_options = options;
    variant_options.variant = variant;
    Result<SimulationRun> run = RunSimulation(policy, variant_options);
    if (!run.ok()) return run.status().WithContext(std::string(Name(variant)));
    comparison.runs.push_back(std::move(run).value());
  }
  comparison.population_same_as_declared =
      PolicyFor(policy, SimVariant::kPopulation) == PolicyFor(policy, SimVariant::kDeclared);
  return comparison;
}

namespace {

std::string Latency(const TruthSummary& t, double seconds) {
  return t.latency.count > 0 ? FormatLatency(seconds) : "-";
}

// "5: 1 restart, 4 scale"
std::string ActionCounts(const SimRunSummary& s) {
  int scale = 0, restart = 0, stop = 0, failed = 0;
  for (const auto& a : s.actions) {
    if (!a.action.error.empty()) {
      ++failed;
    } else if (a.action.kind == reconciler::ActionKind::kScale) {
      ++scale;
    } else if (a.action.kind == reconciler::ActionKind::kStop) {
      ++stop;
    } else {
      ++restart;
    }
  }
  std::vector<std::string> parts;
  if (restart > 0) parts.push_back(fmt::format("{} restart", restart));
  if (stop > 0) parts.push_back(fmt::format("{} stop", stop));
  if (scale > 0) parts.push_back(fmt::format("{} scale", scale));
  if (failed > 0) parts.push_back(fmt::format("{} failed", failed));
  if (parts.empty()) {
    return s.planned_not_applied > 0
               ? fmt::format("0 ({} planned, not sent)", s.planned_not_applied)
               : std::string("0");
  }
  return fmt::format("{} ({})", s.actions.size(), fmt::join(parts, ", "));
}

// The first surge on `formation` in the run, if any.
const SimIncident* FirstSurge(const SimRunSummary& run, const std::string& formation) {
  for (const SimIncident& incident : run.incidents) {
    if (incident.formation == formation && incident.name.starts_with("surge")) return &incident;
  }
  return nullptr;
}

// How long after the surge started its formation's latency, as the policy measures it (its
// statistic), stayed above the threshold minute by minute: the start of the surge to the end of
// its last slow minute. "never" when the surge's last minute
// is still slow; "-" without a surge.
std::string SurgeAbsorbedIn(const SimRunSummary& run, const SimFormationSummary& s) {
  const SimIncident* surge = FirstSurge(run, s.type);
  if (!surge || !s.threshold) return "-";
  const double threshold = ToSeconds(*s.threshold);
  std::optional<TimePoint> last_slow_end;
  bool last_minute_slow = false;
  for (const SimMinute& minute : s.minutes) {
    if (minute.from < surge->from || minute.from >= surge->to) continue;
    last_minute_slow = minute.latency.count > 0 && minute.latency.Get(s.statistic) > threshold;
    if (last_minute_slow) last_slow_end = minute.from + std::chrono::minutes(1);
  }
  if (last_minute_slow) return "never";
  if (!last_slow_end) return "0s";
  return FormatDuration(std::chrono::duration_cast<Duration>(*last_slow_end - surge->from));
}

// Restores of the formation's baseline while a surge on it was in progress: back into the
// overload. A capacity scale-down that keeps what the load needs is not one.
int RestoresMidSurge(const SimRunSummary& run, const std::string& formation) {
  int restores = 0;
  for (const SimActionSummary& a : run.actions) {
    if (a.action.formation != formation || a.action.kind != reconciler::ActionKind::kScale ||
        a.action.cause != reconciler::Name(reconciler::ActionCause::kRestored) ||
        !a.action.error.empty()) {
      continue;
    }
    for (const SimIncident& incident : run.incidents) {
      if (incident.formation == formation && incident.name.starts_with("surge") &&
          a.action.at >= incident.from && a.action.at < incident.to) {
        ++restores;
        break;
      }
    }
  }
  return restores;
}

}  // namespace

std::vector<VariantRow> DescribeVariants(const SimComparison& c) {
  std::vector<VariantRow> rows;
  for (const auto& run : c.runs) {
    std::string what(Describe(run.variant));
    if (run.variant == SimVariant::kPopulation && c.population_same_as_declared) {
      what += " (the same as dynoherd here)";
    }
    rows.push_back({std::string(Name(run.variant)), ActionCounts(run.summary), std::move(what)});
  }
  return rows;
}

std::vector<FormationComparison> CompareFormations(const SimComparison& c) {
  std::vector<FormationComparison> tables;
  if (c.runs.empty()) return tables;
  const SimRunSummary& first = c.runs.front().summary;
  for (size_t f = 0; f < first.formations.size(); ++f) {
    const SimFormationSummary& head = first.formations[f];
    FormationComparison table;
    table.heading = head.type;
    if (head.threshold) {
      table.heading += " (latencyThreshold " + FormatLatency(ToSeconds(*head.threshold)) + ")";
    }
    if (!head.web) table.heading += ": jobs, by their time waiting in the queue";
    auto row = [&](const std::string& label, auto cell) {
      ComparisonRow r{label, {}};
      for (const auto& run : c.runs)
        r.cells.push_back(cell(run.summary.formations[f]));
      table.rows.push_back(std::move(r));
    };
    row(head.web ? "requests" : "jobs",
        [](const SimFormationSummary& s) { return std::to_string(s.truth.latency.count); });
    row("p50", [](const SimFormationSummary& s) { return Latency(s.truth, s.truth.latency.p50); });
    row("p95", [](const SimFormationSummary& s) { return Latency(s.truth, s.truth.latency.p95); });
    row("p99", [](const SimFormationSummary& s) { return Latency(s.truth, s.truth.latency.p99); });
    if (head.threshold) {
      row("slower than " + FormatLatency(ToSeconds(*head.threshold)),
          [](const SimFormationSummary& s) {
            // A variant that does not autoscale the formation has no threshold to count against.
            return s.threshold ? std::to_string(s.truth.slower_than_threshold) : "-";
          });
      row("  share", [](const SimFormationSummary& s) {
        if (s.truth.latency.count == 0 || !s.threshold) return std::string("-");
        return fmt::format("{:.1f}%", 100.0 * static_cast<double>(s.truth.slower_than_threshold) /
                                          static_cast<double>(s.truth.latency.count));
      });
    }
    if (FirstSurge(first, head.type)) {
      ComparisonRow absorbed{"surge absorbed in", {}};
      ComparisonRow restores{"restores mid-surge", {}};
      for (const auto& run : c.runs) {
        absorbed.cells.push_back(SurgeAbsorbedIn(run.summary, run.summary.formations[f]));
        restores.cells.push_back(std::to_string(RestoresMidSurge(run.summary, head.type)));
      }
      table.rows.push_back(std::move(absorbed));
      table.rows.push_back(std::move(restores));
    }
    if (head.web) {
      row("H12 (30s timeouts)",
          [](const SimFormationSummary& s) { return std::to_string(s.truth.latency.errors); });
      row("unserved (H14)",
          [](const SimFormationSummary& s) { return std::to_string(s.truth.unserved); });
    } else {
      row("peak queue latency",
          [](const SimFormationSummary& s) { return FormatLatency(s.truth.peak_queue_latency); });
      row("still queued at the end",
          [](const SimFormationSummary& s) { return std::to_string(s.queued_at_end); });
    }
    row("dynos (start -> end)", [](const SimFormationSummary& s) {
      if (s.peak_quantity > std::max(s.start_quantity, s.end_quantity)) {
        return fmt::format("{} -> {} -> {}", s.start_quantity, s.peak_quantity, s.end_quantity);
      }
      return fmt::format("{} -> {}", s.start_quantity, s.end_quantity);
    });
    row("dyno-minutes",
        [](const SimFormationSummary& s) { return fmt::format("{:.1f}", s.truth.dyno_minutes()); });
    tables.push_back(std::move(table));
  }
  return tables;
}

std::string DescribeComparison(const SimComparison& c) {
  if (c.runs.empty()) return "";
  const SimRunSummary& first = c.runs.front().summary;
  std::string text =
      fmt::format("{} (app {}): {} simulated, seed {}, a pass every {}", first.policy, first.app,
                  FormatDuration(first.simulated), first.seed, FormatDuration(first.interval));
  if (c.runs.size() > 1) text += fmt::format("; the same traffic {} times", c.runs.size());
  return text;
}

std::string RenderSimComparison(const SimComparison& c) {
  using Align = app::TextTable::Align;
  if (c.runs.empty()) return "";
  std::string out = DescribeComparison(c) + "\n";
  app::TextTable legend({{"VARIANT"}, {"ACTIONS SENT"}, {"WHAT DYNOHERD MAY DO"}});
  for (VariantRow& row : DescribeVariants(c))
    legend.AddRow({std::move(row.name), std::move(row.actions), std::move(row.description)});
  out += legend.Render();

  std::vector<app::TextTable::Column> columns = {{""}};
  for (const auto& run : c.runs)
    columns.push_back({std::string(Name(run.variant)), Align::kRight});
  for (FormationComparison& formation : CompareFormations(c)) {
    out += "\n" + formation.heading + "\n";
    app::TextTable table(columns);
    for (ComparisonRow& row : formation.rows) {
      std::vector<std::string> cells = {std::move(row.label)};
      cells.insert(cells.end(), row.cells.begin(), row.cells.end());
      table.AddRow(std::move(cells));
    }
    out += table.Render();
  }
  return out;
}

nlohmann::json ToJson(const SimComparison& c) {
  nlohmann::json j;
  if (!c.runs.empty()) {
    const SimRunSummary& first = c.runs.front().summary;
    j["name"] = first.policy;
    j["app"] = first.app;
    j["seed"] = first.seed;
    j["simulatedSeconds"] = ToSeconds(first.simulated);
  }
  j["populationSameAsDynoherd"] = c.population_same_as_declared;
  j["variants"] = nlohmann::json::array();
  for (const auto& run : c.runs) {
    j["variants"].push_back({{"name", std::string(Name(run.variant))},
                             {"description", std::string(Describe(run.variant))},
                             {"summary", ToJson(run.summary)}});
  }
  return j;
}

}  // namespace dynoherd::sim
