// dynoherd's Prometheus metrics. The names and labels are a contract (docs/metrics.md): dashboards
// and alerts are built on them. Series of dynos, formations and policies that are gone are removed,
// so cardinality follows what is running. Thread-safe.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/time.h"

namespace dynoherd::metrics {

// One dyno as the last pass saw it. Latencies in seconds; absent values are not exported.
struct DynoSample {
  std::string dyno;
  std::optional<double> mean, p50, p95, p99;
  std::optional<double> zscore;
};

// One Sidekiq queue of the formation (latency.source sidekiq).
struct QueueSample {
  std::string queue;
  int64_t size = 0;
  std::optional<double> latency_seconds;  // absent when unknown
};

struct ConditionSample {
  std::string type;    // Ready, LatencyEvent, Degraded, Paused
  std::string status;  // True, False, Unknown
};

// Everything the last pass knows about one formation.
struct FormationSample {
  std::string policy, app, formation;
  int observed_quantity = 0;
  int desired_quantity = 0;
  std::optional<int> baseline_quantity;
  std::optional<int> max_quantity;        // baseline + maxExtraWorkers, with autoscale
  std::string statistic;                  // the formation statistic's name, e.g. "p95"
  std::optional<double> latency_seconds;  // absent when unknown
  std::optional<double> latency_threshold_seconds;
  std::optional<double> restored_threshold_seconds;
  bool event_active = false;
  int event_depth = 0;
  double event_duration_seconds = 0;
  std::optional<double> event_max_duration_seconds;
  // Autoscale mode capacity, each absent while the load is unknown.
  std::optional<int> needed_quantity;
  std::optional<double> utilization;  // busy slots (backlog included) over the formation's slots
  std::optional<double> arrivals_per_second;
  std::optional<double> service_seconds;
  // The floor and ceiling in force (min/max, or the open schedule's), and that schedule's name.
  std::optional<int> bound_min, bound_max;
  std::string schedule;               // empty: none is open
  std::vector<DynoSample> dynos;      // the full current set: others are removed
  std::vector<QueueSample> queues{};  // likewise
  std::vector<ConditionSample> conditions;
};

class Metrics {
 public:
  explicit Metrics(const std::string& version);
  ~Metrics();

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  // One pass over a policy ended. `end` is exported only for successful passes.
  void RecordPass(const std::string& policy, bool ok, double duration_seconds, TimePoint end);
  // kUnknown: no action failed, but a change was sent and never answered. Its series exists only
  // once such a pass happened.
  enum class PassResultLabel { kOk, kError, kUnknown };
  void RecordPass(const std::string& policy, PassResultLabel result, double duration_seconds,
                  TimePoint end);
  // The policy's `interval`, so alerts can judge a pass overdue without a hard-coded threshold.
  void SetReconcileInterval(const std::string& policy, double interval_seconds);
  // Replaces everything exported for this formation.
  void RecordFormation(const FormationSample& sample);
  void CountRestart(const std::string& policy, const std::string& app, const std::string& formation,
                    const std::string& action);  // action: restart | stop
  void CountScale(const std::string& policy, const std::string& app, const std::string& formation,
                  const std::string& direction);                      // direction: up | down
  void CountHerokuRequest(const std::string& method, int http_code);  // 0: no HTTP answer
  void SetHerokuRateLimitRemaining(int remaining);
  void CountRouterLines(const std::string& result, uint64_t n);  // parsed | ignored | malformed
  void CountSpecReloadError();

  // While set, the formations of `policy` export `condition` in place of the condition of its
  // type that their last pass recorded, and a formation no pass recorded exports that condition
  // alone: a replica that cannot reach its shared store shows its policies Degraded without a
  // pass (app/store_outage.h). Clearing it shows what the last pass recorded again.
  void OverrideCondition(const std::string& policy, const std::string& app,
                         const std::vector<std::string>& formations,
                         const ConditionSample& condition);
  void ClearConditionOverride(const std::string& policy);

