#include "metrics/metrics.h"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <utility>

namespace dynoherd::metrics {

namespace {

template <typename T>
prometheus::Family<T>& Build(prometheus::Registry& registry, const std::string& name,
                             const std::string& help) {
  if constexpr (std::is_same_v<T, prometheus::Gauge>) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
  } else if constexpr (std::is_same_v<T, prometheus::Counter>) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
  } else {
    return prometheus::BuildHistogram().Name(name).Help(help).Register(registry);
  }
}

template <typename T>
void RemoveSeries(prometheus::Family<T>& family, const prometheus::Labels& labels) {
  if (family.Has(labels)) {
    if constexpr (std::is_same_v<T, prometheus::Histogram>) {
      family.Remove(&family.Add(labels, prometheus::Histogram::BucketBoundaries{}));
    } else {
      family.Remove(&family.Add(labels));
    }
  }
}

const prometheus::Histogram::BucketBoundaries kPassBuckets = {0.05, 0.1, 0.25, 0.5, 1,
                                                              2.5,  5,   10,   30,  60};
const char* const kConditionStatuses[] = {"True", "False", "Unknown"};

}  // namespace

// The label sets one formation exported, so that they can be removed when it goes away.
struct Metrics::FormationSeries {
  std::set<std::pair<prometheus::Family<prometheus::Gauge>*, Labels>> gauges;
  std::set<std::pair<prometheus::Family<prometheus::Counter>*, Labels>> counters;
  std::optional<FormationSample> last;  // what the last pass recorded, to show again
};

