// The commands' side of the simulator (cli/simulator.h): its makers and the run environment of
// `run` from sim/, and `dynoherd simulate -f SPEC [--compare]`, which plays a sim policy as fast
// as the CPU allows and prints what dynoherd did and what it was worth (sim/simulation.h).
#include "cli/simulator.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/policy_files.h"
#include "common/logging.h"
#include "sim/sim_run.h"
#include "sim/sim_runtime.h"
#include "providers/atomic_file.h"
#include "sim/sim_report.h"
#include "sim/simulation.h"

namespace dynoherd::cli {

Result<std::unique_ptr<app::RunEnvironment>> RunEnvironmentFor(
    const std::vector<spec::Policy>& policies, const Clock& wall, Logger& logger) {
  return sim::RunEnvironmentFor(policies, wall, logger);
}

void RegisterSimulator(app::RuntimeFactory& factory, const Clock& clock) {
  sim::RegisterSimulator(factory, std::make_shared<sim::SimWorlds>(clock));
}

namespace {

struct SimulateArgs {
  PolicyFileArgs files;
  bool compare = false;
  std::string output = "text";
  std::string policy;
  std::optional<int64_t> seed;  // signed, so "-1" is refused rather than wrapped
  std::string log_level = "off";
  std::string log_format = "logfmt";
  std::string report;  // an HTML file to write; empty: none
};

// Adds variant=NAME to every line, so the runs of --compare can be told apart in the log.
class VariantLogger final : public Logger {
 public:
  VariantLogger(std::unique_ptr<Logger> inner, std::string variant)
      : inner_(std::move(inner)), variant_(std::move(variant)) {}
  void Write(LogLevel level, std::string_view msg, const LogFields& fields) override {
    LogFields with_variant = {{"variant", variant_}};
    with_variant.insert(with_variant.end(), fields.begin(), fields.end());
    inner_->Write(level, msg, with_variant);
  }
  bool Enabled(LogLevel level) const override { return inner_->Enabled(level); }

