// `simulate --report FILE`: the comparison as a self-contained HTML page (chart/page.h). Per
// formation: the latency per minute of each variant with the incidents shaded and the actions
// marked (their reasons on hover), the formation's size over time for every variant, and the
// summary table that `simulate --compare` prints. The same comparison gives the same bytes.
#pragma once

#include <string>

#include "sim/simulation.h"

namespace dynoherd::sim {

// Charts per formation: one of latency per variant, and one of the sizes of all of them.
std::string RenderSimReport(const SimComparison& comparison);

}  // namespace dynoherd::sim
