#include "providers/redis/redis_lease.h"

#include <algorithm>

namespace dynoherd::providers::redis {
namespace {

constexpr char kRenewScript[] = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
)lua";

constexpr char kReleaseScript[] = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

// The server's TIME, not the replicas': a replica whose clock is off still expires on time.
constexpr char kHeartbeatScript[] = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], 10 * tonumber(ARGV[2]))
return redis.call('ZRANGE', KEYS[1], 0, -1)
)lua";

std::string Milliseconds(Duration d) { return std::to_string(std::max<int64_t>(1, d.count())); }

}  // namespace

RedisLeases::RedisLeases(std::shared_ptr<SharedRedisConnection> connection, RedisKeys keys)
    : connection_(std::move(connection)),
      keys_(std::move(keys)),
      renew_("lease renewal", kRenewScript),
      release_("lease release", kReleaseScript),
      heartbeat_("replica heartbeat", kHeartbeatScript) {}

Result<bool> RedisLeases::Acquire(const std::string& policy, const std::string& token,
                                  Duration ttl) {
  Result<RedisReply> reply = connection_->With([&](RedisConnection& c) {
    return c.Command({"SET", keys_.Lease(policy), token, "NX", "PX", Milliseconds(ttl)});
  });
  if (!reply.ok()) return reply.status();
  return reply->type == RedisReply::Type::kStatus;  // "OK"; nil when the key exists
}

Result<bool> RedisLeases::RunCompareAndSet(const RedisScript& script, const std::string& policy,
                                           std::vector<std::string> args) {
  Result<RedisReply> reply = connection_->With(
      [&](RedisConnection& c) { return script.Run(c, {keys_.Lease(policy)}, args); });
  if (!reply.ok()) return reply.status();
  return reply->type == RedisReply::Type::kInteger && reply->integer == 1;
}

Result<bool> RedisLeases::Renew(const std::string& policy, const std::string& token,
                                Duration ttl) {
  return RunCompareAndSet(renew_, policy, {token, Milliseconds(ttl)});
}

Result<bool> RedisLeases::Release(const std::string& policy, const std::string& token) {
  return RunCompareAndSet(release_, policy, {token});
}

Result<std::optional<std::string>> RedisLeases::Holder(const std::string& policy) {
  Result<RedisReply> reply =
      connection_->With([&](RedisConnection& c) { return c.Command({"GET", keys_.Lease(policy)}); });
  if (!reply.ok()) return reply.status();
  if (reply->is_nil()) return std::optional<std::string>();
  return std::optional<std::string>(reply->text);
}

Result<std::vector<std::string>> RedisLeases::Heartbeat(const std::string& token, Duration ttl) {
  Result<RedisReply> reply = connection_->With([&](RedisConnection& c) {
    return heartbeat_.Run(c, {keys_.Replicas()}, {token, Milliseconds(ttl)});
  });
  if (!reply.ok()) return reply.status();
  std::vector<std::string> live;
  for (const RedisReply& element : reply->elements)
    live.push_back(element.text);
  std::sort(live.begin(), live.end());
  return live;
}

Status RedisLeases::Leave(const std::string& token) {
  Result<RedisReply> reply = connection_->With(
      [&](RedisConnection& c) { return c.Command({"ZREM", keys_.Replicas(), token}); });
  return reply.ok() ? Status::Ok() : reply.status();
}

}  // namespace dynoherd::providers::redis
