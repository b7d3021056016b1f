#include "providers/sources/router_logs_source.h"

#include "providers/sources/router_log_common.h"

namespace dynoherd::providers::sources {

std::map<std::string, model::FormationLatency> RouterLogsSource::Read(
    const std::vector<const spec::FormationSpec*>& formations, const model::AppState& app,
    TimePoint now) {
  std::vector<const spec::FormationSpec*> by_session;
  std::vector<const spec::FormationSpec*> by_drain;
  for (const auto* f : formations) {
    if (!f->latency) continue;
    (f->latency->via == spec::RouterLogsVia::kDrain ? by_drain : by_session).push_back(f);
  }
  std::map<std::string, model::FormationLatency> out;
  auto read = [&](const std::shared_ptr<LatencySource>& source,
                  const std::vector<const spec::FormationSpec*>& some) {
    if (some.empty()) return;
    auto latencies = source ? source->Read(some, app, now)
                            : AllUnknown(some, "no router-logs source for this via");
    out.merge(latencies);
  };
  read(session_, by_session);
  read(drain_, by_drain);
  return out;
}

}  // namespace dynoherd::providers::sources
