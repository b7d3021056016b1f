// `latency.source: router-logs` for one policy whose formations may mix `via: session` and
// `via: drain`: each formation is read from the source of its `via`.
#pragma once

#include <memory>

#include "providers/latency_source.h"

namespace dynoherd::providers::sources {

class RouterLogsSource final : public LatencySource {
 public:
  // Either may be null when no formation uses that `via`.
  RouterLogsSource(std::shared_ptr<LatencySource> session, std::shared_ptr<LatencySource> drain)
      : session_(std::move(session)), drain_(std::move(drain)) {}

  std::map<std::string, model::FormationLatency> Read(
      const std::vector<const spec::FormationSpec*>& formations, const model::AppState& app,
      TimePoint now) override;

 private:
  std::shared_ptr<LatencySource> session_;
  std::shared_ptr<LatencySource> drain_;
};

}  // namespace dynoherd::providers::sources
