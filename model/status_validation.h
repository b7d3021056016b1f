// A status read back from a store (the state file; a Redis store later) is checked before it can
// drive a write, as the loader checks a policy: the ranges of the spec, what the codec's types
// cannot say, and consistency with the policy that will act on it. A formation whose saved status
// fails is reported and planned as if it had none (docs/decisions.md, "When the status is lost"),
// so a corrupt or forged value (a capturedBaseline of -3) is never acted on.
#pragma once

#include <string>
#include <vector>

#include "common/time.h"
#include "model/status.h"
#include "spec/policy.h"

namespace dynoherd::model {

using namespace std::chrono_literals;

// A timestamp later than now by more than this is not trusted: it would hold back steps, restarts
// or restores for as long as the clocks disagree.
inline constexpr Duration kClockSkewAllowance = 5min;

// The problems of one formation's saved status for `formation` of the policy, each naming its
// field ("event.capturedBaseline: -3 is not in 0..1000"); empty when it may be used.
std::vector<std::string> ValidateFormationStatus(const FormationStatus& status,
                                                 const spec::FormationSpec& formation,
                                                 TimePoint now);

}  // namespace dynoherd::model
