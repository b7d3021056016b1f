// One connection per Redis, shared by everything that uses that Redis: the Sidekiq formations of
// every policy naming the same URL, and whatever else keeps data there. A RedisConnection serves
// one caller at a time, so each use holds the connection's lock for its round trip.
//
//   RedisConnections connections(options);
//   auto redis = connections.Acquire(endpoint, {.verify = true});
//   Result<RedisReply> pong = (*redis)->With([](RedisConnection& c) { return c.Command({"PING"});
//   });
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>

#include "common/status.h"
#include "providers/redis/redis_connection.h"
#include "spec/redis_url.h"

namespace dynoherd::providers::redis {

class SharedRedisConnection {
 public:
  explicit SharedRedisConnection(std::unique_ptr<RedisConnection> connection)
      : connection_(std::move(connection)) {}

  // Runs `use(RedisConnection&)` alone on the connection and returns what it returns.
  template <typename Use>
  auto With(Use&& use) {
    std::lock_guard lock(mu_);
    return use(*connection_);
  }

  // For messages: "redis://host:port", never a password.
  std::string where() const { return connection_->where(); }

 private:
  std::mutex mu_;
  const std::unique_ptr<RedisConnection> connection_;
};

struct RedisTlsSettings {
  bool verify = true;     // rediss:// only
  std::string ca_file{};  // PEM; empty: the system's CAs
};

// The open connections by endpoint (credentials and database included) and TLS settings.
// Held weakly: a connection closes once no runtime uses it, so a reload that changes a URL drops
// the old connection. Thread-safe.
class RedisConnections {
 public:
  // `options` are every connection's (timeouts, backoff, sleeper, logger, callback); its TLS
  // fields are replaced by each Acquire's.
  explicit RedisConnections(RedisConnectionOptions options) : options_(std::move(options)) {}

  // The connection for `endpoint` with `tls`, made (not yet connected) when there is none.
  // Errors: the TLS settings are refused (a CA file that cannot be read, one without verify).
  Result<std::shared_ptr<SharedRedisConnection>> Acquire(const spec::RedisEndpoint& endpoint,
                                                         const RedisTlsSettings& tls);

 private:
  // Everything that makes two connections differ: the endpoint's fields, then the TLS settings.
  using Key = std::tuple<bool, std::string, int, std::string, std::string, int, bool, std::string>;

  RedisConnectionOptions options_;
  std::mutex mu_;
  std::map<Key, std::weak_ptr<SharedRedisConnection>> connections_;
};

}  // namespace dynoherd::providers::redis
