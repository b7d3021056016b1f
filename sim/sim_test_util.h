// Builders shared by the simulator's tests: specs written in code (the YAML loader is not needed)
// and a world on a ManualClock that starts at a fixed instant.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/time.h"
#include "sim/sim_world.h"
#include "spec/policy.h"

namespace dynoherd::sim::testing {

using namespace std::chrono_literals;

inline TimePoint SimStart() {
  return *ParseTimestamp("2026-01-01T00:00:00Z");
}

inline spec::SimFormationSpec Web(std::string type, int quantity, Duration service_time,
                                  double rps) {
  spec::SimFormationSpec f;
  f.type = std::move(type);
  f.quantity = quantity;
  f.service_time = service_time;
  f.rps = rps;
  return f;
}

inline spec::SimFormationSpec Worker(std::string type, int quantity, Duration job_time,
                                     double jobs_per_second) {
  spec::SimFormationSpec f;
  f.type = std::move(type);
  f.quantity = quantity;
  f.job_time = job_time;
  f.jobs_per_second = jobs_per_second;
  return f;
}

inline spec::SimIncidentSpec NoisyNeighbor(Duration at, std::string dyno, double factor) {
  spec::SimIncidentSpec i;
  i.at = at;
  i.kind = spec::IncidentKind::kNoisyNeighbor;
  i.dyno = std::move(dyno);
  i.factor = factor;
  return i;
}

inline spec::SimIncidentSpec Surge(Duration at, std::string formation, double factor,
                                   std::optional<Duration> duration) {
  spec::SimIncidentSpec i;
  i.at = at;
  i.kind = spec::IncidentKind::kSurge;
  i.formation = std::move(formation);
  i.factor = factor;
  i.duration = duration;
  return i;
}

inline spec::SimSpec SpecWith(std::vector<spec::SimFormationSpec> formations,
                              std::vector<spec::SimIncidentSpec> incidents = {},
                              uint64_t seed = 42) {
  spec::SimSpec s;
  s.seed = seed;
  s.formations = std::move(formations);
  s.incidents = std::move(incidents);
  return s;
}

// The scenario of issue 6 (and examples/demo.yaml).
inline spec::SimSpec DemoSpec() {
  return SpecWith({Web("web", 6, 120ms, 40), Worker("worker", 2, 2s, 0.8)},
                  {NoisyNeighbor(3min, "web.3", 4), Surge(12min, "web", 2.5, 8min)});
}

inline constexpr const char* kApp = "demo-app";

// A world on a ManualClock, with the calls tests make most.
struct TestWorld {
  explicit TestWorld(const spec::SimSpec& spec, SimOptions options = {}) : clock(SimStart()) {
    auto created = SimWorld::Create(kApp, spec, clock, options);
    REQUIRE(created.ok());
    world = std::move(created).value();
  }

  providers::Provider& provider() { return *world; }
  void RunUntil(Duration since_start) { clock.Set(SimStart() + since_start); }

  model::FormationLatency Latency(const std::string& formation, Duration window = 5min,
                                  spec::Statistic statistic = spec::Statistic::kP95) {
    auto latency = world->Latency(formation, window, statistic);
    REQUIRE(latency.ok());
    return *latency;
  }

  TruthSummary Truth(const std::string& formation, Duration from, Duration to,
                     std::optional<Duration> threshold = std::nullopt) {
    auto truth = world->Truth(formation, SimStart() + from, SimStart() + to, threshold);
    REQUIRE(truth.ok());
    return *truth;
  }

  model::DynoState Dyno(const std::string& name) {
    auto state = world->Observe(kApp);
    REQUIRE(state.ok());
    for (const auto& d : state->dynos) {
      if (d.name == name) return d;
    }
    return {};  // name empty: no such dyno
  }

  model::FormationState Formation(const std::string& type) {
    auto state = world->Observe(kApp);
    REQUIRE(state.ok());
    for (const auto& f : state->formations) {
      if (f.type == type) return f;
    }
    return {};
  }

  ManualClock clock;
  std::unique_ptr<SimWorld> world;
};

}  // namespace dynoherd::sim::testing
