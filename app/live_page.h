// The daemon's `/` page: per policy, the formations' latency statistic and size over the recent
// passes (PolicySnapshot::history) with the actions marked, the conditions, and the last actions.
// It reloads itself (<meta http-equiv="refresh">, no script); the charts are chart/'s.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "app/daemon.h"
#include "common/time.h"

namespace dynoherd::app {

inline constexpr std::chrono::seconds kLivePageRefresh{15};

// `now` is the daemon's clock (the simulated one on provider sim), which the passes are timed by.
std::string RenderLivePage(const std::vector<PolicySnapshot>& policies, TimePoint now);

}  // namespace dynoherd::app
