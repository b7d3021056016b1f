#include "reconciler/laggard_detector.h"

#include <doctest/doctest.h>

#include <cmath>
#include <random>

using namespace dynoherd;
using namespace dynoherd::model;
using namespace dynoherd::reconciler;
using namespace std::chrono_literals;

namespace {

// Candidates named web.1, web.2, ... whose p50 and mean are the given latencies in milliseconds.
std::vector<LaggardCandidate> Dynos(const std::vector<double>& ms, int64_t count = 200) {
  std::vector<LaggardCandidate> out;
  for (size_t i = 0; i < ms.size(); ++i) {
    LaggardCandidate c;
    c.dyno = "web." + std::to_string(i + 1);
    c.stats.count = count;
    c.stats.p50 = c.stats.mean = ms[i] / 1000.0;
    c.stats.p95 = 3 * ms[i] / 1000.0;
    out.push_back(c);
  }
  return out;
}

spec::LaggardSpec Spec(spec::LaggardMethod method = spec::LaggardMethod::kLeaveOneOut) {
  spec::LaggardSpec s;
  s.method = method;
  return s;
}

const LaggardVerdict& Verdict(const LaggardReport& r, const std::string& dyno) {
  for (const auto& v : r.verdicts) {
    if (v.dyno == dyno) return v;
  }
  FAIL("no verdict for " << dyno);
  return r.verdicts.front();
}

}  // namespace

TEST_CASE("dynos with too few requests or ruled out by the caller are not judged") {
  auto candidates = Dynos({140, 135, 612, 150, 138});
  candidates[1].stats.count = 12;
  candidates[3].ineligible_reason = "state starting";
  LaggardReport r = DetectLaggards(Spec(), candidates);
  REQUIRE(r.verdicts.size() == 5);
  CHECK_FALSE(r.verdicts[1].judged);
  CHECK(r.verdicts[1].reason == "12 requests in the window, minSamples is 30");
  CHECK_FALSE(r.verdicts[3].judged);
  CHECK(r.verdicts[3].reason == "state starting");
  CHECK(r.decided);
  CHECK(r.slow == std::vector<std::string>{"web.3"});
  // The excluded dynos are not among the "others" either: 2 others remain for web.3.
  CHECK(r.verdicts[2].reason.find("the other 2 dynos") != std::string::npos);
}

TEST_CASE("fewer than minDynos judged gives no verdict and says why") {
  auto candidates = Dynos({140, 612, 150});
  candidates[2].stats.count = 0;
  LaggardReport r = DetectLaggards(Spec(), candidates);
  CHECK_FALSE(r.decided);
  CHECK(r.no_verdict_reason == "2 dynos judged, minDynos is 3");
  CHECK(r.slow.empty());
  CHECK(r.verdicts[0].judged);
  CHECK_FALSE(r.verdicts[0].score.has_value());
  CHECK(r.verdicts[1].reason == "no verdict: 2 dynos judged, minDynos is 3");

  // minDynos below 2 still needs a sibling to compare with.
  spec::LaggardSpec one = Spec();
  one.min_dynos = 1;
  LaggardReport alone = DetectLaggards(one, Dynos({612}));
  CHECK_FALSE(alone.decided);
  CHECK(alone.no_verdict_reason == "1 dyno judged, minDynos is 2");
}

TEST_CASE("leave-one-out: the worked example of docs/decisions.md") {
  // Four healthy dynos whose p50s spread wider than the floor, and web.5 at 420 ms.
  LaggardReport r = DetectLaggards(Spec(), Dynos({120, 155, 131, 148, 420}));
  REQUIRE(r.decided);
  // Others of web.5: mean 138.5, sample sd sqrt(761/3) = 15.93 (above the 6.9 ms floor).
  const LaggardVerdict& v = Verdict(r, "web.5");
  CHECK(v.reference == doctest::Approx(0.1385));
  CHECK(*v.score == doctest::Approx((420 - 138.5) / std::sqrt(761.0 / 3)).epsilon(1e-9));
  CHECK(*v.score == doctest::Approx(17.67).epsilon(1e-3));
  CHECK(v.slow);
  CHECK(v.reason == "p50 420ms, 17.7 sd above the other 4 dynos (3.0x their mean 138ms)");
  // web.2 against web.1, web.3, web.4, web.5: the laggard inflates their sd, so web.2 is
  // unremarkable.
  CHECK_FALSE(Verdict(r, "web.2").slow);
  CHECK(*Verdict(r, "web.1").score < 0);
  CHECK(Verdict(r, "web.1").reason.find("sd below the other 4 dynos") != std::string::npos);
  CHECK(r.slow == std::vector<std::string>{"web.5"});
}

