// `router-logs` via `session` in the one-shot commands (plan, reconcile): each pass opens one
// Heroku log session of the newest router lines (1500, Heroku's maximum), reads it within bounds
// and computes each formation's latency over its window ending at the pass's `now`. One API call
// per pass; the logplex read itself is not charged.
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "common/logging.h"
#include "providers/heroku/heroku_client.h"
#include "providers/latency_source.h"
#include "providers/observer.h"

namespace dynoherd::providers::sources {

struct LogSessionOptions {
  heroku::LogSessionRequest request;  // router lines from heroku, 1500, not tailing
  heroku::LogReadLimits limits;       // bytes, time and the stop flag of one read
};

class LogSessionSource final : public LatencySource {
 public:
  // `client` and `logger` outlive the source; `count_lines` is told of every line read.
  LogSessionSource(heroku::HerokuClient& client, std::string app, LogSessionOptions options,
                   Logger& logger, RouterLineCounter count_lines)
      : client_(client),
        app_(std::move(app)),
        options_(std::move(options)),
        logger_(logger),
        count_lines_(std::move(count_lines)) {}

  // Lines stamped before `now` minus a formation's window do not count for it. When the session's
  // lines cover less than the widest window (a busy app fills 1500 lines in less), the latency is
  // still known, from what they cover, and a warning says how much that is.
  std::map<std::string, model::FormationLatency> Read(
      const std::vector<const spec::FormationSpec*>& formations, const model::AppState& app,
      TimePoint now) override;

 private:
  heroku::HerokuClient& client_;
  std::string app_;
  LogSessionOptions options_;
  Logger& logger_;
  RouterLineCounter count_lines_;
};

}  // namespace dynoherd::providers::sources
