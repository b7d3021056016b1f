// What a pass is shown as, in one shape for every output: `plan` and `reconcile` (per policy),
// the daemon's /status and `dynoherd status` (the last pass), and the state file's last-pass
// record. Plain data filled by the application layer from a pass (app/report.h) and written and
// read by model/codec.h; the reconciler never reads it, so nothing here can change a decision.
// Optional members are JSON nulls: unknown, or not configured for the formation.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/time.h"
#include "model/observation.h"
#include "model/status.h"

namespace dynoherd::model {

// One dyno as the pass saw it.
struct DynoReport {
  std::string name;
  std::string state;  // crashed | down | idle | starting | up
  std::optional<TimePoint> updated_at;
  std::optional<LatencyStats> latency;  // nullopt: no request of it in the window

  bool operator==(const DynoReport&) const = default;
};

// The laggard detector's finding on one dyno.
struct VerdictReport {
  std::string dyno;
  bool judged = false;
  bool slow = false;
  double value = 0;             // the compared statistic, seconds
  std::optional<double> score;  // nullopt: not judged
  double reference = 0;         // what the dyno was compared with, seconds
  std::string reason;

  bool operator==(const VerdictReport&) const = default;
};

// The formation statistic over the window.
struct FormationLatencyReport {
  std::string statistic;  // "p95"
  std::optional<double> seconds;
  int64_t samples = 0;
  std::optional<std::string> unknown_reason;  // set when `seconds` is unknown
  // Set when the source could not observe at all (docs/operations.md, "When latency is unknown").
  std::optional<std::string> error;
  std::vector<QueueLatency> queues;  // latency.source sidekiq: each queue as read; else empty

  bool operator==(const FormationLatencyReport&) const = default;
};

// A latency event as it stands after the pass (formations with autoscale).
struct EventReport {
  bool in_event = false;
  std::optional<TimePoint> started_at;
  bool start_estimated = false;
  int depth = 0;
  int max_depth = 0;
  bool exceeded_max_duration = false;

  bool operator==(const EventReport&) const = default;
};

// Autoscale mode capacity: the load the pass measured and the dynos it needs at
// targetUtilization (docs/decisions.md, "Capacity mode"). The load's members are nullopt when the
// source cannot tell it (the formation then steps as mode step does).
struct CapacityReport {
  double target_utilization = 0;
  std::optional<double> arrivals_per_second;  // requests or jobs, over the newest minute
  std::optional<double> service_seconds;      // mean time one holds a slot
  int64_t queued_jobs = 0;                    // Sidekiq: jobs waiting in the queues; else 0
  std::optional<int> needed_quantity;
  std::optional<double> utilization;  // busy slots (backlog included) over the formation's slots

  bool operator==(const CapacityReport&) const = default;
};

// The floor and ceiling in force: the formation's min/max, or the open schedule's.
struct BoundsReport {
  std::optional<int> min;
  std::optional<int> max;
  std::optional<std::string> schedule;  // the open schedule's name; nullopt: none is open

  bool operator==(const BoundsReport&) const = default;
};

struct LaggardsReport {
  bool decided = false;
  std::optional<std::string> no_verdict_reason;  // set when not decided
  std::vector<VerdictReport> verdicts;           // in dyno order

  bool operator==(const LaggardsReport&) const = default;
};

struct FormationReport {
  std::string type;
  std::optional<int> observed_quantity;  // nullopt: not in the app
  std::optional<int> desired_quantity;   // nullopt: no opinion
  std::string baseline_kind = "none";    // none | declared | captured
  std::optional<int> baseline;
  std::optional<FormationLatencyReport> latency;  // nullopt: no latency configured
  std::optional<EventReport> event;               // nullopt: no autoscale
  std::optional<CapacityReport> capacity;         // nullopt: not autoscale mode capacity
  BoundsReport bounds;                            // all nullopt: none in force
  std::optional<LaggardsReport> laggards;         // nullopt: no laggards
  std::vector<std::string> notes;
  std::vector<Condition> conditions;
  std::vector<DynoReport> dynos;  // in dyno order (DynoNameLess)

  int DynosUp() const;
  bool operator==(const FormationReport&) const = default;
};

struct ActionReport {
  std::string kind;   // scale | restart | stop
  std::string cause;  // drift | latency-event | restored | unrecorded-scale | ceiling | laggard |
                      // capacity | bounds
  std::string formation;
  std::optional<int> from;          // scale
  std::optional<int> to;            // scale
  std::optional<std::string> dyno;  // restart, stop
  std::string summary;              // "scale 4 -> 5", "restart web.3"
  std::string reason;
  bool applied = false;  // sent and accepted
  bool failed = false;
  bool outcome_unknown = false;      // sent, and no answer came: it may have taken effect
  std::optional<std::string> error;  // set when failed or outcome_unknown

  bool operator==(const ActionReport&) const = default;
};

// One policy's pass.
struct PassReport {
  std::string name;  // the policy's metadata.name
  std::string app;
  bool ok = true;
  std::optional<std::string> error;
  TimePoint started_at{};
  TimePoint finished_at{};
  std::optional<TimePoint> observed_at;  // nullopt: the app could not be observed
  std::optional<TimePoint> planned_at;   // nullopt: nothing was planned
  bool paused = false;
  bool applied = false;  // actions were sent to the platform
  std::vector<ActionReport> actions;
  std::vector<FormationReport> formations;
  std::vector<std::string> notes;

  bool operator==(const PassReport&) const = default;
};

// The last actions a policy applied, kept while later passes apply none.
struct LastActions {
  TimePoint at{};
  std::vector<ActionReport> actions;

  bool operator==(const LastActions&) const = default;
};

// What `dynoherd status` shows beyond the PolicyStatus, saved beside it in the state file: the
// last pass, whose formations (and observedAt) are those of the last pass that observed the app
// when the last one could not, and the last actions applied.
struct PassRecord {
  PassReport last_pass;
  std::optional<LastActions> last_actions;

  bool operator==(const PassRecord&) const = default;
};

}  // namespace dynoherd::model
