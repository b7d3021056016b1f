#include "sim/random.h"

#include <cmath>
#include <numbers>

namespace dynoherd::sim {

uint64_t StreamSeed(uint64_t seed, uint64_t stream_id) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (stream_id + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double RandomStream::Uniform() {
  return static_cast<double>(engine_() >> 11) * 0x1.0p-53;
}

double RandomStream::Exponential() {
  return -std::log1p(-Uniform());  // 1 - U is in (0, 1]: never log(0)
}

double RandomStream::Normal() {
  const double u1 = 1.0 - Uniform();  // (0, 1]
  const double u2 = Uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

}  // namespace dynoherd::sim
