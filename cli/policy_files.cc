#include "cli/policy_files.h"

#include "spec/loader.h"

namespace dynoherd::cli {

CLI::Option* AddAppOption(CLI::App& command, PolicyFileArgs& args, CLI::Option* files) {
  return command
      .add_option("-a,--app", args.app,
                  "The Heroku app every policy loaded manages, instead of its spec.app: one "
                  "policy for staging and production. Every policy of the -f paths is moved, "
                  "so name the files of one app.")
      ->type_name("APP")
      ->needs(files);
}

CLI::Option* AddPolicyFilesOption(CLI::App& command, PolicyFileArgs& args) {
  return command
      .add_option("-f,--filename", args.paths,
                  "FormationPolicy file, directory (its *.yaml and *.yml files, not recursive) "
                  "or - for standard input. Repeatable.")
      ->required()
      ->type_name("PATH");
}

std::optional<std::vector<spec::Policy>> LoadPoliciesOrReport(const PolicyFileArgs& args,
                                                              std::ostream& err, std::istream& in,
                                                              const spec::EnvLookup& env) {
  spec::LoadResult result = spec::LoadPolicies(args.paths, env, in, {.app = args.app});
  if (!result.ok()) {
    err << result.ErrorText() << std::flush;
    return std::nullopt;
  }
  return std::move(result.policies);
}

}  // namespace dynoherd::cli