TEST_CASE("leave-one-out: identical others use the sd floor, never a division by zero") {
  // Others all 100 ms: sd 0, so the floor (5% of 100 ms = 5 ms) is the yardstick.
  LaggardReport small = DetectLaggards(Spec(), Dynos({100, 100, 100, 100, 104}));
  CHECK(*Verdict(small, "web.5").score == doctest::Approx(0.8));
  CHECK_FALSE(Verdict(small, "web.5").slow);
  CHECK(small.slow.empty());

  LaggardReport big = DetectLaggards(Spec(), Dynos({100, 100, 100, 100, 300}));
  CHECK(*Verdict(big, "web.5").score == doctest::Approx(40.0));
  CHECK(big.slow == std::vector<std::string>{"web.5"});

  // All zero: the 1 ms absolute floor keeps every score finite.
  spec::LaggardSpec zero = Spec();
  zero.min_latency = 0ms;
  zero.min_ratio = 1;
  LaggardReport zeros = DetectLaggards(zero, Dynos({0, 0, 0, 0.5}));
  CHECK(*Verdict(zeros, "web.4").score == doctest::Approx(0.5));
  CHECK(*Verdict(zeros, "web.1").score == doctest::Approx(-0.5 / 3));
  for (const auto& v : zeros.verdicts)
    CHECK(std::isfinite(*v.score));
}

TEST_CASE("leave-one-out with two dynos compares each with the other through the floor") {
  spec::LaggardSpec s = Spec();
  s.min_dynos = 2;
  LaggardReport r = DetectLaggards(s, Dynos({100, 400}));
  REQUIRE(r.decided);
  CHECK(*Verdict(r, "web.2").score == doctest::Approx(300.0 / 5.0));
  CHECK(r.slow == std::vector<std::string>{"web.2"});
}

TEST_CASE("population: z can never exceed sqrt(n-1), so at n = 5 and sigma 2 it never fires") {
  spec::LaggardSpec s = Spec(spec::LaggardMethod::kPopulation);
  s.statistic = spec::Statistic::kMean;
  s.min_ratio = 1;
  s.min_latency = 0ms;
  // The extreme case of the theorem: four identical dynos and one laggard of any factor reaches
  // exactly sqrt(4) = 2, and slow needs z > sigma.
  for (double factor : {1.01, 1.5, 3.0, 10.0, 1e3, 1e6, 1e12}) {
    LaggardReport r = DetectLaggards(s, Dynos({100, 100, 100, 100, 100 * factor}));
    REQUIRE(r.decided);
    CHECK(*Verdict(r, "web.5").score <= 2.0);
    CHECK(*Verdict(r, "web.5").score == doctest::Approx(2.0));
    CHECK(r.slow.empty());
  }
  // Any spread among the others keeps it strictly below the bound.
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> healthy(std::log(100.0), 0.5);
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<double> ms;
    for (int i = 0; i < 4; ++i)
      ms.push_back(healthy(rng));
    ms.push_back(healthy(rng) * std::pow(10.0, trial % 7));
    LaggardReport r = DetectLaggards(s, Dynos(ms));
    for (const auto& v : r.verdicts)
      CHECK(*v.score <= 2.0);
    CHECK(r.slow.empty());
  }
}

TEST_CASE("population: the bound is sqrt(n-1) for every n, and the same laggard fires from n = 6") {
  spec::LaggardSpec s = Spec(spec::LaggardMethod::kPopulation);
  s.statistic = spec::Statistic::kMean;
  for (int n = 2; n <= 50; ++n) {
    std::vector<double> ms(static_cast<size_t>(n - 1), 100.0);
    ms.push_back(1000.0);
    s.min_dynos = n;
    LaggardReport r = DetectLaggards(s, Dynos(ms));
    REQUIRE(r.decided);
    const double z = *r.verdicts.back().score;
    CHECK(z <= std::sqrt(n - 1.0));
    CHECK(z == doctest::Approx(std::sqrt(n - 1.0)).epsilon(1e-12));
    CHECK(r.slow.empty() == (n <= 5));
  }
}

