// The last-pass record of `dynoherd status` (model/pass_record.h), filled from each pass and saved
// beside the policy's status.
#pragma once

#include "app/pass.h"
#include "common/status.h"
#include "model/pass_record.h"
#include "providers/state_store.h"

namespace dynoherd::app {

// The record after `result`, keeping from `previous` what this pass did not replace.
model::PassRecord NextPassRecord(const model::PassRecord* previous, const PassResult& result);

// After a `reconcile` or `run` pass: puts the policy's new status (when the pass planned) and its
// last-pass record into `store` and writes the file. Errors are the store's.
Status SavePass(providers::StateStore& store, const PassResult& result);

}  // namespace dynoherd::app
