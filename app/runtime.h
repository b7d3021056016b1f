// Builds what a pass needs for each policy (its PolicyRuntime): the provider and the latency
// sources. Lives as long as the process, so the pieces worth keeping between passes are kept: one
// Heroku client per API token (its rate-limit budget is the account's), one simulated world per
// sim policy, a source's state (a tailing log session, a drain's window).
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
#include "providers/sources/drain.h"
#include "providers/sources/log_tail.h"
#include "sim/sim_world.h"
#include "spec/policy.h"

namespace dynoherd::app {

using namespace std::chrono_literals;

enum class RunMode {
  kOneShot,  // plan, reconcile: sources read what they can within the pass
  kDaemon,   // run: sources may keep state and connections between passes
};

// What a latency source maker receives: the policy, the formations the source serves, and the
// shared services it may use.
struct SourceContext {
  const spec::Policy& policy;
  std::vector<const spec::FormationSpec*> formations;
  RunMode mode;
  const Clock& clock;
  Logger& logger;
  metrics::Metrics* metrics;                // may be null
  providers::heroku::HerokuClient* heroku;  // null unless the policy's provider is heroku
  sim::SimWorld* sim_world;                 // null unless the policy's provider is sim
};

// Makes the source for one latency kind; registered per spec::LatencySourceKind.
using SourceMaker =
    std::function<Result<std::shared_ptr<providers::LatencySource>>(const SourceContext&)>;

struct RuntimeOptions {
  RunMode mode = RunMode::kOneShot;
  // HEROKU_API_KEY, HEROKU_API_URL, HOME (~/.netrc), DYNOHERD_DRAIN_SECRET,
  // DYNOHERD_PROMETHEUS_TOKEN
  EnvLookup env = ProcessEnvironment();
  int api_reserve = 300;  // --api-reserve
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
  // `clock` drives the simulated worlds too: a ManualClock for `simulate`, a ScaledClock for
  // `run` on the simulator, the system clock otherwise. All references outlive the factory.
  RuntimeFactory(RuntimeOptions options, const Clock& clock, Logger& logger,
                 metrics::Metrics* metrics);
  ~RuntimeFactory();

  // Replaces the maker of one latency source kind (router-logs, prometheus and sim are built in);
  // an empty maker makes the kind unavailable.
  void SetSourceMaker(spec::LatencySourceKind kind, SourceMaker maker);

  // The runtime for `policy`. Heroku policies share a client per token; a sim policy's world is
  // created on first use and kept (rebuilt if its spec.sim changed). Errors: no Heroku token,
  // a latency kind with no maker, an invalid sim spec.
  Result<std::shared_ptr<PolicyRuntime>> Build(const spec::Policy& policy);

  // The simulated world of a sim policy, once built; null otherwise.
  sim::SimWorld* SimWorldFor(const std::string& policy_name);

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
  void RegisterLatencySourceMakers();
  Result<std::shared_ptr<providers::LatencySource>> MakeRouterLogsSource(const SourceContext& ctx);
  Result<std::shared_ptr<providers::LatencySource>> MakePrometheusSource(const SourceContext& ctx);

  RuntimeOptions options_;
  const Clock& clock_;
  Logger& logger_;
  metrics::Metrics* metrics_;
  providers::ProviderObserver observer_;  // what the providers tell, into metrics_
  std::map<spec::LatencySourceKind, SourceMaker> makers_;

  std::mutex mu_;
  std::unique_ptr<providers::heroku::HerokuClient> heroku_;
  std::shared_ptr<providers::Provider> heroku_provider_;
  struct SimEntry {
    spec::SimSpec spec;
    std::string app;
    std::shared_ptr<sim::SimWorld> world;
  };
  std::map<std::string, SimEntry> sims_;
  std::shared_ptr<std::atomic<bool>> shutting_down_ = std::make_shared<std::atomic<bool>>(false);
  SystemSleeper sleeper_;  // the Heroku client's retry waits, cut short by Shutdown
  // Router-log state kept across reloads: one tail per app, one drain window per policy. Tails
  // are stopped before the Heroku client they use goes away.
  std::shared_ptr<providers::sources::LogTailRegistry> tails_ =
      std::make_shared<providers::sources::LogTailRegistry>();
  std::shared_ptr<providers::sources::DrainRegistry> drains_ =
      std::make_shared<providers::sources::DrainRegistry>();
  bool warned_no_drain_secret_ = false;
};

}  // namespace dynoherd::app
