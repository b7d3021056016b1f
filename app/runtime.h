// Builds what a pass needs for each policy (its PolicyRuntime): the provider and the latency
// sources, each made by the maker registered for its kind. Heroku, router logs and Prometheus are
// built in; another platform registers its makers (SetProviderMaker, SetSourceMaker) and keeps
// its own state. Lives as long as the process, so the pieces worth keeping between passes are
// kept: one Heroku client per API token (its rate-limit budget is the account's), a source's
// state (a tailing log session, a drain's window).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "app/listener.h"
#include "app/pass.h"
#include "common/env.h"
#include "common/logging.h"
#include "common/sleeper.h"
#include "common/status.h"
#include "common/time.h"
#include "metrics/metrics.h"
#include "providers/heroku/heroku_client.h"
#include "providers/observer.h"
#include "providers/redis/shared_connection.h"
#include "providers/sources/drain.h"
#include "providers/sources/log_tail.h"
#include "spec/policy.h"

namespace dynoherd::app {

using namespace std::chrono_literals;

enum class RunMode {
  kOneShot,  // plan, reconcile: sources read what they can within the pass
  kDaemon,   // run: sources may keep state and connections between passes
};

// Makes the provider of a policy; registered per spec::ProviderKind. Called with the factory's
// lock held: it must not call back into the factory.
using ProviderMaker =
    std::function<Result<std::shared_ptr<providers::Provider>>(const spec::Policy& policy)>;

// What a latency source maker receives: the policy (whose provider was just made), the formations
// the source serves, and the shared services it may use.
struct SourceContext {
  const spec::Policy& policy;
  std::vector<const spec::FormationSpec*> formations;
  RunMode mode;
  const Clock& clock;
  Logger& logger;
  const providers::ProviderObserver& observer;  // reports for the metrics
};

// Makes the source for one latency kind; registered per spec::LatencySourceKind. Called with the
// factory's lock held, like a ProviderMaker.
using SourceMaker =
    std::function<Result<std::shared_ptr<providers::LatencySource>>(const SourceContext&)>;

struct RuntimeOptions {
  RunMode mode = RunMode::kOneShot;
  // HEROKU_API_KEY, HEROKU_API_URL, HOME (~/.netrc), DYNOHERD_DRAIN_SECRET,
  // DYNOHERD_PROMETHEUS_TOKEN
  EnvLookup env = ProcessEnvironment();
  int api_reserve = 300;  // --api-reserve
  // The Platform API's User-Agent; empty: the client's ("dynoherd/<version>"). Replicas sharing
  // a store add their lease token, so Heroku's logs say which replica sent a write.
  std::string user_agent;
  Duration connect_timeout = 5s;
  Duration request_timeout = 30s;
  // The log tails of `run` (router-logs via session): backoff and bounds. Their window is the
  // widest latency.window of the policies watching the app.
  providers::sources::LogTailOptions log_tail;
  // One log session read in the one-shot commands: bytes and time (the stop flag is the
  // factory's).
  providers::heroku::LogReadLimits log_session_limits;
};

class RuntimeFactory {
 public:
  // `clock` is the passes' (the run environment's); `sleeper` does the waits inside passes, which
  // Shutdown interrupts. `metrics` may be null. All references outlive the factory.
  RuntimeFactory(RuntimeOptions options, const Clock& clock, Sleeper& sleeper, Logger& logger,
                 metrics::Metrics* metrics);
  ~RuntimeFactory();

  // Replace the maker of one provider kind (heroku is built in) or latency source kind
  // (router-logs and prometheus are); an empty maker makes the kind unavailable.
  void SetProviderMaker(spec::ProviderKind kind, ProviderMaker maker);
  void SetSourceMaker(spec::LatencySourceKind kind, SourceMaker maker);

  // The runtime for `policy`. Heroku policies share a client per token. Errors: a kind with no
  // maker, or what its maker says (no Heroku token, an invalid spec).
  Result<std::shared_ptr<PolicyRuntime>> Build(const spec::Policy& policy);

  // The shared Heroku client, once a heroku policy was built; null otherwise (for metrics of
  // the API budget and calls).
  providers::heroku::HerokuClient* HerokuClientForTests();

  // Stops every wait in progress (retry backoff, log reads, log tails) for a prompt shutdown.
  void Shutdown();

  // The handler of the listener's drain route (POST /drains/<policy>) for every policy with
  // `via: drain` built by this factory in daemon mode; mount it with
  // `listener->SetDrainHandler(factory.MakeDrainHandler())`. The password is
  // DYNOHERD_DRAIN_SECRET from the options' env, read once here: unset, every batch is refused
  // (503, with an error logged at most once a minute).
  DrainHandler MakeDrainHandler();

 private:
  Result<providers::heroku::HerokuClient*> HerokuClient();
  void RegisterBuiltInMakers();
  Result<std::shared_ptr<providers::LatencySource>> MakeRouterLogsSource(const SourceContext& ctx);
  Result<std::shared_ptr<providers::LatencySource>> MakePrometheusSource(const SourceContext& ctx);
  Result<std::shared_ptr<providers::LatencySource>> MakeSidekiqSource(const SourceContext& ctx);

  RuntimeOptions options_;
  const Clock& clock_;
  Sleeper& sleeper_;  // the Heroku client's retry waits, cut short by Shutdown
  Logger& logger_;
  providers::ProviderObserver observer_;  // what the providers tell, into the metrics
  std::map<spec::ProviderKind, ProviderMaker> provider_makers_;
  std::map<spec::LatencySourceKind, SourceMaker> source_makers_;

  std::mutex mu_;
  std::unique_ptr<providers::heroku::HerokuClient> heroku_;
  std::shared_ptr<providers::Provider> heroku_provider_;
  std::shared_ptr<std::atomic<bool>> shutting_down_ = std::make_shared<std::atomic<bool>>(false);
  // Router-log state kept across reloads: one tail per app, one drain window per policy. Tails
  // are stopped before the Heroku client they use goes away.
  std::shared_ptr<providers::sources::LogTailRegistry> tails_ =
      std::make_shared<providers::sources::LogTailRegistry>();
  std::shared_ptr<providers::sources::DrainRegistry> drains_ =
      std::make_shared<providers::sources::DrainRegistry>();
  bool warned_no_drain_secret_ = false;
  // One connection per Redis, shared by the Sidekiq formations of every policy naming it; its
  // reconnect waits go through sleeper_, so a shutdown cuts them short.
  providers::redis::RedisConnections redis_connections_;
};

}  // namespace dynoherd::app
