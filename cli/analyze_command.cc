// `dynoherd analyze [FILE|-]`: reads router lines as `heroku logs` prints them (or logplex
// frames), streams them through the latency window and prints, per formation, what dynoherd
// would see (app/analyze_report.h). Here: the flags and the rules they make.
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "app/analyze_page.h"
#include "app/analyze_report.h"
#include "cli/commands.h"
#include "cli/policy_files.h"
#include "common/time.h"
#include "latency/ingest.h"
#include "latency/latency_window.h"
#include "providers/atomic_file.h"
#include "providers/router_log_file.h"
#include "spec/fields.h"
#include "spec/policy.h"

namespace dynoherd::cli {
namespace {

struct AnalyzeFlags {
  std::string input = "-";
  std::string output = "text";
  std::string format = "auto";
  std::string window;  // empty: the whole input, or the policy's window
  std::string formation;
  std::string formation_statistic;  // empty: the policy's, or the spec default
  // The laggard rules; empty: the policy's, or the spec defaults. Strings, so that "given on the
  // command line" can be told from "left at the default".
  std::string sigma, method, statistic, min_ratio, min_dynos, min_samples, min_latency;
  PolicyFileArgs files;
  std::string policy;
  std::string report;  // an HTML file to write; empty: none
};

template <typename Enum>
std::optional<Enum> ParseName(std::string_view text, std::initializer_list<Enum> values) {
  for (Enum v : values) {
    if (spec::Name(v) == text) return v;
  }
  return std::nullopt;
}

// The Laggards field `name` of the policy schema: the flags obey the same limits as the YAML.
const spec::Field& LaggardField(std::string_view name) {
  for (const spec::ObjectType* type : spec::AllObjectTypes()) {
    if (type->name != "Laggards") continue;
    if (const spec::Field* field = type->Find(name)) return *field;
  }
  std::fprintf(stderr, "dynoherd analyze: internal error: no laggards field %s\n",
               std::string(name).c_str());
  std::abort();
}

// A field's constraints as written in the docs' tables ("Above 0, at most 10."), made to read
// inside a sentence: "(above 0, at most 10)".
std::string AsClause(std::string text) {
  if (!text.empty() && text.back() == '.') text.pop_back();
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

Status CheckNumber(std::string_view flag, std::string_view field_name, const std::string& text,
                   double& value) {
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  const spec::Field& field = LaggardField(field_name);
  const bool integer = field.kind == spec::FieldKind::kInteger;
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value) ||
      (integer && value != std::floor(value))) {
    return Status::InvalidArgument(std::string(flag) + ": \"" + text + "\" is not " +
                                   (integer ? "an integer" : "a number"));
  }
  const bool below =
      field.minimum && (field.exclusive_minimum ? value <= *field.minimum : value < *field.minimum);
  const bool above = field.maximum && value > *field.maximum;
  if (below || above) {
    return Status::InvalidArgument(std::string(flag) + ": " + text + " is out of range (" +
                                   AsClause(field.Constraints()) + ")");
  }
  return Status::Ok();
}

// Applies the laggard flags that were given to `laggards`.
Status ApplyLaggardFlags(const AnalyzeFlags& flags, spec::LaggardSpec& laggards) {
  double number = 0;
  if (!flags.sigma.empty()) {
    if (Status s = CheckNumber("--sigma", "sigma", flags.sigma, number); !s.ok()) return s;
    laggards.sigma = number;
  }
  if (!flags.min_ratio.empty()) {
    if (Status s = CheckNumber("--min-ratio", "minRatio", flags.min_ratio, number); !s.ok()) {
      return s;
    }
    laggards.min_ratio = number;
  }
  if (!flags.min_dynos.empty()) {
    if (Status s = CheckNumber("--min-dynos", "minDynos", flags.min_dynos, number); !s.ok()) {
      return s;
    }
    laggards.min_dynos = static_cast<int>(number);
  }
  if (!flags.min_samples.empty()) {
    if (Status s = CheckNumber("--min-samples", "minSamples", flags.min_samples, number); !s.ok()) {
      return s;
    }
    laggards.min_samples = static_cast<int>(number);
  }
  if (!flags.min_latency.empty()) {
    Result<Duration> latency = ParseDuration(flags.min_latency);
    if (!latency.ok()) {
      return Status::InvalidArgument("--min-latency: " + latency.status().message());
    }
    const spec::Field& field = LaggardField("minLatency");
    if ((field.min_duration && *latency < *field.min_duration) ||
        (field.max_duration && *latency > *field.max_duration)) {
      return Status::InvalidArgument("--min-latency: " + flags.min_latency + " is out of range (" +
                                     AsClause(field.Constraints()) + ")");
    }
    laggards.min_latency = *latency;
  }
  if (!flags.method.empty()) {
    auto method =
        ParseName(flags.method, {spec::LaggardMethod::kLeaveOneOut,
                                 spec::LaggardMethod::kPopulation, spec::LaggardMethod::kMad});
    if (!method) {
      return Status::InvalidArgument("--method: unknown method \"" + flags.method +
                                     "\" (expected leave-one-out, population or mad)");
    }
    laggards.method = *method;
  }
  if (!flags.statistic.empty()) {
    auto statistic = ParseName(
        flags.statistic, {spec::Statistic::kMean, spec::Statistic::kP50, spec::Statistic::kP95});
    if (!statistic) {
      return Status::InvalidArgument("--statistic: unknown statistic \"" + flags.statistic +
                                     "\" (expected mean, p50 or p95)");
    }
    laggards.statistic = *statistic;
  }
  return Status::Ok();
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items)
    out += (out.empty() ? "" : ", ") + item;
  return out;
}

