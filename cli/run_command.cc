// `dynoherd run -f PATH...`: the daemon. Wires the loop (app/daemon.h), the listener
// (app/listener.h), signals and the state file around the run environment the policies call for
// (app/run_environment.h: the wall clock, or the simulator's, chosen in cli/simulator.cc).
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "app/daemon.h"
#include "app/leased_passes.h"
#include "app/listener.h"
#include "app/live_page.h"
#include "app/pass.h"
#include "app/run_environment.h"
#include "app/runtime.h"
#include "app/status_page.h"
#include "app/store_outage.h"
#include "cli/commands.h"
#include "cli/operator_options.h"
#include "cli/policy_files.h"
#include "cli/simulator.h"
#include "cli/store_options.h"
#include "common/env.h"
#include "common/logging.h"
#include "metrics/metrics.h"
#include "metrics/process_metrics.h"
#include "model/status.h"
#include "providers/policy_watcher.h"
#include "providers/state_store.h"

namespace dynoherd::cli {

namespace {

using namespace std::chrono_literals;
using app::Daemon;

struct RunArgs {
  OperatorArgs common;
  std::string listen = "127.0.0.1:9790";
  std::string shutdown_grace = "8s";  // DaemonOptions::shutdown_grace
  std::string request_timeout = "10s";  // ListenerOptions::request_deadline
  bool no_watch = false;                // reload the -f paths only on SIGHUP, not on a change
  StoreArgs store;
};

// SIGTERM, SIGINT and SIGHUP are blocked in every thread and taken by one thread with sigwait, so
// the handlers are ordinary code (no async-signal-safety constraints). Construct it before any
// other thread starts: threads inherit the mask.
class SignalWatcher {
 public:
  SignalWatcher() {
    sigemptyset(&set_);
    for (int s : {SIGTERM, SIGINT, SIGHUP, kQuit})
      sigaddset(&set_, s);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a client gone mid-answer is an error value, not a death
  }
  ~SignalWatcher() { Stop(); }

  void Watch(Daemon& daemon) {
    thread_ = std::thread([this, &daemon] {
      for (;;) {
        int signal = 0;
        if (sigwait(&set_, &signal) != 0) continue;
        if (signal == kQuit) {
          if (done_) return;
          continue;  // not ours: someone sent SIGUSR2 from outside
        }
        if (signal == SIGHUP) {
          daemon.RequestReload();
        } else {
          daemon.RequestStop(signal == SIGTERM ? "SIGTERM" : "SIGINT");
        }
      }
    });
  }

  void Stop() {
    if (!thread_.joinable()) return;
    done_ = true;
    pthread_kill(thread_.native_handle(), kQuit);
    thread_.join();
  }

