// The `-f PATH...` option shared by every command that reads FormationPolicy files (validate,
// plan, reconcile, run, analyze, simulate), and loading them with every error reported.
//
//   auto files = std::make_shared<PolicyFileArgs>();
//   AddPolicyFilesOption(*command, *files);
//   command->callback([files, &exit_code] {
//     auto policies = LoadPoliciesOrReport(*files);
//     if (!policies) { exit_code = kExitError; return; }
//     ...
//   });
#pragma once

#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "spec/env.h"
#include "spec/policy.h"

namespace dynoherd::cli {

struct PolicyFileArgs {
  std::vector<std::string> paths;  // files, directories and "-", as given
  std::optional<std::string> app;  // -a/--app: replaces spec.app in every policy loaded
};

// Adds `-f,--filename PATH...` (required; repeatable, several paths per flag allowed) to
// `command`. `args` is written during parsing and must outlive it.
CLI::Option* AddPolicyFilesOption(CLI::App& command, PolicyFileArgs& args);

// Adds `-a,--app APP` (the Heroku CLI's habit), which needs `files` (the -f option): for the
// commands that act on or look at an app (validate, plan, reconcile, run, status).
CLI::Option* AddAppOption(CLI::App& command, PolicyFileArgs& args, CLI::Option* files);

// Loads and validates every policy `args` names: ${VAR} from `env`, "-" from `in`. On any error
// writes every error to `err`, one `FILE:LINE:COL: FIELD.PATH: message` per line, and returns
// nullopt; the caller exits with kExitError.
std::optional<std::vector<spec::Policy>> LoadPoliciesOrReport(
    const PolicyFileArgs& args, std::ostream& err = std::cerr, std::istream& in = std::cin,
    const spec::EnvLookup& env = spec::ProcessEnvironment());

}  // namespace dynoherd::cli
