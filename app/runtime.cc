#include "app/runtime.h"

#include <set>

#include "providers/heroku/heroku_provider.h"
#include "providers/sources/log_session_source.h"
#include "providers/sources/prometheus_source.h"
#include "providers/sources/router_log_common.h"
#include "providers/sources/router_logs_source.h"
#include "providers/sources/sidekiq_source.h"

namespace dynoherd::app {

namespace {

std::vector<const spec::FormationSpec*> FormationsOfKind(const spec::Policy& policy,
                                                         spec::LatencySourceKind kind) {
  std::vector<const spec::FormationSpec*> out;
  for (const auto& f : policy.formations) {
    if (f.latency && f.latency->source == kind) out.push_back(&f);
  }
  return out;
}

// The providers' reports as metrics; nothing is told without metrics.
providers::ProviderObserver ObserverFor(metrics::Metrics* metrics) {
  providers::ProviderObserver observer;
  if (!metrics) return observer;
  observer.heroku_response = [metrics](const std::string& method, int status,
                                       std::optional<int> remaining) {
    metrics->CountHerokuRequest(method, status);
    if (remaining) metrics->SetHerokuRateLimitRemaining(*remaining);
  };
  observer.router_lines = [metrics](latency::LineKind kind, int64_t n) {
    metrics->CountRouterLines(kind == latency::LineKind::kRouter    ? "parsed"
                              : kind == latency::LineKind::kIgnored ? "ignored"
                                                                    : "malformed",
                              static_cast<uint64_t>(n));
  };
  return observer;
}

constexpr const char* kDrainSecretVariable = "DYNOHERD_DRAIN_SECRET";
// A Prometheus query that takes longer holds the pass; the daemon's shutdown cannot cut it short.
constexpr Duration kPrometheusTimeout = 10s;
// Reading a formation's queues is one small round trip; a Redis slower than this is as good as
// down.
constexpr Duration kRedisTimeout = 5s;

}  // namespace

RuntimeFactory::RuntimeFactory(RuntimeOptions options, const Clock& clock, Sleeper& sleeper,
                               Logger& logger, metrics::Metrics* metrics)
    : options_(std::move(options)),
      clock_(clock),
      sleeper_(sleeper),
      logger_(logger),
      observer_(ObserverFor(metrics)),
      redis_connections_(providers::redis::RedisConnectionOptions{
          .connect_timeout = options_.connect_timeout,
          .io_timeout = std::min(options_.request_timeout, kRedisTimeout),
          .sleeper = &sleeper,
          .logger = &logger}) {
  RegisterBuiltInMakers();
}

RuntimeFactory::~RuntimeFactory() {
  // Tails read through the Heroku client; they end before it does.
  tails_->StopAll();
}

void RuntimeFactory::RegisterBuiltInMakers() {
  provider_makers_[spec::ProviderKind::kHeroku] =
      [this](const spec::Policy&) -> Result<std::shared_ptr<providers::Provider>> {
    Result<providers::heroku::HerokuClient*> client = HerokuClient();
    if (!client.ok()) return client.status();
    return heroku_provider_;
  };
  source_makers_[spec::LatencySourceKind::kRouterLogs] = [this](const SourceContext& ctx) {
    return MakeRouterLogsSource(ctx);
  };
  source_makers_[spec::LatencySourceKind::kPrometheus] = [this](const SourceContext& ctx) {
    return MakePrometheusSource(ctx);
  };
  source_makers_[spec::LatencySourceKind::kSidekiq] = [this](const SourceContext& ctx) {
    return MakeSidekiqSource(ctx);
  };
}

Result<std::shared_ptr<providers::LatencySource>> RuntimeFactory::MakeRouterLogsSource(
    const SourceContext& ctx) {
  namespace sources = providers::sources;
  if (ctx.policy.provider != spec::ProviderKind::kHeroku) {
    return Status::FailedPrecondition("latency.source router-logs needs provider heroku");
  }
  Result<providers::heroku::HerokuClient*> heroku = HerokuClient();  // made with the provider
  if (!heroku.ok()) return heroku.status();
  providers::heroku::HerokuClient& client = **heroku;
  std::vector<const spec::FormationSpec*> by_session;
  std::vector<const spec::FormationSpec*> by_drain;
  for (const auto* f : ctx.formations) {
    (f->latency->via == spec::RouterLogsVia::kDrain ? by_drain : by_session).push_back(f);
  }
  const std::string& app = ctx.policy.app;

  std::shared_ptr<providers::LatencySource> session;
  if (!by_session.empty() && ctx.mode == RunMode::kOneShot) {
    sources::LogSessionOptions options;
    options.limits = options_.log_session_limits;
    options.limits.stop = shutting_down_.get();
    session = std::make_shared<sources::LogSessionSource>(client, app, options, logger_,
                                                          observer_.router_lines);
  } else if (!by_session.empty()) {
    Status failed;
    std::shared_ptr<sources::LogTail> tail =
        tails_->Acquire(app, sources::WidestWindow(by_session),
                        [&](Duration window) -> std::shared_ptr<sources::LogTail> {
                          sources::LogTailOptions options = options_.log_tail;
                          options.window = window;
                          auto started = sources::LogTail::Start(client, app, options, clock_,
                                                                 logger_, observer_.router_lines);
                          if (!started.ok()) {
                            failed = started.status();
                            return nullptr;
                          }
                          return std::move(started).value();
                        });
    if (!tail) return failed;
    session = std::make_shared<sources::LogTailSource>(std::move(tail));
  }

  std::shared_ptr<providers::LatencySource> drain;
  if (!by_drain.empty() && ctx.mode == RunMode::kOneShot) {
    const std::string reason = "via: drain needs `dynoherd run` to receive the drain";
    drain = std::make_shared<sources::UnknownLatencySource>(reason);
    logger_.Warn("latency unknown: " + reason, {{"policy", ctx.policy.name}});
  } else if (!by_drain.empty()) {
    Result<std::shared_ptr<sources::DrainInbox>> inbox =
        drains_->Acquire(ctx.policy.name, sources::WidestWindow(by_drain));
    if (!inbox.ok()) return inbox.status();
    drain = std::make_shared<sources::DrainSource>(std::move(inbox).value(), ctx.policy.name);
    std::optional<std::string> secret = options_.env(kDrainSecretVariable);
    if ((!secret || secret->empty()) && !warned_no_drain_secret_) {
      warned_no_drain_secret_ = true;
      logger_.Error("DYNOHERD_DRAIN_SECRET is not set: the drain route refuses every batch",
                    {{"policy", ctx.policy.name},
                     {"fix", "set it and add the drain as https://user:SECRET@HOST/drains/" +
                                 ctx.policy.name}});
    }
  }

  if (!drain) return session;
  if (!session) return drain;
  return std::shared_ptr<providers::LatencySource>(
      std::make_shared<sources::RouterLogsSource>(std::move(session), std::move(drain)));
}

Result<std::shared_ptr<providers::LatencySource>> RuntimeFactory::MakePrometheusSource(
    const SourceContext& ctx) {
  providers::sources::PrometheusOptions options;
  options.transport.connect_timeout = options_.connect_timeout;
  options.transport.total_timeout = std::min(options_.request_timeout, kPrometheusTimeout);
  options.bearer_token = options_.env("DYNOHERD_PROMETHEUS_TOKEN");
  auto created = providers::sources::PrometheusSource::Create(ctx.formations, options, logger_);
  if (!created.ok()) return created.status();
  return std::shared_ptr<providers::LatencySource>(std::move(created).value());
}

Result<std::shared_ptr<providers::LatencySource>> RuntimeFactory::MakeSidekiqSource(
    const SourceContext& ctx) {
  return std::shared_ptr<providers::LatencySource>(providers::sources::SidekiqSource::Create(
      ctx.formations, redis_connections_,
      /*reads_across_passes=*/ctx.mode == RunMode::kDaemon));
}

DrainHandler RuntimeFactory::MakeDrainHandler() {
  providers::sources::DrainReceiverOptions options;
  options.secret = options_.env(kDrainSecretVariable);
  auto receiver = std::make_shared<providers::sources::DrainReceiver>(
      drains_, std::move(options), clock_, logger_, observer_.router_lines);
  return [receiver](const DrainRequest& request) {
    providers::sources::DrainReply reply =
        receiver->Handle(request.policy, request.headers, request.body, request.remote_address);
    return DrainResponse{reply.status, std::move(reply.body)};
  };
}

void RuntimeFactory::SetProviderMaker(spec::ProviderKind kind, ProviderMaker maker) {
  std::lock_guard lock(mu_);
  provider_makers_[kind] = std::move(maker);
}

void RuntimeFactory::SetSourceMaker(spec::LatencySourceKind kind, SourceMaker maker) {
  std::lock_guard lock(mu_);
  source_makers_[kind] = std::move(maker);
}

SourceMaker RuntimeFactory::SourceMakerOf(spec::LatencySourceKind kind) {
  std::lock_guard lock(mu_);
  auto it = source_makers_.find(kind);
  return it == source_makers_.end() ? SourceMaker{} : it->second;
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
  if (!options_.user_agent.empty()) options->transport.user_agent = options_.user_agent;
  options->on_response = observer_.heroku_response;
  Result<std::unique_ptr<providers::heroku::HerokuClient>> client =
      providers::heroku::HerokuClient::Create(std::move(options).value(), clock_, &sleeper_,
                                              logger_);
  if (!client.ok()) return client.status();
  heroku_ = std::move(client).value();
  heroku_provider_ = std::make_shared<providers::heroku::HerokuProvider>(*heroku_);
  return heroku_.get();
}

Result<std::shared_ptr<PolicyRuntime>> RuntimeFactory::Build(const spec::Policy& policy) {
  std::lock_guard lock(mu_);
  auto runtime = std::make_shared<PolicyRuntime>();
  auto provider_maker = provider_makers_.find(policy.provider);
  if (provider_maker == provider_makers_.end() || !provider_maker->second) {
    return Status::FailedPrecondition("provider " + std::string(spec::Name(policy.provider)) +
                                      " is not available in this build");
  }
  Result<std::shared_ptr<providers::Provider>> provider = provider_maker->second(policy);
  if (!provider.ok()) return provider.status();
  runtime->provider = std::move(provider).value();

  std::set<spec::LatencySourceKind> kinds;  // in the order of the enum
  for (const auto& f : policy.formations) {
    if (f.latency) kinds.insert(f.latency->source);
  }
  for (spec::LatencySourceKind kind : kinds) {
    std::vector<const spec::FormationSpec*> formations = FormationsOfKind(policy, kind);
    auto maker = source_makers_.find(kind);
    if (maker == source_makers_.end() || !maker->second) {
      return Status::FailedPrecondition("latency.source " + std::string(spec::Name(kind)) +
                                        " is not available in this build");
    }
    SourceContext ctx{policy, formations, options_.mode, clock_, logger_, observer_};
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

providers::heroku::HerokuClient* RuntimeFactory::HerokuClientForTests() {
  std::lock_guard lock(mu_);
  return heroku_.get();
}

void RuntimeFactory::Shutdown() {
  shutting_down_->store(true);
  sleeper_.Interrupt();
  tails_->RequestStopAll();
}

}  // namespace dynoherd::app
