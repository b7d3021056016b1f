// The JSON of /status: `dynoherd status --output json` (app/status_report.h) as the daemon knows
// it, with what only the daemon knows (a pass in progress, failures in a row, the next pass).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/daemon.h"
#include "common/time.h"

namespace dynoherd::app {

// `state_path` nullopt: the daemon keeps no state file of the user's (a simulated run).
std::string StatusJson(const std::vector<PolicySnapshot>& policies,
                       const std::optional<std::string>& state_path, TimePoint now);

}  // namespace dynoherd::app
