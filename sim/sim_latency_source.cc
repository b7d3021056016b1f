#include "sim/sim_latency_source.h"

#include <algorithm>

namespace dynoherd::sim {

namespace {

// A simulated worker has one queue: it is shown under the first name of `queues` ("default" for
// "*"), and the formation's other queues are shown empty.
void AddQueues(const spec::FormationSpec& formation, int64_t jobs_waiting,
               model::FormationLatency& latency) {
  const std::vector<std::string>& names = formation.latency->queues;
  for (size_t i = 0; i < std::max<size_t>(names.size(), 1); ++i) {
    const std::string name = names.empty() || names[i] == "*" ? "default" : names[i];
    model::QueueLatency queue{name, 0, 0.0, ""};
    if (i == 0) {
      queue.size = jobs_waiting;
      queue.latency_seconds = latency.value;
    }
    latency.queues.push_back(std::move(queue));
  }
}

}  // namespace

std::map<std::string, model::FormationLatency> SimLatencySource::Read(
    const std::vector<const spec::FormationSpec*>& formations, const model::AppState&, TimePoint) {
  // The world advances itself to its clock's now, which is the pass's now.
  std::map<std::string, model::FormationLatency> out;
  for (const spec::FormationSpec* formation : formations) {
    if (!formation->latency) continue;
    Result<model::FormationLatency> latency =
        world_.Latency(formation->type, formation->latency->window, formation->latency->statistic);
    if (latency.ok()) {
      if (formation->latency->source == spec::LatencySourceKind::kSidekiq) {
        Result<int64_t> waiting = world_.JobsWaiting(formation->type);
        AddQueues(*formation, waiting.ok() ? *waiting : 0, *latency);
      }
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
