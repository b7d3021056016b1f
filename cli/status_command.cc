// `dynoherd status`: the last known status of each policy, read from the state file without
// taking its lock (so it works beside a running reconcile or daemon). Contacts nothing.
#include <memory>
#include <nlohmann/json.hpp>

#include "app/status_report.h"
#include "cli/commands.h"
#include "cli/operator_options.h"
#include "cli/store_options.h"

namespace dynoherd::cli {

namespace {

struct StatusArgs {
  OperatorArgs common;
  StoreArgs store;
};

int RunStatus(const StatusArgs& status_args) {
  const OperatorArgs& args = status_args.common;
  Session session(args, ProcessEnvironment());
  std::optional<std::vector<spec::Policy>> policies;
  if (!args.files.paths.empty()) {
    policies = LoadPolicies(args.files, session);
    if (!policies) return kExitError;
  }
  Result<std::optional<RedisStore>> redis = ConnectRedisStore(status_args.store, session);
  if (!redis.ok()) {
    session.logger().Error("invalid flag", {{"error", redis.status().message()}});
    return kExitError;
  }
  Result<std::string> state_path = *redis ? Result<std::string>((*redis)->where) : StatePath(args);
  if (!state_path.ok()) {
    session.logger().Error("no state file", {{"error", state_path.status().message()}});
    return kExitError;
  }
  Result<std::unique_ptr<providers::StateStore>> store =
      OpenStore(args, *redis, /*read_only=*/true);
  if (!store.ok()) {
    session.logger().Error(CannotOpenStore(*redis), {{"error", store.status().message()}});
    return kExitError;
  }

  const std::vector<app::PolicyView> views =
      app::StatusViews(**store, policies ? &*policies : nullptr);
  const TimePoint now = session.clock().Now();
  std::string out;
  if (args.output == "json") {
    out = app::StatusReportJson(views, *state_path, now).dump(2) + "\n";
  } else if (args.output == "yaml") {
    out = app::RenderStatusYaml(views, *state_path, now);
  } else {
    out = app::RenderStatusText(views, *state_path, now);
  }
  return PrintRedacted(session, out) ? kExitOk : kExitError;
}

}  // namespace

void AddStatusCommand(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand(
      "status", "Show the last known status of each policy, from the state file");
  auto args = std::make_shared<StatusArgs>();
  AddCommonOptions(*command, args->common, "warn");
  AddStoreOptions(*command, args->store);
  command->get_option("--filename")
      ->required(false)
      ->description(
          "Show these policies, in this order (default: every policy in the state "
          "file). FormationPolicy file, directory or -. Repeatable.");
  AddOutputOption(*command, args->common, {"text", "json", "yaml"});
  command->footer(
      "Reads the state file that `reconcile` and `run` write, without its lock (it works\n"
      "while they run) and without contacting Heroku: what it shows is as old as the last\n"
      "pass, whose age the LAST PASS column gives. Per formation: dynos (and how many are\n"
      "up), the desired quantity and the baseline, the latency statistic, the latency\n"
      "event (+extra dynos for how long), conditions that need attention with their ages\n"
      "(else how long it has been Ready); then the problems in words and the last actions.\n"
      "\n"
      "Examples:\n"
      "  dynoherd status\n"
      "  dynoherd status -f policies/ --output yaml\n"
      "  dynoherd status --output json | jq '.policies[].lastPass.result'");
  command->callback([args, &exit_code] { exit_code = RunStatus(*args); });
}

}  // namespace dynoherd::cli
