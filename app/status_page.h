// The JSON of /status: per policy, the last pass (app/report.h: PassResultJson) and the
// saved status. For people with jq and for programs; keys are camelCase, timestamps RFC 3339.
#pragma once

#include <string>
#include <vector>

#include "app/daemon.h"
#include "common/time.h"

namespace dynoherd::app {

std::string StatusJson(const std::vector<PolicySnapshot>& policies, TimePoint now);

}  // namespace dynoherd::app
