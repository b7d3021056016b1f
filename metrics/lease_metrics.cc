#include "metrics/lease_metrics.h"

namespace dynoherd::metrics {

LeaseMetrics::LeaseMetrics(prometheus::Registry& registry, const std::string& replica)
    : replica_info_(prometheus::BuildGauge()
                        .Name("dynoherd_lease_replica_info")
                        .Help("1, labelled with the token this replica holds its leases with.")
                        .Register(registry)),
      held_(prometheus::BuildGauge()
                .Name("dynoherd_lease_held")
                .Help("1 while this replica holds the policy's lease and may act on it, else 0.")
                .Register(registry)),
      renewals_(prometheus::BuildCounter()
                    .Name("dynoherd_lease_renewals_total")
                    .Help("Lease renewals of the policy that succeeded.")
                    .Register(registry)),
      losses_(prometheus::BuildCounter()
                  .Name("dynoherd_lease_losses_total")
                  .Help("Leases of the policy lost: a renewal refused or failed, or the store "
                        "unreachable.")
                  .Register(registry)),
      store_up_(prometheus::BuildGauge()
                    .Name("dynoherd_lease_store_up")
                    .Help("1 when the last lease round reached the store (Redis), else 0.")
                    .Register(registry)) {
  replica_info_.Add({{"replica", replica}}).Set(1);
  store_up_.Add({}).Set(0);
}

void LeaseMetrics::SetHeld(const std::string& policy, bool held) {
  held_.Add({{"policy", policy}}).Set(held ? 1 : 0);
  // Both counters exist from the first sight of the policy, so rate() works at once.
  renewals_.Add({{"policy", policy}});
  losses_.Add({{"policy", policy}});
}

void LeaseMetrics::CountRenewal(const std::string& policy) {
  renewals_.Add({{"policy", policy}}).Increment();
}

void LeaseMetrics::CountLoss(const std::string& policy) {
  losses_.Add({{"policy", policy}}).Increment();
}

void LeaseMetrics::SetStoreUp(bool up) { store_up_.Add({}).Set(up ? 1 : 0); }

}  // namespace dynoherd::metrics
