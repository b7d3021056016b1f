#include "latency/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace dynoherd::latency {
namespace {

constexpr int kOverflowIndex = LatencyHistogram::kBucketCount - 1;
constexpr double kLowest = 1.0 / (1 << -LatencyHistogram::kMinExponent);  // 2^kMinExponent
constexpr double kHighest = static_cast<double>(1 << LatencyHistogram::kMaxExponent);

}  // namespace

// Index 0 holds [0, 2^kMinExponent); then octave by octave, kSubBuckets each; last is overflow.
// The octave and sub-bucket come straight from the IEEE 754 exponent and top mantissa bits.
int LatencyHistogram::BucketIndex(double seconds) {
  if (seconds < kLowest) return 0;
  if (seconds >= kHighest) return kOverflowIndex;
  const uint64_t bits = std::bit_cast<uint64_t>(seconds);
  const int exponent = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
  const int sub_bucket = static_cast<int>((bits >> (52 - kSubBucketBits)) & (kSubBuckets - 1));
  return 1 + (exponent - kMinExponent) * kSubBuckets + sub_bucket;
}

double LatencyHistogram::BucketMidpoint(int index) {
  if (index <= 0) return 0;
  if (index >= kOverflowIndex) return kHighest;
  const int octave = (index - 1) / kSubBuckets;
  const int sub_bucket = (index - 1) % kSubBuckets;
  const double base = std::ldexp(1.0, octave + kMinExponent);
  const double width = base / kSubBuckets;
  return base + width * (sub_bucket + 0.5);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (int i = 0; i < kBucketCount; ++i)
    counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void LatencyHistogram::Clear() {
  counts_.fill(0);
  count_ = 0;
  sum_ = 0;
  min_ = std::numeric_limits<double>::infinity();
  max_ = 0;
}

double LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The small slack keeps 0.95 * 100 at rank 95 despite 0.95 not being exact in binary.
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_) - 1e-9));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  int index = 0;
  for (; index < kBucketCount; ++index) {
    seen += counts_[index];
    if (seen >= rank) break;
  }
  if (index == kOverflowIndex) return max_;
  return std::clamp(BucketMidpoint(index), min_, max_);
}

}  // namespace dynoherd::latency