TEST_CASE("population: the worked example of docs/decisions.md misses what leave-one-out finds") {
  spec::LaggardSpec s = Spec(spec::LaggardMethod::kPopulation);
  s.statistic = spec::Statistic::kMean;
  auto dynos = Dynos({140, 135, 150, 138, 420});
  LaggardReport r = DetectLaggards(s, dynos);
  const LaggardVerdict& v = Verdict(r, "web.5");
  // Mean of all 196.6 ms, population sd 111.8 ms: z = 223.4 / 111.8 = 1.998.
  CHECK(*v.score == doctest::Approx(1.998).epsilon(1e-3));
  CHECK(v.reason ==
        "mean 420ms, 2.0 sd above the mean of all 5 dynos (197ms), 3.0x the others' mean 141ms");
  CHECK_FALSE(v.slow);
  CHECK(v.reference == doctest::Approx(0.14075));  // the others' mean, for minRatio

  spec::LaggardSpec loo = Spec();
  loo.statistic = spec::Statistic::kMean;
  LaggardReport found = DetectLaggards(loo, dynos);
  // Others: mean 140.75, sd 6.5 under the floor 7.04: z = 279.25 / 7.0375 = 39.7.
  CHECK(*Verdict(found, "web.5").score == doctest::Approx(279.25 / 7.0375));
  CHECK(found.slow == std::vector<std::string>{"web.5"});
  // The floor was the yardstick, so the reason gives the ratio (docs/decisions.md quotes it).
  CHECK(Verdict(DetectLaggards(Spec(), dynos), "web.5").reason ==
        "p50 420ms, 3.0x the other 4 dynos' mean 141ms (they agree within 15ms)");
}

TEST_CASE("mad: modified z-score around the median, the worked example of docs/decisions.md") {
  LaggardReport r =
      DetectLaggards(Spec(spec::LaggardMethod::kMad), Dynos({140, 135, 150, 138, 420}));
  // Median 140; absolute deviations 0, 5, 10, 2, 280; MAD 5: 0.6745 * 280 / 5 = 37.77.
  const LaggardVerdict& v = Verdict(r, "web.5");
  CHECK(*v.score == doctest::Approx(0.6745 * 280 / 5));
  CHECK(v.reference == doctest::Approx(0.140));
  CHECK(v.reason ==
        "p50 420ms, modified z 37.8 against the median of 5 dynos (3.0x the median 140ms)");
  CHECK(r.slow == std::vector<std::string>{"web.5"});
  CHECK(*Verdict(r, "web.3").score == doctest::Approx(0.6745 * 10 / 5));
}

TEST_CASE("mad: MAD = 0 falls back to the mean absolute deviation, then to the floor") {
  spec::LaggardSpec s = Spec(spec::LaggardMethod::kMad);
  // Over half the values equal: MAD 0. Mean absolute deviation 40 ms, times sqrt(pi/2) = 50.13 ms.
  LaggardReport r = DetectLaggards(s, Dynos({100, 100, 100, 100, 300}));
  CHECK(*Verdict(r, "web.5").score == doctest::Approx(200 / (40 * 1.2533141373155001)));
  CHECK(r.slow == std::vector<std::string>{"web.5"});
  // A tiny difference with MAD 0: the floor (5% of the median) keeps it unremarkable.
  LaggardReport tiny = DetectLaggards(s, Dynos({100, 100, 100, 100, 101}));
  CHECK(*Verdict(tiny, "web.5").score == doctest::Approx(1.0 / 5.0));
  CHECK(tiny.slow.empty());
  // All equal: every score is 0.
  LaggardReport same = DetectLaggards(s, Dynos({100, 100, 100}));
  for (const auto& v : same.verdicts)
    CHECK(*v.score == 0);
}

TEST_CASE("a statistically slow dyno must also pass minLatency and minRatio") {
  spec::LaggardSpec s = Spec();
  // 180 ms is far above the others statistically, but under minLatency 200ms.
  LaggardReport fast = DetectLaggards(s, Dynos({100, 100, 101, 99, 180}));
  CHECK(*Verdict(fast, "web.5").score > s.sigma);
  CHECK_FALSE(Verdict(fast, "web.5").slow);
  CHECK(Verdict(fast, "web.5").reason ==
        "p50 180ms, 1.8x the other 4 dynos' mean 100ms (they agree within 2ms); not slow: under "
        "minLatency 200ms");

  // 260 ms against others at 200 ms: 1.3x, under minRatio 1.5.
  LaggardReport close = DetectLaggards(s, Dynos({200, 200, 202, 198, 260}));
  CHECK(*Verdict(close, "web.5").score > s.sigma);
  CHECK_FALSE(Verdict(close, "web.5").slow);
  CHECK(Verdict(close, "web.5").reason ==
        "p50 260ms, 1.3x the other 4 dynos' mean 200ms (they agree within 4ms); not slow: under "
        "minRatio 1.5");

  // Lowering both makes the same dynos slow.
  s.min_latency = 100ms;
  s.min_ratio = 1.2;
  CHECK(DetectLaggards(s, Dynos({200, 200, 202, 198, 260})).slow ==
        std::vector<std::string>{"web.5"});
}

