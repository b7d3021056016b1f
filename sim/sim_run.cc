#include "sim/sim_run.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace dynoherd::sim {

namespace {

std::string Quoted(const std::string& name) {
  return "\"" + name + "\"";
}

}  // namespace

Result<RunKind> CheckRunPolicies(const std::vector<spec::Policy>& policies) {
  if (policies.empty()) return Status::InvalidArgument("no policies to run");
  const spec::Policy* first_sim = nullptr;
  const spec::Policy* first_heroku = nullptr;
  for (const auto& p : policies) {
    const spec::Policy*& first = p.provider == spec::ProviderKind::kSim ? first_sim : first_heroku;
    if (!first) first = &p;
  }
  if (first_sim && first_heroku) {
    return Status::InvalidArgument(
        "policy " + Quoted(first_sim->name) + " runs on the simulator (provider: sim) and " +
        Quoted(first_heroku->name) +
        " on Heroku: one run is either simulated or real; run them in two dynoherd processes");
  }
  if (!first_sim) return RunKind{};
  for (const auto& p : policies) {
    if (p.sim->speed != first_sim->sim->speed) {
      char a[32], b[32];
      std::snprintf(a, sizeof a, "%g", first_sim->sim->speed);
      std::snprintf(b, sizeof b, "%g", p.sim->speed);
      return Status::InvalidArgument(
          "sim policies " + Quoted(first_sim->name) + " (speed " + a + ") and " + Quoted(p.name) +
          " (speed " + b + ") must share one sim.speed: a run follows one simulated clock");
    }
  }
  return RunKind{true, first_sim->sim->speed};
}

std::string SimTime(TimePoint at, TimePoint start) {
  auto elapsed =
      std::chrono::floor<std::chrono::seconds>(std::max(at - start, TimePoint::duration{}));
  return FormatDuration(elapsed);
}

void SimTimeLogger::Write(LogLevel level, std::string_view msg, const LogFields& fields) {
  for (const auto& f : fields) {
    if (f.key == "simTime") return inner_.Write(level, msg, fields);
  }
  LogFields with = fields;
  with.insert(with.begin(), {"simTime", SimTime(clock_.Now(), start_)});
  inner_.Write(level, msg, with);
}

std::string SimNarrator::Describe(const SimEvent& event, const spec::SimSpec& spec,
                                  TimePoint world_start) {
  switch (event.kind) {
    case SimEventKind::kNoisyNeighbor:
      // The world says so when the dyno did not exist at that time.
      if (event.message.find("ignored") != std::string::npos) return event.message;
      return event.dyno + " gets a noisy neighbour (" + FactorText(event.factor) +
             " slower until it restarts)";
    case SimEventKind::kSurgeStart: {
      std::string line = "traffic to " + event.formation + " " + FactorText(event.factor);
      for (const auto& incident : spec.incidents) {
        if (incident.kind != spec::IncidentKind::kSurge || incident.formation != event.formation)
          continue;
        // Incidents start on the world's 1 s grid, rounded up.
        if (std::chrono::abs(event.at - (world_start + incident.at)) >= std::chrono::seconds(1))
          continue;
        line += incident.duration ? " for " + FormatDuration(*incident.duration) : " until the end";
        break;
      }
      return line;
    }
    case SimEventKind::kSurgeEnd:
      return "traffic to " + event.formation + " back to normal";
    case SimEventKind::kDynoUp:
      return event.dyno + " is up";
    case SimEventKind::kScale:
    case SimEventKind::kRestart:
    case SimEventKind::kStop:
      return "";
  }
  return event.message;
}

app::TickResult SimNarrator::Tick(TimePoint now,
                                  const std::vector<std::pair<std::string, SimWorld*>>& worlds) {
  app::TickResult result;
  // About five looks per wall second, and at least one per simulated second.
  auto step = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(0.2 * speed_));
  step = std::max<Duration>(step, std::chrono::seconds(1));
  TimePoint next = now + step;
  bool all_finished = !worlds.empty();
  for (const auto& [policy, world] : worlds) {
    Seen& seen = seen_[policy];
    if (seen.world != world || seen.world_start != world->start_time()) {
      seen = {world, world->start_time(), 0};  // a new world (first look, or rebuilt on reload)
    }
    std::vector<SimEvent> events = world->Events(seen.events);
    seen.events += events.size();
    for (const auto& event : events) {
      std::string line = Describe(event, world->spec(), world->start_time());
      if (line.empty()) continue;
      LogFields fields{{"simTime", SimTime(event.at, start_)},
                       {"policy", policy},
                       {"event", std::string(Name(event.kind))}};
      logger_.Info(line, fields);
    }
    if (!world->Finished()) all_finished = false;
    // Be there exactly when an incident starts or ends, and when the simulation ends.
    for (const auto& incident : world->spec().incidents) {
      for (TimePoint at :
           {world->start_time() + incident.at,
            incident.duration ? world->start_time() + incident.at + *incident.duration
                              : TimePoint::max()}) {
        if (at > now && at < next) next = at;
      }
    }
    if (world->end_time() > now) next = std::min(next, world->end_time());
  }
  if (all_finished) {
    result.stop = true;
    result.stop_reason = "simulation finished";
    return result;
  }
  result.next = next;
  return result;
}

