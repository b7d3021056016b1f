#include "app/one_shot.h"

#include <random>

#include "app/pass_record.h"

namespace dynoherd::app {

std::vector<PassResult> RunPasses(const std::vector<spec::Policy>& policies,
                                  RuntimeFactory& factory, providers::StateStore& store, bool apply,
                                  const Clock& clock, Logger& logger, metrics::Metrics* metrics,
                                  const RuntimeWrapper& wrap) {
  PassRunner runner(clock, logger, metrics);
  std::random_device seed;
  std::mt19937_64 rng((static_cast<uint64_t>(seed()) << 32) | seed());
  std::vector<PassResult> results;
  for (const spec::Policy& policy : policies) {
    PassResult result;
    Result<std::shared_ptr<PolicyRuntime>> runtime = factory.Build(policy);
    if (!runtime.ok()) {
      result.policy = policy.name;
      result.app = policy.app;
      result.started_at = result.finished_at = clock.Now();
      result.status = runtime.status();
      logger.Error(
          "pass failed",
          {{"policy", policy.name}, {"app", policy.app}, {"error", runtime.status().message()}});
      if (metrics) metrics->RecordPass(policy.name, false, 0, result.finished_at);
    } else {
      if (wrap) runtime = wrap(policy, *runtime);
      result = runner.Run(policy, **runtime, store.Find(policy.name), rng,
                          {.apply = apply, .save_first = [&store](const model::PolicyStatus& s) {
                             return store.Save(s);
                           }});
    }
    if (apply) {
      // An unreadable earlier record is reporting data only: this pass starts a new one.
      Result<std::optional<model::PassRecord>> stored = StoredPassRecord(store, policy.name);
      const model::PassRecord* previous = stored.ok() && *stored ? &**stored : nullptr;
      if (Status saved = SavePass(store, result, NextPassRecord(previous, result, &policy));
          !saved.ok()) {
        logger.Error("cannot save the status",
                     {{"policy", policy.name}, {"error", saved.message()}});
        if (result.status.ok()) result.status = saved;
      }
    }
    results.push_back(std::move(result));
  }
  return results;
}

}  // namespace dynoherd::app