TEST_CASE("reasons: the ratio always, the score only when measured against the others' spread") {
  // The others agree within 4 ms: their sd (1.6 ms) is under the floor (6.9 ms), so the score
  // (68.7) restates the ratio in a unit nobody can picture. The reason gives the ratio and how
  // closely the others agree; the raw score stays in the verdict for programs.
  LaggardReport floored = DetectLaggards(Spec(), Dynos({140, 138, 136, 139, 137, 612}));
  const LaggardVerdict& v = Verdict(floored, "web.6");
  CHECK(v.reason == "p50 612ms, 4.4x the other 5 dynos' mean 138ms (they agree within 4ms)");
  CHECK(*v.score == doctest::Approx((612 - 138) / (0.05 * 138)));
  CHECK(v.slow);
  // web.1's others include the laggard: a real spread, so its score is shown.
  CHECK(Verdict(floored, "web.1").reason ==
        "p50 140ms, 0.4 sd below the other 5 dynos (0.6x their mean 232ms)");

  // Identical others: nothing to agree within.
  CHECK(Verdict(DetectLaggards(Spec(), Dynos({100, 100, 100, 100, 300})), "web.5").reason ==
        "p50 300ms, 3.0x the other 4 dynos' mean 100ms (all at exactly 100ms)");

  // A real spread (sd 42 ms, over the floor) but a huge score: shown capped.
  LaggardReport spread = DetectLaggards(Spec(), Dynos({100, 150, 200, 130, 5000}));
  CHECK(*Verdict(spread, "web.5").score > 100);
  CHECK(Verdict(spread, "web.5").reason ==
        "p50 5s, >100 sd above the other 4 dynos (34.5x their mean 145ms)");

  // One sibling: no spread to speak of, the ratio only.
  spec::LaggardSpec two = Spec();
  two.min_dynos = 2;
  CHECK(Verdict(DetectLaggards(two, Dynos({140, 612})), "web.2").reason ==
        "p50 612ms, 4.4x the other dyno's 140ms");

  // mad with the floor: half of the dynos within MAD of the median.
  LaggardReport mad =
      DetectLaggards(Spec(spec::LaggardMethod::kMad), Dynos({140, 141, 139, 140, 142, 138, 612}));
  CHECK(Verdict(mad, "web.7").reason ==
        "p50 612ms, 4.4x the median 140ms of 7 dynos (half of them within 1ms of it)");
}

TEST_CASE("slow dynos come worst first") {
  LaggardReport r = DetectLaggards(Spec(spec::LaggardMethod::kMad),
                                   Dynos({100, 500, 102, 98, 900, 101, 99, 700}));
  CHECK(r.slow == std::vector<std::string>{"web.5", "web.8", "web.2"});
}

TEST_CASE("the statistic chooses what is compared") {
  auto dynos = Dynos({100, 100, 100, 100, 100});
  dynos[4].stats.p95 = 2.0;  // only the tail of web.5 is slow
  spec::LaggardSpec s = Spec();
  CHECK(DetectLaggards(s, dynos).slow.empty());
  s.statistic = spec::Statistic::kP95;
  LaggardReport r = DetectLaggards(s, dynos);
  CHECK(r.slow == std::vector<std::string>{"web.5"});
  CHECK(Verdict(r, "web.5").value == 2.0);
  CHECK(Verdict(r, "web.5").reason.starts_with("p95 2s, "));
}

TEST_CASE("several laggards mask each other under leave-one-out; mad still finds them") {
  auto dynos = Dynos({140, 135, 612, 150, 138, 142, 700, 690, 141, 139, 137});
  LaggardReport loo = DetectLaggards(Spec(), dynos);
  // 700 and 690 scrape past sigma 2 (z 2.12 and 2.04); 612 does not (z 1.54).
  CHECK(loo.slow == std::vector<std::string>{"web.7", "web.8"});
  CHECK(*Verdict(loo, "web.3").score == doctest::Approx(1.54).epsilon(0.01));
  LaggardReport mad = DetectLaggards(Spec(spec::LaggardMethod::kMad), dynos);
  CHECK(mad.slow == std::vector<std::string>{"web.7", "web.8", "web.3"});
}
