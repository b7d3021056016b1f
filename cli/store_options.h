// Where the statuses live (`--store`) and, with a Redis, the leases of the replicas
// (`--lease-ttl`, `--lease-renew`): the flags, and opening what they name. The file (--state) is
// the default; `--store redis://...` or `rediss://...` shares statuses and leases between
// replicas (docs/operations.md, "Several replicas").
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "app/lease_keeper.h"
#include "cli/operator_options.h"
#include "common/status.h"
#include "metrics/lease_metrics.h"
#include "providers/redis/redis_lease.h"
#include "providers/redis/shared_connection.h"
#include "providers/state_store.h"

namespace dynoherd::cli {

struct StoreArgs {
  std::string url;      // --store (or $DYNOHERD_STORE); empty: the state file
  std::string ca_file;  // --store-ca-file
  bool tls_verify = true;
  std::string lease_ttl = "15s";
  std::string lease_renew = "5s";
};

// --store, --store-ca-file and --store-no-verify (every command that reads statuses).
void AddStoreOptions(CLI::App& command, StoreArgs& args);
// --lease-ttl and --lease-renew (run, reconcile).
void AddLeaseOptions(CLI::App& command, StoreArgs& args);

// A Redis named by --store, with its password made a secret of the session: one connection
// for the statuses, one for the leases (so a renewal never waits behind a status write).
struct RedisStore {
  std::string where;  // redis://host:port, no password
  std::shared_ptr<providers::redis::SharedRedisConnection> statuses;
  std::shared_ptr<providers::redis::RedisLeases> leases;
};
// nullopt without --store. Errors: a malformed URL (password masked), a CA file refused.
Result<std::optional<RedisStore>> ConnectRedisStore(const StoreArgs& args, Session& session);

// The statuses: in `redis` (fenced by `lease_token` unless read-only), else the state file
// (--state; locked unless `read_only`).
Result<std::unique_ptr<providers::StateStore>> OpenStore(
    const OperatorArgs& args, const std::optional<RedisStore>& redis, bool read_only,
    std::function<std::optional<std::string>(std::string_view)> lease_token = {});

// The log message of a store that cannot be opened: "cannot read the status store" for a Redis
// (its error names it, redis://host:port), "cannot open the state file" for the file.
const char* CannotOpenStore(const std::optional<RedisStore>& redis);

// The lease options of the flags (run: fair share; reconcile: every policy).
Result<app::LeaseOptions> LeaseOptionsOf(const StoreArgs& args, bool fair_share);

// The leases of one `run` or `reconcile` over a Redis store.
struct ReplicaLeases {
  app::MonotonicClock clock;
  std::unique_ptr<metrics::LeaseMetrics> metrics;  // null without a registry
  std::unique_ptr<app::LeaseKeeper> keeper;
};
// `registry`: where the lease metrics go; may be null. The token is NewReplicaToken's.
Result<std::unique_ptr<ReplicaLeases>> MakeLeases(const StoreArgs& args, const RedisStore& redis,
                                                  bool fair_share, Logger& logger,
                                                  prometheus::Registry* registry);

// This process's lease token: host name, process id and random bits, unique per process.
std::string NewReplicaToken();

}  // namespace dynoherd::cli
