#include "providers/redis/shared_connection.h"

namespace dynoherd::providers::redis {

Result<std::shared_ptr<SharedRedisConnection>> RedisConnections::Acquire(
    const spec::RedisEndpoint& endpoint, const RedisTlsSettings& tls) {
  // Without TLS the TLS settings change nothing: one connection whatever they say.
  const RedisTlsSettings used = endpoint.tls ? tls : RedisTlsSettings{};
  const Key key{endpoint.tls,      endpoint.host,     endpoint.port, endpoint.username,
                endpoint.password, endpoint.database, used.verify,   used.ca_file};
  std::lock_guard lock(mu_);
  if (std::shared_ptr<SharedRedisConnection> open = connections_[key].lock()) return open;
  RedisConnectionOptions options = options_;
  options.tls_verify = used.verify;
  options.tls_ca_file = used.ca_file;
  Result<std::unique_ptr<RedisConnection>> made = RedisConnection::Create(endpoint, options);
  if (!made.ok()) return made.status();
  auto shared = std::make_shared<SharedRedisConnection>(std::move(made).value());
  connections_[key] = shared;
  // Forget the entries of connections that closed, so reloads do not accumulate them.
  std::erase_if(connections_, [](const auto& entry) { return entry.second.expired(); });
  return shared;
}

}  // namespace dynoherd::providers::redis
