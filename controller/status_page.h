// The JSON of /status: per policy, the last pass (controller/report.h: PassResultJson) and the saved
// status. For people with jq and for programs; keys are camelCase, timestamps RFC 3339.
#pragma once

#include <string>
#include <vector>

#include "common/time.h"
#include "controller/daemon.h"

namespace dynoherd::controller {

std::string StatusJson(const std::vector<PolicySnapshot>& policies, TimePoint now);

}  // namespace dynoherd::controller
