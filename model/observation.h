// What one pass saw of the world: the reconciler's input. Plain data; providers and latency
// sources fill it, the reconciler only reads it, the renderers show it. Latencies are in seconds.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "spec/policy.h"

namespace dynoherd::model {

struct FormationState {
  std::string type;
  int quantity = 0;
  std::string size;        // "standard-1x", ...; informational
  TimePoint updated_at{};  // last change of the formation (a scale moves it)
};

struct DynoState {
  std::string name;        // "web.3", or "web-1234abcde-123ab" on newer apps
  std::string type;        // the formation it belongs to
  std::string state;       // crashed | down | idle | starting | up
  TimePoint updated_at{};  // last state change
};

// One dyno's requests in the window.
struct LatencyStats {
  int64_t count = 0;  // requests timed
  double mean = 0;
  double p50 = 0;
  double p95 = 0;
  double p99 = 0;
  double max = 0;
  int64_t errors = 0;  // router errors (H10, H12, H13, ...) attributed to the dyno

  double Get(spec::Statistic statistic) const;
  bool operator==(const LatencyStats&) const = default;
};

// One Sidekiq queue as a pass read it (latency.source sidekiq).
struct QueueLatency {
  std::string queue;
  int64_t size = 0;                       // jobs waiting
  std::optional<double> latency_seconds;  // the oldest job's wait; 0 when empty; nullopt: unknown
  std::string error;                      // why latency_seconds is unknown; empty when known

  bool operator==(const QueueLatency&) const = default;
};

// "default 42s (17 jobs), mailers unknown (3 jobs)": how `plan` and `status` show the queues.
std::string QueuesText(const std::vector<QueueLatency>& queues);

// The work a formation carried in the window, for autoscale mode capacity (docs/decisions.md,
// "Capacity mode"): what arrives per second and how long each unit keeps a dyno's slot busy.
struct FormationLoad {
  double arrivals_per_second = 0;  // requests (web) or jobs (worker), over the newest minute
  double service_seconds = 0;      // mean time one request or job holds a slot, the same minute
  // The same product over the source's whole window, when it has a longer one: steadier, for
  // deciding that fewer dynos will do (one quiet minute must not shrink the formation).
  std::optional<double> window_busy_slots;

  // Little's law: slots busy on average, queued work included when there is a backlog.
  double BusySlots() const { return arrivals_per_second * service_seconds; }
  // What a smaller formation would have to carry: the busier of the minute and the window.
  double SustainedBusySlots() const {
    return window_busy_slots && *window_busy_slots > BusySlots() ? *window_busy_slots : BusySlots();
  }
  bool operator==(const FormationLoad&) const = default;
};

// Sources measure the load over the newest minute of their window: a rate that follows a surge as
// it starts (HPA's metrics are per-minute rates too), while latency keeps its longer window.
inline constexpr Duration kLoadSpan = std::chrono::minutes(1);

// The load behind per-dyno stats gathered over `window`: their requests per second and mean
// time. nullopt when no request was timed or the window is empty.
std::optional<FormationLoad> LoadOf(const std::map<std::string, LatencyStats>& per_dyno,
                                    Duration window);

// A formation's latency as a source read it. Unknown comes in two kinds (docs/operations.md,
// "When latency is unknown"): not enough data (a quiet app, dynos too fresh: `unknown_reason`
// alone), and a source that could not observe at all (`error` too: a refused or failed read, a
// malformed answer, a log tail or a drain that delivers nothing). The second makes the pass fail.
struct FormationLatency {
  std::map<std::string, LatencyStats> per_dyno;  // by dyno name; may be empty (e.g. a scalar query)
  std::optional<double> value;                   // the formation statistic; nullopt = unknown
  int64_t sample_count = 0;                      // requests behind `value`
  std::string unknown_reason;                    // why `value` is unknown; empty when known
  std::string error;  // why the source could not observe; empty when it could (value unknown)
  std::vector<QueueLatency> queues{};  // sidekiq: each queue of the formation, by name; else empty
  std::optional<FormationLoad> load{};  // nullopt: the source cannot tell the load
  // Why `load` is unknown, from a source that measures it (sidekiq); else empty.
  std::string load_unknown_reason{};
};

// What a provider says of an app (providers::Provider::Observe).
struct AppState {
  std::vector<FormationState> formations;
  std::vector<DynoState> dynos;
};

// Dyno names in the order people count them: "web.2" before "web.10" (runs of digits compare as
// numbers, the rest byte by byte). Every list of dynos dynoherd shows is in this order.
bool DynoNameLess(std::string_view a, std::string_view b);
// `dynos` in that order, by name.
void SortDynos(std::vector<DynoState>& dynos);

struct Observation {
  TimePoint observed_at{};
  std::vector<FormationState> formations;
  std::vector<DynoState> dynos;
  std::map<std::string, FormationLatency> latency;  // by formation type; absent = not observed

  const FormationState* FindFormation(const std::string& type) const;
};

}  // namespace dynoherd::model
