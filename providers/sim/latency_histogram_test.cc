#include "providers/sim/latency_histogram.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "providers/sim/random.h"

using namespace dynoherd::providers::sim;

namespace {

double ExactPercentile(std::vector<double> sorted, double q) {
  const auto rank =
      static_cast<size_t>(std::max(1.0, std::ceil(q * static_cast<double>(sorted.size()))));
  return sorted[rank - 1];
}

std::vector<double> LognormalSamples(int n, double median, uint64_t seed) {
  RandomStream r(seed);
  std::vector<double> out;
  for (int i = 0; i < n; ++i)
    out.push_back(median * std::exp(0.8 * r.Normal()));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("an empty histogram answers zeros") {
  LatencyHistogram h;
  CHECK(h.count() == 0);
  CHECK(h.Mean() == 0);
  CHECK(h.Percentile(0.99) == 0);
  CHECK(h.max() == 0);
  CHECK(h.CountAbove(0.1) == 0);
}

TEST_CASE("percentiles are within 1% of the exact nearest rank; count, mean and max are exact") {
  const std::vector<double> samples = LognormalSamples(50'000, 0.120, 1);
  LatencyHistogram h;
  double sum = 0;
  for (double s : samples) {
    h.Add(s);
    sum += s;
  }
  CHECK(h.count() == 50'000);
  CHECK(h.Mean() == doctest::Approx(sum / 50'000).epsilon(1e-9));
  CHECK(h.max() == samples.back());
  CHECK(h.min() == samples.front());
  for (double q : {0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999}) {
    CAPTURE(q);
    CHECK(h.Percentile(q) == doctest::Approx(ExactPercentile(samples, q)).epsilon(0.011));
  }
  CHECK(h.Percentile(1.0) == samples.back());
}

TEST_CASE("CountAbove is within a bucket's share of the exact count") {
  const std::vector<double> samples = LognormalSamples(50'000, 0.5, 2);
  LatencyHistogram h;
  for (double s : samples)
    h.Add(s);
  for (double threshold : {0.05, 0.2, 0.5, 1.0, 2.0, 5.0}) {
    CAPTURE(threshold);
    const auto exact = static_cast<int64_t>(
        samples.end() - std::upper_bound(samples.begin(), samples.end(), threshold));
    // Within the count of the one bucket holding the threshold (2% wide, ~1% of samples here).
    CHECK(std::abs(h.CountAbove(threshold) - exact) <= 50'000 / 100);
  }
  CHECK(h.CountAbove(samples.back()) == 0);
  CHECK(h.CountAbove(0.0) == 50'000);
}

TEST_CASE("Merge gives what adding every sample to one histogram gives") {
  const std::vector<double> a = LognormalSamples(1000, 0.1, 3);
  const std::vector<double> b = LognormalSamples(1000, 3.0, 4);
  LatencyHistogram ha, hb, all;
  for (double s : a)
    ha.Add(s), all.Add(s);
  for (double s : b)
    hb.Add(s), all.Add(s);
  ha.Merge(hb);
  CHECK(ha.count() == all.count());
  CHECK(ha.Mean() == doctest::Approx(all.Mean()));
  CHECK(ha.min() == all.min());
  CHECK(ha.max() == all.max());
  for (double q : {0.1, 0.5, 0.9, 0.99})
    CHECK(ha.Percentile(q) == all.Percentile(q));
  LatencyHistogram empty;
  empty.Merge(ha);
  CHECK(empty.Percentile(0.5) == ha.Percentile(0.5));
}

TEST_CASE("memory depends on the spread of latencies, not on how many there are") {
  LatencyHistogram h;
  RandomStream r(5);
  for (int i = 0; i < 1'000'000; ++i)
    h.Add(0.1 + 0.9 * r.Uniform());  // 0.1 s .. 1 s
  CHECK(h.count() == 1'000'000);
  CHECK(h.MemoryBytes() < 2048);  // ln(10)/ln(1.02) = 117 buckets
}

TEST_CASE("zero, negative, NaN and huge values never break the answers") {
  LatencyHistogram h;
  h.Add(0);
  h.Add(-1);
  h.Add(std::numeric_limits<double>::quiet_NaN());
  h.Add(1e12);
  CHECK(h.count() == 4);
  CHECK(h.min() == 0);
  CHECK(h.max() == 1e12);
  for (double q : {0.25, 0.5, 0.75, 1.0})
    CHECK_UNARY(std::isfinite(h.Percentile(q)));
  CHECK(h.Percentile(0.5) < 1e-3);
  CHECK(h.CountAbove(1.0) == 1);
}
