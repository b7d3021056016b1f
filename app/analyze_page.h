// `analyze --report FILE`: what analyze found as a self-contained HTML page (chart/page.h). Per
// formation: a box plot of each dyno's latency with the laggards highlighted and the rules'
// minLatency drawn, the requests per dyno beneath it on the same bands, and the dyno table.
#pragma once

#include <string>
#include <vector>

#include "app/analyze_report.h"

namespace dynoherd::app {

std::string RenderAnalyzePage(const AnalyzeRules& rules, const providers::RouterLogRead& read,
                              const latency::LatencyWindow& window,
                              const std::vector<FormationAnalysis>& results);

}  // namespace dynoherd::app
