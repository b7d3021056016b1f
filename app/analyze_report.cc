#include "app/analyze_report.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/text_table.h"
#include "model/codec.h"
#include "spec/fields.h"

namespace dynoherd::app {

namespace {

// Appends printf-formatted text to `out`.
[[gnu::format(printf, 2, 3)]] void Printf(std::string& out, const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list again;
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, format, args);
  va_end(args);
  if (n > 0) {
    const size_t at = out.size();
    out.resize(at + static_cast<size_t>(n) + 1);
    std::vsnprintf(out.data() + at, static_cast<size_t>(n) + 1, format, again);
    out.resize(at + static_cast<size_t>(n));
  }
  va_end(again);
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

std::string FormatScore(const std::optional<double>& score) {
  if (!score) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", *score);
  return buf;
}

nlohmann::json CodesJson(const std::vector<std::pair<std::string, int64_t>>& codes) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [code, n] : codes)
    out[code] = n;
  return out;
}

// One formation in the shapes `plan` uses for the same things (model/codec.h): the formation
// statistic, the laggard verdicts, each dyno's requests.
nlohmann::json FormationJson(const FormationAnalysis& result, spec::Statistic statistic) {
  using nlohmann::json;
  model::FormationLatencyReport latency;
  latency.statistic = std::string(spec::Name(statistic));
  latency.seconds = result.latency.value;
  latency.samples = result.latency.sample_count;
  if (!result.latency.value) latency.unknown_reason = result.latency.unknown_reason;
  json verdicts = json::array();
  json dynos = json::array();
  for (size_t i = 0; i < result.dynos.size(); ++i) {
    const latency::DynoReport& dyno = result.dynos[i];
    const reconciler::LaggardVerdict& v = result.laggards.verdicts[i];
    verdicts.push_back(model::ToJson(
        model::VerdictReport{v.dyno, v.judged, v.slow, v.value, v.score, v.reference, v.reason}));
    dynos.push_back({{"name", dyno.dyno},
                     {"latency", model::ToJson(dyno.stats)},
                     {"errorsByCode", CodesJson(dyno.errors_by_code)}});
  }
  const reconciler::LaggardReport& laggards = result.laggards;
  return {{"type", result.type},
          {"latency", model::ToJson(latency)},
          {"laggards",
           {{"decided", laggards.decided},
            {"noVerdictReason",
             laggards.decided ? json(nullptr) : json(laggards.no_verdict_reason)},
            {"slow", laggards.slow},
            {"verdicts", std::move(verdicts)}}},
          {"dynos", std::move(dynos)}};
}

