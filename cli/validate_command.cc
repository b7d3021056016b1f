// `dynoherd validate -f PATH...`: checks policy files offline, as a pull-request check would.
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/policy_files.h"

namespace dynoherd::cli {
namespace {

// Legal declarations that do something drastic, said on stderr without failing the check: a
// declared quantity 0 stops every dyno of the formation as soon as it runs (a drift).
void WarnDrastic(const std::vector<spec::Policy>& policies) {
  for (const spec::Policy& policy : policies) {
    for (size_t i = 0; i < policy.formations.size(); ++i) {
      const spec::FormationSpec& f = policy.formations[i];
      if (f.quantity != 0) continue;
      std::fprintf(stderr,
                   "%s: spec.formations[%zu].quantity: warning: 0 stops every %s dyno of %s on "
                   "the next pass (omit quantity to leave the running size alone)\n",
                   f.location.ToString().c_str(), i, f.type.c_str(), policy.app.c_str());
    }
  }
}

}  // namespace

void AddValidateCommand(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand(
      "validate", "Check FormationPolicy files offline: syntax, fields, types, ranges, rules");
  auto files = std::make_shared<PolicyFileArgs>();
  AddAppOption(*command, *files, AddPolicyFilesOption(*command, *files));
  command->footer(
      "Checks everything dynoherd would check before acting, contacting nothing.\n"
      "Prints \"N policies valid\" and exits 0, or prints every error as\n"
      "FILE:LINE:COL: FIELD.PATH: message on stderr and exits 1.\n"
      "\n"
      "Examples:\n"
      "  dynoherd validate -f policies/\n"
      "  dynoherd validate -f shop-web.yaml -f shop-worker.yaml\n"
      "  git show main:policies/shop.yaml | dynoherd validate -f -\n"
      "  dynoherd validate -f shop-web.yaml -a shop-staging\n"
      "\n"
      "Fields and rules: docs/spec.md");
  command->callback([files, &exit_code] {
    auto policies = LoadPoliciesOrReport(*files);
    if (!policies) {
      exit_code = kExitError;
      return;
    }
    WarnDrastic(*policies);
    std::printf("%zu %s valid\n", policies->size(), policies->size() == 1 ? "policy" : "policies");
    exit_code = kExitOk;
  });
}

}  // namespace dynoherd::cli
