// Sidekiq queue latency read straight from Sidekiq's Redis, read-only. Sidekiq keeps the set
// `queues` of every queue name and, per queue, the list `queue:<name>` onto which clients push
// jobs on the left: the oldest job is at index -1. A queue's latency is how long that job has
// waited (now minus its `enqueued_at`), as Sidekiq's own Queue#latency computes it; an empty
// queue's is 0. With redis-namespace every key is prefixed by "<namespace>:".
//
// One Read costs one round trip when the queues are named (SMEMBERS and every queue's LINDEX and
// LLEN in one pipeline) and two with "*" (SMEMBERS first, to learn the names).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "providers/redis/redis_connection.h"

namespace dynoherd::providers::redis {

inline constexpr std::string_view kAllSidekiqQueues = "*";

struct SidekiqQueueSelection {
  std::string key_namespace{};        // "" or e.g. "myapp": keys "myapp:queues", "myapp:queue:<q>"
  std::vector<std::string> queues{};  // names; "*" adds every member of the `queues` set
};

struct SidekiqQueueLatency {
  std::string queue;
  int64_t size = 0;            // LLEN
  double latency_seconds = 0;  // now - the oldest job's enqueued_at, at least 0; 0 when empty
  std::optional<TimePoint> oldest_enqueued_at;  // none when empty or not known
  // The oldest job has no enqueued_at: its latency counts as 0, as Sidekiq counts it, which may
  // hide a backlog; flagged so that callers can say so.
  bool oldest_lacks_enqueued_at = false;
  bool listed = true;  // false: not in the `queues` set (no job was ever pushed, or a typo)
  // Not OK: this queue could not be read (its oldest job is not JSON, its key is not a list); the
  // numbers above are then 0 and the other queues are unaffected.
  Status status;
};

class SidekiqQueueReader {
 public:
  // Refuses an empty queue list, empty names and a namespace ending in ':'.
  static Result<SidekiqQueueReader> Create(SidekiqQueueSelection selection);

  // Every selected queue's size and latency at `now`, sorted by name. Fails as a whole when Redis
  // cannot be read or has no `queues` set (not Sidekiq's Redis, database or namespace).
  Result<std::vector<SidekiqQueueLatency>> Read(RedisConnection& redis, TimePoint now) const;

  std::string QueuesKey() const;                       // "queues", "ns:queues"
  std::string QueueKey(std::string_view queue) const;  // "queue:<q>", "ns:queue:<q>"

 private:
  explicit SidekiqQueueReader(SidekiqQueueSelection selection) : selection_(std::move(selection)) {}
  bool all_queues() const;
  std::vector<RedisCommand> QueueCommands(const std::set<std::string>& queues) const;
  Status CheckMembers(const RedisConnection& redis, const RedisReply& members) const;

  SidekiqQueueSelection selection_;
};

// When a job was enqueued, from its JSON: nullopt when it has no enqueued_at. The field is epoch
// seconds as a float (Sidekiq <= 7) or epoch milliseconds as an integer (Sidekiq 8). The rule:
// a value of 1e11 or more is milliseconds. Read as seconds, 1e11 is the year 5138; read as
// milliseconds, March 1973; so every time from 1973 to 5138 is read right in either unit, whatever
// its JSON type (times after 2262, beyond TimePoint, are refused). Errors (InvalidArgument) never
// quote the job, whose arguments may be private.
Result<std::optional<TimePoint>> ParseSidekiqEnqueuedAt(std::string_view job_json);

}  // namespace dynoherd::providers::redis