// The formation whose rules apply, from the policies -f loaded, --policy and --formation.
Result<const spec::FormationSpec*> PickFormation(const AnalyzeFlags& flags,
                                                 const std::vector<spec::Policy>& policies,
                                                 const spec::Policy*& policy) {
  std::vector<std::string> names;
  for (const spec::Policy& p : policies)
    names.push_back(p.name);
  policy = nullptr;
  if (!flags.policy.empty()) {
    for (const spec::Policy& p : policies) {
      if (p.name == flags.policy) policy = &p;
    }
    if (policy == nullptr) {
      return Status::NotFound("--policy: no policy named \"" + flags.policy +
                              "\" (found: " + Join(names) + ")");
    }
  } else if (policies.size() == 1) {
    policy = &policies.front();
  } else {
    return Status::InvalidArgument("the files hold " + std::to_string(policies.size()) +
                                   " policies; choose one with --policy (" + Join(names) + ")");
  }
  if (!flags.formation.empty()) {
    const spec::FormationSpec* formation = policy->FindFormation(flags.formation);
    if (formation == nullptr) {
      std::vector<std::string> types;
      for (const spec::FormationSpec& f : policy->formations)
        types.push_back(f.type);
      return Status::NotFound("--formation: policy " + policy->name + " has no formation \"" +
                              flags.formation + "\" (formations: " + Join(types) + ")");
    }
    return formation;
  }
  std::vector<std::string> with_latency;
  for (const spec::FormationSpec& f : policy->formations) {
    if (f.latency) with_latency.push_back(f.type);
  }
  if (with_latency.size() == 1) return policy->FindFormation(with_latency.front());
  return Status::InvalidArgument(
      "policy " + policy->name + " declares latency for " +
      (with_latency.empty() ? std::string("no formation") : Join(with_latency)) +
      "; choose one with --formation");
}

Result<app::AnalyzeRules> ResolveRules(const AnalyzeFlags& flags) {
  app::AnalyzeRules rules;
  rules.formation = flags.formation;
  rules.origin = "defaults";
  if (!flags.files.paths.empty()) {
    std::optional<std::vector<spec::Policy>> policies = LoadPoliciesOrReport(flags.files);
    if (!policies) return Status::InvalidArgument("");  // every error was written already
    const spec::Policy* policy = nullptr;
    Result<const spec::FormationSpec*> picked = PickFormation(flags, *policies, policy);
    if (!picked.ok()) return picked.status();
    const spec::FormationSpec& formation = **picked;
    rules.formation = formation.type;
    if (formation.latency) {
      rules.window = formation.latency->window;
      rules.formation_statistic = formation.latency->statistic;
    }
    if (formation.laggards) rules.laggards = *formation.laggards;
    rules.origin = "policy " + policy->name + ", formation " + formation.type +
                   (formation.laggards ? "" : " (no laggards section: defaults)");
  }
  if (!flags.formation_statistic.empty()) {
    auto statistic =
        ParseName(flags.formation_statistic,
                  {spec::Statistic::kMean, spec::Statistic::kP50, spec::Statistic::kP95,
                   spec::Statistic::kP99, spec::Statistic::kMax});
    if (!statistic) {
      return Status::InvalidArgument("--formation-statistic: unknown statistic \"" +
                                     flags.formation_statistic +
                                     "\" (expected mean, p50, p95, p99 or max)");
    }
    rules.formation_statistic = *statistic;
  }
  if (!flags.window.empty()) {
    if (flags.window == "all") {
      rules.window.reset();
    } else {
      Result<Duration> window = ParseDuration(flags.window);
      if (!window.ok()) return Status::InvalidArgument("--window: " + window.status().message());
      rules.window = *window;
    }
  }
  if (Status s = ApplyLaggardFlags(flags, rules.laggards); !s.ok()) return s;
  return rules;
}