  // Removes every series of formations of `policy` not in `formations`, or of the whole policy
  // when `formations` is empty (after a reload dropped it).
  void RetainFormations(const std::string& policy, const std::set<std::string>& formations);

  // The Prometheus text exposition format (version 0.0.4).
  std::string Serialize() const;

 private:
  using Labels = prometheus::Labels;
  struct FormationSeries;  // what one formation exported, to remove it later
  struct GaugeValue {
    prometheus::Family<prometheus::Gauge>* family;
    Labels labels;
    double value;
  };
  struct Override {
    std::string app;
    std::vector<std::string> formations;
    ConditionSample condition;
  };

  std::vector<GaugeValue> FormationGauges(const FormationSample& sample) const;
  std::vector<GaugeValue> ConditionGauges(const Labels& base,
                                          const std::vector<ConditionSample>& conditions) const;
  std::vector<ConditionSample> OverriddenLocked(const std::string& policy,
                                                std::vector<ConditionSample> conditions) const;
  // Exports `next` for the formation, removing what it exported before and is not in `next`.
  void ReplaceGaugesLocked(FormationSeries& slot, std::vector<GaugeValue> next);
  // Exports the formation's last sample (or nothing) with the policy's override applied.
  void RefreshLocked(const std::string& policy, const std::string& app,
                     const std::string& formation);
  void RemoveFormationLocked(const std::string& policy, const std::string& formation);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Gauge>& build_info_;
  prometheus::Family<prometheus::Counter>& reconcile_total_;
  prometheus::Family<prometheus::Histogram>& reconcile_duration_;
  prometheus::Family<prometheus::Gauge>& last_reconcile_;
  prometheus::Family<prometheus::Gauge>& reconcile_interval_;
  prometheus::Family<prometheus::Gauge>& formation_quantity_;
  prometheus::Family<prometheus::Gauge>& formation_desired_;
  prometheus::Family<prometheus::Gauge>& formation_baseline_;
  prometheus::Family<prometheus::Gauge>& formation_max_;
  prometheus::Family<prometheus::Gauge>& formation_latency_;
  prometheus::Family<prometheus::Gauge>& formation_threshold_;
  prometheus::Family<prometheus::Gauge>& dyno_latency_;
  prometheus::Family<prometheus::Gauge>& dyno_zscore_;
  prometheus::Family<prometheus::Gauge>& queue_latency_;
  prometheus::Family<prometheus::Gauge>& queue_size_;
  prometheus::Family<prometheus::Gauge>& event_active_;
  prometheus::Family<prometheus::Gauge>& event_depth_;
  prometheus::Family<prometheus::Gauge>& event_duration_;
  prometheus::Family<prometheus::Gauge>& event_max_duration_;
  prometheus::Family<prometheus::Gauge>& needed_quantity_;
  prometheus::Family<prometheus::Gauge>& utilization_;
  prometheus::Family<prometheus::Gauge>& arrivals_;
  prometheus::Family<prometheus::Gauge>& service_;
  prometheus::Family<prometheus::Gauge>& bound_quantity_;
  prometheus::Family<prometheus::Gauge>& schedule_info_;
  prometheus::Family<prometheus::Counter>& restarts_total_;
  prometheus::Family<prometheus::Counter>& scale_changes_total_;
  prometheus::Family<prometheus::Gauge>& condition_;
  prometheus::Family<prometheus::Counter>& heroku_requests_total_;
  prometheus::Family<prometheus::Gauge>& heroku_ratelimit_remaining_;
  prometheus::Family<prometheus::Counter>& router_lines_total_;
  prometheus::Family<prometheus::Counter>& spec_reload_errors_total_;

  mutable std::mutex mu_;
  // policy -> formation -> the label sets it exported, per family
  std::map<std::string, std::map<std::string, std::unique_ptr<FormationSeries>>> series_;
  std::map<std::string, std::set<std::string>> policy_apps_;  // for counters labelled by app
  std::map<std::string, Override> overrides_;                  // per policy
};

}  // namespace dynoherd::metrics
