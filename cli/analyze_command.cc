// `dynoherd analyze [FILE|-]`: reads router lines as `heroku logs` prints them (or logplex
// frames), streams them through the latency window and prints, per formation, what dynoherd
// would see: a row per dyno and the formation statistic.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/policy_files.h"
#include "common/time.h"
#include "controller/text_table.h"
#include "latency/ingest.h"
#include "latency/latency_window.h"
#include "reconciler/laggard_detector.h"
#include "spec/fields.h"
#include "spec/policy.h"

namespace dynoherd::cli {
namespace {

// Big enough to amortise the system call, small enough to stay in the L2 cache.
constexpr size_t kReadBytes = 256 * 1024;

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
};

// What analyze applies: the flags, over a policy's formation when -f names one, over the spec
// defaults otherwise.
struct AnalyzeRules {
  std::optional<Duration> window;  // nullopt: the whole input
  spec::Statistic formation_statistic = spec::LatencySpec{}.statistic;
  spec::LaggardSpec laggards;
  std::string formation;  // only this formation; empty: every formation in the input
  std::string origin;     // where the rules come from, for the report
};

template <typename Enum>
std::optional<Enum> ParseName(std::string_view text, std::initializer_list<Enum> values) {
  for (Enum v : values) {
    if (spec::Name(v) == text) return v;
  }
  return std::nullopt;
}

// What one read of the input gave: the window filled, the counts and the time span.
struct Analysis {
  latency::IngestCounts counts;
  latency::InputFormat format = latency::InputFormat::kAuto;
  std::optional<TimePoint> first_timestamp;
  std::optional<TimePoint> last_timestamp;
  TimePoint now{};  // the newest timestamp: the end of the window
};

// Streams `fd` into `window`; the window ends at the newest timestamp read.
Status ReadInto(int fd, latency::InputFormat format, latency::LatencyWindow& window,
                Analysis& analysis) {
  latency::RouterLogStream stream({.format = format});
  std::unique_ptr<char[]> buffer(new char[kReadBytes]);
  TimePoint newest{};
  bool any_timestamp = false;
  TimePoint oldest{};
  auto take = [&](std::span<const latency::RouterLine> lines) {
    for (const latency::RouterLine& line : lines) {
      if (line.timestamp) {
        const TimePoint t = *line.timestamp;
        if (!any_timestamp) {
          oldest = newest = t;
          any_timestamp = true;
        } else if (t > newest) {
          newest = t;
        } else if (t < oldest) {
          oldest = t;
        }
      }
      // A line without a timestamp counts as arriving with the newest one so far.
      window.Add(line, newest);
    }
  };
  for (;;) {
    const ssize_t n = ::read(fd, buffer.get(), kReadBytes);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Unavailable(std::string("read failed: ") + std::strerror(errno));
    }
    if (n == 0) break;
    take(stream.Feed(std::string_view(buffer.get(), static_cast<size_t>(n))));
  }
  take(stream.Finish());
  analysis.counts = stream.counts();
  analysis.format = stream.format();
  if (any_timestamp) {
    analysis.first_timestamp = oldest;
    analysis.last_timestamp = newest;
  }
  analysis.now = newest;
  return Status::Ok();
}

std::string FormatOrDash(double seconds, int64_t count) {
  return count > 0 ? FormatLatency(seconds) : "-";
}

std::string ErrorsByCode(const std::vector<std::pair<std::string, int64_t>>& codes) {
  std::string out;
  for (const auto& [code, n] : codes) {
    if (!out.empty()) out += ", ";
    out += code + " " + std::to_string(n);
  }
  return out;
}

std::string_view FormatName(latency::InputFormat format) {
  switch (format) {
    case latency::InputFormat::kLogplex:
      return "logplex";
    case latency::InputFormat::kLines:
      return "lines";
    case latency::InputFormat::kAuto:
      break;
  }
  return "auto";
}

// "leave-one-out on p50, sigma 2, at least 1.5x the others and 200ms, 30+ requests, 3+ dynos"
std::string DescribeLaggards(const spec::LaggardSpec& l) {
  return std::string(spec::Name(l.method)) + " on " + std::string(spec::Name(l.statistic)) +
         ", sigma " + spec::FormatNumber(l.sigma) + ", at least " +
         spec::FormatNumber(l.min_ratio) + "x the others and " + FormatDuration(l.min_latency) +
         ", " + std::to_string(l.min_samples) + "+ requests a dyno, " +
         std::to_string(l.min_dynos) + "+ dynos";
}