int RunAnalyze(const AnalyzeFlags& flags) {
  auto fail = [](const std::string& message) {
    std::fprintf(stderr, "dynoherd analyze: %s\n", message.c_str());
    return kExitError;
  };
  Result<app::AnalyzeRules> rules = ResolveRules(flags);
  if (!rules.ok()) {
    if (rules.status().message().empty()) return kExitError;  // reported by the loader
    return fail(rules.status().message());
  }
  latency::WindowOptions options{.window = rules->window.value_or(Duration::zero())};
  Result<latency::LatencyWindow> window = latency::LatencyWindow::Create(options);
  if (!window.ok()) return fail(window.status().message());
  latency::InputFormat format = latency::InputFormat::kAuto;
  if (flags.format == "lines") format = latency::InputFormat::kLines;
  if (flags.format == "logplex") format = latency::InputFormat::kLogplex;

  Result<providers::RouterLogRead> read = providers::ReadRouterLog(flags.input, format, *window);
  if (!read.ok()) return fail(read.status().message());
  const std::vector<app::FormationAnalysis> results =
      app::AnalyzeFormations(*window, *rules, read->now);
  const std::string out = flags.output == "json"
                              ? app::RenderAnalyzeJson(*rules, *read, *window, results)
                              : app::RenderAnalyzeText(*rules, *read, *window, results);
  if (!flags.report.empty()) {
    const Status written = providers::WriteFileAtomically(
        flags.report, app::RenderAnalyzePage(*rules, *read, *window, results), 0644, "report");
    if (!written.ok()) return fail("--report: " + written.message());
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : fail("cannot write the output");
}

}  // namespace

void AddAnalyzeCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<AnalyzeFlags>();
  CLI::App* command =
      app.add_subcommand("analyze",
                         "Show the per-dyno latency dynoherd would see in router logs, e.g.\n"
                         "  heroku logs -a APP -s heroku -d router -n 1500 | dynoherd analyze");
  command->add_option("file", flags->input, "Router log lines or logplex frames; - for stdin")
      ->capture_default_str();
  command->add_option("-o,--output", flags->output, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  command
      ->add_option("--report", flags->report,
                   "Also write a self-contained HTML page: each dyno's latency as a box, the "
                   "laggards highlighted, requests per dyno")
      ->type_name("FILE");
  command->add_option("--format", flags->format, "Input format: lines, logplex, or auto-detect")
      ->check(CLI::IsMember({"auto", "lines", "logplex"}))
      ->capture_default_str();
  const spec::LaggardSpec laggard_defaults;
  const std::string default_statistic(spec::Name(spec::LatencySpec{}.statistic));
  command->add_option("--window", flags->window,
                      "Only the last DURATION of the input (e.g. 5m), or all; default: all of "
                      "it, or the policy's latency.window with -f");
  command->add_option("--formation", flags->formation, "Only this formation (process type)");
  command->add_option("--formation-statistic", flags->formation_statistic,
                      "The formation statistic: mean, p50, p95, p99 or max; default: " +
                          default_statistic + ", or the policy's latency.statistic");
  // Laggard rules: the spec defaults, or the policy's with -f; a flag given here wins.
  auto rule = [&](const char* name, std::string& target, const std::string& what) {
    command->add_option(name, target, what)->group("Laggard rules (override the policy's)");
  };
  rule("--sigma", flags->sigma,
       "Standard deviations slower than the others to be slow; default: " +
           spec::FormatNumber(laggard_defaults.sigma));
  rule("--method", flags->method,
       "leave-one-out, population or mad; default: " +
           std::string(spec::Name(laggard_defaults.method)));
  rule("--statistic", flags->statistic,
       "The per-dyno value compared: mean, p50 or p95; default: " +
           std::string(spec::Name(laggard_defaults.statistic)));
  rule("--min-ratio", flags->min_ratio,
       "A slow dyno is also this multiple of the others' mean; default: " +
           spec::FormatNumber(laggard_defaults.min_ratio));
  rule(
      "--min-dynos", flags->min_dynos,
      "No verdict with fewer judged dynos; default: " + std::to_string(laggard_defaults.min_dynos));
  rule("--min-samples", flags->min_samples,
       "Requests a dyno needs to be judged; default: " +
           std::to_string(laggard_defaults.min_samples));
  rule("--min-latency", flags->min_latency,
       "A dyno faster than this is never slow; default: " +
           FormatDuration(laggard_defaults.min_latency));
  CLI::Option* files = AddPolicyFilesOption(*command, flags->files);
  // One path per -f here (repeat -f for more), so the log file after it stays positional.
  files->required(false)->allow_extra_args(false);
  files->description(
      "Take the rules (window, statistics, laggards) from this FormationPolicy file or "
      "directory; with --policy and --formation");
  command->add_option("--policy", flags->policy, "With -f: the policy (metadata.name) to use");
  command->callback([flags, &exit_code] { exit_code = RunAnalyze(*flags); });
}

}  // namespace dynoherd::cli
