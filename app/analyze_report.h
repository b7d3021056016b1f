// What `dynoherd analyze` makes of router logs: per formation, a row per dyno, the laggard
// verdicts and the formation statistic, as a pass would see them; for people and as JSON.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/time.h"
#include "latency/latency_window.h"
#include "model/observation.h"
#include "providers/router_log_file.h"
#include "reconciler/laggard_detector.h"
#include "spec/policy.h"

namespace dynoherd::app {

// The rules analyze applies: the flags, over a policy's formation or the spec defaults.
struct AnalyzeRules {
  std::optional<Duration> window;  // nullopt: the whole input
  spec::Statistic formation_statistic = spec::LatencySpec{}.statistic;
  spec::LaggardSpec laggards;
  std::string formation;  // only this formation; empty: every formation in the input
  std::string origin;     // where the rules come from, for the report
};

struct FormationAnalysis {
  std::string type;
  std::vector<latency::DynoReport> dynos;
  model::FormationLatency latency;
  reconciler::LaggardReport laggards;  // verdicts in the order of `dynos`
};

// Each formation of `window` (or only rules.formation, reported even when the input had none of
// it) as of `now`. Logs say nothing of dyno states or start times: every dyno is a candidate, as
// the reconciler's would be once up and past startupGrace.
std::vector<FormationAnalysis> AnalyzeFormations(const latency::LatencyWindow& window,
                                                 const AnalyzeRules& rules, TimePoint now);

// The rules in words: "leave-one-out on p50, sigma 2, at least 1.5x the others and 200ms, 30+
// requests a dyno, 3+ dynos".
std::string DescribeLaggards(const spec::LaggardSpec& laggards);
// What was read and the rules applied, a line each (the head of the text report).
std::string DescribeInput(const AnalyzeRules& rules, const providers::RouterLogRead& read,
                          const latency::LatencyWindow& window);
// "SLOW", "ok" or "not judged".
std::string_view VerdictWord(const reconciler::LaggardVerdict& verdict);

// What was read, the rules, then per formation a table of dynos with their verdicts, the
// laggards, router errors and the formation statistic.
std::string RenderAnalyzeText(const AnalyzeRules& rules, const providers::RouterLogRead& read,
                              const latency::LatencyWindow& window,
                              const std::vector<FormationAnalysis>& results);
// The same for programs (docs/schemas/analyze.schema.json): camelCase keys, latencies in seconds,
// null for what is unknown, the shapes `plan` uses for a verdict and a dyno's requests.
std::string RenderAnalyzeJson(const AnalyzeRules& rules, const providers::RouterLogRead& read,
                              const latency::LatencyWindow& window,
                              const std::vector<FormationAnalysis>& results);

}  // namespace dynoherd::app