 private:
  static constexpr int kQuit = SIGUSR2;
  sigset_t set_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// A state file of its own for a run whose world starts with it, removed at exit: yesterday's
// status would only mislead, and two such runs never share a lock.
class TemporaryStateDir {
 public:
  Result<std::string> Create() {
    std::string pattern = (std::filesystem::temp_directory_path() / "dynoherd-sim-XXXXXX").string();
    if (!mkdtemp(pattern.data())) {
      return Status::FailedPrecondition("cannot create a temporary directory for the sim state");
    }
    dir_ = pattern;
    return (std::filesystem::path(dir_) / "state.json").string();
  }
  ~TemporaryStateDir() {
    if (dir_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

 private:
  std::string dir_;
};

// The located errors LoadPoliciesOrReport writes, on one line for a log field.
std::string OneLine(const std::string& text) {
  std::string out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    if (!out.empty()) out += "; ";
    out += line;
  }
  return out;
}

bool ReadsStdin(const PolicyFileArgs& files) {
  for (const auto& p : files.paths) {
    if (p == "-") return true;
  }
  return false;
}

// The state file at `path`, locked. A world that starts with the run has no history: the
// policies' saved statuses are dropped.
Result<std::unique_ptr<providers::StateStore>> OpenRunState(
    const std::string& path, const app::RunEnvironment& run,
    const std::vector<spec::Policy>& policies) {
  Result<std::unique_ptr<providers::StateStore>> store = providers::StateStore::Open(path);
  if (store.ok() && run.fresh_world) {
    for (const auto& p : policies)
      (*store)->Remove(p.name);
  }
  return store;
}

// With --store: the leases of the policies, and the replica's token in the Platform API's
// User-Agent (Heroku's logs, and the fake's records in tests, tell the replicas apart).
Result<std::unique_ptr<ReplicaLeases>> RunLeases(const RunArgs& args, const RedisStore& redis,
                                                 const std::vector<spec::Policy>& policies,
                                                 Logger& logger, metrics::Metrics& metrics,
                                                 app::RuntimeOptions& runtime_options) {
  Result<std::unique_ptr<ReplicaLeases>> leases =
      MakeLeases(args.store, redis, /*fair_share=*/true, logger, metrics.registry().get());
  if (!leases.ok()) return leases;
  std::vector<std::string> names;
  for (const spec::Policy& p : policies)
    names.push_back(p.name);
  (*leases)->keeper->SetPolicies(std::move(names));
  runtime_options.user_agent =
      std::string("dynoherd/") + DYNOHERD_VERSION + " (replica " + (*leases)->keeper->token() + ")";
  return leases;
}

// The lease rounds, once the daemon started: a lease taken makes its policy due at once; a round
// that cannot reach the store shows every policy Degraded until one does.
void StartLeases(app::LeaseKeeper& keeper, Daemon& daemon, app::StoreOutage& outage,
                 const std::string& store, Logger& logger) {
  logger.Info("sharing the policies through the store",
              {{"replica", keeper.token()},
               {"store", store},
               {"leaseTtl", FormatDuration(keeper.options().ttl)},
               {"leaseRenew", FormatDuration(keeper.options().renew_interval)}});
  keeper.Start([&daemon, &outage](const app::LeaseKeeper::TickOutcome& round) {
    for (const std::string& policy : round.acquired)
      daemon.PassSoon(policy);
    outage.Update(round.error, daemon.Snapshot());
  });
}

// What the daemon calls: the pass, the runtimes, reloads of the same -f paths (which the
// environment may refuse), and the environment's own hooks.
app::DaemonHooks MakeHooks(const RunArgs& args, const app::RunEnvironment& run,
                           app::PassRunner& runner, app::RuntimeFactory& factory) {
  app::DaemonHooks hooks;
  hooks.pass = [&runner](const spec::Policy& policy, app::PolicyRuntime& runtime,
                         const model::PolicyStatus* previous, std::mt19937_64& rng,
                         const app::SaveStatus& save_first) {
    return runner.Run(policy, runtime, previous, rng,
                      {.apply = true, .save_first = save_first});
  };
  hooks.build_runtime = [&factory](const spec::Policy& policy) { return factory.Build(policy); };
  hooks.load_policies = [&args, &run]() -> Result<std::vector<spec::Policy>> {
    if (ReadsStdin(args.common.files)) {
      return Status::FailedPrecondition(
          "the policies came from standard input, which cannot be read again; restart dynoherd "
          "to change them");
    }
    std::ostringstream errors;
    std::istringstream no_stdin;
    auto loaded = LoadPoliciesOrReport(args.common.files, errors, no_stdin);
    if (!loaded) return Status::InvalidArgument(OneLine(errors.str()));
    if (run.check_reload) {
      if (Status s = run.check_reload(*loaded); !s.ok()) return s;
    }
    return std::move(loaded).value();
  };
  hooks.interrupt_passes = [&factory] { factory.Shutdown(); };
  hooks.tick = run.tick;
  hooks.on_pass = run.on_pass;
  hooks.seed = run.seed;
  return hooks;
}

// Reloads the -f paths when their contents change on disk (a ConfigMap synced by Argo CD or
// Flux, a file edited in place) through the daemon's one reload path, as SIGHUP does.
std::unique_ptr<providers::PolicyWatcher> WatchPolicyFiles(const RunArgs& args, Daemon& daemon,
                                                           Logger& logger) {
  if (args.no_watch || ReadsStdin(args.common.files)) return nullptr;
  auto watcher = providers::PolicyWatcher::Start(
      args.common.files.paths, {}, [&daemon, &logger](const std::string& changed) {
        logger.Info("policy files changed on disk; reloading", {{"paths", changed}});
        daemon.RequestReload();
      });
  if (!watcher.ok()) {
    logger.Warn("policy files are not watched; reload them with SIGHUP",
                {{"error", watcher.status().message()}});
    return nullptr;
  }
  return std::move(watcher).value();
}

// The listener on --listen, or on a free port when that is taken and the environment allows it.
// `state_path` is what /status shows as the state file (nullopt: a temporary one).
Result<std::unique_ptr<app::Listener>> StartListener(app::ListenerOptions options,
                                                     const app::RunEnvironment& run,
                                                     app::Daemon& daemon,
                                                     const metrics::Metrics& metrics,
                                                     std::optional<std::string> state_path,
                                                     const app::LeaseKeeper* keeper,
                                                     const app::StoreOutage* outage) {
  app::ListenerSources sources;
  // The process_* families only here: a one-shot's (reconcile --metrics-file) would be noise.
  sources.metrics_text = [&metrics, process = metrics::ProcessMetrics()] {
    return metrics.Serialize() + process.Serialize();
  };
  sources.readiness = [&daemon, keeper] {
    return keeper ? app::LeaseReadiness(daemon.Ready(), *keeper) : daemon.Ready();
  };
  // What the daemon knows, with the Degraded condition of a store out of reach.
  auto snapshot = [&daemon, outage] {
    return outage ? outage->Mark(daemon.Snapshot()) : daemon.Snapshot();
  };
  sources.status_json = [&daemon, state_path, keeper, snapshot] {
    std::string json = app::StatusJson(snapshot(), state_path, daemon.Now());
    return keeper ? app::StatusJsonWithLeases(json, *keeper) : json;
  };
  sources.live_page = [&daemon, snapshot] { return app::RenderLivePage(snapshot(), daemon.Now()); };
  const std::string listen = options.address;
  auto listener = app::Listener::Start(options, sources, *run.logger);
  if (!listener.ok() && listener.status().code() == Status::Code::kUnavailable &&
      run.if_port_taken) {
    Result<app::ListenAddress> wanted = app::ParseListenAddress(listen);
    options.address = app::ListenAddress{wanted->host, 0}.ToString();
    run.logger->Warn(*run.if_port_taken, {{"wanted", wanted->ToString()}});
    listener = app::Listener::Start(options, sources, *run.logger);
  }
  return listener;
}

// The start line: what runs, where it listens, where its state is.
void LogRunning(const RunArgs& args, const app::RunEnvironment& run,
                const app::ListenAddress& bound, const std::string& state_path,
                int64_t policy_count) {
  LogFields fields{
      {"version", DYNOHERD_VERSION},
      {"policies", policy_count},
      // What is bound, not where to connect: 0.0.0.0 must not read as local-only.
      {"listen", "http://" + bound.ToString()},
      {"state",
       args.common.state_path.empty() && run.fresh_world ? std::string("temporary") : state_path}};
  fields.insert(fields.end(), run.start_fields.begin(), run.start_fields.end());
  run.logger->Info("dynoherd is running", fields);
}

int RunDaemon(const RunArgs& args) {
  SignalWatcher signals;  // first: before any thread exists
  const auto wall_started = std::chrono::steady_clock::now();
  const EnvLookup env = ProcessEnvironment();
  Session session(args.common, env);  // the logger, with the token and drain secret redacted
  auto fail = [&session](std::string_view what, const Status& status) {
    session.logger().Error(what, {{"error", status.message()}});
    return kExitError;
  };

  std::optional<std::vector<spec::Policy>> policies = LoadPoliciesOrReport(args.common.files);
  if (!policies) return kExitError;
  // The wall clock and Heroku, or the simulator's clock, logger and narrator: chosen once here.
  Result<std::unique_ptr<app::RunEnvironment>> environment =
      RunEnvironmentFor(*policies, session.clock(), session.logger());
  if (!environment.ok()) return fail("cannot run these policies together", environment.status());
  const app::RunEnvironment& run = **environment;
  Logger& logger = *run.logger;
  Result<app::RuntimeOptions> runtime_options = RuntimeOptionsOf(args.common, env);
  if (!runtime_options.ok()) return fail("invalid flag", runtime_options.status());
  runtime_options->mode = app::RunMode::kDaemon;
  Result<Duration> shutdown_grace = ParseDuration(args.shutdown_grace);
  if (!shutdown_grace.ok()) {
    return fail("invalid flag", shutdown_grace.status().WithContext("--shutdown-grace"));
  }
  Result<Duration> request_timeout = ParseDuration(args.request_timeout);
  if (!request_timeout.ok()) {
    return fail("invalid flag", request_timeout.status().WithContext("--request-timeout"));
  }
  app::ListenerOptions listener_options;
  listener_options.address = args.listen;
  listener_options.request_deadline =
      std::chrono::duration_cast<std::chrono::milliseconds>(*request_timeout);

  metrics::Metrics metrics(DYNOHERD_VERSION);
  Result<std::optional<RedisStore>> redis = ConnectRedisStore(args.store, session);
  if (!redis.ok()) return fail("invalid flag", redis.status());
  std::unique_ptr<ReplicaLeases> leases;
  if (*redis) {
    Result<std::unique_ptr<ReplicaLeases>> made =
        RunLeases(args, **redis, *policies, logger, metrics, *runtime_options);
    if (!made.ok()) return fail("invalid flag", made.status());
    leases = std::move(made).value();
  }

  TemporaryStateDir temporary_state;
  Result<std::string> state_path =
      *redis ? Result<std::string>((*redis)->where)
             : (run.fresh_world && args.common.state_path.empty() ? temporary_state.Create()
                                                                  : StatePath(args.common));
  if (!state_path.ok()) return fail("no state file", state_path.status());
  Result<std::unique_ptr<providers::StateStore>> store =
      leases ? OpenStore(args.common, *redis, /*read_only=*/false,
                         [keeper = leases->keeper.get()](std::string_view policy) {
                           return keeper->TokenFor(policy);
                         })
             : OpenRunState(*state_path, run, *policies);
  if (!store.ok()) return fail(CannotOpenStore(*redis), store.status());

  app::RuntimeFactory factory(std::move(runtime_options).value(), *run.clock, *run.sleeper, logger,
                              &metrics);
  if (run.register_makers) run.register_makers(factory);
  app::PassRunner runner(*run.clock, logger, &metrics);
  app::DaemonOptions daemon_options;
  daemon_options.first_pass_after_interval = run.first_pass_after_interval;
  daemon_options.shutdown_grace = *shutdown_grace;
  app::DaemonHooks hooks = MakeHooks(args, run, runner, factory);
  std::optional<app::StoreOutage> outage;
  if (leases) {
    app::UseLeases(hooks, *leases->keeper, **store);
    outage.emplace((*redis)->where, *run.clock, logger, &metrics);
  }
  Daemon daemon(daemon_options, *run.clock, std::move(hooks), logger, &metrics, store->get());
  const auto policy_count = static_cast<int64_t>(policies->size());
  if (Status s = daemon.Start(std::move(*policies)); !s.ok()) return fail("cannot start", s);
  const bool state_is_temporary = args.common.state_path.empty() && run.fresh_world;
  auto listener = StartListener(
      listener_options, run, daemon, metrics,
      state_is_temporary ? std::nullopt : std::optional<std::string>(*state_path),
      leases ? leases->keeper.get() : nullptr, outage ? &*outage : nullptr);
  if (!listener.ok()) return fail("cannot listen", listener.status());
  // One handler for the daemon's life: it reads the factory's drain inboxes, which reloads keep
  // (a policy kept by a reload keeps its window) and drop with the policy (401 from then on, as
  // for any name: names are not told apart before the secret is checked).
  (*listener)->SetDrainHandler(factory.MakeDrainHandler());

  signals.Watch(daemon);
  const std::unique_ptr<providers::PolicyWatcher> watcher = WatchPolicyFiles(args, daemon, logger);
  LogRunning(args, run, (*listener)->address(), *state_path, policy_count);
  if (leases) StartLeases(*leases->keeper, daemon, *outage, *state_path, logger);

  app::RunOutcome outcome = daemon.Run();
  if (leases) {
    leases->keeper->Stop();
    // A pass abandoned in flight keeps its lease until it expires: nobody else acts meanwhile.
    if (outcome.abandoned.empty()) leases->keeper->ReleaseAll();
  }
  (*listener)->Stop();
  if (run.closing_report) PrintRedacted(session, run.closing_report(daemon.Snapshot()));
  const auto wall_elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - wall_started);
  logger.Info(
      "dynoherd stopped",
      {{"reason", outcome.stop_reason},
       {"ranFor", FormatDuration(std::chrono::round<std::chrono::seconds>(wall_elapsed))}});
  signals.Stop();
  if (!outcome.abandoned.empty()) {
    // Their threads still use the daemon: leave without running destructors that would wait.
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(kExitOk);
  }
  return kExitOk;
}

}  // namespace

void AddRunCommand(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand(
      "run", "Run as a daemon: reconcile every policy each interval, serve /metrics");
  auto args = std::make_shared<RunArgs>();
  AddCommonOptions(*command, args->common, "info");
  AddPlatformOptions(*command, args->common);
  AddStoreOptions(*command, args->store);
  AddLeaseOptions(*command, args->store);
  command
      ->add_option("--listen", args->listen,
                   "Address for /metrics, /healthz, /readyz, /status and log drains (default "
                   "127.0.0.1:9790; port 0 picks a free port, logged at start)")
      ->type_name("HOST:PORT");
  command
      ->add_option("--shutdown-grace", args->shutdown_grace,
                   "After SIGTERM or SIGINT, how long passes in progress may take to finish "
                   "before they are abandoned (default 8s)")
      ->type_name("DURATION")
      ->check(DurationValidator(/*allow_zero=*/true));
  command
      ->add_option("--request-timeout", args->request_timeout,
                   "The longest a client of --listen may take to send a whole request, headers "
                   "and body, before its connection is cut (default 10s)")
      ->type_name("DURATION")
      ->check(DurationValidator(/*allow_zero=*/false));
  command->add_flag("--no-watch", args->no_watch,
                    "Reload the -f paths only on SIGHUP; by default a change of their contents "
                    "on disk, ConfigMap volumes included, reloads them too");
  command->footer(
      "Signals: SIGTERM or SIGINT stop after the passes in progress (at most --shutdown-grace),\n"
      "saving every status; a second one stops at once. SIGHUP reloads the -f paths, as does a\n"
      "change of their contents on disk (unless --no-watch): an invalid set is rejected with an\n"
      "ERROR line and the running one goes on.\n"
      "\n"
      "Policies with provider: sim run on simulated time at their sim.speed and the run ends by\n"
      "itself after sim.duration with a summary on stdout.\n"
      "\n"
      "Several replicas: with --store redis://... each policy is acted on by the replica that\n"
      "holds its lease; replicas share the policies fairly and take over a dead one's within\n"
      "--lease-ttl. /readyz answers 503 on a replica that holds no lease.\n"
      "\n"
      "Examples:\n"
      "  dynoherd run -f policies/\n"
      "  dynoherd run -f policies/ --listen 0.0.0.0:$PORT --log-format json   # a Heroku web dyno\n"
      "  dynoherd run -f examples/demo.yaml                                   # the simulator\n"
      "\n"
      "Operations: docs/operations.md");
  command->callback([args, &exit_code] { exit_code = RunDaemon(*args); });
}

}  // namespace dynoherd::cli
