#include "providers/sources/router_log_common.h"

#include <algorithm>

namespace dynoherd::providers::sources {

std::vector<std::string> DynosOf(const model::AppState& app, std::string_view type) {
  std::vector<std::string> names;
  for (const auto& dyno : app.dynos) {
    if (dyno.type == type) names.push_back(dyno.name);
  }
  return names;
}

Duration WidestWindow(const std::vector<const spec::FormationSpec*>& formations) {
  Duration widest = Duration::zero();
  for (const auto* f : formations) {
    if (f->latency) widest = std::max(widest, f->latency->window);
  }
  return widest > Duration::zero() ? widest : spec::LatencySpec{}.window;
}

Duration SecondsBetween(TimePoint from, TimePoint to) {
  if (to <= from) return Duration::zero();
  return std::chrono::duration_cast<std::chrono::seconds>(to - from);
}

std::map<std::string, model::FormationLatency> AllUnknown(
    const std::vector<const spec::FormationSpec*>& formations, const std::string& reason) {
  std::map<std::string, model::FormationLatency> out;
  for (const auto* f : formations) {
    out[f->type].unknown_reason = reason;
  }
  return out;
}

std::map<std::string, model::FormationLatency> AllFailed(
    const std::vector<const spec::FormationSpec*>& formations, const std::string& error) {
  std::map<std::string, model::FormationLatency> out = AllUnknown(formations, error);
  for (auto& [type, latency] : out)
    latency.error = error;
  return out;
}

std::map<std::string, model::FormationLatency> ReadFormations(
    const std::vector<const spec::FormationSpec*>& formations, const model::AppState& app,
    const FormationReader& read, std::string_view context) {
  std::map<std::string, model::FormationLatency> out;
  for (const auto* f : formations) {
    if (!f->latency) continue;
    model::FormationLatency latency = read(*f, DynosOf(app, f->type));
    if (!latency.value && !context.empty()) {
      latency.unknown_reason += "; ";
      latency.unknown_reason += context;
    }
    out[f->type] = std::move(latency);
  }
  return out;
}

std::map<std::string, model::FormationLatency> ReadFormations(
    latency::SharedLatencyWindow& window, const std::vector<const spec::FormationSpec*>& formations,
    const model::AppState& app, TimePoint now, std::string_view context) {
  return ReadFormations(
      formations, app,
      [&](const spec::FormationSpec& f, const std::vector<std::string>& dynos) {
        return window.Formation(f.type, f.latency->statistic, now, dynos, f.latency->window);
      },
      context);
}

void RouterLineTally::Flush() {
  if (pending_total_ == 0) return;
  if (counter_) {
    for (latency::LineKind kind :
         {latency::LineKind::kRouter, latency::LineKind::kIgnored, latency::LineKind::kMalformed}) {
      if (const int64_t n = pending_[static_cast<size_t>(kind)]; n > 0) counter_(kind, n);
    }
  }
  pending_ = {};
  pending_total_ = 0;
}

}  // namespace dynoherd::providers::sources
