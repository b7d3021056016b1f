#include "reconciler/laggard_detector.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include "common/time.h"

namespace dynoherd::reconciler {

// The vocabulary the planner reads and writes (model/).
using namespace dynoherd::model;

namespace {

// The others' spread is never taken as smaller than this, so identical siblings do not make a
// tiny difference "infinitely" slow: 5% of their centre (a healthy dyno's p50 over a few hundred
// requests wanders about that much by chance), and never under 1 ms (router logs count whole ms).
constexpr double kSdFloorFraction = 0.05;
constexpr double kSdFloorSeconds = 0.001;

// MAD / 0.6745 estimates the sd of normal data (Iglewicz & Hoaglin's modified z-score).
constexpr double kMadToSd = 1.0 / 0.6745;
// When MAD is 0 (over half the values equal), the mean absolute deviation stands in for it:
// sqrt(pi/2) * MeanAD estimates the sd of normal data.
constexpr double kMeanAdToSd = 1.2533141373155001;

double SdFloor(double centre) {
  return std::max(kSdFloorFraction * std::fabs(centre), kSdFloorSeconds);
}

double Mean(const std::vector<double>& v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  double upper = v[mid];
  if (v.size() % 2 == 1) return upper;
  double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lower + upper) / 2;
}

// 1.5, 2, 1.25: as a person would write a setting.
std::string Number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

struct Scored {
  double score = 0;
  double reference = 0;  // what minRatio compares with: the others' mean, or the median (mad)
  double centre = 0;     // what the reason quotes: the others' mean, the mean of all, the median
  // The floor stood in for the spread: the score then mostly restates the ratio, and can be huge.
  bool floored = false;
  // How closely the others agree, for the reason when floored: their range (leave-one-out), MAD.
  double agreement = 0;
};

// Each dyno against the mean and sample sd of the others.
std::vector<Scored> ScoreLeaveOneOut(const std::vector<double>& values) {
  const size_t n = values.size();
  std::vector<Scored> out(n);
  for (size_t i = 0; i < n; ++i) {
    double sum = 0;
    for (size_t j = 0; j < n; ++j) {
      if (j != i) sum += values[j];
    }
    const double others = static_cast<double>(n - 1);
    const double mean = sum / others;
    double squares = 0;
    for (size_t j = 0; j < n; ++j) {
      if (j != i) squares += (values[j] - mean) * (values[j] - mean);
    }
    const double sd = n >= 3 ? std::sqrt(squares / (others - 1)) : 0.0;
    double lowest = std::numeric_limits<double>::infinity();
    double highest = -lowest;
    for (size_t j = 0; j < n; ++j) {
      if (j == i) continue;
      lowest = std::min(lowest, values[j]);
      highest = std::max(highest, values[j]);
    }
    const double floor = SdFloor(mean);
    out[i] = {(values[i] - mean) / std::max(sd, floor), mean, mean, sd < floor, highest - lowest};
  }
  return out;
}

// The slayer's rule: population mean and sd of all dynos, the candidate included. No z can exceed
// sqrt(n-1) (Laguerre-Samuelson); rounding may push it a hair past, so it is clamped to the bound.
std::vector<Scored> ScorePopulation(const std::vector<double>& values) {
  const size_t n = values.size();
  const double mean = Mean(values);
  double squares = 0;
  for (double v : values)
    squares += (v - mean) * (v - mean);
  const double sd = std::sqrt(squares / static_cast<double>(n));
  const double bound = std::sqrt(static_cast<double>(n - 1));
  const double sum = std::accumulate(values.begin(), values.end(), 0.0);
  std::vector<Scored> out(n);
  for (size_t i = 0; i < n; ++i) {
    const double z = sd > 0 ? (values[i] - mean) / sd : 0.0;
    out[i] = {std::clamp(z, -bound, bound), (sum - values[i]) / static_cast<double>(n - 1), mean,
              false, 0};
  }
  return out;
}

// Modified z-score around the median of all judged dynos.
std::vector<Scored> ScoreMad(const std::vector<double>& values) {
  const size_t n = values.size();
  const double median = Median(values);
  std::vector<double> deviations(n);
  for (size_t i = 0; i < n; ++i)
    deviations[i] = std::fabs(values[i] - median);
  const double mad = Median(deviations);
  const double spread = mad > 0 ? mad * kMadToSd : kMeanAdToSd * Mean(deviations);
  const double floor = SdFloor(median);
  const double scale = std::max(spread, floor);
  std::vector<Scored> out(n);
  for (size_t i = 0; i < n; ++i)
    out[i] = {(values[i] - median) / scale, median, median, spread < floor, mad};
  return out;
}

// How closely the others agree, in whole milliseconds (router logs count whole ms): "2ms", "0.4ms".
std::string Agreement(double seconds) {
  const double ms = seconds * 1000;
  if (ms >= 1000) return FormatLatency(seconds);
  char buf[32];
  std::snprintf(buf, sizeof buf, ms < 1 ? "%.1fms" : "%.0fms", ms);
  return buf;
}

// Scores past this are shown as ">100": the exact figure means nothing to a reader.
constexpr double kLargestShownScore = 100;

// The finding in words: always the ratio to what minRatio compares with; the score only when it
// was measured against the others' own spread, not the floor (then it only restates the ratio).
//   "p50 612ms, 4.1 sd above the other 5 dynos (4.4x their mean 140ms)"
//   "p50 612ms, 4.4x the other 5 dynos' mean 140ms (they agree within 2ms)"   (floored)
// snprintf only: the detector runs over every dyno of every formation, every pass.
std::string Describe(spec::LaggardMethod method, spec::Statistic statistic, double value,
                     const Scored& s, size_t n) {
  const std::string latency = FormatLatency(value);
  const std::string centre = FormatLatency(s.centre);
  const std::string statistic_name(spec::Name(statistic));
  const char* name = statistic_name.c_str();
  const char* direction = s.score < 0 ? "below" : "above";
  char score[32];
  if (std::fabs(s.score) > kLargestShownScore) {
    std::snprintf(score, sizeof score, ">%.0f", kLargestShownScore);
  } else {
    std::snprintf(score, sizeof score, "%.1f",
                  method == spec::LaggardMethod::kMad ? s.score : std::fabs(s.score));
  }
  char ratio[32];
  std::snprintf(ratio, sizeof ratio, "%.1fx", s.reference > 0 ? value / s.reference : 0.0);
  const std::string agreement = Agreement(s.agreement);
  char buf[240];
  switch (method) {
    case spec::LaggardMethod::kLeaveOneOut:
      if (n == 2) {  // one sibling: no spread at all, only the ratio means something
        std::snprintf(buf, sizeof buf, "%s %s, %s the other dyno's %s", name, latency.c_str(),
                      ratio, centre.c_str());
      } else if (s.floored) {
        std::snprintf(buf, sizeof buf, "%s %s, %s the other %zu dynos' mean %s (%s%s)", name,
                      latency.c_str(), ratio, n - 1, centre.c_str(),
                      s.agreement > 0 ? "they agree within " : "all at exactly ",
                      s.agreement > 0 ? agreement.c_str() : centre.c_str());
      } else {
        std::snprintf(buf, sizeof buf, "%s %s, %s sd %s the other %zu dynos (%s their mean %s)",
                      name, latency.c_str(), score, direction, n - 1, ratio, centre.c_str());
      }
      break;
    case spec::LaggardMethod::kPopulation: {
      const std::string others = FormatLatency(s.reference);
      std::snprintf(buf, sizeof buf,
                    "%s %s, %s sd %s the mean of all %zu dynos (%s), %s the others' mean %s", name,
                    latency.c_str(), score, direction, n, centre.c_str(), ratio, others.c_str());
      break;
    }
    case spec::LaggardMethod::kMad:
      if (s.floored) {
        std::snprintf(buf, sizeof buf, "%s %s, %s the median %s of %zu dynos (%s%s%s)", name,
                      latency.c_str(), ratio, centre.c_str(), n,
                      s.agreement > 0 ? "half of them within " : "over half of them at exactly ",
                      s.agreement > 0 ? agreement.c_str() : centre.c_str(),
                      s.agreement > 0 ? " of it" : "");
      } else {
        std::snprintf(buf, sizeof buf,
                      "%s %s, modified z %s against the median of %zu dynos (%s the median %s)",
                      name, latency.c_str(), score, n, ratio, centre.c_str());
      }
      break;
  }
  return buf;
}

std::string Plural(size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

}  // namespace

LaggardReport DetectLaggards(const spec::LaggardSpec& spec,
                             const std::vector<LaggardCandidate>& candidates) {
  LaggardReport report;
  report.verdicts.reserve(candidates.size());
  std::vector<size_t> judged;  // indexes into candidates / verdicts
  std::vector<double> values;
  const std::string statistic(spec::Name(spec.statistic));
  for (const auto& c : candidates) {
    LaggardVerdict v;
    v.dyno = c.dyno;
    v.value = c.stats.Get(spec.statistic);
    if (!c.ineligible_reason.empty()) {
      v.reason = c.ineligible_reason;
    } else if (c.stats.count < spec.min_samples) {
      v.reason =
          Plural(static_cast<size_t>(std::max<int64_t>(c.stats.count, 0)), "request", "requests") +
          " in the window, minSamples is " + std::to_string(spec.min_samples);
    } else if (!std::isfinite(v.value) || v.value < 0) {
      v.reason = statistic + " is not a valid latency";
    } else {
      v.judged = true;
      judged.push_back(report.verdicts.size());
      values.push_back(v.value);
    }
    report.verdicts.push_back(std::move(v));
  }

  // A comparison needs at least one sibling, whatever minDynos says.
  const size_t needed = static_cast<size_t>(std::max(spec.min_dynos, 2));
  if (judged.size() < needed) {
    report.no_verdict_reason =
        Plural(judged.size(), "dyno", "dynos") + " judged, minDynos is " + std::to_string(needed);
    for (size_t i : judged)
      report.verdicts[i].reason = "no verdict: " + report.no_verdict_reason;
    return report;
  }
  report.decided = true;

  std::vector<Scored> scored;
  switch (spec.method) {
    case spec::LaggardMethod::kLeaveOneOut:
      scored = ScoreLeaveOneOut(values);
      break;
    case spec::LaggardMethod::kPopulation:
      scored = ScorePopulation(values);
      break;
    case spec::LaggardMethod::kMad:
      scored = ScoreMad(values);
      break;
  }
  const double min_latency = ToSeconds(spec.min_latency);
  std::vector<size_t> slow;
  for (size_t k = 0; k < judged.size(); ++k) {
    LaggardVerdict& v = report.verdicts[judged[k]];
    const Scored& s = scored[k];
    v.score = s.score;
    v.reference = s.reference;
    v.reason = Describe(spec.method, spec.statistic, v.value, s, judged.size());
    if (s.score <= spec.sigma) continue;
    if (v.value <= min_latency) {
      v.reason += "; not slow: under minLatency " + FormatDuration(spec.min_latency);
    } else if (v.value < spec.min_ratio * s.reference) {
      v.reason += "; not slow: under minRatio " + Number(spec.min_ratio);
    } else {
      v.slow = true;
      slow.push_back(judged[k]);
    }
  }
  std::stable_sort(slow.begin(), slow.end(), [&](size_t a, size_t b) {
    return *report.verdicts[a].score > *report.verdicts[b].score;
  });
  for (size_t i : slow)
    report.slow.push_back(report.verdicts[i].dyno);
  return report;
}

}  // namespace dynoherd::reconciler
