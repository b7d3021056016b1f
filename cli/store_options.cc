#include "cli/store_options.h"

#include <unistd.h>

#include <random>

#include "providers/redis/redis_state_store.h"
#include "spec/redis_url.h"

namespace dynoherd::cli {

using namespace std::chrono_literals;

void AddStoreOptions(CLI::App& command, StoreArgs& args) {
  command
      .add_option("--store", args.url,
                  "Keep the statuses in this Redis instead of the state file, shared by several "
                  "dynoherds: redis://[user:password@]host:port[/db] or rediss://... (TLS). "
                  "Default $DYNOHERD_STORE; unset: the state file (--state)")
      ->envname("DYNOHERD_STORE")
      ->type_name("URL");
  command
      .add_option("--store-ca-file", args.ca_file,
                  "rediss:// only: trust the CAs of this PEM file instead of the system's")
      ->type_name("PATH");
  command.add_flag_callback(
      "--store-no-verify", [&args] { args.tls_verify = false; },
      "rediss:// only: accept any server certificate (Heroku Key-Value Store's are self-signed)");
}

void AddLeaseOptions(CLI::App& command, StoreArgs& args) {
  command
      .add_option("--lease-ttl", args.lease_ttl,
                  "With --store: how long a policy's lease lives without renewal, the longest a "
                  "dead replica's policies wait for another (default 15s)")
      ->type_name("DURATION")
      ->check(DurationValidator());
  command
      .add_option("--lease-renew", args.lease_renew,
                  "With --store: how often the leases are renewed and free ones taken; below "
                  "two thirds of --lease-ttl (default 5s)")
      ->type_name("DURATION")
      ->check(DurationValidator());
}

Result<std::optional<RedisStore>> ConnectRedisStore(const StoreArgs& args, Session& session) {
  if (args.url.empty()) return std::optional<RedisStore>();
  Result<spec::RedisEndpoint> endpoint = spec::ParseRedisUrl(args.url);
  if (!endpoint.ok()) return endpoint.status().WithContext("--store");
  session.AddSecret(endpoint->password);
  providers::redis::RedisConnectionOptions options;
  options.connect_timeout = 2s;
  options.io_timeout = 2s;  // a lease renewal later than this is as good as lost
  options.reconnect = {.attempts = 1};
  options.tls_verify = args.tls_verify;
  options.tls_ca_file = args.ca_file;
  auto connect = [&]() -> Result<std::shared_ptr<providers::redis::SharedRedisConnection>> {
    Result<std::unique_ptr<providers::redis::RedisConnection>> made =
        providers::redis::RedisConnection::Create(*endpoint, options);
    if (!made.ok()) return made.status().WithContext("--store");
    return std::make_shared<providers::redis::SharedRedisConnection>(std::move(made).value());
  };
  auto statuses = connect();
  if (!statuses.ok()) return statuses.status();
  auto leases = connect();
  if (!leases.ok()) return leases.status();
  return std::optional<RedisStore>(RedisStore{
      (*statuses)->where(), *statuses,
      std::make_shared<providers::redis::RedisLeases>(*leases, providers::redis::RedisKeys{})});
}

Result<std::unique_ptr<providers::StateStore>> OpenStore(
    const OperatorArgs& args, const std::optional<RedisStore>& redis, bool read_only,
    std::function<std::optional<std::string>(std::string_view)> lease_token) {
  if (redis) {
    providers::redis::RedisStateStoreOptions options;
    options.read_only = read_only;
    options.lease_token = std::move(lease_token);
    auto store = providers::redis::RedisStateStore::Open(redis->statuses, std::move(options));
    if (!store.ok()) return store.status();
    return std::unique_ptr<providers::StateStore>(std::move(store).value());
  }
  Result<std::string> path = StatePath(args);
  if (!path.ok()) return path.status();
  return read_only ? providers::StateStore::OpenReadOnly(*path) : providers::StateStore::Open(*path);
}

Result<app::LeaseOptions> LeaseOptionsOf(const StoreArgs& args, bool fair_share) {
  app::LeaseOptions options;
  options.fair_share = fair_share;
  Result<Duration> ttl = ParseDuration(args.lease_ttl);
  if (!ttl.ok()) return ttl.status().WithContext("--lease-ttl");
  Result<Duration> renew = ParseDuration(args.lease_renew);
  if (!renew.ok()) return renew.status().WithContext("--lease-renew");
  options.ttl = *ttl;
  options.renew_interval = *renew;
  return options;
}

Result<std::unique_ptr<ReplicaLeases>> MakeLeases(const StoreArgs& args, const RedisStore& redis,
                                                  bool fair_share, Logger& logger,
                                                  prometheus::Registry* registry) {
  Result<app::LeaseOptions> options = LeaseOptionsOf(args, fair_share);
  if (!options.ok()) return options.status();
  auto leases = std::make_unique<ReplicaLeases>();
  const std::string token = NewReplicaToken();
  if (registry) leases->metrics = std::make_unique<metrics::LeaseMetrics>(*registry, token);
  Result<std::unique_ptr<app::LeaseKeeper>> keeper = app::LeaseKeeper::Create(
      redis.leases, token, *options, leases->clock, logger, leases->metrics.get());
  if (!keeper.ok()) return keeper.status();
  leases->keeper = std::move(keeper).value();
  return leases;
}

std::string NewReplicaToken() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::random_device device;
  char suffix[9];
  std::snprintf(suffix, sizeof suffix, "%08x", static_cast<unsigned>(device()));
  return std::string(host[0] ? host : "dynoherd") + "-" + std::to_string(::getpid()) + "-" +
         suffix;
}

const char* CannotOpenStore(const std::optional<RedisStore>& redis) {
  return redis ? "cannot read the status store" : "cannot open the state file";
}

}  // namespace dynoherd::cli
