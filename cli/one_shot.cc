#include "cli/one_shot.h"

#include <cstdio>
#include <map>

#include "app/leased_passes.h"
#include "app/one_shot.h"
#include "app/report.h"
#include "cli/commands.h"
#include "cli/simulator.h"
#include "common/sleeper.h"
#include "providers/atomic_file.h"
#include "providers/pushgateway.h"

namespace dynoherd::cli {

namespace {

// The wall clock moved by a fixed offset once the simulated worlds exist: they start at the wall
// time and are then asked about `--sim-at` later.
class ShiftedClock final : public Clock {
 public:
  explicit ShiftedClock(const Clock& base) : base_(base) {}
  TimePoint Now() const override { return base_.Now() + offset_; }
  void Shift(Duration offset) { offset_ = offset; }

 private:
  const Clock& base_;
  Duration offset_{0};
};

// Writes and pushes the metrics of the run; false when either failed (already logged).
bool ExportMetrics(const OneShotArgs& args, const metrics::Metrics& metrics, Session& session) {
  const std::string text = session.Redact(metrics.Serialize());
  bool ok = true;
  if (!args.metrics_file.empty()) {
    Status s = providers::WriteFileAtomically(args.metrics_file, text, 0644, "metrics file");
    if (s.ok()) {
      session.logger().Debug("metrics written", {{"file", args.metrics_file}});
    } else {
      session.logger().Error("writing the metrics file failed", {{"error", s.message()}});
      ok = false;
    }
  }
  if (!args.pushgateway.empty()) {
    providers::PushgatewayTarget target;
    target.url = args.pushgateway;
    target.instance = args.pushgateway_instance;
    target.timeout = *ParseDuration(args.pushgateway_timeout);
    Status s = providers::PushMetrics(target, text);
    if (s.ok()) {
      session.logger().Debug("metrics pushed",
                             {{"pushgateway", providers::HostOfUrl(args.pushgateway)}});
    } else {
      session.logger().Error("pushing the metrics failed", {{"error", s.message()}});
      ok = false;
    }
  }
  return ok;
}

// The Pushgateway flags, checked; its password becomes a secret of the session. Logs the error.
bool CheckPushgateway(const OneShotArgs& args, Session& session) {
  if (args.pushgateway.empty()) return true;
  session.AddSecret(providers::PushgatewayPassword(args.pushgateway));
  for (Status s : {providers::ValidatePushgatewayUrl(args.pushgateway),
                   providers::ValidatePushgatewayInstance(args.pushgateway_instance)}) {
    if (!s.ok()) {
      session.logger().Error("invalid flag", {{"error", s.message()}});
      return false;
    }
  }
  return true;
}

// --sim-at, which only sim policies take; a time past a scenario's end is allowed (its world goes
// on with base traffic) but said. nullopt after logging the error.
std::optional<Duration> SimAt(const OneShotArgs& args, const std::vector<spec::Policy>& policies,
                              Logger& log) {
  Result<Duration> sim_at = ParseDuration(args.sim_at);
  if (!sim_at.ok()) {
    log.Error("invalid flag", {{"error", sim_at.status().WithContext("--sim-at").message()}});
    return std::nullopt;
  }
  if (sim_at->count() == 0) return *sim_at;
  for (const spec::Policy& policy : policies) {
    if (policy.provider != spec::ProviderKind::kSim) {
      log.Error("invalid flag",
                {{"error", "--sim-at applies to provider: sim policies only; " + policy.name +
                               " is provider " + std::string(spec::Name(policy.provider))}});
      return std::nullopt;
    }
    if (policy.sim && *sim_at > policy.sim->duration) {
      log.Warn("--sim-at is past the end of the scenario: no incident happens after it",
               {{"policy", policy.name},
                {"simAt", FormatDuration(*sim_at)},
                {"simDuration", FormatDuration(policy.sim->duration)}});
    }
  }
  return *sim_at;
}

// The store; `plan` only looks, so it may run while a reconcile or the daemon holds the lock.
std::unique_ptr<providers::StateStore> OpenState(
    const OneShotArgs& args, const std::optional<RedisStore>& redis, const ReplicaLeases* leases,
    Logger& log) {
  Result<std::unique_ptr<providers::StateStore>> store = OpenStore(
      args.common, redis, !args.apply,
      leases ? [keeper = leases->keeper.get()](std::string_view p) { return keeper->TokenFor(p); }
             : std::function<std::optional<std::string>(std::string_view)>());
  if (!store.ok()) {
    log.Error(CannotOpenStore(redis), {{"error", store.status().message()}});
    return nullptr;
  }
  return std::move(store).value();
}

// Takes the lease of every policy (reconcile with --store) and keeps renewing them. Removes from
// `policies` those another dynoherd holds, each logged; `held_elsewhere` counts them. Null after
// logging an error.
std::unique_ptr<ReplicaLeases> TakeLeases(const OneShotArgs& args, const RedisStore& redis,
                                          std::vector<spec::Policy>& policies,
                                          int& held_elsewhere, Logger& log) {
  Result<std::unique_ptr<ReplicaLeases>> leases =
      MakeLeases(args.store, redis, /*fair_share=*/false, log, nullptr);
  if (!leases.ok()) {
    log.Error("invalid flag", {{"error", leases.status().message()}});
    return nullptr;
  }
  app::LeaseKeeper& keeper = *(*leases)->keeper;
  std::vector<std::string> names;
  for (const spec::Policy& p : policies)
    names.push_back(p.name);
  keeper.SetPolicies(names);
  app::LeaseKeeper::TickOutcome taken = keeper.Tick();
  if (!taken.error.ok()) {
    log.Error("cannot take the leases", {{"store", redis.where}, {"error", taken.error.message()}});
    keeper.ReleaseAll();
    return nullptr;
  }
  std::map<std::string, std::string> holders;
  for (const app::LeaseView& view : keeper.Views())
    holders[view.policy] = view.holder;
  std::erase_if(policies, [&](const spec::Policy& p) {
    if (keeper.Holds(p.name)) return false;
    ++held_elsewhere;
    log.Error("another dynoherd holds the lease of the policy: not reconciled",
              {{"policy", p.name}, {"holder", holders[p.name]}});
    return true;
  });
  keeper.Start({});
  return std::move(leases).value();
}

}  // namespace

void AddSimAtOption(CLI::App& command, OneShotArgs& args) {
  command
      .add_option("--sim-at", args.sim_at,
                  "provider: sim policies only: look at the simulated world this long after its "
                  "start (e.g. 5m; default 0s, a fresh world whose web dynos have served nothing "
                  "yet)")
      ->type_name("DURATION")
      ->check(DurationValidator(/*allow_zero=*/true));
}

int RunOneShot(const OneShotArgs& args, const EnvLookup& env) {
  Session session(args.common, env);
  Logger& log = session.logger();
  if (!CheckPushgateway(args, session)) return kExitError;
  std::optional<std::vector<spec::Policy>> policies = LoadPolicies(args.common.files, session);
  if (!policies) return kExitError;
  Result<std::optional<RedisStore>> redis = ConnectRedisStore(args.store, session);
  if (!redis.ok()) {
    log.Error("invalid flag", {{"error", redis.status().message()}});
    return kExitError;
  }
  int held_elsewhere = 0;
  std::unique_ptr<ReplicaLeases> leases;
  if (*redis && args.apply) {
    leases = TakeLeases(args, **redis, *policies, held_elsewhere, log);
    if (!leases) return kExitError;
  }
  std::unique_ptr<providers::StateStore> store = OpenState(args, *redis, leases.get(), log);
  if (!store) return kExitError;
  Result<app::RuntimeOptions> runtime_options = RuntimeOptionsOf(args.common, env);
  if (!runtime_options.ok()) {
    log.Error("invalid flag", {{"error", runtime_options.status().message()}});
    return kExitError;
  }
  std::optional<Duration> sim_at = SimAt(args, *policies, log);
  if (!sim_at) return kExitError;

  const bool export_metrics = !args.metrics_file.empty() || !args.pushgateway.empty();
  std::optional<metrics::Metrics> metrics;
  if (export_metrics) metrics.emplace(DYNOHERD_VERSION);
  metrics::Metrics* metrics_ptr = metrics ? &*metrics : nullptr;

  ShiftedClock clock(session.clock());
  SystemSleeper sleeper;
  app::RuntimeFactory factory(std::move(runtime_options).value(), clock, sleeper, log, metrics_ptr);
  RegisterSimulator(factory, clock);
  if (sim_at->count() > 0) {
    // Create the worlds now; the factory keeps them, and RunPasses reports any error.
    for (const spec::Policy& policy : *policies)
      (void)factory.Build(policy);
    clock.Shift(*sim_at);
  }
  app::RuntimeWrapper fence;
  if (leases) {
    fence = [keeper = leases->keeper.get()](const spec::Policy& policy,
                                            const std::shared_ptr<app::PolicyRuntime>& runtime) {
      return app::FencedRuntime(*runtime, *keeper, policy.name);
    };
  }
  std::vector<app::PassResult> results =
      app::RunPasses(*policies, factory, *store, args.apply, clock, log, metrics_ptr, fence);
  if (leases) {
    leases->keeper->Stop();
    leases->keeper->ReleaseAll();
  }

  const std::string out = args.common.output == "json"
                              ? app::PassResultsJson(results, *policies, !args.apply).dump(2) + "\n"
                              : app::RenderPasses(results, args.apply ? app::RenderMode::kApplied
                                                                      : app::RenderMode::kPlan);
  const bool printed = PrintRedacted(session, out);
  if (metrics) ExportMetrics(args, *metrics, session);

  const app::PassTotals totals = app::Totals(results);
  if (totals.failed_policies > 0 || !printed) return kExitError;
  if (held_elsewhere > 0) return kExitLeaseHeld;
  if (!args.apply && totals.planned > 0) return kExitChanges;
  if (totals.unknown_policies > 0) return kExitOutcomeUnknown;
  return kExitOk;
}

}  // namespace dynoherd::cli
