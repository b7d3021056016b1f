// What `dynoherd run` does differently on the embedded simulator, as its run environment
// (app/run_environment.h): one simulated clock for the whole run (so every sim policy shares its
// speed), the world's events told as log lines while they happen, a `simTime` on every log line,
// the end of the run when the simulation ends, and a summary per policy.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "app/daemon.h"
#include "app/run_environment.h"
#include "common/logging.h"
#include "common/sleeper.h"
#include "common/status.h"
#include "common/time.h"
#include "sim/scaled_clock.h"
#include "sim/sim_runtime.h"
#include "sim/sim_summary.h"
#include "sim/sim_world.h"
#include "spec/policy.h"

namespace dynoherd::sim {

// Whether a policy set runs on the simulator, and at what speed.
struct RunKind {
  bool simulated = false;
  double speed = 1;  // simulated seconds per wall second; 1 for Heroku
  bool operator==(const RunKind&) const = default;
};

// A run is all Heroku or all sim, and its sim policies share one speed: the process has one clock.
// Errors name the policies in conflict.
Result<RunKind> CheckRunPolicies(const std::vector<spec::Policy>& policies);

// Adds `simTime` (simulated time since `start`, whole seconds) to every line, unless the line
// already has one.
class SimTimeLogger final : public Logger {
 public:
  SimTimeLogger(Logger& inner, const Clock& clock, TimePoint start)
      : inner_(inner), clock_(clock), start_(start) {}
  void Write(LogLevel level, std::string_view msg, const LogFields& fields) override;
  bool Enabled(LogLevel level) const override { return inner_.Enabled(level); }

 private:
  Logger& inner_;
  const Clock& clock_;
  TimePoint start_;
};

// "3m", "12m30s": simulated time since `start`, rounded down to whole seconds.
std::string SimTime(TimePoint at, TimePoint start);

// Tells the simulated worlds' own events (incidents, dynos coming up) as INFO lines, as they
// happen; dynoherd's actions are logged by the pass itself. Ends the run once every world has
// reached its duration. Used from the daemon's tick hook (one thread).
class SimNarrator {
 public:
  // `start` is the simulated time the run started (for simTime); `speed` sets how often the
  // worlds are looked at: about 5 times per wall second, and exactly at every incident.
  SimNarrator(Logger& logger, TimePoint start, double speed)
      : logger_(logger), start_(start), speed_(speed) {}

  // `worlds`: the current sim policies and their worlds.
  app::TickResult Tick(TimePoint now, const std::vector<std::pair<std::string, SimWorld*>>& worlds);

  // The line for one event; empty for events the pass already logs (scale, restart, stop).
  static std::string Describe(const SimEvent& event, const spec::SimSpec& spec,
                              TimePoint world_start);

 private:
  struct Seen {
    const SimWorld* world = nullptr;
    TimePoint world_start{};
    size_t events = 0;
  };

  Logger& logger_;
  TimePoint start_;
  double speed_;
  std::map<std::string, Seen> seen_;  // by policy
};

// The environment of `run` over sim policies sharing `speed`: simulated time from now on at that
// speed, in whole seconds (ScaledClock), the narrator, the seeds of spec.sim, and the summaries.
class SimulatedRun final : public app::RunEnvironment {
 public:
  // `wall` and `logger` outlive the run. Errors: a speed ScaledClock refuses.
  static Result<std::unique_ptr<SimulatedRun>> Create(const Clock& wall, Logger& logger,
                                                      double speed);

 private:
  SimulatedRun(ScaledClock clock, Logger& logger, double speed);
  std::string Summaries(const std::vector<app::PolicySnapshot>& policies);

  const ScaledClock clock_;
  SimTimeLogger logger_;
  SystemSleeper sleeper_;
  const std::shared_ptr<SimWorlds> worlds_;
  SimNarrator narrator_;
  std::mutex mu_;  // passes of several sim policies end on several threads
  std::map<std::string, SimRunRecorder> recorders_;
};

// The environment of `run` for `policies`: a SimulatedRun when they run on the simulator, else the
// wall clock's (app::WallRunEnvironment), which refuses a reload to sim policies. `wall` and
// `logger` outlive it. Errors: a set that mixes both, or sim policies of different speeds.
Result<std::unique_ptr<app::RunEnvironment>> RunEnvironmentFor(
    const std::vector<spec::Policy>& policies, const Clock& wall, Logger& logger);

}  // namespace dynoherd::sim
