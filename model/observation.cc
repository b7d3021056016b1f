#include "model/observation.h"

namespace dynoherd::model {

double LatencyStats::Get(spec::Statistic statistic) const {
  switch (statistic) {
    case spec::Statistic::kMean:
      return mean;
    case spec::Statistic::kP50:
      return p50;
    case spec::Statistic::kP95:
      return p95;
    case spec::Statistic::kP99:
      return p99;
    case spec::Statistic::kMax:
      return max;
  }
  return p50;
}

const FormationState* Observation::FindFormation(const std::string& type) const {
  for (const auto& f : formations) {
    if (f.type == type) return &f;
  }
  return nullptr;
}

std::string QueuesText(const std::vector<QueueLatency>& queues) {
  std::string out;
  for (const auto& q : queues) {
    if (!out.empty()) out += ", ";
    out += q.queue + " " + (q.latency_seconds ? FormatLatency(*q.latency_seconds) : "unknown") +
           " (" + std::to_string(q.size) + (q.size == 1 ? " job)" : " jobs)");
  }
  return out;
}

}  // namespace dynoherd::model