 private:
  std::unique_ptr<Logger> inner_;
  std::string variant_;
};

// The one sim policy to play: --policy, or the only sim policy loaded.
const spec::Policy* ChoosePolicy(const std::vector<spec::Policy>& policies,
                                 const std::string& name) {
  std::vector<const spec::Policy*> sims;
  std::string names;
  for (const auto& p : policies) {
    if (!name.empty() && p.name == name) {
      if (p.provider == spec::ProviderKind::kSim) return &p;
      std::fprintf(stderr,
                   "dynoherd simulate: policy %s uses provider %s; simulate needs provider: sim "
                   "and a spec.sim block (docs/simulator.md)\n",
                   p.name.c_str(), std::string(spec::Name(p.provider)).c_str());
      return nullptr;
    }
    if (p.provider == spec::ProviderKind::kSim) {
      sims.push_back(&p);
      names += (names.empty() ? "" : ", ") + p.name;
    }
  }
  if (!name.empty()) {
    std::fprintf(stderr, "dynoherd simulate: no policy named \"%s\" (sim policies loaded: %s)\n",
                 name.c_str(), names.empty() ? "none" : names.c_str());
    return nullptr;
  }
  if (sims.empty()) {
    std::fprintf(stderr,
                 "dynoherd simulate: no policy uses provider sim; add `provider: sim` and a "
                 "spec.sim block (docs/simulator.md)\n");
    return nullptr;
  }
  if (sims.size() > 1) {
    std::fprintf(stderr,
                 "dynoherd simulate: %zu sim policies loaded (%s); choose one with --policy\n",
                 sims.size(), names.c_str());
    return nullptr;
  }
  return sims.front();
}

int Simulate(const SimulateArgs& args) {
  auto policies = LoadPoliciesOrReport(args.files);
  if (!policies) return kExitError;
  const spec::Policy* policy = ChoosePolicy(*policies, args.policy);
  if (!policy) return kExitError;

  std::optional<LogLevel> level;  // nullopt: the passes log nothing
  if (args.log_level != "off") {
    Result<LogLevel> parsed = ParseLogLevel(args.log_level);
    if (!parsed.ok()) {
      std::fprintf(stderr, "dynoherd simulate: --log-level: %s\n",
                   parsed.status().message().c_str());
      return kExitError;
    }
    level = *parsed;
  }
  const LogFormat format = args.log_format == "json" ? LogFormat::kJson : LogFormat::kLogfmt;
  if (policy->paused) {
    std::fprintf(stderr,
                 "dynoherd simulate: policy %s is paused: dynoherd plans but never acts "
                 "(unpause it to see what it would do)\n",
                 policy->name.c_str());
  }

  sim::SimulationOptions options;
  if (args.seed) options.seed = static_cast<uint64_t>(*args.seed);
  const bool compare = args.compare;
  if (level) {
    const LogLevel min_level = *level;
    options.make_logger = [compare, format, min_level](const Clock& simulated,
                                                       sim::SimVariant variant) {
      std::unique_ptr<Logger> logger =
          std::make_unique<StreamLogger>(simulated, format, min_level, stderr);
      if (!compare) return logger;
      return std::unique_ptr<Logger>(
          std::make_unique<VariantLogger>(std::move(logger), std::string(sim::Name(variant))));
    };
  }

  const auto wall_start = std::chrono::steady_clock::now();
  std::string text;
  sim::SimComparison played;  // one run, or one per variant with --compare
  if (args.compare) {
    Result<sim::SimComparison> comparison = sim::CompareSimulation(*policy, options);
    if (!comparison.ok()) {
      std::fprintf(stderr, "dynoherd simulate: %s\n", comparison.status().message().c_str());
      return kExitError;
    }
    played = std::move(comparison).value();
    text = args.output == "json" ? sim::ToJson(played).dump(2) + "\n"
                                 : sim::RenderSimComparison(played);
  } else {
    Result<sim::SimulationRun> run = sim::RunSimulation(*policy, options);
    if (!run.ok()) {
      std::fprintf(stderr, "dynoherd simulate: %s\n", run.status().message().c_str());
      return kExitError;
    }
    text = args.output == "json" ? sim::ToJson(run->summary).dump(2) + "\n"
                                 : sim::RenderSimSummary(run->summary);
    played.runs.push_back(std::move(run).value());
  }
  if (!args.report.empty()) {
    const Status written = providers::WriteFileAtomically(
        args.report, sim::RenderSimReport(played), 0644, "report");
    if (!written.ok()) {
      std::fprintf(stderr, "dynoherd simulate: --report: %s\n", written.message().c_str());
      return kExitError;
    }
  }
  const int runs = static_cast<int>(played.runs.size());
  const Duration simulated = played.runs.front().summary.simulated;
  const double wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  // Wall time on stderr: stdout is the same on every run of the same command.
  std::fprintf(stderr, "simulated %s %s in %.2fs of wall time\n", FormatDuration(simulated).c_str(),
               runs == 1 ? "once" : (std::to_string(runs) + " times").c_str(), wall_seconds);
  return kExitOk;
}

}  // namespace

void AddSimulateCommand(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand(
      "simulate", "Play a sim policy as fast as possible and show what dynoherd did and was worth");
  auto args = std::make_shared<SimulateArgs>();
  AddPolicyFilesOption(*command, args->files);
  command->add_flag("--compare", args->compare,
                    "Play the same traffic six times: with dynoherd as declared, without it "
                    "(plans, never acts), with laggards.method population, in autoscale mode "
                    "step, in mode capacity and with Heroku's own autoscaling rule; print them "
                    "side by side");
  command->add_option("-o,--output", args->output, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->default_str("text");
  command
      ->add_option("--policy", args->policy,
                   "The policy to play, when the files hold more than one sim policy")
      ->type_name("NAME");
  // The range of spec.sim.seed (JSON's exact integers), so any seed can be written in a policy.
  command->add_option("--seed", args->seed, "Replace spec.sim.seed: the same scenario, other luck")
      ->check(CLI::Range(int64_t{0}, int64_t{9007199254740991}))
      ->type_name("N");
  command
      ->add_option("--log-level", args->log_level,
                   "Log the passes at this level and above on stderr, with simulated times "
                   "(off: only the summary)")
      ->check(CLI::IsMember({"off", "debug", "info", "warn", "error"}))
      ->default_str("off");
  command->add_option("--log-format", args->log_format, "Log line format")
      ->check(CLI::IsMember({"logfmt", "json"}))
      ->default_str("logfmt");
  command
      ->add_option("--report", args->report,
                   "Also write the run (with --compare: every variant) as a self-contained HTML "
                   "page of charts: latency per minute, incidents, actions, dynos")
      ->type_name("FILE");
  command->footer(
      "Runs the embedded simulator (provider: sim) from its start to spec.sim.duration on a\n"
      "simulated clock, with a reconcile pass every `interval`: the same passes as `run`, only\n"
      "faster. Prints the actions with the latency before and after each, p50/p95/p99 per phase\n"
      "of the incidents, and dyno-minutes. The same command prints the same numbers every time;\n"
      "the wall time goes to stderr. Exit 0, or 1 on any error.\n"
      "\n"
      "Examples:\n"
      "  dynoherd simulate -f examples/demo.yaml\n"
      "  dynoherd simulate -f examples/demo.yaml --compare\n"
      "  dynoherd simulate -f examples/demo.yaml --compare --report demo.html\n"
      "  dynoherd simulate -f examples/scenarios/ --policy long-surge --compare -o json\n"
      "  dynoherd simulate -f examples/demo.yaml --log-level info   # the passes, as they happen\n"
      "\n"
      "The model and how to read the output: docs/simulator.md");
  command->callback([args, &exit_code] { exit_code = Simulate(*args); });
}

}  // namespace dynoherd::cli
