// One reconcile pass over one policy: observe, plan, act, record (ARCHITECTURE.md). The pass
// logs what it does, exports metrics and returns everything it saw and decided; saving the
// status is the caller's job, because `plan` must change nothing.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/logging.h"
#include "common/status.h"
#include "common/time.h"
#include "metrics/metrics.h"
#include "model/observation.h"
#include "model/status.h"
#include "providers/latency_source.h"
#include "providers/provider.h"
#include "reconciler/plan.h"
#include "reconciler/reconciler.h"
#include "spec/policy.h"

namespace dynoherd::app {

// What a pass needs of the world for one policy: the platform, and the latency sources with the
// formations each serves. Shared pieces (one Heroku client per token, a drain's window) are
// shared_ptrs so a runtime can be rebuilt on reload without dropping them.
struct PolicyRuntime {
  struct SourceBinding {
    std::shared_ptr<providers::LatencySource> source;
    std::vector<std::string> formations;  // types
  };
  std::shared_ptr<providers::Provider> provider;
  std::vector<SourceBinding> sources;
};

// Saves a policy's status durably (the state file) and says whether it did.
using SaveStatus = std::function<Status(const model::PolicyStatus&)>;

struct PassOptions {
  bool apply = true;  // false: plan only (`plan`, `reconcile --dry-run`); nothing is sent
  // Write-ahead: called before the first write to the platform with the status the writes depend
  // on (the plan's status, as if they all succeed, with one pending intent per write). Nothing is
  // sent unless it succeeds, so a crash while a write is in flight never loses a captured
  // baseline or a restart's cooldown. Empty: nothing saved first (tests of the pass alone).
  SaveStatus save_first = {};
};

struct PassResult {
  std::string policy;
  std::string app;
  // OK when the pass observed, planned, every action it applied succeeded and every latency
  // source could observe. Latency unknown for want of data is not a failure: the plan holds the
  // formation and says so (Degraded); a source that cannot observe is (Unavailable).
  Status status;
  bool observed = false;
  model::Observation observation;        // valid when `observed`
  std::optional<reconciler::Plan> plan;  // set once planned; failed actions are marked in it
  bool applied = false;                  // actions were sent to the platform
  TimePoint started_at{};
  TimePoint finished_at{};

  int ActionCount() const { return plan ? static_cast<int>(plan->actions.size()) : 0; }
};

class PassRunner {
 public:
  // `metrics` may be null (no export). The clock gives `now` for the plan and the timings.
  PassRunner(const Clock& clock, Logger& logger, metrics::Metrics* metrics)
      : clock_(clock), logger_(logger), metrics_(metrics) {}

  PassResult Run(const spec::Policy& policy, PolicyRuntime& runtime,
                 const model::PolicyStatus* previous, std::mt19937_64& rng,
                 const PassOptions& options);

 private:
  void Observe(const spec::Policy& policy, PolicyRuntime& runtime, PassResult& result);
  // `saved` without the formations whose status fails model::ValidateFormationStatus: each is
  // logged, noted in `notes`, and planned as if it had no status, never acted on.
  model::PolicyStatus UsableStatus(const spec::Policy& policy, const model::PolicyStatus& saved,
                                   TimePoint now, std::vector<std::string>& notes);
  void Apply(const spec::Policy& policy, PolicyRuntime& runtime, PassResult& result,
             const SaveStatus& save_first);
  void ApplyScales(const spec::Policy& policy, PolicyRuntime& runtime,
                   const model::Observation& observation, reconciler::Plan& plan);
  // A restart or stop: never retried once sent.
  void ApplyDynoAction(const spec::Policy& policy, PolicyRuntime& runtime,
                       const model::Observation& observation, reconciler::Plan& plan,
                       size_t index);
  // The action's outcome: logged, and a failure or an unknown outcome recorded in the plan.
  void RecordOutcome(const model::Observation& observation, reconciler::Plan& plan,
                     size_t index, const Status& sent, LogFields fields, const std::string& what);
  // OK, the first failed action's error and how many more failed, or (none failed)
  // OutcomeUnknown naming the first write that was never answered.
  static Status FailedActions(const reconciler::Plan& plan);
  // OK, or the first formation whose latency source could not observe, and how many more.
  static Status SourceFailures(const reconciler::Plan& plan);
  void LogConditionChanges(const spec::Policy& policy, const reconciler::Plan& plan);
  void LogPlan(const spec::Policy& policy, const PassResult& result, bool applying);
  void Record(const spec::Policy& policy, const PassResult& result);

  const Clock& clock_;
  Logger& logger_;
  metrics::Metrics* metrics_;
};

// The metrics of one formation as the pass left it; exposed for tests.
metrics::FormationSample FormationSampleOf(const spec::Policy& policy,
                                           const spec::FormationSpec& formation,
                                           const reconciler::FormationPlan& plan,
                                           const model::Observation& observation, TimePoint now);

}  // namespace dynoherd::app
