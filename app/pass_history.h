// The recent passes of a policy, cut down to what the daemon's `/` page draws: per formation its
// quantity and latency statistic, and the actions sent with their reasons. The daemon keeps the
// last kMaxPassHistory of them per policy, in memory only (a restart starts a new history).
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "app/pass.h"
#include "common/time.h"

namespace dynoherd::app {

// About three hours of passes at the default interval of 30s.
inline constexpr size_t kMaxPassHistory = 360;

struct FormationSample {
  std::string type = {};
  std::optional<int> quantity = {};  // nullopt: not observed
  std::optional<double> latency = {};  // the formation statistic (seconds); nullopt: unknown
};

struct ActionSample {
  std::string formation;
  std::string kind;     // "scale", "restart", "stop"
  std::string summary;  // "restart web.3"
  std::string reason;
  std::string error;  // non-empty: the platform refused it
};

struct PassSample {
  TimePoint at{};  // when the pass started
  bool ok = false;
  std::vector<FormationSample> formations = {};  // in spec order
  std::vector<ActionSample> actions = {};        // sent to the platform; empty when nothing was
};

// The sample of a pass of `policy`: formations in spec order.
PassSample SamplePass(const spec::Policy& policy, const PassResult& pass);

// Appends `sample`, dropping the oldest beyond kMaxPassHistory.
void AddSample(std::deque<PassSample>& history, PassSample sample);

}  // namespace dynoherd::app
