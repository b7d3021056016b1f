#include "latency/histogram.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using dynoherd::latency::LatencyHistogram;

namespace {

double NearestRank(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size()) - 1e-9));
  rank = std::clamp<size_t>(rank, 1, values.size());
  return values[rank - 1];
}

// `n` seeded lognormal latencies around `median`, recorded in `histogram` and returned.
std::vector<double> RecordLognormal(LatencyHistogram& histogram, uint64_t seed, double median,
                                    double sigma, int n) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> service(std::log(median), sigma);
  std::vector<double> values;
  for (int i = 0; i < n; ++i) {
    values.push_back(service(rng));
    histogram.Record(values.back());
  }
  return values;
}

}  // namespace

TEST_CASE("every value from 1us to an hour comes back within 1/64 of itself") {
  // Geometric steps of 0.1% over 1e-6 .. 3600 s: about 21,000 values, every octave and sub-bucket.
  int checked = 0;
  double worst = 0;
  for (double v = 1e-6; v < 3600; v *= 1.001) {
    LatencyHistogram histogram;
    histogram.Record(v);
    histogram.Record(v * 2 + 1);  // a larger value, so the clamp to max() does not hide the error
    const double reported = histogram.Quantile(0.5);
    const double error = std::fabs(reported - v) / v;
    worst = std::max(worst, error);
    ++checked;
  }
  CHECK(checked > 20000);
  CHECK(worst <= LatencyHistogram::kMaxRelativeError);
  CHECK(worst <= 0.02);
  // The bound is tight: the worst case is close to it, so the test would catch a coarser layout.
  CHECK(worst > LatencyHistogram::kMaxRelativeError * 0.9);
}

TEST_CASE("bucket midpoints are within the bound of every value in the bucket") {
  for (int index = 1; index < LatencyHistogram::kBucketCount - 1; ++index) {
    const double mid = LatencyHistogram::BucketMidpoint(index);
    CHECK(LatencyHistogram::BucketIndex(mid) == index);
  }
  CHECK(LatencyHistogram::BucketIndex(0) == 0);
  CHECK(LatencyHistogram::BucketIndex(1e-9) == 0);
  CHECK(LatencyHistogram::BucketIndex(1e9) == LatencyHistogram::kBucketCount - 1);
  // Monotone: a larger value never lands in a smaller bucket.
  int previous = 0;
  for (double v = 1e-7; v < 1e5; v *= 1.01) {
    int index = LatencyHistogram::BucketIndex(v);
    CHECK(index >= previous);
    previous = index;
  }
}

TEST_CASE("quantiles of lognormal samples match exact nearest-rank quantiles within 2%") {
  LatencyHistogram histogram;
  const std::vector<double> values = RecordLognormal(histogram, 42, 0.120, 0.6, 100000);
  for (double q : {0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0}) {
    const double exact = NearestRank(values, q);
    CAPTURE(q);
    CHECK(std::fabs(histogram.Quantile(q) - exact) / exact <= LatencyHistogram::kMaxRelativeError);
  }
  double sum = 0;
  for (double v : values)
    sum += v;
  CHECK(histogram.count() == values.size());
  CHECK(histogram.Mean() == doctest::Approx(sum / values.size()).epsilon(1e-12));
  CHECK(histogram.max() == *std::max_element(values.begin(), values.end()));
  CHECK(histogram.min() == *std::min_element(values.begin(), values.end()));
}

TEST_CASE("merging equals recording everything in one histogram") {
  std::mt19937_64 rng(9);
  std::lognormal_distribution<double> fast(std::log(0.05), 0.3);
  std::lognormal_distribution<double> slow(std::log(0.9), 0.3);
  LatencyHistogram a, b, all;
  std::vector<double> values;
  for (int i = 0; i < 5000; ++i) {
    double x = fast(rng), y = slow(rng);
    a.Record(x);
    b.Record(y);
    all.Record(x);
    all.Record(y);
    values.push_back(x);
    values.push_back(y);
  }
  LatencyHistogram merged = a;
  merged.Merge(b);
  CHECK(merged.count() == all.count());
  CHECK(merged.max() == all.max());
  for (double q : {0.5, 0.95, 0.99}) {
    CHECK(merged.Quantile(q) == all.Quantile(q));
    const double exact = NearestRank(values, q);
    CHECK(std::fabs(merged.Quantile(q) - exact) / exact <= 0.02);
  }
  // The merged p95 is not an average of the parts' p95s: the slow half dominates it.
  CHECK(merged.Quantile(0.95) > (a.Quantile(0.95) + b.Quantile(0.95)) / 2);
}

