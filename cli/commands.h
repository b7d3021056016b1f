// The subcommands of `dynoherd`. Each Add*Command registers its CLI11 subcommand on `app`;
// when the subcommand runs it stores the process exit status in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace dynoherd::cli {

// Process exit statuses shared by every command.
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,
  kExitChanges = 2,  // `plan`: actions planned (terraform's -detailed-exitcode)
  // `reconcile`: no policy failed, but a change was sent and never answered (it may have taken
  // effect; the next pass observes whether it did).
  kExitOutcomeUnknown = 3,
  // `reconcile --store`: no policy failed, but another dynoherd held the lease of a policy, which
  // was therefore not reconciled (it is in good hands; a CI job may treat this as success).
  kExitLeaseHeld = 4,
};

// `validate -f PATH...`: checks policy files (cli/validate_command.cc).
void AddValidateCommand(CLI::App& app, int& exit_code);
// `schema`: prints the FormationPolicy JSON Schema (cli/schema_command.cc).
void AddSchemaCommand(CLI::App& app, int& exit_code);
// `plan -f PATH...`: what reconcile would do, changing nothing (cli/plan_command.cc).
void AddPlanCommand(CLI::App& app, int& exit_code);
// `reconcile -f PATH...`: one pass over every policy (cli/reconcile_command.cc).
void AddReconcileCommand(CLI::App& app, int& exit_code);
// `status`: the last known status of each policy, from the state file (cli/status_command.cc).
void AddStatusCommand(CLI::App& app, int& exit_code);
// `run -f PATH...`: the daemon (cli/run_command.cc).
void AddRunCommand(CLI::App& app, int& exit_code);
// `simulate -f SPEC [--compare]`: plays a sim policy at full speed (cli/simulate_command.cc).
void AddSimulateCommand(CLI::App& app, int& exit_code);
// `analyze [FILE|-]`: per-dyno latency from router logs (cli/analyze_command.cc).
void AddAnalyzeCommand(CLI::App& app, int& exit_code);

}  // namespace dynoherd::cli