struct FormationResult {
  std::string type;
  std::vector<latency::DynoReport> dynos;
  model::FormationLatency latency;
  reconciler::LaggardReport laggards;  // verdicts in the order of `dynos`
};

std::string_view VerdictWord(const reconciler::LaggardVerdict& v) {
  return !v.judged ? "not judged" : v.slow ? "SLOW" : "ok";
}

std::string FormatScore(const std::optional<double>& score) {
  if (!score) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", *score);
  return buf;
}

void PrintText(const AnalyzeRules& rules, const Analysis& analysis,
               const latency::LatencyWindow& window, const std::vector<FormationResult>& results,
               spec::Statistic formation_statistic) {
  const latency::IngestCounts& c = analysis.counts;
  std::printf("Read %lld %s: %lld router, %lld ignored, %lld malformed",
              static_cast<long long>(c.lines),
              analysis.format == latency::InputFormat::kLogplex ? "frames" : "lines",
              static_cast<long long>(c.router), static_cast<long long>(c.ignored),
              static_cast<long long>(c.malformed));
  if (analysis.format == latency::InputFormat::kLogplex) {
    std::printf(", %lld framing problems", static_cast<long long>(c.framing_problems));
  }
  std::printf(".\n");
  if (!c.first_problem.empty()) std::printf("First problem: %s\n", c.first_problem.c_str());
  if (analysis.first_timestamp) {
    // Whole seconds: "8m20s" reads better than "8m19s995ms".
    const auto span = std::chrono::round<std::chrono::seconds>(*analysis.last_timestamp -
                                                               *analysis.first_timestamp);
    std::printf("Router lines from %s to %s (%s)",
                FormatTimestamp(*analysis.first_timestamp).c_str(),
                FormatTimestamp(*analysis.last_timestamp).c_str(),
                FormatDuration(std::chrono::duration_cast<Duration>(span)).c_str());
    if (!rules.window) {
      std::printf("; window: all of it.\n");
    } else {
      std::printf("; window: the last %s.\n", FormatDuration(window.options().window).c_str());
    }
  }
  std::printf("Laggard rules (%s): %s.\n", rules.origin.c_str(),
              DescribeLaggards(rules.laggards).c_str());
  const latency::WindowCounts& w = window.counts();
  if (w.late > 0) {
    std::printf("%lld lines older than the window were left out.\n",
                static_cast<long long>(w.late));
  }
  if (w.dropped_too_many_dynos > 0) {
    std::printf("%lld lines for dynos beyond the first %zu were left out.\n",
                static_cast<long long>(w.dropped_too_many_dynos), window.options().max_dynos);
  }
  for (const FormationResult& result : results) {
    int64_t requests = 0;
    for (const auto& dyno : result.dynos)
      requests += dyno.stats.count;
    std::printf("\n%s: %zu dynos, %lld timed requests\n", result.type.c_str(), result.dynos.size(),
                static_cast<long long>(requests));
    // Text columns (the first and the last) left-aligned, numbers right.
    using Align = controller::TextTable::Align;
    controller::TextTable table({{"DYNO"},
                                 {"REQUESTS", Align::kRight},
                                 {"MEAN", Align::kRight},
                                 {"P50", Align::kRight},
                                 {"P95", Align::kRight},
                                 {"P99", Align::kRight},
                                 {"MAX", Align::kRight},
                                 {"ERRORS", Align::kRight},
                                 {"Z", Align::kRight},
                                 {"VERDICT"}});
    for (size_t i = 0; i < result.dynos.size(); ++i) {
      const latency::DynoReport& dyno = result.dynos[i];
      const reconciler::LaggardVerdict& verdict = result.laggards.verdicts[i];
      const model::LatencyStats& s = dyno.stats;
      table.AddRow({dyno.dyno, std::to_string(s.count), FormatOrDash(s.mean, s.count),
                    FormatOrDash(s.p50, s.count), FormatOrDash(s.p95, s.count),
                    FormatOrDash(s.p99, s.count), FormatOrDash(s.max, s.count),
                    std::to_string(s.errors), FormatScore(verdict.score),
                    std::string(VerdictWord(verdict))});
    }
    std::fputs(table.Render("").c_str(), stdout);
    for (size_t i = 0; i < result.dynos.size(); ++i) {
      const reconciler::LaggardVerdict& verdict = result.laggards.verdicts[i];
      if (verdict.slow || !verdict.judged) {
        std::printf("  %s: %s\n", result.dynos[i].dyno.c_str(), verdict.reason.c_str());
      }
    }
    if (!result.laggards.decided) {
      std::printf("laggards: no verdict (%s)\n", result.laggards.no_verdict_reason.c_str());
    } else if (result.laggards.slow.empty()) {
      std::printf("laggards: none\n");
    } else {
      std::string slow;
      for (const std::string& dyno : result.laggards.slow)
        slow += (slow.empty() ? "" : ", ") + dyno;
      std::printf("laggards: %s\n", slow.c_str());
    }
    std::vector<std::pair<std::string, int64_t>> codes;
    for (const latency::DynoReport& dyno : result.dynos) {
      for (const auto& [code, n] : dyno.errors_by_code) {
        auto it = std::find_if(codes.begin(), codes.end(),
                               [&](const auto& entry) { return entry.first == code; });
        if (it == codes.end()) {
          codes.emplace_back(code, n);
        } else {
          it->second += n;
        }
      }
    }
    std::sort(codes.begin(), codes.end());
    if (!codes.empty()) std::printf("router errors: %s\n", ErrorsByCode(codes).c_str());
    const std::string statistic(spec::Name(formation_statistic));
    if (result.latency.value) {
      std::printf("formation %s: %s over %lld requests\n", statistic.c_str(),
                  FormatLatency(*result.latency.value).c_str(),
                  static_cast<long long>(result.latency.sample_count));
    } else {
      std::printf("formation %s: unknown (%s)\n", statistic.c_str(),
                  result.latency.unknown_reason.c_str());
    }
  }
  const latency::DynoReport unattributed = window.Unattributed(analysis.now);
  if (unattributed.stats.errors > 0) {
    std::printf("\nRouter errors without a dyno: %lld (%s)\n",
                static_cast<long long>(unattributed.stats.errors),
                ErrorsByCode(unattributed.errors_by_code).c_str());
  }
  if (c.router == 0) {
    std::printf(
        "\nNo router lines found. Feed it `heroku logs -s heroku -d router` output, e.g.\n"
        "  heroku logs -a APP -s heroku -d router -n 1500 | dynoherd analyze\n");
  }
}

