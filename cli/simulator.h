// The one place outside sim/ that knows the simulator (cli/simulator.cc): it registers its makers
// on the runtime factory, chooses the run environment of `run`, and wires `simulate`
// (AddSimulateCommand in cli/commands.h). Every other command reaches the simulator only through
// these seams.
#pragma once

#include <memory>
#include <vector>

#include "app/run_environment.h"
#include "app/runtime.h"
#include "common/logging.h"
#include "common/status.h"
#include "common/time.h"
#include "spec/policy.h"

namespace dynoherd::cli {

// The environment of `run` for `policies`: the simulator's when they are sim policies, the wall
// clock's otherwise. `wall` and `logger` outlive it. Errors: a set that mixes the two, sim
// policies of different speeds.
Result<std::unique_ptr<app::RunEnvironment>> RunEnvironmentFor(
    const std::vector<spec::Policy>& policies, const Clock& wall, Logger& logger);

// Registers `provider: sim` and `latency.source: sim` on a factory of `plan` or `reconcile`; the
// worlds run on `clock`, which outlives the factory.
void RegisterSimulator(app::RuntimeFactory& factory, const Clock& clock);

}  // namespace dynoherd::cli
