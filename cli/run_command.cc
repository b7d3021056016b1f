// `dynoherd run -f PATH...`: the daemon. Wires the loop (controller/daemon.h), the listener
// (controller/listener.h), signals, the state file and, for simulated policies, the scaled clock,
// the narrator and the closing summary.
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/policy_files.h"
#include "common/env.h"
#include "common/logging.h"
#include "controller/daemon.h"
#include "controller/listener.h"
#include "controller/pass.h"
#include "controller/runtime.h"
#include "controller/sim_run.h"
#include "controller/sim_summary.h"
#include "controller/status_page.h"
#include "metrics/metrics.h"
#include "providers/heroku/heroku_token.h"
#include "providers/sim/scaled_clock.h"
#include "providers/state_store.h"

namespace dynoherd::cli {

namespace {

using namespace std::chrono_literals;
using controller::Daemon;

struct RunArgs {
  PolicyFileArgs files;
  std::string state;
  std::string listen = "127.0.0.1:9790";
  std::string log_format = "logfmt";
  std::string log_level = "info";
  int api_reserve = 300;
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

// A state file of its own for a simulated run, removed at exit: a simulated world starts afresh
// every time, so yesterday's status would only mislead, and two demos never share a lock.
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

std::string SpeedText(double speed) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", speed);
  return buf;
}

int RunDaemon(const RunArgs& args) {
  SignalWatcher signals;  // first: before any thread exists
  SystemClock wall;
  const auto wall_started = std::chrono::steady_clock::now();

  Result<LogLevel> level = ParseLogLevel(args.log_level);
  StreamLogger stream(wall, args.log_format == "json" ? LogFormat::kJson : LogFormat::kLogfmt,
                      level.ok() ? *level : LogLevel::kInfo);
  // A last line of defence: nothing logs these, and if something did they would not show.
  const EnvLookup env = ProcessEnvironment();
  if (auto token = providers::heroku::ResolveHerokuToken(env); token.ok()) {
    stream.AddSecret(token->value);
  }
  if (auto secret = env("DYNOHERD_DRAIN_SECRET"); secret) stream.AddSecret(*secret);
  auto fail = [&stream](const Status& status) {
    stream.Error("dynoherd cannot start", {{"error", status.message()}});
    return kExitError;
  };

  std::optional<std::vector<spec::Policy>> policies = LoadPoliciesOrReport(args.files);
  if (!policies) return kExitError;
  Result<controller::RunKind> kind = controller::CheckRunPolicies(*policies);
  if (!kind.ok()) return fail(kind.status());

  // One clock for the whole process: the wall clock, or simulated time at the policies' speed.
  std::optional<providers::sim::ScaledClock> scaled;
  if (kind->simulated) {
    Result<providers::sim::ScaledClock> made =
        providers::sim::ScaledClock::Create(wall, wall.Now(), kind->speed);
    if (!made.ok()) return fail(made.status());
    scaled.emplace(*made);
  }
  const Clock& clock = scaled ? static_cast<const Clock&>(*scaled) : wall;
  std::optional<controller::SimTimeLogger> sim_logger;
  if (scaled) sim_logger.emplace(stream, clock, clock.Now());
  Logger& logger = sim_logger ? static_cast<Logger&>(*sim_logger) : stream;

  TemporaryStateDir temporary_state;
  std::string state_path = args.state;
  if (state_path.empty()) {
    Result<std::string> path =
        kind->simulated ? temporary_state.Create() : providers::DefaultStatePath();
    if (!path.ok()) return fail(path.status());
    state_path = *path;
  }
  Result<std::unique_ptr<providers::StateStore>> store = providers::StateStore::Open(state_path);
  if (!store.ok()) return fail(store.status());
  if (kind->simulated) {
    for (const auto& p : *policies)
      (*store)->Remove(p.name);  // a new world: no history
  }

  metrics::Metrics metrics(DYNOHERD_VERSION);
  controller::RuntimeOptions runtime_options;
  runtime_options.mode = controller::RunMode::kDaemon;
  runtime_options.env = env;
  runtime_options.api_reserve = args.api_reserve;
  controller::RuntimeFactory factory(runtime_options, clock, logger, &metrics);
  controller::PassRunner runner(clock, logger, &metrics);
  controller::SimActionLog sim_actions;
  std::optional<controller::SimNarrator> narrator;
  if (scaled) narrator.emplace(logger, clock.Now(), kind->speed);

  const controller::RunKind run_kind = *kind;
  controller::DaemonHooks hooks;
  hooks.pass = [&runner](const spec::Policy& policy, controller::PolicyRuntime& runtime,
                         const reconciler::PolicyStatus* previous, std::mt19937_64& rng) {
    return runner.Run(policy, runtime, previous, rng, {.apply = true});
  };
  hooks.build_runtime = [&factory](const spec::Policy& policy) { return factory.Build(policy); };
  hooks.load_policies = [&args, run_kind]() -> Result<std::vector<spec::Policy>> {
    if (ReadsStdin(args.files)) {
      return Status::FailedPrecondition(
          "the policies came from standard input, which cannot be read again; restart dynoherd "
          "to change them");
    }
    std::ostringstream errors;
    std::istringstream no_stdin;
    auto loaded = LoadPoliciesOrReport(args.files, errors, no_stdin);
    if (!loaded) return Status::InvalidArgument(OneLine(errors.str()));
    Result<controller::RunKind> reloaded_kind = controller::CheckRunPolicies(*loaded);
    if (!reloaded_kind.ok()) return reloaded_kind.status();
    if (!(*reloaded_kind == run_kind)) {
      return Status::InvalidArgument(
          run_kind.simulated
              ? "a simulated run keeps its sim policies and their speed " +
                    SpeedText(run_kind.speed) + "; restart dynoherd to change them"
              : "a run on Heroku cannot switch to simulated policies; restart dynoherd");
    }
    return std::move(loaded).value();
  };
  hooks.interrupt_passes = [&factory] { factory.Shutdown(); };
  if (narrator) {
    hooks.on_pass = [&sim_actions](const controller::PassResult& pass) {
      sim_actions.Record(pass);
    };
    hooks.tick = [&narrator, &factory](TimePoint now, const std::vector<std::string>& names) {
      std::vector<std::pair<std::string, providers::sim::SimWorld*>> worlds;
      for (const auto& name : names) {
        if (auto* world = factory.SimWorldFor(name)) worlds.emplace_back(name, world);
      }
      return narrator->Tick(now, worlds);
    };
  }

  controller::DaemonClock daemon_clock =
      scaled ? controller::ScaledDaemonClock(*scaled, wall) : controller::WallDaemonClock(wall);
  Daemon daemon({}, daemon_clock, std::move(hooks), logger, &metrics, store->get());
  std::vector<std::string> names;
  for (const auto& p : *policies)
    names.push_back(p.name);
  if (Status s = daemon.Start(std::move(*policies)); !s.ok()) return fail(s);

  controller::ListenerSources sources;
  sources.metrics_text = [&metrics] { return metrics.Serialize(); };
  sources.readiness = [&daemon] { return daemon.Ready(); };
  sources.status_json = [&daemon] {
    return controller::StatusJson(daemon.Snapshot(), daemon.Now());
  };
  sources.has_policy = [&daemon](const std::string& name) { return daemon.HasPolicy(name); };
  controller::ListenerOptions listen_options;
  listen_options.address = args.listen;
  auto listener = controller::Listener::Start(listen_options, sources, logger);
  if (!listener.ok() && listener.status().code() == Status::Code::kUnavailable &&
      run_kind.simulated) {
    // A demo must not fail because something else has the port; a real run must, loudly.
    Result<controller::ListenAddress> wanted = controller::ParseListenAddress(args.listen);
    listen_options.address = controller::ListenAddress{wanted->host, 0}.ToString();
    logger.Warn("listen address in use; a simulated run takes a free port instead",
                {{"wanted", wanted->ToString()}});
    listener = controller::Listener::Start(listen_options, sources, logger);
  }
  if (!listener.ok()) return fail(listener.status());

  signals.Watch(daemon);
  LogFields fields{{"version", DYNOHERD_VERSION},
                   {"policies", static_cast<int64_t>(names.size())},
                   {"listen", (*listener)->url()},
                   {"state", args.state.empty() && run_kind.simulated ? "temporary" : state_path}};
  if (run_kind.simulated) fields.push_back({"speed", SpeedText(run_kind.speed)});
  logger.Info("dynoherd is running", fields);

  controller::RunOutcome outcome = daemon.Run();
  (*listener)->Stop();

  if (run_kind.simulated) {
    const auto wall_elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - wall_started);
    std::string summary;
    for (const auto& snapshot : daemon.Snapshot()) {
      providers::sim::SimWorld* world = factory.SimWorldFor(snapshot.policy->name);
      if (!world) continue;
      summary += controller::FormatSimSummary(*snapshot.policy, *world,
                                              sim_actions.For(snapshot.policy->name), wall_elapsed);
    }
    std::fputs(summary.c_str(), stdout);
    std::fflush(stdout);
  }
  logger.Info("dynoherd stopped", {{"reason", outcome.stop_reason}});
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
  AddPolicyFilesOption(*command, args->files);
  command
      ->add_option("--state", args->state,
                   "Status file (default: $XDG_STATE_HOME/dynoherd/state.json or "
                   "~/.local/state/dynoherd/state.json; a temporary file for simulated runs)")
      ->type_name("PATH");
  command
      ->add_option("--listen", args->listen,
                   "Address for /metrics, /healthz, /readyz, /status and log drains; port 0 picks "
                   "a free port")
      ->type_name("HOST:PORT")
      ->capture_default_str();
  command->add_option("--log-format", args->log_format, "Log lines as logfmt or json")
      ->check(CLI::IsMember({"logfmt", "json"}))
      ->capture_default_str();
  command->add_option("--log-level", args->log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  command
      ->add_option("--api-reserve", args->api_reserve,
                   "Platform API calls left to others: below this many remaining, dynoherd waits "
                   "for the budget to refill (0 turns the guard off)")
      ->check(CLI::Range(0, 4500))
      ->capture_default_str();
  command->footer(
      "Signals: SIGTERM or SIGINT stop after the passes in progress (at most about 10 s),\n"
      "saving every status; a second one stops at once. SIGHUP reloads the -f paths: an invalid\n"
      "set is rejected with an ERROR line and the running one goes on.\n"
      "\n"
      "Policies with provider: sim run on simulated time at their sim.speed and the run ends by\n"
      "itself after sim.duration with a summary on stdout.\n"
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
