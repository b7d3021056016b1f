// What the commands that act on (or look at) formations share: plan, reconcile, status and run.
// Their common flags, the process's logger with every known secret redacted, and the state file's
// path.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/pass.h"
#include "app/runtime.h"
#include "cli/policy_files.h"
#include "common/env.h"
#include "common/logging.h"
#include "common/status.h"
#include "common/time.h"
#include "metrics/metrics.h"
#include "providers/state_store.h"
#include "spec/policy.h"

namespace dynoherd::cli {

struct OperatorArgs {
  PolicyFileArgs files;
  std::string state_path;  // --state; empty: providers::DefaultStatePath()
  std::string log_format = "logfmt";
  std::string log_level = "info";
  std::string output = "text";
  int api_reserve = 300;
  std::string request_timeout = "30s";  // one Platform API request, connection included
};

// Checks a duration flag ("30s", "2m"): parsed by ParseDuration, more than 0 unless `allow_zero`.
CLI::Validator DurationValidator(bool allow_zero = false);

// -f, --state, --log-format and --log-level (with `default_log_level` as its default).
void AddCommonOptions(CLI::App& command, OperatorArgs& args, const std::string& default_log_level);
// --api-reserve and --timeout: how the Heroku client behaves.
void AddPlatformOptions(CLI::App& command, OperatorArgs& args);
// --output, one of `formats` (the first is the default).
void AddOutputOption(CLI::App& command, OperatorArgs& args, std::vector<std::string> formats);

// The process's logger and its secrets. Every line the process writes, on stderr (the logger) or
// stdout (Redact), has the secrets replaced by [REDACTED].
class Session {
 public:
  // The logger writes to stderr in the format and level of `args` (already checked by CLI11).
  // Secrets: the Heroku token dynoherd would use (HEROKU_API_KEY or ~/.netrc) and
  // DYNOHERD_DRAIN_SECRET, read from `env`.
  Session(const OperatorArgs& args, const EnvLookup& env);

  const Clock& clock() const { return clock_; }
  Logger& logger() { return *logger_; }
  void AddSecret(const std::string& secret);
  std::string Redact(std::string text) const;

 private:
  SystemClock clock_;
  std::unique_ptr<StreamLogger> logger_;
  std::vector<std::string> secrets_;
};

// --state, or the default path. Errors name the flag to use.
Result<std::string> StatePath(const OperatorArgs& args);

// The runtime options `args` describe (one-shot mode).
Result<app::RuntimeOptions> RuntimeOptionsOf(const OperatorArgs& args, const EnvLookup& env);

// LoadPoliciesOrReport with the errors redacted: a ${VAR} may have put a secret in a value that
// an error quotes.
std::optional<std::vector<spec::Policy>> LoadPolicies(const PolicyFileArgs& files,
                                                      const Session& session);

// Prints `text` on stdout, redacted; false when stdout cannot be written.
bool PrintRedacted(const Session& session, const std::string& text);

}  // namespace dynoherd::cli
