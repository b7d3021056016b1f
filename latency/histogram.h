// A log-linear latency histogram: 32 linear sub-buckets per power of two, so every recorded value
// is reported back within 1/64 (1.6%) of itself. Mergeable. Counts are kept only for the buckets
// between the smallest and the largest non-zero value recorded, so memory follows the spread of
// the latencies (about 1 KB for four octaves), never how many were recorded. Values are seconds.
// Used by the latency window (router logs) and by the simulator's ground truth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

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

  // Negative, NaN and infinite values are ignored: they are never latencies.
  void Record(double seconds) {
    if (!(seconds >= 0 && seconds <= kLargestFinite)) return;
    const int index = BucketIndex(seconds);
    if (index == 0) {
      ++zeros_;
    } else {
      // One unsigned compare covers both sides; widening is rare (a new extreme).
      if (static_cast<size_t>(index - first_) >= counts_.size()) Widen(index, index);
      ++counts_[static_cast<size_t>(index - first_)];
    }
    ++count_;
    sum_ += seconds;
    if (seconds < min_) min_ = seconds;
    if (seconds > max_) max_ = seconds;
  }

  void Merge(const LatencyHistogram& other);
  // Forgets every value; keeps the storage, so a reused histogram does not allocate again.
  void Clear();

  uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  double min() const { return count_ ? min_ : 0; }  // exact
  double max() const { return count_ ? max_ : 0; }  // exact
  double Mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0; }

  // The nearest-rank quantile (the value at rank ceil(q * count)), within kMaxRelativeError of
  // the exact one, clamped to [min(), max()]. q in [0, 1]; 0 when empty.
  double Quantile(double q) const;
  // How many values are above `seconds`. Exact outside the bucket holding `seconds`; that bucket
  // is split assuming its values spread evenly between its bounds (narrowed by min and max).
  uint64_t CountAbove(double seconds) const;
  size_t MemoryBytes() const { return counts_.capacity() * sizeof(uint64_t); }

  // Exposed for tests: the bucket a value falls in and the value a bucket reports.
  static int BucketIndex(double seconds);
  static double BucketMidpoint(int index);

 private:
  // Makes counts_ cover bucket indexes [low, high] as well as what it covers now.
  void Widen(int low, int high);

  int first_ = 1;  // counts_[i] counts bucket first_ + i (index 0 is zeros_)
  std::vector<uint64_t> counts_;
  uint64_t zeros_ = 0;  // values under 2^kMinExponent
  uint64_t count_ = 0;
  double sum_ = 0;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = 0;
};

}  // namespace dynoherd::latency
