// `dynoherd plan -f PATH...`: observe, decide and print, changing nothing; a pull-request check.
#include <memory>

#include "cli/commands.h"
#include "cli/one_shot.h"

namespace dynoherd::cli {

void AddPlanCommand(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand(
      "plan", "Show what reconcile would do now, changing nothing (exit 2 when it would act)");
  auto args = std::make_shared<OneShotArgs>();
  args->apply = false;
  AddCommonOptions(*command, args->common, "warn");
  AddPlatformOptions(*command, args->common);
  AddStoreOptions(*command, args->store);
  AddOutputOption(*command, args->common, {"text", "json"});
  AddSimAtOption(*command, *args);
  command->footer(
      "Observes each policy's app and latency, plans as `reconcile` would and prints the\n"
      "actions with their reasons. Sends no change, writes no state (the state file is only\n"
      "read, so plan runs fine beside a reconcile or `dynoherd run`).\n"
      "\n"
      "Exit status (terraform's -detailed-exitcode):\n"
      "  0  nothing to do\n"
      "  2  actions planned (paused policies' actions are shown, not counted)\n"
      "  1  an error: a policy could not be observed or planned, bad files or flags\n"
      "\n"
      "Examples:\n"
      "  dynoherd plan -f policies/\n"
      "  dynoherd plan -f policies/ --output json | jq '.summary'\n"
      "\n"
      "Needs HEROKU_API_KEY (or `heroku login`) for provider: heroku. docs/operations.md");
  command->callback([args, &exit_code] { exit_code = RunOneShot(*args); });
}

}  // namespace dynoherd::cli