nlohmann::ordered_json StatsJson(const model::LatencyStats& s) {
  auto seconds = [&](double v) -> nlohmann::ordered_json {
    return s.count > 0 ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
  };
  return {{"requests", s.count},   {"mean", seconds(s.mean)}, {"p50", seconds(s.p50)},
          {"p95", seconds(s.p95)}, {"p99", seconds(s.p99)},   {"max", seconds(s.max)},
          {"errors", s.errors}};
}

nlohmann::ordered_json CodesJson(const std::vector<std::pair<std::string, int64_t>>& codes) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& [code, n] : codes)
    out[code] = n;
  return out;
}

void PrintJson(const AnalyzeRules& rules, const Analysis& analysis,
               const latency::LatencyWindow& window, const std::vector<FormationResult>& results,
               spec::Statistic formation_statistic) {
  const latency::IngestCounts& c = analysis.counts;
  nlohmann::ordered_json out;
  out["input"] = {
      {"format", FormatName(analysis.format)},
      {"lines", c.lines},
      {"router", c.router},
      {"ignored", c.ignored},
      {"malformed", c.malformed},
      {"framing_problems", c.framing_problems},
      {"first_problem", c.first_problem.empty() ? nlohmann::ordered_json(nullptr)
                                                : nlohmann::ordered_json(c.first_problem)},
      {"late", window.counts().late},
      {"dropped_too_many_dynos", window.counts().dropped_too_many_dynos}};
  const spec::LaggardSpec& l = rules.laggards;
  out["rules"] = {{"origin", rules.origin},         {"sigma", l.sigma},
                  {"method", spec::Name(l.method)}, {"statistic", spec::Name(l.statistic)},
                  {"min_ratio", l.min_ratio},       {"min_dynos", l.min_dynos},
                  {"min_samples", l.min_samples},   {"min_latency", ToSeconds(l.min_latency)}};
  out["window"] = {
      {"from", analysis.first_timestamp
                   ? nlohmann::ordered_json(FormatTimestamp(*analysis.first_timestamp))
                   : nlohmann::ordered_json(nullptr)},
      {"to", analysis.last_timestamp
                 ? nlohmann::ordered_json(FormatTimestamp(*analysis.last_timestamp))
                 : nlohmann::ordered_json(nullptr)},
      {"seconds", !rules.window ? nlohmann::ordered_json(nullptr)
                                : nlohmann::ordered_json(ToSeconds(window.options().window))}};
  nlohmann::ordered_json formations = nlohmann::ordered_json::array();
  for (const FormationResult& result : results) {
    nlohmann::ordered_json dynos = nlohmann::ordered_json::array();
    for (size_t i = 0; i < result.dynos.size(); ++i) {
      const latency::DynoReport& dyno = result.dynos[i];
      const reconciler::LaggardVerdict& verdict = result.laggards.verdicts[i];
      nlohmann::ordered_json entry = {{"dyno", dyno.dyno}};
      entry.update(StatsJson(dyno.stats));
      entry["errors_by_code"] = CodesJson(dyno.errors_by_code);
      entry["z_score"] =
          verdict.score ? nlohmann::ordered_json(*verdict.score) : nlohmann::ordered_json(nullptr);
      entry["verdict"] = VerdictWord(verdict) == "SLOW" ? "slow" : VerdictWord(verdict);
      entry["reason"] = verdict.reason;
      dynos.push_back(std::move(entry));
    }
    formations.push_back(
        {{"type", result.type},
         {"statistic", spec::Name(formation_statistic)},
         {"value", result.latency.value ? nlohmann::ordered_json(*result.latency.value)
                                        : nlohmann::ordered_json(nullptr)},
         {"sample_count", result.latency.sample_count},
         {"unknown_reason", result.latency.value
                                ? nlohmann::ordered_json(nullptr)
                                : nlohmann::ordered_json(result.latency.unknown_reason)},
         {"dynos", std::move(dynos)},
         {"laggards",
          {{"decided", result.laggards.decided},
           {"no_verdict_reason", result.laggards.decided
                                     ? nlohmann::ordered_json(nullptr)
                                     : nlohmann::ordered_json(result.laggards.no_verdict_reason)},
           {"slow", result.laggards.slow}}}});
  }
  out["formations"] = std::move(formations);
  const latency::DynoReport unattributed = window.Unattributed(analysis.now);
  out["unattributed_errors"] = {{"count", unattributed.stats.errors},
                                {"by_code", CodesJson(unattributed.errors_by_code)}};
  std::printf("%s\n", out.dump(2).c_str());
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

Result<AnalyzeRules> ResolveRules(const AnalyzeFlags& flags) {
  AnalyzeRules rules;
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
  Result<AnalyzeRules> rules = ResolveRules(flags);
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

  int fd = STDIN_FILENO;
  if (flags.input != "-") {
    fd = ::open(flags.input.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail("cannot open " + flags.input + ": " + std::strerror(errno));
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  Analysis analysis;
  Status read = ReadInto(fd, format, *window, analysis);
  if (fd != STDIN_FILENO) ::close(fd);
  if (!read.ok()) {
    return fail((flags.input == "-" ? std::string("standard input") : flags.input) + ": " +
                read.message());
  }

  std::vector<FormationResult> results;
  for (const std::string& type : window->FormationTypes(analysis.now)) {
    if (!rules->formation.empty() && type != rules->formation) continue;
    FormationResult result;
    result.type = type;
    for (latency::DynoReport& dyno : window->Report(analysis.now)) {
      if (dyno.formation == type) result.dynos.push_back(std::move(dyno));
    }
    result.latency = window->Formation(type, rules->formation_statistic, analysis.now);
    // Logs say nothing of dyno states or start times: every dyno is a candidate, as the
    // reconciler's would be once up and past startupGrace.
    std::vector<reconciler::LaggardCandidate> candidates;
    for (const latency::DynoReport& dyno : result.dynos) {
      candidates.push_back({.dyno = dyno.dyno, .stats = dyno.stats, .ineligible_reason = ""});
    }
    result.laggards = reconciler::DetectLaggards(rules->laggards, candidates);
    results.push_back(std::move(result));
  }
  if (!rules->formation.empty() && results.empty()) {
    FormationResult result;
    result.type = rules->formation;
    result.latency = window->Formation(rules->formation, rules->formation_statistic, analysis.now);
    result.laggards = reconciler::DetectLaggards(rules->laggards, {});
    results.push_back(std::move(result));
  }
  if (flags.output == "json") {
    PrintJson(*rules, analysis, *window, results, rules->formation_statistic);
  } else {
    PrintText(*rules, analysis, *window, results, rules->formation_statistic);
  }
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
