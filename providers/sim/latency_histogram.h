// A compact latency histogram for the simulator's ground truth: buckets 2% wide on a logarithmic
// scale from 0.1 ms, so percentiles are within 1% of the exact value while memory depends on the
// spread of latencies, not on how many were recorded. Count, sum, min and max are exact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dynoherd::providers::sim {

class LatencyHistogram {
 public:
  void Add(double seconds);  // negative or NaN values count as 0
  void Merge(const LatencyHistogram& other);

  int64_t count() const { return count_; }
  double min() const { return min_; }  // 0 when empty
  double max() const { return max_; }  // 0 when empty
  double Mean() const;                 // 0 when empty
  // Nearest-rank percentile for `quantile` in (0, 1]: the middle of the bucket holding that rank,
  // kept within [min, max]. 0 when empty.
  double Percentile(double quantile) const;
  // Values above `seconds`; the bucket holding `seconds` is split assuming values spread evenly in
  // it.
  int64_t CountAbove(double seconds) const;
  size_t MemoryBytes() const { return counts_.capacity() * sizeof(uint64_t); }

 private:
  static int BucketOf(double seconds);
  static double BucketLower(int bucket);

  int first_bucket_ = 0;  // counts_[i] counts bucket first_bucket_ + i
  std::vector<uint64_t> counts_;
  int64_t count_ = 0;
  double sum_ = 0;
  double min_ = 0;
  double max_ = 0;
};

}  // namespace dynoherd::providers::sim
