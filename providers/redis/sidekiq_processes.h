// What Sidekiq's processes report about themselves in Redis, read-only: the input of the load
// measurement of `latency.source: sidekiq` (providers/sources/sidekiq_load.h).
//
// Sidekiq's layout (lib/sidekiq/launcher.rb, api.rb): every process heartbeats every 10 s (5 s
// before Sidekiq 7). The beat adds its identity to the set `processes` and writes the hash
// `<identity>` with `info` (JSON: hostname, pid, concurrency, queues, ...), `busy` (threads running
// a job), `beat` (epoch seconds, a float) and `quiet` ("true" once it stops fetching), expiring in
// 60 s; the same beat adds the jobs the process finished since the last one to the counter
// `stat:processed` (failed jobs included: Sidekiq counts every finished job there and the failed
// ones again in `stat:failed`). With redis-namespace every key is prefixed by "<namespace>:".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "providers/redis/redis_connection.h"

namespace dynoherd::providers::redis {

struct SidekiqProcess {
  std::string identity;             // "worker.1:4:2d5c7a3f1b9e": hostname, pid, nonce
  std::vector<std::string> queues;  // the queues it fetches from (info.queues)
  int64_t concurrency = 0;          // its threads (info.concurrency)
  int64_t busy = 0;                 // threads running a job at its last beat
  TimePoint beat{};                 // its last heartbeat, on its own clock
  bool quiet = false;               // stopping: finishes its jobs, fetches no new one

  bool operator==(const SidekiqProcess&) const = default;
};

struct SidekiqProcesses {
  int64_t processed = 0;  // stat:processed; 0 before Sidekiq first flushed it
  // Members of `processes` whose hash is still there, by identity. A member whose hash expired
  // (a process that died without a goodbye; Sidekiq's web UI prunes them later) is left out.
  std::vector<SidekiqProcess> processes;
};

class SidekiqProcessReader {
 public:
  // Refuses a namespace ending in ':' (as SidekiqQueueReader does).
  static Result<SidekiqProcessReader> Create(std::string key_namespace);

  // The counter and every live process: two round trips (the set and the counter, then every
  // process's hash in one pipeline). Fails when Redis cannot be read or a process's record is
  // not Sidekiq's (its `info` is not JSON with a concurrency, its busy or beat not numbers).
  Result<SidekiqProcesses> Read(RedisConnection& redis) const;

  std::string Key(std::string_view name) const;  // "processes", "ns:processes", "ns:<identity>"

 private:
  explicit SidekiqProcessReader(std::string key_namespace)
      : key_namespace_(std::move(key_namespace)) {}

  std::string key_namespace_;
};

}  // namespace dynoherd::providers::redis