// One formation: its dynos in a table, then why some were not judged or are slow, the
// laggards, its router errors and the formation statistic.
std::string FormationSection(const FormationAnalysis& result, spec::Statistic formation_statistic) {
  std::string out;
  int64_t requests = 0;
  for (const auto& dyno : result.dynos)
    requests += dyno.stats.count;
  Printf(out, "\n%s: %zu dynos, %lld timed requests\n", result.type.c_str(), result.dynos.size(),
         static_cast<long long>(requests));
  // Text columns (the first and the last) left-aligned, numbers right.
  using Align = TextTable::Align;
  TextTable table({{"DYNO"},
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
  out += table.Render("");
  for (size_t i = 0; i < result.dynos.size(); ++i) {
    const reconciler::LaggardVerdict& verdict = result.laggards.verdicts[i];
    if (verdict.slow || !verdict.judged) {
      Printf(out, "  %s: %s\n", result.dynos[i].dyno.c_str(), verdict.reason.c_str());
    }
  }
  if (!result.laggards.decided) {
    Printf(out, "laggards: no verdict (%s)\n", result.laggards.no_verdict_reason.c_str());
  } else if (result.laggards.slow.empty()) {
    Printf(out, "laggards: none\n");
  } else {
    std::string slow;
    for (const std::string& dyno : result.laggards.slow)
      slow += (slow.empty() ? "" : ", ") + dyno;
    Printf(out, "laggards: %s\n", slow.c_str());
  }
  std::vector<std::pair<std::string, int64_t>> codes;
  for (const latency::DynoReport& dyno : result.dynos) {
    for (const auto& [code_binding, n] : dyno.errors_by_code) {
      const std::string& code = code_binding;  // Clang 14 cannot capture a structured binding
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
  if (!codes.empty()) Printf(out, "router errors: %s\n", ErrorsByCode(codes).c_str());
  const std::string statistic(spec::Name(formation_statistic));
  if (result.latency.value) {
    Printf(out, "formation %s: %s over %lld requests\n", statistic.c_str(),
           FormatLatency(*result.latency.value).c_str(),
           static_cast<long long>(result.latency.sample_count));
  } else {
    Printf(out, "formation %s: unknown (%s)\n", statistic.c_str(),
           result.latency.unknown_reason.c_str());
  }
  return out;
}

}  // namespace

std::string DescribeInput(const AnalyzeRules& rules, const providers::RouterLogRead& analysis,
                         const latency::LatencyWindow& window) {
  std::string out;
  const latency::IngestCounts& c = analysis.counts;
  Printf(out, "Read %lld %s: %lld router, %lld ignored, %lld malformed",
         static_cast<long long>(c.lines),
         analysis.format == latency::InputFormat::kLogplex ? "frames" : "lines",
         static_cast<long long>(c.router), static_cast<long long>(c.ignored),
         static_cast<long long>(c.malformed));
  if (analysis.format == latency::InputFormat::kLogplex) {
    Printf(out, ", %lld framing problems", static_cast<long long>(c.framing_problems));
  }
  Printf(out, ".\n");
  if (!c.first_problem.empty()) Printf(out, "First problem: %s\n", c.first_problem.c_str());
  if (analysis.first_timestamp) {
    // Whole seconds: "8m20s" reads better than "8m19s995ms".
    const auto span = std::chrono::round<std::chrono::seconds>(*analysis.last_timestamp -
                                                               *analysis.first_timestamp);
    Printf(out, "Router lines from %s to %s (%s)",
           FormatTimestamp(*analysis.first_timestamp).c_str(),
           FormatTimestamp(*analysis.last_timestamp).c_str(),
           FormatDuration(std::chrono::duration_cast<Duration>(span)).c_str());
    if (!rules.window) {
      Printf(out, "; window: all of it.\n");
    } else {
      Printf(out, "; window: the last %s.\n", FormatDuration(window.options().window).c_str());
    }
  }
  Printf(out, "Laggard rules (%s): %s.\n", rules.origin.c_str(),
         DescribeLaggards(rules.laggards).c_str());
  const latency::WindowCounts& w = window.counts();
  if (w.late > 0) {
    Printf(out, "%lld lines older than the window were left out.\n",
           static_cast<long long>(w.late));
  }
  if (w.dropped_too_many_dynos > 0) {
    Printf(out, "%lld lines for dynos beyond the first %zu were left out.\n",
           static_cast<long long>(w.dropped_too_many_dynos), window.options().max_dynos);
  }
  return out;
}

std::string DescribeLaggards(const spec::LaggardSpec& l) {
  return std::string(spec::Name(l.method)) + " on " + std::string(spec::Name(l.statistic)) +
         ", sigma " + spec::FormatNumber(l.sigma) + ", at least " +
         spec::FormatNumber(l.min_ratio) + "x the others and " + FormatDuration(l.min_latency) +
         ", " + std::to_string(l.min_samples) + "+ requests a dyno, " +
         std::to_string(l.min_dynos) + "+ dynos";
}

std::string_view VerdictWord(const reconciler::LaggardVerdict& v) {
  return !v.judged ? "not judged" : v.slow ? "SLOW" : "ok";
}

std::vector<FormationAnalysis> AnalyzeFormations(const latency::LatencyWindow& window,
                                                 const AnalyzeRules& rules, TimePoint now) {
  std::vector<FormationAnalysis> results;
  for (const std::string& type : window.FormationTypes(now)) {
    if (!rules.formation.empty() && type != rules.formation) continue;
    FormationAnalysis result;
    result.type = type;
    for (latency::DynoReport& dyno : window.Report(now)) {
      if (dyno.formation == type) result.dynos.push_back(std::move(dyno));
    }
    std::stable_sort(result.dynos.begin(), result.dynos.end(), [](const auto& a, const auto& b) {
      return model::DynoNameLess(a.dyno, b.dyno);
    });
    result.latency = window.Formation(type, rules.formation_statistic, now);
    std::vector<reconciler::LaggardCandidate> candidates;
    for (const latency::DynoReport& dyno : result.dynos) {
      candidates.push_back({.dyno = dyno.dyno, .stats = dyno.stats, .ineligible_reason = ""});
    }
    result.laggards = reconciler::DetectLaggards(rules.laggards, candidates);
    results.push_back(std::move(result));
  }
  if (!rules.formation.empty() && results.empty()) {
    FormationAnalysis result;
    result.type = rules.formation;
    result.latency = window.Formation(rules.formation, rules.formation_statistic, now);
    result.laggards = reconciler::DetectLaggards(rules.laggards, {});
    results.push_back(std::move(result));
  }
  return results;
}

std::string RenderAnalyzeText(const AnalyzeRules& rules, const providers::RouterLogRead& analysis,
                              const latency::LatencyWindow& window,
                              const std::vector<FormationAnalysis>& results) {
  std::string out = DescribeInput(rules, analysis, window);
  for (const FormationAnalysis& result : results)
    out += FormationSection(result, rules.formation_statistic);
  const latency::DynoReport unattributed = window.Unattributed(analysis.now);
  if (unattributed.stats.errors > 0) {
    Printf(out, "\nRouter errors without a dyno: %lld (%s)\n",
           static_cast<long long>(unattributed.stats.errors),
           ErrorsByCode(unattributed.errors_by_code).c_str());
  }
  if (analysis.counts.router == 0) {
    Printf(out,
           "\nNo router lines found. Feed it `heroku logs -s heroku -d router` output, e.g.\n"
           "  heroku logs -a APP -s heroku -d router -n 1500 | dynoherd analyze\n");
  }
  return out;
}

std::string RenderAnalyzeJson(const AnalyzeRules& rules, const providers::RouterLogRead& analysis,
                              const latency::LatencyWindow& window,
                              const std::vector<FormationAnalysis>& results) {
  using nlohmann::json;
  const latency::IngestCounts& c = analysis.counts;
  json out;
  out["input"] = {{"format", FormatName(analysis.format)},
                  {"lines", c.lines},
                  {"router", c.router},
                  {"ignored", c.ignored},
                  {"malformed", c.malformed},
                  {"framingProblems", c.framing_problems},
                  {"firstProblem", c.first_problem.empty() ? json(nullptr) : json(c.first_problem)},
                  {"late", window.counts().late},
                  {"droppedTooManyDynos", window.counts().dropped_too_many_dynos}};
  const spec::LaggardSpec& l = rules.laggards;
  out["rules"] = {{"origin", rules.origin},
                  {"method", spec::Name(l.method)},
                  {"statistic", spec::Name(l.statistic)},
                  {"sigma", l.sigma},
                  {"minRatio", l.min_ratio},
                  {"minDynos", l.min_dynos},
                  {"minSamples", l.min_samples},
                  {"minLatencySeconds", ToSeconds(l.min_latency)}};
  out["window"] = {
      {"from", model::TimeOrNull(analysis.first_timestamp)},
      {"to", model::TimeOrNull(analysis.last_timestamp)},
      {"seconds", rules.window ? json(ToSeconds(window.options().window)) : json(nullptr)}};
  json formations = json::array();
  for (const FormationAnalysis& result : results) {
    formations.push_back(FormationJson(result, rules.formation_statistic));
  }
  out["formations"] = std::move(formations);
  const latency::DynoReport unattributed = window.Unattributed(analysis.now);
  out["unattributedErrors"] = {{"count", unattributed.stats.errors},
                               {"byCode", CodesJson(unattributed.errors_by_code)}};
  return out.dump(2) + "\n";
}

}  // namespace dynoherd::app