namespace {

std::string SpeedText(double speed) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", speed);
  return buf;
}

}  // namespace

Result<std::unique_ptr<SimulatedRun>> SimulatedRun::Create(const Clock& wall, Logger& logger,
                                                           double speed) {
  Result<ScaledClock> clock = ScaledClock::Create(wall, wall.Now(), speed, /*whole_seconds=*/true);
  if (!clock.ok()) return clock.status();
  return std::unique_ptr<SimulatedRun>(new SimulatedRun(*clock, logger, speed));
}

SimulatedRun::SimulatedRun(ScaledClock clock, Logger& logger, double speed)
    : clock_(clock),
      logger_(logger, clock_, clock_.Now()),
      worlds_(std::make_shared<SimWorlds>(clock_)),
      narrator_(logger_, clock_.Now(), speed) {
  this->clock = &clock_;
  this->sleeper = &sleeper_;
  this->logger = &logger_;
  first_pass_after_interval = true;  // let the new world serve first
  fresh_world = true;
  // A demo must not fail because something else has the port.
  if_port_taken = "listen address in use; a simulated run takes a free port instead";
  start_fields = {{"speed", SpeedText(speed)}};
  register_makers = [worlds = worlds_](app::RuntimeFactory& factory) {
    RegisterSimulator(factory, worlds);
  };
  check_reload = [speed](const std::vector<spec::Policy>& policies) -> Status {
    Result<RunKind> kind = CheckRunPolicies(policies);
    if (!kind.ok()) return kind.status();
    if (!(*kind == RunKind{true, speed})) {
      return Status::InvalidArgument("a simulated run keeps its sim policies and their speed " +
                                     SpeedText(speed) + "; restart dynoherd to change them");
    }
    return Status::Ok();
  };
  tick = [this](TimePoint now, const std::vector<std::string>& names) {
    std::vector<std::pair<std::string, SimWorld*>> worlds;
    for (const auto& name : names) {
      if (SimWorld* world = worlds_->Find(name)) worlds.emplace_back(name, world);
    }
    return narrator_.Tick(now, worlds);
  };
  on_pass = [this](const app::PassResult& pass) {
    std::lock_guard lock(mu_);
    recorders_[pass.policy].Add(pass);
  };
  // A simulation replays the same for its seed.
  seed = [](const spec::Policy& policy) { return policy.sim ? policy.sim->seed : uint64_t{0}; };
  closing_report = [this](const std::vector<app::PolicySnapshot>& policies) {
    return Summaries(policies);
  };
}

std::string SimulatedRun::Summaries(const std::vector<app::PolicySnapshot>& policies) {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& snapshot : policies) {
    const spec::Policy& policy = *snapshot.policy;
    SimWorld* world = worlds_->Find(policy.name);
    if (!world) continue;
    Result<SimRunSummary> summary = BuildSimSummary(*world, policy, recorders_[policy.name]);
    if (!summary.ok()) {
      logger_.Error("no summary", {{"policy", policy.name}, {"error", summary.status().message()}});
      continue;
    }
    out += RenderSimSummary(*summary);
  }
  return out;
}

Result<std::unique_ptr<app::RunEnvironment>> RunEnvironmentFor(
    const std::vector<spec::Policy>& policies, const Clock& wall, Logger& logger) {
  Result<RunKind> kind = CheckRunPolicies(policies);
  if (!kind.ok()) return kind.status();
  if (kind->simulated) {
    Result<std::unique_ptr<SimulatedRun>> run = SimulatedRun::Create(wall, logger, kind->speed);
    if (!run.ok()) return run.status();
    return std::unique_ptr<app::RunEnvironment>(std::move(run).value());
  }
  return std::unique_ptr<app::RunEnvironment>(std::make_unique<app::WallRunEnvironment>(
      wall, logger, [](const std::vector<spec::Policy>& reloaded) -> Status {
        Result<RunKind> reloaded_kind = CheckRunPolicies(reloaded);
        if (!reloaded_kind.ok()) return reloaded_kind.status();
        if (reloaded_kind->simulated) {
          return Status::InvalidArgument(
              "a run on Heroku cannot switch to simulated policies; restart dynoherd");
        }
        return Status::Ok();
      }));
}

}  // namespace dynoherd::sim
