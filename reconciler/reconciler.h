// The planner: from the policy, what was observed and what the last pass recorded, decide what to
// do now. Pure: no I/O, no clock, no global state; the same inputs (and seed) give the same plan.
// The rules, in plain words, are in docs/decisions.md.
#pragma once

#include <cstddef>
#include <random>

#include "common/status.h"
#include "common/time.h"
#include "model/observation.h"
#include "model/status.h"
#include "reconciler/plan.h"
#include "spec/policy.h"

namespace dynoherd::reconciler {

// `previous` is the status saved after the last pass, or nullptr (first pass, one-shot run, lost
// file); a status recorded for another app is ignored. `rng` is drawn from only to pick laggards
// when `select: random`. The returned plan's status assumes its actions succeed when plan.apply.
Plan Reconcile(const spec::Policy& policy, const model::Observation& observation,
               const model::PolicyStatus* previous, TimePoint now, std::mt19937_64& rng);

// Records that plan.actions[action_index] failed when applied: marks the action, sets the
// formation's Degraded condition (reason ActionFailed, the action and the error in the message),
// and takes the action's effect out of plan.status: a failed restart is not in the history (nor
// starts the cooldown), a failed step or restore leaves the event where it was, so the next pass
// tries again. Call it for each failed action before saving plan.status.
void RecordActionFailure(Plan& plan, size_t action_index, const Status& error);

// Records that plan.actions[action_index] was sent and no answer came: it may have taken effect.
// Marks the action, keeps its effect in plan.status (a restart that may have happened starts the
// cooldown, so a dyno is never restarted twice; a step that may have happened keeps the captured
// baseline, so it can be restored), and sets Degraded with reason OutcomeUnknown. The next pass
// observes the formation and plans from what it finds.
void RecordActionUnknown(Plan& plan, size_t action_index, const Status& error);

}  // namespace dynoherd::reconciler
