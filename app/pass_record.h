// The last-pass record of `dynoherd status` and /status (model::PassRecord), filled from each
// pass and saved beside the policy's status.
#pragma once

#include <optional>
#include <string>

#include "app/pass.h"
#include "common/status.h"
#include "model/report.h"
#include "providers/state_store.h"
#include "spec/policy.h"

namespace dynoherd::app {

// The record after `result` (a pass of `policy`): this pass, with the formations of the last pass
// that observed the app when this one could not, and the last actions applied (this pass's, or
// `previous`'s when it applied none).
model::PassRecord NextPassRecord(const model::PassRecord* previous, const PassResult& result,
                                 const spec::Policy* policy);

// The record `store` holds for `policy`; nullopt when it has none, or one of an older layout.
// A record that cannot be read is an error (reporting data only: the next pass replaces it).
Result<std::optional<model::PassRecord>> StoredPassRecord(const providers::StateStore& store,
                                                          const std::string& policy);

// After a `reconcile` or `run` pass: puts the policy's new status (when the pass planned) and
// `record` into `store` and writes the file. Errors are the store's.
Status SavePass(providers::StateStore& store, const PassResult& result,
                const model::PassRecord& record);

}  // namespace dynoherd::app
