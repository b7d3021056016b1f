// `latency.source: sim`: the simulator's own per-request latencies, read like router logs. With
// `latency.source: sidekiq` in a sim policy, the simulated worker's queue, read as Sidekiq's.
#pragma once

#include "providers/latency_source.h"
#include "sim/sim_world.h"

namespace dynoherd::sim {

class SimLatencySource final : public providers::LatencySource {
 public:
  explicit SimLatencySource(SimWorld& world) : world_(world) {}  // `world` outlives the source

  std::map<std::string, model::FormationLatency> Read(
      const std::vector<const spec::FormationSpec*>& formations, const model::AppState& app,
      TimePoint now) override;

 private:
  SimWorld& world_;
};

}  // namespace dynoherd::sim
