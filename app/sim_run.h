// What `dynoherd run` does differently on the embedded simulator: one simulated clock for the
// whole run (so every sim policy shares its speed), the world's events told as log lines while
// they happen, a `sim_time` on every log line, and the end of the run when the simulation ends.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "app/daemon.h"
#include "common/logging.h"
#include "common/status.h"
#include "common/time.h"
#include "sim/sim_world.h"
#include "spec/policy.h"

namespace dynoherd::app {

// Whether a policy set runs on the simulator, and at what speed.
struct RunKind {
  bool simulated = false;
  double speed = 1;  // simulated seconds per wall second; 1 for Heroku
  bool operator==(const RunKind&) const = default;
};

// A run is all Heroku or all sim, and its sim policies share one speed: the process has one clock.
// Errors name the policies in conflict.
Result<RunKind> CheckRunPolicies(const std::vector<spec::Policy>& policies);

// Adds `sim_time` (simulated time since `start`, whole seconds) to every line, unless the line
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
  // `start` is the simulated time the run started (for sim_time); `speed` sets how often the
  // worlds are looked at: about 5 times per wall second, and exactly at every incident.
  SimNarrator(Logger& logger, TimePoint start, double speed)
      : logger_(logger), start_(start), speed_(speed) {}

  // `worlds`: the current sim policies and their worlds.
  TickResult Tick(TimePoint now, const std::vector<std::pair<std::string, sim::SimWorld*>>& worlds);

  // The line for one event; empty for events the pass already logs (scale, restart, stop).
  static std::string Describe(const sim::SimEvent& event, const spec::SimSpec& spec,
                              TimePoint world_start);

 private:
  struct Seen {
    const sim::SimWorld* world = nullptr;
    TimePoint world_start{};
    size_t events = 0;
  };

  Logger& logger_;
  TimePoint start_;
  double speed_;
  std::map<std::string, Seen> seen_;  // by policy
};

}  // namespace dynoherd::app
