// A log-linear latency histogram: 32 linear sub-buckets per power of two, so every recorded value
// is reported back within 1/64 (1.6%) of itself. Fixed size, mergeable, no allocation after
// construction. Values are seconds.
#pragma once

#include <array>
#include <cstdint>

namespace dynoherd::latency {

class LatencyHistogram {
 public:
  // Values in [2^kMinExponent, 2^kMaxExponent) seconds, about 1 us to 68 min, keep the error bound.
  // Smaller values (and 0) count as 0; larger ones land in one overflow bucket reported as max().
  static constexpr int kSubBucketBits = 5;
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  static constexpr int kMinExponent = -20;
  static constexpr int kMaxExponent = 12;
  static constexpr int kBucketCount = (kMaxExponent - kMinExponent) * kSubBuckets + 2;
  // Half a sub-bucket over the smallest value of its octave.
  static constexpr double kMaxRelativeError = 1.0 / (2 * kSubBuckets);
  static constexpr double kLargestFinite = 1.7976931348623157e308;

  LatencyHistogram() { Clear(); }

  // Negative, NaN and infinite values are ignored: they are never latencies.
  void Record(double seconds) {
    if (!(seconds >= 0 && seconds <= kLargestFinite)) return;
    ++counts_[BucketIndex(seconds)];
    ++count_;
    sum_ += seconds;
    if (seconds < min_) min_ = seconds;
    if (seconds > max_) max_ = seconds;
  }

  void Merge(const LatencyHistogram& other);
  void Clear();

  uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  double min() const { return count_ ? min_ : 0; }  // exact
  double max() const { return count_ ? max_ : 0; }  // exact
  double Mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0; }

  // The nearest-rank quantile (the value at rank ceil(q * count)), within kMaxRelativeError of
  // the exact one, clamped to [min(), max()]. q in [0, 1]; 0 when empty.
  double Quantile(double q) const;

  // Exposed for tests: the bucket a value falls in and the value a bucket reports.
  static int BucketIndex(double seconds);
  static double BucketMidpoint(int index);

 private:
  std::array<uint64_t, kBucketCount> counts_;
  uint64_t count_;
  double sum_;
  double min_;
  double max_;
};

}  // namespace dynoherd::latency
