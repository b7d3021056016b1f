// `dynoherd analyze [FILE|-]`: reads router lines as `heroku logs` prints them (or logplex
// frames), streams them through the latency window and prints, per formation, what dynoherd
// would see: a row per dyno and the formation statistic.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/time.h"
#include "latency/ingest.h"
#include "latency/latency_window.h"
#include "spec/policy.h"

namespace dynoherd::cli {
namespace {

// Big enough to amortise the system call, small enough to stay in the L2 cache.
constexpr size_t kReadBytes = 256 * 1024;

struct AnalyzeFlags {
  std::string input = "-";
  std::string output = "text";
  std::string format = "auto";
  std::string window;  // empty: the whole input
  std::string formation;
  std::string formation_statistic = std::string(spec::Name(spec::LatencySpec{}.statistic));
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

// Columns: the first left-aligned, the rest right-aligned, two spaces apart.
std::string RenderTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t c = 0; c < row.size(); ++c)
      widths[c] = std::max(widths[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string& cell = row[c];
      const std::string pad(widths[c] - cell.size(), ' ');
      if (c > 0) line += "  ";
      line += c == 0 ? cell + pad : pad + cell;
    }
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    out += line + "\n";
  }
  return out;
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

struct FormationResult {
  std::string type;
  std::vector<latency::DynoReport> dynos;
  reconciler::FormationLatency latency;
};

void PrintText(const AnalyzeFlags& flags, const Analysis& analysis,
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
    if (flags.window.empty()) {
      std::printf("; window: all of it.\n");
    } else {
      std::printf("; window: the last %s.\n", FormatDuration(window.options().window).c_str());
    }
  }
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
    std::vector<std::vector<std::string>> rows = {
        {"DYNO", "REQUESTS", "MEAN", "P50", "P95", "P99", "MAX", "ERRORS"}};
    for (const latency::DynoReport& dyno : result.dynos) {
      const reconciler::LatencyStats& s = dyno.stats;
      rows.push_back({dyno.dyno, std::to_string(s.count), FormatOrDash(s.mean, s.count),
                      FormatOrDash(s.p50, s.count), FormatOrDash(s.p95, s.count),
                      FormatOrDash(s.p99, s.count), FormatOrDash(s.max, s.count),
                      std::to_string(s.errors)});
    }
    std::fputs(RenderTable(rows).c_str(), stdout);
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

nlohmann::ordered_json StatsJson(const reconciler::LatencyStats& s) {
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

void PrintJson(const AnalyzeFlags& flags, const Analysis& analysis,
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
  out["window"] = {{"from", analysis.first_timestamp
                                ? nlohmann::ordered_json(FormatTimestamp(*analysis.first_timestamp))
                                : nlohmann::ordered_json(nullptr)},
                   {"to", analysis.last_timestamp
                              ? nlohmann::ordered_json(FormatTimestamp(*analysis.last_timestamp))
                              : nlohmann::ordered_json(nullptr)},
                   {"seconds", flags.window.empty()
                                   ? nlohmann::ordered_json(nullptr)
                                   : nlohmann::ordered_json(ToSeconds(window.options().window))}};
  nlohmann::ordered_json formations = nlohmann::ordered_json::array();
  for (const FormationResult& result : results) {
    nlohmann::ordered_json dynos = nlohmann::ordered_json::array();
    for (const latency::DynoReport& dyno : result.dynos) {
      nlohmann::ordered_json entry = {{"dyno", dyno.dyno}};
      entry.update(StatsJson(dyno.stats));
      entry["errors_by_code"] = CodesJson(dyno.errors_by_code);
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
         {"dynos", std::move(dynos)}});
  }
  out["formations"] = std::move(formations);
  const latency::DynoReport unattributed = window.Unattributed(analysis.now);
  out["unattributed_errors"] = {{"count", unattributed.stats.errors},
                                {"by_code", CodesJson(unattributed.errors_by_code)}};
  std::printf("%s\n", out.dump(2).c_str());
}

int RunAnalyze(const AnalyzeFlags& flags) {
  auto fail = [](const std::string& message) {
    std::fprintf(stderr, "dynoherd analyze: %s\n", message.c_str());
    return kExitError;
  };
  const auto formation_statistic =
      ParseName(flags.formation_statistic,
                {spec::Statistic::kMean, spec::Statistic::kP50, spec::Statistic::kP95,
                 spec::Statistic::kP99, spec::Statistic::kMax});
  if (!formation_statistic) {
    return fail("--formation-statistic: unknown statistic \"" + flags.formation_statistic +
                "\" (expected mean, p50, p95, p99 or max)");
  }
  latency::WindowOptions options{.window = Duration::zero()};
  if (!flags.window.empty() && flags.window != "all") {
    Result<Duration> window = ParseDuration(flags.window);
    if (!window.ok()) return fail("--window: " + window.status().message());
    options.window = *window;
  }
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
    if (!flags.formation.empty() && type != flags.formation) continue;
    FormationResult result;
    result.type = type;
    for (latency::DynoReport& dyno : window->Report(analysis.now)) {
      if (dyno.formation == type) result.dynos.push_back(std::move(dyno));
    }
    result.latency = window->Formation(type, *formation_statistic, analysis.now);
    results.push_back(std::move(result));
  }
  if (!flags.formation.empty() && results.empty()) {
    FormationResult result;
    result.type = flags.formation;
    result.latency = window->Formation(flags.formation, *formation_statistic, analysis.now);
    results.push_back(std::move(result));
  }
  if (flags.output == "json") {
    PrintJson(flags, analysis, *window, results, *formation_statistic);
  } else {
    PrintText(flags, analysis, *window, results, *formation_statistic);
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
  command->add_option("--window", flags->window,
                      "Only the last DURATION of the input (e.g. 5m); default: all of it");
  command->add_option("--formation", flags->formation, "Only this formation (process type)");
  command
      ->add_option("--formation-statistic", flags->formation_statistic,
                   "The formation statistic: mean, p50, p95, p99 or max")
      ->capture_default_str();
  command->callback([flags, &exit_code] { exit_code = RunAnalyze(*flags); });
}

}  // namespace dynoherd::cli
