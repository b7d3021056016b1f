// Laggard detection: which dynos answer far slower than their siblings. Pure and deterministic.
// Used by the reconciler (with dyno state and startup grace) and by `dynoherd analyze` (logs only).
// The rules, with worked examples, are in docs/decisions.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/observation.h"
#include "spec/policy.h"

namespace dynoherd::reconciler {

// One dyno offered to the detector. The caller decides eligibility that needs the platform's view
// (state `up`, past `startupGrace`); the detector applies `minSamples` itself.
struct LaggardCandidate {
  std::string dyno;
  model::LatencyStats stats;
  std::string ineligible_reason;  // non-empty: never judged, for this reason ("state starting", ...)
};

struct LaggardVerdict {
  std::string dyno;
  bool judged = false;
  std::string reason;            // why not judged, or the finding in words with its numbers
  double value = 0;              // the compared statistic (seconds)
  std::optional<double> score;   // z-score (leave-one-out, population) or modified z-score (mad)
  double reference = 0;          // what the dyno was compared with: the others' mean (median for mad)
  bool slow = false;             // statistically and practically significant (minLatency, minRatio)
};

struct LaggardReport {
  std::vector<LaggardVerdict> verdicts;  // one per candidate, in input order
  bool decided = false;                  // false: fewer than minDynos judged; see no_verdict_reason
  std::string no_verdict_reason;
  std::vector<std::string> slow;         // names of slow dynos, highest score first
};

LaggardReport DetectLaggards(const spec::LaggardSpec& spec,
                             const std::vector<LaggardCandidate>& candidates);

}  // namespace dynoherd::reconciler
