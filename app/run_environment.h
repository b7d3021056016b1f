// What `dynoherd run` runs on, chosen once at start-up from the policies: the wall clock and
// Heroku (WallRunEnvironment), or a world that brings its own clock, logger and hooks (the
// simulator's, sim/sim_run.h). RunDaemon wires it and the daemon runs it; neither asks which it is.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/daemon.h"
#include "app/runtime.h"
#include "common/logging.h"
#include "common/sleeper.h"
#include "common/status.h"
#include "common/time.h"
#include "spec/policy.h"

namespace dynoherd::app {

struct RunEnvironment {
  // An environment that owns its clock, sleeper or logger derives from this and points these at
  // its members.
  virtual ~RunEnvironment() = default;

  const Clock* clock = nullptr;  // what the passes, the loop and /status read
  Sleeper* sleeper = nullptr;    // the waits inside passes; interrupted when the run stops
  Logger* logger = nullptr;      // every line of the run
  bool first_pass_after_interval = false;  // DaemonOptions::first_pass_after_interval
  // The world starts with the run, with no history to resume: the policies' saved statuses are
  // dropped at start, and without --state the state file is a temporary one of the run's own.
  bool fresh_world = false;
  // When the listen address is taken: listen on a free port instead, with this warning logged.
  // nullopt: fail, as a real run must.
  std::optional<std::string> if_port_taken;
  LogFields start_fields;  // added to the "dynoherd is running" line

  // Registers on the factory the makers of what the policies run on. Empty: the built-in ones.
  std::function<void(RuntimeFactory&)> register_makers;
  // Whether a reloaded set may replace the running one; the error says why not. Empty: any set.
  std::function<Status(const std::vector<spec::Policy>&)> check_reload;
  // DaemonHooks::tick, on_pass and seed; each may be empty.
  std::function<TickResult(TimePoint now, const std::vector<std::string>& policies)> tick;
  std::function<void(const PassResult&)> on_pass;
  std::function<uint64_t(const spec::Policy&)> seed;
  // Once the loop has ended: what to print on stdout (e.g. a summary per policy); may log.
  std::function<std::string(const std::vector<PolicySnapshot>&)> closing_report;
};

// A run on the wall clock: `wall` and `logger` outlive it; waits on a SystemSleeper of its own.
// `check_reload` as above.
class WallRunEnvironment final : public RunEnvironment {
 public:
  WallRunEnvironment(const Clock& wall, Logger& logger,
                     std::function<Status(const std::vector<spec::Policy>&)> check_reload);

 private:
  SystemSleeper system_sleeper_;
};

}  // namespace dynoherd::app
