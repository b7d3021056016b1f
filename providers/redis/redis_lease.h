// The lease primitives on Redis: who may act on a policy, and which replicas are alive.
//   <prefix>{<policy>}:lease  the holder's token, with a TTL: SET NX PX takes it, a compare-and-set
//                             script renews it (PEXPIRE) or releases it (DEL) only for its holder
//   <prefix>replicas          sorted set: replica token -> when its heartbeat runs out (ms, on the
//                             server's clock, so the replicas' clocks need not agree)
// What the leases mean and when to trust them is app/lease_keeper.h's business; this is the
// protocol only. Thread-safe (one round trip at a time on the shared connection).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "providers/redis/redis_script.h"
#include "providers/redis/redis_state_store.h"
#include "providers/redis/shared_connection.h"

namespace dynoherd::providers::redis {

class RedisLeases {
 public:
  RedisLeases(std::shared_ptr<SharedRedisConnection> connection, RedisKeys keys);

  // SET lease token NX PX ttl. True when `token` took it; false when another holds it.
  Result<bool> Acquire(const std::string& policy, const std::string& token, Duration ttl);
  // Extends the lease by `ttl` from now if `token` still holds it; false when it does not.
  Result<bool> Renew(const std::string& policy, const std::string& token, Duration ttl);
  // Deletes the lease if `token` holds it; false when it did not.
  Result<bool> Release(const std::string& policy, const std::string& token);
  // The holder's token; nullopt when nobody holds the lease.
  Result<std::optional<std::string>> Holder(const std::string& policy);

  // Marks `token` alive for `ttl` and forgets replicas whose heartbeat ran out; returns the live
  // replicas' tokens, sorted (`token` among them).
  Result<std::vector<std::string>> Heartbeat(const std::string& token, Duration ttl);
  // Removes `token` from the live replicas (a clean stop).
  Status Leave(const std::string& token);

  std::string where() const { return connection_->where(); }

 private:
  Result<bool> RunCompareAndSet(const RedisScript& script, const std::string& policy,
                                std::vector<std::string> args);

  const std::shared_ptr<SharedRedisConnection> connection_;
  const RedisKeys keys_;
  const RedisScript renew_;
  const RedisScript release_;
  const RedisScript heartbeat_;
};

}  // namespace dynoherd::providers::redis
