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

// The values bucket `index` holds: [lower, upper). The overflow bucket has no upper bound.
double BucketLower(int index) {
  if (index <= 0) return 0;
  if (index >= kOverflowIndex) return kHighest;
  const int octave = (index - 1) / LatencyHistogram::kSubBuckets;
  const int sub_bucket = (index - 1) % LatencyHistogram::kSubBuckets;
  const double base = std::ldexp(1.0, octave + LatencyHistogram::kMinExponent);
  return base + base / LatencyHistogram::kSubBuckets * sub_bucket;
}

double BucketUpper(int index) {
  if (index >= kOverflowIndex) return std::numeric_limits<double>::infinity();
  return index == 0 ? kLowest : BucketLower(index + 1);
}

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
  return (BucketLower(index) + BucketLower(index + 1)) / 2;
}

void LatencyHistogram::Widen(int low, int high) {
  const int last = first_ + static_cast<int>(counts_.size()) - 1;
  if (!counts_.empty() && low >= first_ && high <= last) return;  // covered: Merge's usual case
  if (!counts_.empty()) {
    low = std::min(low, first_);
    high = std::max(high, last);
  }
  // Exactly the range, no spare capacity: memory is the spread, and new extremes are rare.
  std::vector<uint64_t> widened(static_cast<size_t>(high - low + 1), 0);
  std::copy(counts_.begin(), counts_.end(), widened.begin() + (first_ - low));
  counts_ = std::move(widened);
  first_ = low;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  if (!other.counts_.empty()) {
    Widen(other.first_, other.first_ + static_cast<int>(other.counts_.size()) - 1);
    const size_t offset = static_cast<size_t>(other.first_ - first_);
    for (size_t i = 0; i < other.counts_.size(); ++i)
      counts_[offset + i] += other.counts_[i];
  }
  zeros_ += other.zeros_;
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void LatencyHistogram::Clear() {
  std::fill(counts_.begin(), counts_.end(), 0);
  zeros_ = 0;
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
  uint64_t seen = zeros_;
  if (seen >= rank) return std::clamp(0.0, min_, max_);
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen < rank) continue;
    const int index = first_ + static_cast<int>(i);
    if (index == kOverflowIndex) return max_;
    return std::clamp(BucketMidpoint(index), min_, max_);
  }
  return max_;
}

uint64_t LatencyHistogram::CountAbove(double seconds) const {
  if (count_ == 0 || seconds >= max_) return 0;
  if (seconds < min_) return count_;
  const int holding = BucketIndex(seconds);
  double above = 0;
  auto add = [&](int index, uint64_t n) {
    if (index > holding) {
      above += static_cast<double>(n);
    } else if (index == holding && n > 0) {
      // Its values lie in [lower, upper), narrowed by the exact min and max.
      const double lower = std::max(BucketLower(index), min_);
      const double upper = std::min(BucketUpper(index), max_);
      const double share = upper > lower ? (upper - seconds) / (upper - lower) : 0.0;
      above += static_cast<double>(n) * std::clamp(share, 0.0, 1.0);
    }
  };
  add(0, zeros_);
  for (size_t i = 0; i < counts_.size(); ++i)
    add(first_ + static_cast<int>(i), counts_[i]);
  return static_cast<uint64_t>(std::llround(above));
}

}  // namespace dynoherd::latency