Metrics::Metrics(const std::string& version)
    : registry_(std::make_shared<prometheus::Registry>()),
      build_info_(
          Build<prometheus::Gauge>(*registry_, "dynoherd_build_info",
                                   "Always 1; the version label says which dynoherd runs.")),
      reconcile_total_(
          Build<prometheus::Counter>(*registry_, "dynoherd_reconcile_total",
                                     "Reconcile passes by policy and result (ok, error).")),
      reconcile_duration_(Build<prometheus::Histogram>(
          *registry_, "dynoherd_reconcile_duration_seconds", "Duration of one reconcile pass.")),
      last_reconcile_(Build<prometheus::Gauge>(
          *registry_, "dynoherd_last_reconcile_timestamp_seconds",
          "Unix time at the end of the last successful pass of the policy.")),
      reconcile_interval_(Build<prometheus::Gauge>(*registry_,
                                                   "dynoherd_reconcile_interval_seconds",
                                                   "The policy's interval between passes.")),
      formation_quantity_(Build<prometheus::Gauge>(*registry_, "dynoherd_formation_quantity",
                                                   "Observed dyno quantity of the formation.")),
      formation_desired_(Build<prometheus::Gauge>(*registry_, "dynoherd_formation_desired_quantity",
                                                  "Quantity the last plan wants.")),
      formation_baseline_(Build<prometheus::Gauge>(
          *registry_, "dynoherd_formation_baseline_quantity",
          "Quantity outside latency events: declared, or recorded at the event's start.")),
      formation_max_(Build<prometheus::Gauge>(
          *registry_, "dynoherd_formation_max_quantity",
          "Largest quantity autoscale may reach (baseline + maxExtraWorkers).")),
      formation_latency_(Build<prometheus::Gauge>(
          *registry_, "dynoherd_formation_latency_seconds",
          "The formation latency statistic over the window; absent when unknown.")),
      formation_threshold_(Build<prometheus::Gauge>(
          *registry_, "dynoherd_formation_latency_threshold_seconds",
          "Autoscale thresholds: kind=start (latencyThreshold) and kind=restored.")),
      dyno_latency_(Build<prometheus::Gauge>(*registry_, "dynoherd_dyno_latency_seconds",
                                             "Per-dyno latency over the window.")),
      dyno_zscore_(Build<prometheus::Gauge>(*registry_, "dynoherd_dyno_zscore",
                                            "The laggard detector's score for the dyno.")),
      queue_latency_(Build<prometheus::Gauge>(
          *registry_, "dynoherd_queue_latency_seconds",
          "How long the oldest job of a Sidekiq queue has waited; absent when unknown.")),
      queue_size_(Build<prometheus::Gauge>(*registry_, "dynoherd_queue_size",
                                           "Jobs waiting in a Sidekiq queue.")),
      event_active_(Build<prometheus::Gauge>(*registry_, "dynoherd_latency_event_active",
                                             "1 while the formation is in a latency event.")),
      event_depth_(Build<prometheus::Gauge>(*registry_, "dynoherd_latency_event_depth",
                                            "Extra workers added for the current latency event.")),
      event_duration_(Build<prometheus::Gauge>(
          *registry_, "dynoherd_latency_event_duration_seconds",
          "How long the current latency event has lasted; 0 outside events.")),
      event_max_duration_(
          Build<prometheus::Gauge>(*registry_, "dynoherd_latency_event_max_duration_seconds",
                                   "The policy's maxDuration for latency events, when set.")),
      needed_quantity_(Build<prometheus::Gauge>(
          *registry_, "dynoherd_formation_needed_quantity",
          "Autoscale mode capacity: dynos the observed load needs at targetUtilization.")),
      utilization_(Build<prometheus::Gauge>(
          *registry_, "dynoherd_formation_utilization_ratio",
          "Autoscale mode capacity: busy slots, backlog included, over the formation's slots.")),
      arrivals_(Build<prometheus::Gauge>(
          *registry_, "dynoherd_formation_arrivals_per_second",
          "Autoscale mode capacity: requests or jobs arriving, over the newest minute.")),
      service_(Build<prometheus::Gauge>(
          *registry_, "dynoherd_formation_service_seconds",
          "Autoscale mode capacity: mean time one request or job holds a slot.")),
      bound_quantity_(Build<prometheus::Gauge>(
          *registry_, "dynoherd_formation_bound_quantity",
          "The floor (bound=min) and ceiling (bound=max) in force: min/max or a schedule's.")),
      schedule_info_(Build<prometheus::Gauge>(
          *registry_, "dynoherd_formation_schedule_info",
          "1 for the schedule whose floor and ceiling are in force; absent when none is open.")),
      restarts_total_(Build<prometheus::Counter>(*registry_, "dynoherd_dyno_restarts_total",
                                                 "Laggard dynos restarted or stopped.")),
      scale_changes_total_(Build<prometheus::Counter>(*registry_, "dynoherd_scale_changes_total",
                                                      "Formation scale changes by direction.")),
      condition_(Build<prometheus::Gauge>(
          *registry_, "dynoherd_condition",
          "1 for the current status of each condition type of the formation, 0 for the others.")),
      heroku_requests_total_(Build<prometheus::Counter>(
          *registry_, "dynoherd_heroku_requests_total",
          "Heroku Platform API calls by method and HTTP code (0: no HTTP answer).")),
      heroku_ratelimit_remaining_(
          Build<prometheus::Gauge>(*registry_, "dynoherd_heroku_ratelimit_remaining",
                                   "The last RateLimit-Remaining Heroku answered.")),
      router_lines_total_(Build<prometheus::Counter>(
          *registry_, "dynoherd_router_lines_total",
          "Router log lines read, by result (parsed, ignored, malformed).")),
      spec_reload_errors_total_(
          Build<prometheus::Counter>(*registry_, "dynoherd_spec_reload_errors_total",
                                     "Spec reloads rejected because the new set was invalid.")) {
  build_info_.Add({{"version", version}}).Set(1);
  // Counters with a fixed label set start at 0, so rate() works from the first scrape.
  for (const char* result : {"parsed", "ignored", "malformed"}) {
    router_lines_total_.Add({{"result", result}});
  }
  spec_reload_errors_total_.Add({});
}

Metrics::~Metrics() = default;

void Metrics::RecordPass(const std::string& policy, bool ok, double duration_seconds,
                         TimePoint end) {
  RecordPass(policy, ok ? PassResultLabel::kOk : PassResultLabel::kError, duration_seconds, end);
}

