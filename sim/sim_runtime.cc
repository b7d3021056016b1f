#include "sim/sim_runtime.h"

#include <algorithm>

#include "sim/sim_latency_source.h"

namespace dynoherd::sim {

using namespace std::chrono_literals;

Result<std::shared_ptr<SimWorld>> SimWorlds::Acquire(const spec::Policy& policy) {
  if (!policy.sim) return Status::InvalidArgument("provider sim needs spec.sim");
  std::lock_guard lock(mu_);
  Entry& entry = entries_[policy.name];
  if (!entry.world || !(entry.spec == *policy.sim) || entry.app != policy.app) {
    // The world keeps latencies as far back as the widest window asks.
    Duration retention = 10min;
    for (const auto& f : policy.formations) {
      if (f.latency) retention = std::max(retention, f.latency->window);
    }
    SimOptions options;
    options.latency_retention = retention;
    Result<std::unique_ptr<SimWorld>> created =
        SimWorld::Create(policy.app, *policy.sim, clock_, options);
    if (!created.ok()) return created.status().WithContext("policy " + policy.name);
    entry = {*policy.sim, policy.app, std::move(created).value()};
  }
  return entry.world;
}

SimWorld* SimWorlds::Find(const std::string& policy_name) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(policy_name);
  return it == entries_.end() ? nullptr : it->second.world.get();
}

void RegisterSimulator(app::RuntimeFactory& factory, std::shared_ptr<SimWorlds> worlds) {
  factory.SetProviderMaker(
      spec::ProviderKind::kSim,
      [worlds](const spec::Policy& policy) -> Result<std::shared_ptr<providers::Provider>> {
        Result<std::shared_ptr<SimWorld>> world = worlds->Acquire(policy);
        if (!world.ok()) return world.status();
        return std::shared_ptr<providers::Provider>(std::move(world).value());
      });
  factory.SetSourceMaker(
      spec::LatencySourceKind::kSim,
      [worlds](const app::SourceContext& ctx) -> Result<std::shared_ptr<providers::LatencySource>> {
        // The provider was made first: a sim policy's world is there.
        SimWorld* world = ctx.policy.provider == spec::ProviderKind::kSim
                              ? worlds->Find(ctx.policy.name)
                              : nullptr;
        if (!world) return Status::FailedPrecondition("latency.source sim needs provider sim");
        return std::shared_ptr<providers::LatencySource>(
            std::make_shared<SimLatencySource>(*world));
      });
  // A sim policy's sidekiq formations read the simulated queue; any other policy's go to Redis.
  factory.SetSourceMaker(
      spec::LatencySourceKind::kSidekiq,
      [worlds, redis = factory.SourceMakerOf(spec::LatencySourceKind::kSidekiq)](
          const app::SourceContext& ctx) -> Result<std::shared_ptr<providers::LatencySource>> {
        if (ctx.policy.provider != spec::ProviderKind::kSim) {
          if (!redis) return Status::FailedPrecondition("latency.source sidekiq is unavailable");
          return redis(ctx);
        }
        SimWorld* world = worlds->Find(ctx.policy.name);
        if (!world) return Status::FailedPrecondition("provider sim: no simulated world");
        return std::shared_ptr<providers::LatencySource>(
            std::make_shared<SimLatencySource>(*world));
      });
}

}  // namespace dynoherd::sim
