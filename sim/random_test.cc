#include "sim/random.h"

#include <doctest/doctest.h>

#include <cmath>
#include <set>

using namespace dynoherd::sim;

TEST_CASE("StreamSeed gives each (seed, stream) its own seed, the same every time") {
  std::set<uint64_t> seeds;
  for (uint64_t seed : {0ULL, 1ULL, 42ULL}) {
    for (uint64_t stream = 0; stream < 8; ++stream)
      seeds.insert(StreamSeed(seed, stream));
  }
  CHECK(seeds.size() == 24);
  CHECK(StreamSeed(42, 3) == StreamSeed(42, 3));
}

TEST_CASE("RandomStream repeats for a seed and has the right moments") {
  RandomStream a(7), b(7), c(8);
  CHECK(a.Uniform() == b.Uniform());
  CHECK(a.Normal() == b.Normal());
  CHECK(a.Exponential() == b.Exponential());
  CHECK(a.Uniform() != c.Uniform());

  RandomStream r(42);
  constexpr int kDraws = 200'000;
  double uniform_sum = 0, exp_sum = 0, normal_sum = 0, normal_sq = 0;
  double uniform_min = 1, uniform_max = 0;
  bool all_finite = true;
  for (int i = 0; i < kDraws; ++i) {
    const double u = r.Uniform();
    uniform_min = std::min(uniform_min, u);
    uniform_max = std::max(uniform_max, u);
    uniform_sum += u;
    const double e = r.Exponential();
    const double z = r.Normal();
    all_finite = all_finite && std::isfinite(e) && e >= 0 && std::isfinite(z);
    exp_sum += e;
    normal_sum += z;
    normal_sq += z * z;
  }
  CHECK(all_finite);
  CHECK(uniform_min >= 0.0);
  CHECK(uniform_max < 1.0);
  CHECK(uniform_sum / kDraws == doctest::Approx(0.5).epsilon(0.01));
  CHECK(exp_sum / kDraws == doctest::Approx(1.0).epsilon(0.01));
  CHECK(std::abs(normal_sum / kDraws) < 0.01);
  CHECK(normal_sq / kDraws == doctest::Approx(1.0).epsilon(0.02));
}