void Metrics::RecordPass(const std::string& policy, PassResultLabel result,
                         double duration_seconds, TimePoint end) {
  reconcile_total_.Add({{"policy", policy}, {"result", "ok"}});
  reconcile_total_.Add({{"policy", policy}, {"result", "error"}});
  const char* label = result == PassResultLabel::kOk      ? "ok"
                      : result == PassResultLabel::kError ? "error"
                                                          : "unknown";
  reconcile_total_.Add({{"policy", policy}, {"result", label}}).Increment();
  const bool ok = result == PassResultLabel::kOk;
  reconcile_duration_.Add({{"policy", policy}}, kPassBuckets).Observe(duration_seconds);
  if (ok) last_reconcile_.Add({{"policy", policy}}).Set(ToUnixSeconds(end));
}

void Metrics::SetReconcileInterval(const std::string& policy, double interval_seconds) {
  reconcile_interval_.Add({{"policy", policy}}).Set(interval_seconds);
}

std::vector<Metrics::GaugeValue> Metrics::ConditionGauges(
    const Labels& base, const std::vector<ConditionSample>& conditions) const {
  std::vector<GaugeValue> out;
  for (const auto& c : conditions) {
    for (const char* status : kConditionStatuses) {
      Labels labels = base;
      labels.insert({{"type", c.type}, {"status", status}});
      out.push_back({&condition_, std::move(labels), c.status == status ? 1.0 : 0.0});
    }
  }
  return out;
}

std::vector<Metrics::GaugeValue> Metrics::FormationGauges(const FormationSample& s) const {
  const Labels base = {{"policy", s.policy}, {"app", s.app}, {"formation", s.formation}};
  auto with = [&base](std::initializer_list<std::pair<const std::string, std::string>> extra) {
    Labels l = base;
    l.insert(extra);
    return l;
  };
  std::vector<GaugeValue> next;
  auto set = [&next](prometheus::Family<prometheus::Gauge>& family, Labels labels, double value) {
    next.push_back({&family, std::move(labels), value});
  };

  set(formation_quantity_, base, s.observed_quantity);
  set(formation_desired_, base, s.desired_quantity);
  if (s.baseline_quantity) set(formation_baseline_, base, *s.baseline_quantity);
  if (s.max_quantity) set(formation_max_, base, *s.max_quantity);
  if (s.latency_seconds)
    set(formation_latency_, with({{"statistic", s.statistic}}), *s.latency_seconds);
  if (s.latency_threshold_seconds) {
    set(formation_threshold_, with({{"kind", "start"}}), *s.latency_threshold_seconds);
  }
  if (s.restored_threshold_seconds) {
    set(formation_threshold_, with({{"kind", "restored"}}), *s.restored_threshold_seconds);
  }
  set(event_active_, base, s.event_active ? 1 : 0);
  set(event_depth_, base, s.event_depth);
  set(event_duration_, base, s.event_active ? s.event_duration_seconds : 0);
  if (s.event_max_duration_seconds) set(event_max_duration_, base, *s.event_max_duration_seconds);
  if (s.needed_quantity) set(needed_quantity_, base, *s.needed_quantity);
  if (s.utilization) set(utilization_, base, *s.utilization);
  if (s.arrivals_per_second) set(arrivals_, base, *s.arrivals_per_second);
  if (s.service_seconds) set(service_, base, *s.service_seconds);
  if (s.bound_min) set(bound_quantity_, with({{"bound", "min"}}), *s.bound_min);
  if (s.bound_max) set(bound_quantity_, with({{"bound", "max"}}), *s.bound_max);
  if (!s.schedule.empty()) set(schedule_info_, with({{"schedule", s.schedule}}), 1);
  for (const auto& d : s.dynos) {
    const std::pair<const char*, std::optional<double>> stats[] = {
        {"mean", d.mean}, {"p50", d.p50}, {"p95", d.p95}, {"p99", d.p99}};
    for (const auto& [name, value] : stats) {
      if (value) set(dyno_latency_, with({{"dyno", d.dyno}, {"statistic", name}}), *value);
    }
    if (d.zscore) set(dyno_zscore_, with({{"dyno", d.dyno}}), *d.zscore);
  }
  for (const auto& q : s.queues) {
    set(queue_size_, with({{"queue", q.queue}}), static_cast<double>(q.size));
    if (q.latency_seconds) set(queue_latency_, with({{"queue", q.queue}}), *q.latency_seconds);
  }
  std::vector<GaugeValue> conditions = ConditionGauges(base, s.conditions);
  next.insert(next.end(), conditions.begin(), conditions.end());
  return next;
}

