// What `dynoherd status` shows beyond the PolicyStatus: when the last pass ran and how it ended,
// what it last observed of each formation, and the last actions applied. Reporting data only: it
// is saved beside the status (providers::StateStore's "lastPasses", in the form of model/codec.h)
// and the reconciler never reads it, so nothing here can change a decision. The application layer
// fills it from each pass (app/pass_record.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/time.h"
#include "model/observation.h"

namespace dynoherd::model {

struct FormationRecord {
  std::string type;
  std::optional<int> observed_quantity;  // nullopt: not in the app
  std::optional<int> desired_quantity;
  std::optional<int> baseline;
  std::string baseline_kind = "none";  // none | declared | captured
  int dynos_up = 0;
  int dynos = 0;
  std::string statistic;                  // "p95"; empty without latency
  std::optional<double> latency_seconds;  // nullopt: unknown
  std::string latency_unknown_reason;
  std::vector<QueueLatency> queues{};  // latency.source sidekiq: each queue as last read

  bool operator==(const FormationRecord&) const = default;
};

struct ActionRecord {
  std::string formation;
  std::string kind;     // scale | restart | stop
  std::string summary;  // "scale 4 -> 5", "restart web.3"
  std::string reason;
  bool failed = false;
  std::string error;

  bool operator==(const ActionRecord&) const = default;
};

struct PassRecord {
  TimePoint started_at{};
  TimePoint finished_at{};
  bool ok = true;
  std::string error;
  // The last pass that observed the app (this one, or an earlier one if this one could not).
  std::optional<TimePoint> observed_at;
  std::vector<FormationRecord> formations;
  // The last pass that applied actions, and those actions; kept while later passes do nothing.
  std::optional<TimePoint> actions_at;
  std::vector<ActionRecord> actions;

  bool operator==(const PassRecord&) const = default;
};

}  // namespace dynoherd::model
