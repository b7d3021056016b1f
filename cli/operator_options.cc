#include "cli/operator_options.h"

#include <cstdio>
#include <sstream>

#include "providers/heroku/heroku_token.h"

namespace dynoherd::cli {

CLI::Validator DurationValidator(bool allow_zero) {
  // No validator name: the option's type name ("DURATION") says it in --help.
  return CLI::Validator(
      [allow_zero](std::string& text) -> std::string {
        Result<Duration> d = ParseDuration(text);
        if (!d.ok()) return d.status().message();
        if (!allow_zero && d->count() <= 0) return "must be more than 0";
        return "";
      },
      "");
}

void AddCommonOptions(CLI::App& command, OperatorArgs& args, const std::string& default_log_level) {
  AddAppOption(command, args.files, AddPolicyFilesOption(command, args.files));
  command
      .add_option("--state", args.state_path,
                  "The state file: what each pass leaves for the next (default "
                  "$XDG_STATE_HOME/dynoherd/state.json, else ~/.local/state/dynoherd/state.json)")
      ->type_name("PATH");
  command.add_option("--log-format", args.log_format, "Logs on stderr: logfmt or json")
      ->check(CLI::IsMember({"logfmt", "json"}))
      ->default_val("logfmt");
  args.log_level = default_log_level;
  command
      .add_option(
          "--log-level", args.log_level,
          "Least level logged: debug, info, warn or error (default " + default_log_level + ")")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
}

void AddPlatformOptions(CLI::App& command, OperatorArgs& args) {
  command
      .add_option("--api-reserve", args.api_reserve,
                  "Leave this many Platform API calls of the account's hourly budget to people "
                  "and deploys: below it, passes are skipped (default 300; 0 disables)")
      ->check(CLI::Range(0, 4500))
      ->type_name("N");
  command
      .add_option("--timeout", args.request_timeout,
                  "Longest wait for one Platform API request (default 30s)")
      ->type_name("DURATION")
      ->check(DurationValidator());
}

void AddOutputOption(CLI::App& command, OperatorArgs& args, std::vector<std::string> formats) {
  std::string names;
  for (const auto& f : formats)
    names += (names.empty() ? "" : ", ") + f;
  args.output = formats.front();
  command
      .add_option("-o,--output", args.output,
                  "Output on stdout: " + names + " (default " + formats.front() + ")")
      ->check(CLI::IsMember(formats))
      ->type_name("FORMAT");
}

Session::Session(const OperatorArgs& args, const EnvLookup& env) {
  Result<LogLevel> level = ParseLogLevel(args.log_level);
  logger_ = std::make_unique<StreamLogger>(
      clock_, args.log_format == "json" ? LogFormat::kJson : LogFormat::kLogfmt,
      level.ok() ? *level : LogLevel::kInfo);
  if (Result<providers::heroku::HerokuToken> token = providers::heroku::ResolveHerokuToken(env);
      token.ok()) {
    AddSecret(token->value);
  }
  for (const char* name : {"HEROKU_API_KEY", "DYNOHERD_DRAIN_SECRET"}) {
    if (std::optional<std::string> value = env(name)) AddSecret(*value);
  }
}

void Session::AddSecret(const std::string& secret) {
  // A very short "secret" would redact ordinary words; real tokens are long.
  if (secret.size() < 4) return;
  secrets_.push_back(secret);
  logger_->AddSecret(secret);
}

std::string Session::Redact(std::string text) const {
  return dynoherd::Redact(std::move(text), secrets_);
}

Result<std::string> StatePath(const OperatorArgs& args) {
  if (!args.state_path.empty()) return args.state_path;
  return providers::DefaultStatePath();
}

Result<app::RuntimeOptions> RuntimeOptionsOf(const OperatorArgs& args, const EnvLookup& env) {
  app::RuntimeOptions options;
  options.mode = app::RunMode::kOneShot;
  options.env = env;
  options.api_reserve = args.api_reserve;
  Result<Duration> timeout = ParseDuration(args.request_timeout);
  if (!timeout.ok()) return timeout.status().WithContext("--timeout");
  options.request_timeout = *timeout;
  options.connect_timeout = std::min<Duration>(options.connect_timeout, *timeout);
  return options;
}

std::optional<std::vector<spec::Policy>> LoadPolicies(const PolicyFileArgs& files,
                                                      const Session& session) {
  std::ostringstream errors;
  std::optional<std::vector<spec::Policy>> policies = LoadPoliciesOrReport(files, errors);
  const std::string text = session.Redact(errors.str());
  std::fwrite(text.data(), 1, text.size(), stderr);
  return policies;
}

bool PrintRedacted(const Session& session, const std::string& text) {
  const std::string out = session.Redact(text);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 && !std::ferror(stdout);
}

}  // namespace dynoherd::cli