void Metrics::ReplaceGaugesLocked(FormationSeries& slot, std::vector<GaugeValue> next) {
  std::set<std::pair<prometheus::Family<prometheus::Gauge>*, Labels>> now_present;
  for (const GaugeValue& g : next)
    now_present.insert({g.family, g.labels});
  for (const auto& old : slot.gauges) {
    if (!now_present.count(old)) RemoveSeries(*old.first, old.second);
  }
  for (const GaugeValue& g : next)
    g.family->Add(g.labels).Set(g.value);
  slot.gauges = std::move(now_present);
}

std::vector<ConditionSample> Metrics::OverriddenLocked(const std::string& policy,
                                                       std::vector<ConditionSample> conditions) const {
  auto o = overrides_.find(policy);
  if (o == overrides_.end()) return conditions;
  const ConditionSample& forced = o->second.condition;
  auto same_type = [&forced](const ConditionSample& c) { return c.type == forced.type; };
  conditions.erase(std::remove_if(conditions.begin(), conditions.end(), same_type),
                   conditions.end());
  conditions.push_back(forced);
  return conditions;
}

void Metrics::RefreshLocked(const std::string& policy, const std::string& app,
                            const std::string& formation) {
  auto& slot = series_[policy][formation];
  if (!slot) slot = std::make_unique<FormationSeries>();
  if (slot->last) {
    FormationSample shown = *slot->last;
    shown.conditions = OverriddenLocked(policy, std::move(shown.conditions));
    ReplaceGaugesLocked(*slot, FormationGauges(shown));
    return;
  }
  // A formation no pass of this process recorded: only the forced condition, while it lasts.
  const Labels base = {{"policy", policy}, {"app", app}, {"formation", formation}};
  auto o = overrides_.find(policy);
  const bool forced = o != overrides_.end() &&
                      std::find(o->second.formations.begin(), o->second.formations.end(),
                                formation) != o->second.formations.end();
  ReplaceGaugesLocked(*slot, forced ? ConditionGauges(base, {o->second.condition})
                                    : std::vector<GaugeValue>{});
  if (slot->gauges.empty() && slot->counters.empty()) series_[policy].erase(formation);
}

void Metrics::RecordFormation(const FormationSample& s) {
  std::lock_guard lock(mu_);
  policy_apps_[s.policy].insert(s.app);
  auto& slot = series_[s.policy][s.formation];
  if (!slot) slot = std::make_unique<FormationSeries>();
  slot->last = s;
  RefreshLocked(s.policy, s.app, s.formation);
  // The action counters start at 0, so increase() sees a formation's first restart or scale too
  // (a series born at 1 has no earlier sample to rise from).
  const Labels base = {{"policy", s.policy}, {"app", s.app}, {"formation", s.formation}};
  for (const char* action : {"restart", "stop"}) {
    Labels labels = base;
    labels.insert({"action", action});
    restarts_total_.Add(labels);
    slot->counters.insert({&restarts_total_, labels});
  }
  for (const char* direction : {"up", "down"}) {
    Labels labels = base;
    labels.insert({"direction", direction});
    scale_changes_total_.Add(labels);
    slot->counters.insert({&scale_changes_total_, labels});
  }
}

