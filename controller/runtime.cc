#include "controller/runtime.h"

#include <condition_variable>

#include "providers/heroku/heroku_provider.h"
#include "providers/sim/sim_latency_source.h"

namespace dynoherd::controller {

// Sleeps that a shutdown can cut short, so SIGTERM never waits out a retry backoff.
class InterruptibleSleeper {
 public:
  explicit InterruptibleSleeper(std::shared_ptr<std::atomic<bool>> stop) : stop_(std::move(stop)) {}
  bool Sleep(Duration d) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, d, [this] { return stop_->load(); });
    return !stop_->load();
  }
  void Wake() {
    std::lock_guard lock(mu_);
    cv_.notify_all();
  }

 private:
  std::shared_ptr<std::atomic<bool>> stop_;
  std::mutex mu_;
  std::condition_variable cv_;
};

namespace {

std::vector<const spec::FormationSpec*> FormationsOfKind(const spec::Policy& policy,
                                                         spec::LatencySourceKind kind) {
  std::vector<const spec::FormationSpec*> out;
  for (const auto& f : policy.formations) {
    if (f.latency && f.latency->source == kind) out.push_back(&f);
  }
  return out;
}

}  // namespace

RuntimeFactory::RuntimeFactory(RuntimeOptions options, const Clock& clock, Logger& logger,
                               metrics::Metrics* metrics)
    : options_(std::move(options)), clock_(clock), logger_(logger), metrics_(metrics) {
  makers_[spec::LatencySourceKind::kSim] =
      [](const SourceContext& ctx) -> Result<std::shared_ptr<providers::LatencySource>> {
    if (!ctx.sim_world) {
      return Status::FailedPrecondition("latency.source sim needs provider sim");
    }
    return std::shared_ptr<providers::LatencySource>(
        std::make_shared<providers::sim::SimLatencySource>(*ctx.sim_world));
  };
}

RuntimeFactory::~RuntimeFactory() = default;

void RuntimeFactory::SetSourceMaker(spec::LatencySourceKind kind, SourceMaker maker) {
  makers_[kind] = std::move(maker);
}

Result<providers::heroku::HerokuClient*> RuntimeFactory::HerokuClient() {
  // REQUIRES: mu_ held.
  if (heroku_) return heroku_.get();
  Result<providers::heroku::HerokuClientOptions> options =
      providers::heroku::HerokuClientOptionsFromEnvironment(options_.env);
  if (!options.ok()) return options.status();
  options->api_reserve = options_.api_reserve;
  options->transport.connect_timeout = options_.connect_timeout;
  options->transport.total_timeout = options_.request_timeout;
  if (metrics_) {
    metrics::Metrics* m = metrics_;
    options->on_response = [m](const std::string& method, int status, std::optional<int> left) {
      m->CountHerokuRequest(method, status);
      if (left) m->SetHerokuRateLimitRemaining(*left);
    };
  }
  auto sleeper = std::make_shared<InterruptibleSleeper>(shutting_down_);
  sleeper_ = sleeper;
  Result<std::unique_ptr<providers::heroku::HerokuClient>> client =
      providers::heroku::HerokuClient::Create(
          std::move(options).value(), clock_, [sleeper](Duration d) { return sleeper->Sleep(d); },
          logger_);
  if (!client.ok()) return client.status();
  heroku_ = std::move(client).value();
  heroku_provider_ = std::make_shared<providers::heroku::HerokuProvider>(*heroku_);
  return heroku_.get();
}

Result<std::shared_ptr<PolicyRuntime>> RuntimeFactory::Build(const spec::Policy& policy) {
  std::lock_guard lock(mu_);
  auto runtime = std::make_shared<PolicyRuntime>();
  providers::heroku::HerokuClient* heroku = nullptr;
  providers::sim::SimWorld* world = nullptr;

  switch (policy.provider) {
    case spec::ProviderKind::kHeroku: {
      Result<providers::heroku::HerokuClient*> client = HerokuClient();
      if (!client.ok()) return client.status();
      heroku = *client;
      runtime->provider = heroku_provider_;
      break;
    }
    case spec::ProviderKind::kSim: {
      if (!policy.sim) return Status::InvalidArgument("provider sim needs spec.sim");
      SimEntry& entry = sims_[policy.name];
      if (!entry.world || !(entry.spec == *policy.sim) || entry.app != policy.app) {
        Duration retention = 10min;
        for (const auto& f : policy.formations) {
          if (f.latency) retention = std::max(retention, f.latency->window);
        }
        providers::sim::SimOptions sim_options;
        sim_options.latency_retention = retention;
        Result<std::unique_ptr<providers::sim::SimWorld>> created =
            providers::sim::SimWorld::Create(policy.app, *policy.sim, clock_, sim_options);
        if (!created.ok()) return created.status().WithContext("policy " + policy.name);
        entry = {*policy.sim, policy.app, std::move(created).value()};
      }
      world = entry.world.get();
      runtime->provider = entry.world;
      break;
    }
  }

  for (spec::LatencySourceKind kind :
       {spec::LatencySourceKind::kRouterLogs, spec::LatencySourceKind::kPrometheus,
        spec::LatencySourceKind::kSim}) {
    std::vector<const spec::FormationSpec*> formations = FormationsOfKind(policy, kind);
    if (formations.empty()) continue;
    auto maker = makers_.find(kind);
    if (maker == makers_.end()) {
      return Status::FailedPrecondition("latency.source " + std::string(spec::Name(kind)) +
                                        " is not available in this build");
    }
    SourceContext ctx{policy, formations, options_.mode, clock_, logger_, metrics_, heroku, world};
    Result<std::shared_ptr<providers::LatencySource>> source = maker->second(ctx);
    if (!source.ok()) {
      return source.status().WithContext("policy " + policy.name + ": latency.source " +
                                         std::string(spec::Name(kind)));
    }
    PolicyRuntime::SourceBinding binding{std::move(source).value(), {}};
    for (const auto* f : formations)
      binding.formations.push_back(f->type);
    runtime->sources.push_back(std::move(binding));
  }
  return runtime;
}

providers::sim::SimWorld* RuntimeFactory::SimWorldFor(const std::string& policy_name) {
  std::lock_guard lock(mu_);
  auto it = sims_.find(policy_name);
  return it == sims_.end() ? nullptr : it->second.world.get();
}

providers::heroku::HerokuClient* RuntimeFactory::HerokuClientForTests() {
  std::lock_guard lock(mu_);
  return heroku_.get();
}

void RuntimeFactory::Shutdown() {
  shutting_down_->store(true);
  std::shared_ptr<InterruptibleSleeper> sleeper;
  {
    std::lock_guard lock(mu_);
    sleeper = sleeper_;
  }
  if (sleeper) sleeper->Wake();
}

}  // namespace dynoherd::controller
