// The validated FormationPolicy: what a user declared, after defaults and every check.
// Built only by the loader (spec/loader.h) and immutable afterwards: share it as const.
// Field names in comments are the YAML names, a public contract (docs/spec.md).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "common/time_zone.h"
#include "spec/schedule.h"

namespace dynoherd::spec {

using namespace std::chrono_literals;

// Where something was declared, for messages ("policies/shop.yaml:12:5").
struct SourceLocation {
  std::string file;  // as given on the command line; "-" or "<stdin>" for standard input
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based
  std::string ToString() const;

  bool operator==(const SourceLocation&) const = default;
};

enum class ProviderKind { kHeroku, kSim };
enum class LatencySourceKind { kRouterLogs, kPrometheus, kSim, kSidekiq };
enum class RouterLogsVia { kSession, kDrain };
enum class Statistic { kMean, kP50, kP95, kP99, kMax };
enum class LaggardMethod { kLeaveOneOut, kPopulation, kMad };
enum class LaggardAction { kRestart, kStop };
enum class LaggardSelect { kWorst, kRandom };
enum class IncidentKind { kNoisyNeighbor, kSurge };
enum class AutoscaleMode { kStep, kCapacity };

// The YAML spelling of each enum value ("router-logs", "p95", "leave-one-out", ...).
std::string_view Name(ProviderKind v);
std::string_view Name(LatencySourceKind v);
std::string_view Name(RouterLogsVia v);
std::string_view Name(Statistic v);
std::string_view Name(LaggardMethod v);
std::string_view Name(LaggardAction v);
std::string_view Name(LaggardSelect v);
std::string_view Name(IncidentKind v);
std::string_view Name(AutoscaleMode v);

// An integer count or a percentage of a total, like Kubernetes' maxUnavailable ("1" or "25%").
struct CountOrPercent {
  bool is_percent = false;
  int value = 0;  // a count, or a percentage in 0..100
  // The count this means for `total` items. Percentages round up, so "25%" of 3 dynos is 1, not 0
  // (rounding down would forbid every restart on small formations).
  int Resolve(int total) const;
  std::string ToString() const;  // "1" or "25%"

  bool operator==(const CountOrPercent&) const = default;
};

struct LatencySpec {
  LatencySourceKind source = LatencySourceKind::kRouterLogs;
  Duration window = 5min;  // window (not with sidekiq)
  // statistic: the formation latency used by autoscale. Always max with sidekiq (the loader sets
  // it): the formation's latency is its slowest queue's, the oldest job's wait.
  Statistic statistic = Statistic::kP95;
  RouterLogsVia via = RouterLogsVia::kSession;  // via (router-logs only)
  // url: prometheus (required there) and sidekiq (required with provider heroku): after ${VAR}
  // expansion; a Redis URL holds its password, never to be shown.
  std::string url;
  std::string query;                // query (prometheus only; required there)
  std::string dyno_label = "dyno";  // dynoLabel (prometheus only)
  // sidekiq only. queues (required there): the queues the formation works; "*" stands for every
  // member of Sidekiq's `queues` set.
  std::vector<std::string> queues;
  std::string key_namespace;  // namespace: the redis-namespace prefix, without its ':'
  bool tls_verify = true;     // tlsVerify: check a rediss:// server's certificate
  std::string tls_ca_file;    // tlsCaFile: PEM CAs to trust instead of the system's

  bool operator==(const LatencySpec&) const = default;
};

struct LaggardSpec {
  double sigma = 2.0;
  LaggardMethod method = LaggardMethod::kLeaveOneOut;
  Statistic statistic = Statistic::kP50;  // mean | p50 | p95 only
  double min_ratio = 1.5;                 // minRatio
  int min_dynos = 3;                      // minDynos
  int min_samples = 30;                   // minSamples
  Duration min_latency = 200ms;           // minLatency
  LaggardAction action = LaggardAction::kRestart;
  LaggardSelect select = LaggardSelect::kWorst;
  int max_per_cycle = 1;  // maxPerCycle
  Duration cooldown = 10min;
  CountOrPercent max_unavailable = {true, 25};  // maxUnavailable
  Duration startup_grace = 2min;                // startupGrace
  bool during_event = false;                    // duringEvent

  bool operator==(const LaggardSpec&) const = default;
};

struct AutoscaleSpec {
  // mode: step adds one dyno per alertInterval (amigo's rule); capacity jumps to the dynos the
  // observed load needs at targetUtilization (docs/decisions.md, "Capacity mode").
  AutoscaleMode mode = AutoscaleMode::kStep;
  // targetUtilization (capacity only); unset: FormationSpec::TargetUtilization's default.
  std::optional<double> target_utilization;
  std::optional<int> concurrency;  // concurrency: requests or jobs a dyno serves at once
                                   // (capacity only; required there)
  Duration latency_threshold{0};   // latencyThreshold (required)
  Duration restored_threshold{
      0};  // restoredThreshold; the loader fills latencyThreshold when omitted
  Duration alert_interval = 2min;        // alertInterval
  int max_extra_workers = 2;             // maxExtraWorkers
  std::optional<Duration> max_duration;  // maxDuration
  // restoreDelay: no scale-down to the baseline until the formation's last change is this old
  // (docs/decisions.md, "restoreDelay"); 0s restores as soon as latency is back, as amigo did.
  Duration restore_delay = 5min;
  // Not a spec field: the simulator's heroku variant sets it, as Heroku's own autoscaling removes
  // one dyno per event. The restore then takes one dyno per alertInterval once the first has
  // waited restoreDelay, instead of the whole way back at once.
  bool restore_one_at_a_time = false;