void Metrics::OverrideCondition(const std::string& policy, const std::string& app,
                                const std::vector<std::string>& formations,
                                const ConditionSample& condition) {
  std::lock_guard lock(mu_);
  std::vector<std::string> touched = formations;  // and those a reload took out of the policy
  if (auto o = overrides_.find(policy); o != overrides_.end()) {
    touched.insert(touched.end(), o->second.formations.begin(), o->second.formations.end());
  }
  overrides_[policy] = {app, formations, condition};
  for (const std::string& formation : touched)
    RefreshLocked(policy, app, formation);
}

void Metrics::ClearConditionOverride(const std::string& policy) {
  std::lock_guard lock(mu_);
  auto o = overrides_.find(policy);
  if (o == overrides_.end()) return;
  const Override cleared = std::move(o->second);
  overrides_.erase(o);
  for (const std::string& formation : cleared.formations)
    RefreshLocked(policy, cleared.app, formation);
  if (auto p = series_.find(policy); p != series_.end() && p->second.empty()) series_.erase(p);
}

void Metrics::CountRestart(const std::string& policy, const std::string& app,
                           const std::string& formation, const std::string& action) {
  Labels labels = {{"policy", policy}, {"app", app}, {"formation", formation}, {"action", action}};
  restarts_total_.Add(labels).Increment();
  std::lock_guard lock(mu_);
  auto& slot = series_[policy][formation];
  if (!slot) slot = std::make_unique<FormationSeries>();
  slot->counters.insert({&restarts_total_, labels});
}

void Metrics::CountScale(const std::string& policy, const std::string& app,
                         const std::string& formation, const std::string& direction) {
  Labels labels = {
      {"policy", policy}, {"app", app}, {"formation", formation}, {"direction", direction}};
  scale_changes_total_.Add(labels).Increment();
  std::lock_guard lock(mu_);
  auto& slot = series_[policy][formation];
  if (!slot) slot = std::make_unique<FormationSeries>();
  slot->counters.insert({&scale_changes_total_, labels});
}

void Metrics::CountHerokuRequest(const std::string& method, int http_code) {
  heroku_requests_total_.Add({{"method", method}, {"code", std::to_string(http_code)}}).Increment();
}

void Metrics::SetHerokuRateLimitRemaining(int remaining) {
  heroku_ratelimit_remaining_.Add({}).Set(remaining);
}

void Metrics::CountRouterLines(const std::string& result, uint64_t n) {
  router_lines_total_.Add({{"result", result}}).Increment(static_cast<double>(n));
}

void Metrics::CountSpecReloadError() {
  spec_reload_errors_total_.Add({}).Increment();
}

void Metrics::RemoveFormationLocked(const std::string& policy, const std::string& formation) {
  auto p = series_.find(policy);
  if (p == series_.end()) return;
  auto f = p->second.find(formation);
  if (f == p->second.end()) return;
  for (const auto& [family, labels] : f->second->gauges)
    RemoveSeries(*family, labels);
  for (const auto& [family, labels] : f->second->counters)
    RemoveSeries(*family, labels);
  p->second.erase(f);
}

void Metrics::RetainFormations(const std::string& policy, const std::set<std::string>& formations) {
  std::lock_guard lock(mu_);
  auto p = series_.find(policy);
  if (p != series_.end()) {
    std::vector<std::string> gone;
    for (const auto& [formation, unused] : p->second) {
      if (!formations.count(formation)) gone.push_back(formation);
    }
    for (const auto& formation : gone)
      RemoveFormationLocked(policy, formation);
  }
  if (formations.empty()) {
    series_.erase(policy);
    policy_apps_.erase(policy);
    for (const char* result : {"ok", "error", "unknown"}) {
      RemoveSeries(reconcile_total_, {{"policy", policy}, {"result", result}});
    }
    RemoveSeries(reconcile_duration_, {{"policy", policy}});
    RemoveSeries(last_reconcile_, {{"policy", policy}});
    RemoveSeries(reconcile_interval_, {{"policy", policy}});
  }
}

std::string Metrics::Serialize() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

}  // namespace dynoherd::metrics
