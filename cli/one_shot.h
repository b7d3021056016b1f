// `plan` and `reconcile`: one pass over every policy, the report on stdout, the exit status.
// `plan` is `reconcile --dry-run` without the metrics outputs.
#pragma once

#include <string>

#include "cli/operator_options.h"
#include "cli/store_options.h"

namespace dynoherd::cli {

struct OneShotArgs {
  OperatorArgs common;
  bool apply = true;                 // false: plan (state read, never written; nothing sent)
  std::string metrics_file;          // --metrics-file
  std::string pushgateway;           // --pushgateway URL
  std::string pushgateway_instance;  // --pushgateway-instance
  std::string pushgateway_timeout = "10s";
  // provider: sim policies only: look at the simulated world this long after its start. A fresh
  // world (0s) has served no web request yet, so its latency is unknown.
  std::string sim_at = "0s";
  StoreArgs store;  // --store; with `apply`, the policies' leases too
};

// --sim-at DURATION.
void AddSimAtOption(CLI::App& command, OneShotArgs& args);

// Runs the command and returns its exit status: with `apply`, 0 when every policy was reconciled
// and 1 otherwise; without, terraform's -detailed-exitcode (0 nothing to do, 2 actions planned,
// 1 any error); with --store, a reconcile exits 4 when no policy failed but another dynoherd held
// the lease of one (that policy was not reconciled). Failing to write or push the metrics is logged and reported, never the exit status.
int RunOneShot(const OneShotArgs& args, const EnvLookup& env = ProcessEnvironment());

}  // namespace dynoherd::cli
