#include "providers/sim/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace dynoherd::providers::sim {
namespace {

constexpr double kLowestSeconds = 1e-4;  // everything at or below 0.1 ms shares bucket 0
constexpr double kGrowth = 1.02;
constexpr int kLastBucket = 1200;  // about 2.1e6 s: far beyond any router timeout

}  // namespace

int LatencyHistogram::BucketOf(double seconds) {
  if (!(seconds > kLowestSeconds)) return 0;
  const double bucket = std::floor(std::log(seconds / kLowestSeconds) / std::log(kGrowth));
  return static_cast<int>(std::min(bucket, static_cast<double>(kLastBucket)));
}

double LatencyHistogram::BucketLower(int bucket) {
  return bucket == 0 ? 0.0 : kLowestSeconds * std::pow(kGrowth, bucket);
}

void LatencyHistogram::Add(double seconds) {
  if (!(seconds > 0)) seconds = 0;  // also catches NaN
  const int bucket = BucketOf(seconds);
  if (counts_.empty()) {
    first_bucket_ = bucket;
    counts_.assign(1, 0);
  } else if (bucket < first_bucket_) {
    counts_.insert(counts_.begin(), static_cast<size_t>(first_bucket_ - bucket), 0);
    first_bucket_ = bucket;
  } else if (bucket >= first_bucket_ + static_cast<int>(counts_.size())) {
    counts_.resize(static_cast<size_t>(bucket - first_bucket_ + 1), 0);
  }
  ++counts_[static_cast<size_t>(bucket - first_bucket_)];
  min_ = count_ == 0 ? seconds : std::min(min_, seconds);
  max_ = count_ == 0 ? seconds : std::max(max_, seconds);
  ++count_;
  sum_ += seconds;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  if (count_ == 0) {
    *this = other;
    return;
  }
  const int first = std::min(first_bucket_, other.first_bucket_);
  const int end = std::max(first_bucket_ + static_cast<int>(counts_.size()),
                           other.first_bucket_ + static_cast<int>(other.counts_.size()));
  std::vector<uint64_t> merged(static_cast<size_t>(end - first), 0);
  for (size_t i = 0; i < counts_.size(); ++i) {
    merged[static_cast<size_t>(first_bucket_ - first) + i] += counts_[i];
  }
  for (size_t i = 0; i < other.counts_.size(); ++i) {
    merged[static_cast<size_t>(other.first_bucket_ - first) + i] += other.counts_[i];
  }
  counts_ = std::move(merged);
  first_bucket_ = first;
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

double LatencyHistogram::Mean() const {
  return count_ == 0 ? 0 : sum_ / static_cast<double>(count_);
}

double LatencyHistogram::Percentile(double quantile) const {
  if (count_ == 0) return 0;
  const double wanted = std::ceil(std::clamp(quantile, 0.0, 1.0) * static_cast<double>(count_));
  const auto rank = std::max<int64_t>(1, static_cast<int64_t>(wanted));
  if (rank >= count_) return max_;
  int64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += static_cast<int64_t>(counts_[i]);
    if (seen >= rank) {
      const int bucket = first_bucket_ + static_cast<int>(i);
      const double middle =
          bucket == 0 ? kLowestSeconds / 2 : BucketLower(bucket) * std::sqrt(kGrowth);
      return std::clamp(middle, min_, max_);
    }
  }
  return max_;
}

int64_t LatencyHistogram::CountAbove(double seconds) const {
  if (count_ == 0 || seconds >= max_) return 0;
  if (seconds < min_) return count_;
  const int holding = BucketOf(seconds);
  double above = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    const int bucket = first_bucket_ + static_cast<int>(i);
    if (bucket > holding) {
      above += static_cast<double>(counts_[i]);
    } else if (bucket == holding) {
      // The bucket's values lie in [lower, upper], narrowed by the exact min and max.
      const double lower = std::max(BucketLower(bucket), min_);
      const double upper = std::min(BucketLower(bucket + 1), max_);
      const double share = upper > lower ? (upper - seconds) / (upper - lower) : 0.0;
      above += static_cast<double>(counts_[i]) * std::clamp(share, 0.0, 1.0);
    }
  }
  return std::llround(above);
}

}  // namespace dynoherd::providers::sim
