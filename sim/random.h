// Random numbers for the simulator that are the same on every platform and standard library: the
// mt19937_64 engine is fully specified by the C++ standard, its distributions are not.
#pragma once

#include <cstdint>
#include <random>

namespace dynoherd::sim {

// The seed of stream `stream_id` in a run seeded with `seed` (SplitMix64 of both). Each random
// quantity (arrival times, routing, service times) draws from its own stream, so an action that
// changes what one dyno does never shifts the traffic: runs with and without dynoherd on the same
// seed see exactly the same requests (common random numbers).
uint64_t StreamSeed(uint64_t seed, uint64_t stream_id);

class RandomStream {
 public:
  explicit RandomStream(uint64_t seed) : engine_(seed) {}

  double Uniform();      // in [0, 1), 53 random bits
  double Exponential();  // rate 1
  double Normal();       // standard normal; always two engine draws (Box-Muller, nothing cached)

 private:
  std::mt19937_64 engine_;
};

}  // namespace dynoherd::sim
