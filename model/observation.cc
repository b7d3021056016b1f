#include "model/observation.h"

#include <algorithm>

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

std::optional<FormationLoad> LoadOf(const std::map<std::string, LatencyStats>& per_dyno,
                                    Duration window) {
  int64_t count = 0;
  double total_seconds = 0;
  for (const auto& entry : per_dyno) {
    count += entry.second.count;
    total_seconds += entry.second.mean * static_cast<double>(entry.second.count);
  }
  const double window_seconds = ToSeconds(window);
  if (count == 0 || window_seconds <= 0) return std::nullopt;
  return FormationLoad{static_cast<double>(count) / window_seconds,
                       total_seconds / static_cast<double>(count), std::nullopt};
}

namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// The run of digits at the start of `text`, without leading zeros (at least one digit is kept).
std::string_view DigitRun(std::string_view text, size_t& length) {
  length = 0;
  while (length < text.size() && IsDigit(text[length]))
    ++length;
  std::string_view run = text.substr(0, length);
  while (run.size() > 1 && run.front() == '0')
    run.remove_prefix(1);
  return run;
}

}  // namespace

bool DynoNameLess(std::string_view a, std::string_view b) {
  while (!a.empty() && !b.empty()) {
    if (IsDigit(a.front()) && IsDigit(b.front())) {
      size_t a_length = 0, b_length = 0;
      std::string_view a_run = DigitRun(a, a_length);
      std::string_view b_run = DigitRun(b, b_length);
      // Without leading zeros, the longer run is the larger number; equal lengths compare as text.
      if (a_run.size() != b_run.size()) return a_run.size() < b_run.size();
      if (a_run != b_run) return a_run < b_run;
      a.remove_prefix(a_length);
      b.remove_prefix(b_length);
      continue;
    }
    if (a.front() != b.front()) return a.front() < b.front();
    a.remove_prefix(1);
    b.remove_prefix(1);
  }
  return a.size() < b.size();
}

void SortDynos(std::vector<DynoState>& dynos) {
  std::stable_sort(dynos.begin(), dynos.end(), [](const DynoState& a, const DynoState& b) {
    return DynoNameLess(a.name, b.name);
  });
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
