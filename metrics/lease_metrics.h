// The metrics of the leases when replicas share a Redis (docs/metrics.md, "Leases"), registered in
// the registry of metrics::Metrics so one scrape serves both. Thread-safe.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <string>

namespace dynoherd::metrics {

class LeaseMetrics {
 public:
  // `replica` labels dynoherd_lease_replica_info: the token this replica holds leases with.
  LeaseMetrics(prometheus::Registry& registry, const std::string& replica);

  void SetHeld(const std::string& policy, bool held);
  void CountRenewal(const std::string& policy);
  void CountLoss(const std::string& policy);
  void SetStoreUp(bool up);

 private:
  prometheus::Family<prometheus::Gauge>& replica_info_;
  prometheus::Family<prometheus::Gauge>& held_;
  prometheus::Family<prometheus::Counter>& renewals_;
  prometheus::Family<prometheus::Counter>& losses_;
  prometheus::Family<prometheus::Gauge>& store_up_;
};

}  // namespace dynoherd::metrics
