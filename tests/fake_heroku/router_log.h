// Generated Heroku router log lines for the fake's log sessions: deterministic for a seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/time.h"
#include "tests/fake_heroku/scenario.h"

namespace dynoherd::fake_heroku {

struct RouterLogSource {
  std::string dyno;        // "web.3"
  LatencyProfile profile;  // laggard_factor and h12 already cleared for a restarted dyno
  TimePoint up_since{};    // lines start no earlier than this (a dyno that just came up has few)
};

// The lines of every source in [now - window, now), oldest first, e.g.
// 2026-11-22T13:00:00.123456+00:00 heroku[router]: at=info method=GET path="/items" host=...
// dyno=web.3 connect=0ms service=123ms status=200 bytes=975 protocol=https
std::vector<std::string> GenerateRouterLines(const std::string& app,
                                             const std::vector<RouterLogSource>& sources,
                                             TimePoint now, Duration window, uint64_t seed);

// "2026-11-22T13:00:00.123456+00:00", as logplex writes it.
std::string FormatLogTimestamp(TimePoint t);

}  // namespace dynoherd::fake_heroku