TEST_CASE("edge values: empty, zero, tiny, huge, invalid") {
  LatencyHistogram histogram;
  CHECK(histogram.Quantile(0.5) == 0);
  CHECK(histogram.Mean() == 0);
  CHECK(histogram.max() == 0);
  histogram.Record(0);
  CHECK(histogram.Quantile(0.99) == 0);
  histogram.Record(-1);
  histogram.Record(std::nan(""));
  histogram.Record(INFINITY);
  CHECK(histogram.count() == 1);
  histogram.Record(5000);  // over the top octave: reported as the exact max
  CHECK(histogram.Quantile(1.0) == 5000);
  CHECK(histogram.max() == 5000);
  histogram.Clear();
  CHECK(histogram.count() == 0);
  histogram.Record(0.25);
  CHECK(histogram.Quantile(0) == 0.25);  // clamped to [min, max]: a single value is exact
  CHECK(histogram.Quantile(1) == 0.25);
}

TEST_CASE("CountAbove is exact outside the bucket holding the threshold") {
  LatencyHistogram histogram;
  std::vector<double> values = RecordLognormal(histogram, 3, 0.5, 0.8, 50000);
  std::sort(values.begin(), values.end());
  for (double threshold : {0.05, 0.2, 0.5, 1.0, 2.0, 5.0}) {
    CAPTURE(threshold);
    const auto exact = static_cast<uint64_t>(
        values.end() - std::upper_bound(values.begin(), values.end(), threshold));
    // Off by at most the share of the one bucket holding it (1/32 of an octave: under 1% here).
    const auto counted = histogram.CountAbove(threshold);
    CHECK(std::max(counted, exact) - std::min(counted, exact) <= values.size() / 100);
  }
  CHECK(histogram.CountAbove(values.back()) == 0);
  CHECK(histogram.CountAbove(0.0) == values.size());
  // A threshold in a bucket that holds nothing splits nothing: the count is exact.
  LatencyHistogram steps;
  for (double v : {0.25, 0.5, 0.5, 1.0, 2.0})
    steps.Record(v);
  CHECK(steps.CountAbove(0.75) == 2);
  CHECK(steps.CountAbove(0.3) == 4);
  CHECK(steps.CountAbove(0.1) == 5);
  CHECK(LatencyHistogram().CountAbove(1.0) == 0);
}

TEST_CASE("memory follows the spread of the values, not how many were recorded") {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> uniform(0.1, 1.0);
  LatencyHistogram histogram;
  for (int i = 0; i < 1000000; ++i)
    histogram.Record(uniform(rng));
  CHECK(histogram.count() == 1000000u);
  // 0.1 s to 1 s: 3.3 octaves of 32 buckets, about 110 counts.
  CHECK(histogram.MemoryBytes() <= 128 * sizeof(uint64_t));
  // Zeros (a worker's job that found a free slot at once) do not stretch the range down to 1 us.
  for (int i = 0; i < 1000; ++i)
    histogram.Record(0);
  CHECK(histogram.MemoryBytes() <= 128 * sizeof(uint64_t));
  CHECK(histogram.Quantile(0.0005) == 0);
  // Clear keeps the storage for the next use.
  const size_t before = histogram.MemoryBytes();
  histogram.Clear();
  histogram.Record(0.5);
  CHECK(histogram.MemoryBytes() == before);
  CHECK(histogram.Quantile(0.5) == 0.5);
}

TEST_CASE("merging histograms with disjoint ranges, zeros and overflow") {
  LatencyHistogram low, high, empty;
  low.Record(0);
  low.Record(0.001);
  high.Record(3.0);
  high.Record(9000);  // overflow
  LatencyHistogram merged = empty;
  merged.Merge(high);
  merged.Merge(low);
  merged.Merge(empty);
  CHECK(merged.count() == 4);
  CHECK(merged.min() == 0);
  CHECK(merged.max() == 9000);
  CHECK(merged.Quantile(0.25) == 0);
  CHECK(std::fabs(merged.Quantile(0.5) - 0.001) <= 0.001 * LatencyHistogram::kMaxRelativeError);
  CHECK(std::fabs(merged.Quantile(0.75) - 3.0) <= 3.0 * LatencyHistogram::kMaxRelativeError);
  CHECK(merged.Quantile(1.0) == 9000);
  CHECK(merged.CountAbove(1.0) == 2);
  CHECK(merged.CountAbove(5000) == 1);
}