  bool operator==(const AutoscaleSpec&) const = default;
};

// schedules[]: a window of time during which the formation has its own floor and ceiling. The
// loader fills the parsed parts (cron or weekly window, zone) from what was written.
struct ScheduleSpec {
  std::string name;                  // name: for messages; the loader fills "schedules[i]"
  std::string cron;                  // cron: when the window opens, with `for`
  std::optional<Duration> duration;  // for: how long it stays open (cron only)
  std::string days;                  // days: "mon-fri", with `hours`
  std::string hours;                 // hours: "07:30-10:00", with `days`
  std::string timezone = "UTC";      // timezone: a tz database name
  std::optional<int> min;            // min: the floor while open
  std::optional<int> max;            // max: the ceiling while open

  std::optional<CronExpression> parsed_cron;  // set iff `cron` is
  std::optional<WeeklyWindow> weekly;         // set iff `days` and `hours` are
  TimeZone zone = TimeZone::Utc();

  // Whether the window is open at `now`. Pure: the zone's rules were read at load time.
  bool OpenAt(TimePoint now) const;
  bool operator==(const ScheduleSpec&) const = default;
};

struct FormationSpec {
  std::string type;
  std::optional<int> quantity;         // declared baseline; nullopt = captured at event start
  std::optional<int> min;              // min: never fewer dynos (outside schedules)
  std::optional<int> max;              // max: never more dynos (outside schedules)
  std::vector<ScheduleSpec> schedules;  // schedules: the first open one sets min and max
  std::optional<LatencySpec> latency;  // present whenever laggards or autoscale is
  std::optional<LaggardSpec> laggards;
  std::optional<AutoscaleSpec> autoscale;
  SourceLocation location;  // of this formation's entry

  // The min and max in force at `now`: the first open schedule's, each falling back to the
  // formation's own when the schedule leaves it out. `schedule` is the open one, or nullptr.
  struct Bounds {
    std::optional<int> min;
    std::optional<int> max;
    const ScheduleSpec* schedule = nullptr;
  };
  Bounds BoundsAt(TimePoint now) const;

  // autoscale.targetUtilization, or its default when unset: 0.75 of a Sidekiq job's run time,
  // 0.85 of a web request's service time, which includes the wait behind a dyno's busy threads
  // (about 0.75 of the bare time at that load: docs/decisions.md, "Capacity mode").
  // REQUIRES: autoscale.
  double TargetUtilization() const;

  bool operator==(const FormationSpec&) const = default;
};

// spec.sim: the embedded simulator's world (provider: sim).
struct SimFormationSpec {
  std::string type;
  int quantity = 1;
  // A web formation has serviceTime and rps; a worker formation has jobTime and jobsPerSecond.
  std::optional<Duration> service_time;  // serviceTime: median request service time on a quiet dyno
  std::optional<double> rps;             // requests per second to the whole formation
  std::optional<Duration> job_time;      // jobTime: median job run time
  std::optional<double> jobs_per_second;  // jobsPerSecond arriving in the queue

  bool operator==(const SimFormationSpec&) const = default;
};

struct SimIncidentSpec {
  Duration at{0};  // simulated time since start
  IncidentKind kind = IncidentKind::kNoisyNeighbor;
  std::string dyno;                  // noisy-neighbor: the dyno slowed down until it restarts
  std::string formation;             // surge: the formation whose load grows
  double factor = 1.0;               // slowdown (noisy-neighbor) or load multiplier (surge)
  std::optional<Duration> duration;  // for (surge); nullopt = until the end

  bool operator==(const SimIncidentSpec&) const = default;
};

struct SimSpec {
  uint64_t seed = 42;
  double speed = 30;             // simulated seconds per wall second in `run`
  Duration duration = 30min;     // simulated time, then `run` ends with a summary
  Duration restart_delay = 20s;  // restartDelay: a restarted or new dyno is `starting` this long
  std::vector<SimFormationSpec> formations;  // in file order
  std::vector<SimIncidentSpec> incidents;

  bool operator==(const SimSpec&) const = default;
};

struct Policy {
  std::string name;  // metadata.name
  // metadata.labels and metadata.annotations: kept for the tools that add them (Kustomize, Argo
  // CD, Flux); dynoherd only validates them, as Kubernetes does.
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string app;   // spec.app, after ${VAR} expansion
  ProviderKind provider = ProviderKind::kHeroku;
  bool paused = false;
  Duration interval = 60s;
  std::vector<FormationSpec> formations;
  std::optional<SimSpec> sim;  // present iff provider is sim
  SourceLocation location;     // of the document

  const FormationSpec* FindFormation(std::string_view type) const;

  bool operator==(const Policy&) const = default;
};

}  // namespace dynoherd::spec
