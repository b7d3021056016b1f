// What providers tell about their work, for metrics. providers/ does not link metrics/: the
// application layer connects these callbacks to its metrics (app/runtime.cc), and tests record
// them. An empty callback drops what it would be told.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "latency/router_line.h"

namespace dynoherd::providers {

// Router lines read from a log session, a tail or a drain, by what the parser made of them; told
// in batches, from the reading thread.
using RouterLineCounter = std::function<void(latency::LineKind kind, int64_t lines)>;

struct ProviderObserver {
  // Every attempt at a Platform API call: its method, the HTTP status (0 when no answer came) and
  // RateLimit-Remaining when Heroku sent it (HerokuClientOptions::on_response).
  std::function<void(const std::string& method, int http_status,
                     std::optional<int> rate_limit_remaining)>
      heroku_response;
  RouterLineCounter router_lines;
};

}  // namespace dynoherd::providers
