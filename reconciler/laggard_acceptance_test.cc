// The acceptance table of the laggard detector (issue 3), seeded and exact:
// per-request latencies lognormal (median 100 ms, sigma_log 0.5), 200 requests per dyno per window,
// a laggard's requests 3x slower; defaults (leave-one-out, sigma 2, p50, minRatio 1.5).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "reconciler/laggard_detector.h"

using namespace dynoherd;
using namespace dynoherd::model;
using namespace dynoherd::reconciler;

namespace {

constexpr int kRequests = 200;
constexpr double kMedianSeconds = 0.100;
constexpr double kSigmaLog = 0.5;

// splitmix64: a fast, well-mixed seeded generator (these tests draw over 200 million numbers).
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

// The standard normal quantile by Newton's method on erfc; p is near 1/2 here, so a few steps do.
double NormalQuantile(double p) {
  double z = 0;
  for (int i = 0; i < 50; ++i) {
    const double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));
    const double pdf = std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI);
    const double step = (cdf - p) / pdf;
    z -= step;
    if (std::fabs(step) < 1e-12) break;
  }
  return z;
}

// Draws one dyno's window and returns its p50 in seconds. Each request's latency is drawn by
// inverse-transform sampling, X = F^-1(U) with F the lognormal CDF. F^-1 is increasing, so the
// median of the X is F^-1 of the median of the U: only that one needs transforming.
double DrawP50(SplitMix64& rng, double factor) {
  std::array<uint32_t, kRequests> u;
  for (int i = 0; i < kRequests; i += 2) {
    uint64_t bits = rng.Next();
    u[i] = static_cast<uint32_t>(bits);
    u[i + 1] = static_cast<uint32_t>(bits >> 32);
  }
  auto mid = u.begin() + kRequests / 2;
  std::nth_element(u.begin(), mid, u.end());
  const double p = (static_cast<double>(*mid) + 0.5) / 4294967296.0;
  return factor * kMedianSeconds * std::exp(kSigmaLog * NormalQuantile(p));
}

std::vector<LaggardCandidate> DrawFormation(SplitMix64& rng, int n, int laggard_index,
                                            double laggard_factor) {
  std::vector<LaggardCandidate> out(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto& c = out[static_cast<size_t>(i)];
    c.dyno = "web." + std::to_string(i + 1);
    c.stats.count = kRequests;
    c.stats.p50 = DrawP50(rng, i == laggard_index ? laggard_factor : 1.0);
  }
  return out;
}

}  // namespace

TEST_CASE("acceptance: the laggard is found in >= 99% of 1,000 formations for every n") {
  const spec::LaggardSpec defaults;
  for (int n : {3, 4, 5, 10, 30, 50}) {
    SplitMix64 rng(1000 + static_cast<uint64_t>(n));
    int found = 0;
    int wrong = 0;  // a healthy dyno flagged beside the laggard
    for (int trial = 0; trial < 1000; ++trial) {
      const int laggard = trial % n;
      LaggardReport r = DetectLaggards(defaults, DrawFormation(rng, n, laggard, 3.0));
      const std::string name = "web." + std::to_string(laggard + 1);
      found += std::find(r.slow.begin(), r.slow.end(), name) != r.slow.end();
      wrong += static_cast<int>(r.slow.size()) -
               (std::find(r.slow.begin(), r.slow.end(), name) != r.slow.end());
    }
    MESSAGE("n = " << n << ": laggard found in " << found << " of 1000, healthy dynos flagged "
                   << wrong);
    CHECK(found >= 990);
    CHECK(wrong == 0);
  }
}

TEST_CASE("acceptance: at most 0.1% of 10,000 healthy formations flag anything, for every n") {
  const spec::LaggardSpec defaults;
  for (int n : {3, 4, 5, 10, 30, 50}) {
    SplitMix64 rng(2000 + static_cast<uint64_t>(n));
    int flagged = 0;
    for (int trial = 0; trial < 10000; ++trial) {
      flagged += !DetectLaggards(defaults, DrawFormation(rng, n, -1, 1.0)).slow.empty();
    }
    MESSAGE("n = " << n << ": " << flagged << " of 10000 healthy formations flagged");
    CHECK(flagged <= 10);
  }
}

TEST_CASE(
    "acceptance: population with the mean never flags at n = 5, sigma 2, whatever the factor") {
  spec::LaggardSpec population;
  population.method = spec::LaggardMethod::kPopulation;
  population.statistic = spec::Statistic::kMean;
  population.sigma = 2;
  SplitMix64 rng(3000);
  for (double factor : {1.5, 3.0, 10.0, 100.0, 1e6}) {
    int flagged = 0;
    for (int trial = 0; trial < 1000; ++trial) {
      std::vector<LaggardCandidate> dynos(5);
      for (int i = 0; i < 5; ++i) {
        // The mean of 200 lognormal requests, drawn in full (the mean needs every request).
        double sum = 0;
        for (int k = 0; k < kRequests; ++k) {
          const double p = (static_cast<double>(rng.Next() >> 11) + 0.5) / 9007199254740992.0;
          sum += kMedianSeconds * std::exp(kSigmaLog * NormalQuantile(p));
        }
        auto& c = dynos[static_cast<size_t>(i)];
        c.dyno = "web." + std::to_string(i + 1);
        c.stats.count = kRequests;
        c.stats.mean = (i == 0 ? factor : 1.0) * sum / kRequests;
      }
      flagged += !DetectLaggards(population, dynos).slow.empty();
    }
    CHECK_MESSAGE(flagged == 0, "factor " << factor);
  }
}
