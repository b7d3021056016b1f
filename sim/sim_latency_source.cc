#include "sim/sim_latency_source.h"

namespace dynoherd::sim {

std::map<std::string, model::FormationLatency> SimLatencySource::Read(
    const std::vector<const spec::FormationSpec*>& formations, const model::AppState&, TimePoint) {
  // The world advances itself to its clock's now, which is the pass's now.
  std::map<std::string, model::FormationLatency> out;
  for (const spec::FormationSpec* formation : formations) {
    if (!formation->latency) continue;
    Result<model::FormationLatency> latency =
        world_.Latency(formation->type, formation->latency->window, formation->latency->statistic);
    if (latency.ok()) {
      out[formation->type] = std::move(latency).value();
    } else {
      model::FormationLatency unknown;
      unknown.unknown_reason = unknown.error = latency.status().message();
      out[formation->type] = std::move(unknown);
    }
  }
  return out;
}

}  // namespace dynoherd::sim
