// What a replica sharing a Redis store shows while that store is unreachable: it can neither act
// on its policies (no lease, app/lease_keeper.h) nor know whether another replica does, and no
// pass runs to say so. So every policy of its set, held before or not, is shown with `Degraded`
// True, reason `StoreUnreachable`, in /status and in dynoherd_condition, from the first lease
// round that fails until one reaches the store again; then the passes of the leases taken back
// record their own conditions (docs/operations.md, "Several replicas"). Thread-safe.
#pragma once

#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "app/daemon.h"
#include "common/logging.h"
#include "common/status.h"
#include "common/time.h"
#include "metrics/metrics.h"
#include "model/status.h"

namespace dynoherd::app {

inline constexpr std::string_view kStoreUnreachable = "StoreUnreachable";

class StoreOutage {
 public:
  // `store` names the store without credentials (redis://host:port). `clock` stamps the
  // condition's transition (the daemon's). `logger` says when an outage starts and ends.
  // `metrics` may be null.
  StoreOutage(std::string store, const Clock& clock, Logger& logger, metrics::Metrics* metrics)
      : store_(std::move(store)), clock_(clock), logger_(logger), metrics_(metrics) {}

  // After each lease round: `round` is OK when it reached the store; `policies` are the
  // daemon's now.
  void Update(const Status& round, const std::vector<PolicySnapshot>& policies);

  // The Degraded condition while the outage lasts; nullopt otherwise.
  std::optional<model::Condition> Condition() const;

  // `snapshots` with the condition set in every formation of every policy while the outage lasts
  // (a policy without a status gets one with just that condition).
  std::vector<PolicySnapshot> Mark(std::vector<PolicySnapshot> snapshots) const;

 private:
  void ExportLocked(const std::vector<PolicySnapshot>& policies);
  void ClearExportedLocked();

  const std::string store_;
  const Clock& clock_;
  Logger& logger_;
  metrics::Metrics* const metrics_;

  mutable std::mutex mu_;
  std::optional<model::Condition> degraded_;
  std::set<std::string> exported_;  // the policies whose metrics carry the condition
};

}  // namespace dynoherd::app
