// `latency.source: sidekiq`: each formation's queues read from Sidekiq's Redis at every pass
// (providers/redis/sidekiq.h). A formation's latency is the highest latency among its queues, the
// wait of the oldest job anyone of its dynos could pick up; each queue's size and latency come
// along (model::QueueLatency) for the metrics, `plan` and `status`.
//
// A formation's latency is unknown, with the reason, when its Redis cannot be read (unknown host,
// refused, wrong password, down mid-pass), when that Redis has no `queues` set (not Sidekiq's
// database or namespace), or when one of its queues cannot be judged (the oldest job is not JSON or
// has no enqueued_at). Unknown, the planner holds the formation and never scales it down; the
// other formations are unaffected. Messages name the server, never its password.
//
// A formation in autoscale mode capacity also has its load measured between reads, from
// Sidekiq's processes and its stat:processed counter (sidekiq_load.h): known from the second
// read of a source that lives across passes (`run`); unknown, with the reason in
// `load_unknown_reason`, when it cannot be measured. An unknown load never makes the latency
// unknown: the planner then steps as mode step does.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "providers/latency_source.h"
#include "providers/redis/shared_connection.h"
#include "providers/redis/sidekiq.h"
#include "providers/redis/sidekiq_processes.h"
#include "providers/sources/sidekiq_load.h"

namespace dynoherd::providers::sources {

class SidekiqSource final : public LatencySource {
 public:
  // One reader per formation over the connection `connections` keeps for its Redis (shared with
  // other formations and policies naming the same one). A formation whose settings are refused
  // (a CA file that cannot be read) is not an error here: its latency is unknown at each Read,
  // with the reason, and the others are read. `reads_across_passes`: the source lives across
  // passes (`run`), so the formations in mode capacity measure their load between its reads;
  // false (`plan`, `reconcile`: one read), their load is unknown.
  static std::unique_ptr<SidekiqSource> Create(
      const std::vector<const spec::FormationSpec*>& formations,
      redis::RedisConnections& connections, bool reads_across_passes = true);

  // Each formation's queues, read at `now`: one pipelined round trip per formation.
  std::map<std::string, model::FormationLatency> Read(
      const std::vector<const spec::FormationSpec*>& formations, const model::AppState& app,
      TimePoint now) override;

 private:
  struct Reading {
    std::shared_ptr<redis::SharedRedisConnection> connection;  // null when `refused`
    std::optional<redis::SidekiqQueueReader> reader;
    Status refused;  // why this formation cannot be read
    // Mode capacity: the formation's queues, its load's reader and the samples it keeps, or why
    // its load is not measured (one read only). Empty in mode step.
    std::vector<std::string> queues;
    std::optional<redis::SidekiqProcessReader> processes;
    std::optional<SidekiqLoadMeter> meter;
    std::string load_not_measured;
  };
  explicit SidekiqSource(std::map<std::string, Reading> readings)
      : readings_(std::move(readings)) {}
  static Reading Prepare(const spec::LatencySpec& latency, redis::RedisConnections& connections);
  static void PrepareLoad(const spec::FormationSpec& formation, bool reads_across_passes,
                          Reading& reading);
  // The load of a formation whose queues were just read, into `latency` (or why not).
  static void MeasureLoad(Reading& reading, const std::vector<redis::SidekiqQueueLatency>& queues,
                          TimePoint now, model::FormationLatency& latency);
  static Result<model::FormationLoad> ReadLoad(
      Reading& reading, const std::vector<redis::SidekiqQueueLatency>& queues, TimePoint now);

  std::map<std::string, Reading> readings_;  // by formation type
};

// A formation's latency from what its queues gave (exposed for tests): the highest queue latency,
// unknown when a queue's is. Queues stay sorted by name.
model::FormationLatency FormationLatencyOf(const std::vector<redis::SidekiqQueueLatency>& queues);

}  // namespace dynoherd::providers::sources
