// The demo scenario of issue 6 (examples/demo.yaml), driven by hand through the Provider interface
// the way the reconciler will drive it: a pass every minute observes, and the test acts as the
// operator would. The same seed without any action is the control.
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "sim/sim_test_util.h"
#include "sim/sim_world.h"

using namespace dynoherd;
using namespace dynoherd::providers;
using namespace dynoherd::sim;
using namespace dynoherd::sim::testing;

namespace {

double MedianOfOthers(const model::FormationLatency& latency, const std::string& except) {
  std::vector<double> p50s;
  for (const auto& [name, stats] : latency.per_dyno) {
    if (name != except) p50s.push_back(stats.p50);
  }
  std::sort(p50s.begin(), p50s.end());
  return p50s[p50s.size() / 2];
}

std::string Slowest(const model::FormationLatency& latency) {
  std::string slowest;
  double worst = -1;
  for (const auto& [name, stats] : latency.per_dyno) {
    if (stats.p50 > worst) worst = stats.p50, slowest = name;
  }
  return slowest;
}

}  // namespace

TEST_CASE("demo scenario: restart the noisy dyno, ride the surge with more dynos, restore") {
  TestWorld operated(DemoSpec());
  TestWorld control(DemoSpec());
  providers::Provider& platform = operated.provider();
  double p95_before_surge = 0;

  for (int minute = 1; minute <= 30; ++minute) {
    CAPTURE(minute);
    operated.RunUntil(std::chrono::minutes(minute));
    auto state = platform.Observe(kApp);
    REQUIRE(state.ok());
    const auto web = operated.Latency("web", 2min, spec::Statistic::kP50);

    if (minute == 2) {  // before the incident every dyno looks alike
      CHECK(web.per_dyno.at("web.3").p50 < 1.3 * MedianOfOthers(web, "web.3"));
    }
    if (minute == 5) {  // the noisy neighbour (3m) shows: web.3 is the laggard, restart it
      CHECK(Slowest(web) == "web.3");
      CHECK(web.per_dyno.at("web.3").p50 > 3 * MedianOfOthers(web, "web.3"));
      REQUIRE(platform.Restart(kApp, "web.3").ok());
    }
    if (minute == 10) {  // restarted on a healthy host: like its siblings again
      CHECK(web.per_dyno.at("web.3").p50 < 1.3 * MedianOfOthers(web, "web.3"));
      CHECK(web.per_dyno.at("web.3").errors == 0);
      p95_before_surge = *operated.Latency("web", 2min, spec::Statistic::kP95).value;
    }
    if (minute == 14) {  // the surge (12m) pushes p95 up: add a dyno, then another
      CHECK(*operated.Latency("web", 2min, spec::Statistic::kP95).value > 3 * p95_before_surge);
      REQUIRE(platform.Scale(kApp, {{"web", 7}}).ok());
    }
    if (minute == 16) REQUIRE(platform.Scale(kApp, {{"web", 8}}).ok());
    if (minute == 22) {  // the surge ended at 20m: back to the baseline
      REQUIRE(platform.Scale(kApp, {{"web", 6}}).ok());
    }
    if (minute == 30) {
      CHECK(*operated.Latency("web", 5min, spec::Statistic::kP95).value < 1.5 * p95_before_surge);
    }
  }
  control.RunUntil(30min);

  // What the operator was worth, from the ground truth of both runs.
  const auto noisy_operated = operated.Truth("web", 6min, 12min, 1s);
  const auto noisy_control = control.Truth("web", 6min, 12min, 1s);
  MESSAGE("6m-12m p99 operated " << noisy_operated.latency.p99 << " s, control "
                                 << noisy_control.latency.p99 << " s");
  CHECK(noisy_control.latency.errors > 0);  // web.3 saturated into H12 timeouts
  CHECK(noisy_operated.latency.errors == 0);
  CHECK(noisy_operated.latency.p99 < noisy_control.latency.p99 / 3);
  CHECK(noisy_operated.slower_than_threshold < noisy_control.slower_than_threshold / 5);

  // The backlog built before the first scale-up takes a few minutes to drain; then it is gone,
  // while the control stays saturated until the surge ends.
  const auto surge_operated = operated.Truth("web", 14min, 20min, 1s);
  const auto surge_control = control.Truth("web", 14min, 20min, 1s);
  CHECK(surge_operated.latency.errors < surge_control.latency.errors / 10);
  CHECK(surge_operated.slower_than_threshold < 0.7 * surge_control.slower_than_threshold);
  const auto late_operated = operated.Truth("web", 18min, 20min, 1s);
  const auto late_control = control.Truth("web", 18min, 20min, 1s);
  MESSAGE("18m-20m p99 operated " << late_operated.latency.p99 << " s, control "
                                  << late_control.latency.p99 << " s");
  CHECK(late_operated.latency.p99 < late_control.latency.p99 / 5);
  CHECK(late_operated.slower_than_threshold < late_control.slower_than_threshold / 10);

  // The price: 6 dynos x 14m + 7 x 2m + 8 x 6m + 6 x 8m, against 6 x 30m.
  CHECK(operated.world->Truth("web")->dyno_minutes() == 194);
  CHECK(control.world->Truth("web")->dyno_minutes() == 180);

  // The workers were never touched and kept up.
  CHECK(operated.world->Truth("worker")->peak_queue_latency < 15);
  CHECK(operated.Formation("worker").quantity == 2);

  // The platform's log tells the story in order.
  std::vector<std::string> story;
  for (const SimEvent& e : operated.world->Events()) {
    story.push_back(FormatDuration(std::chrono::duration_cast<Duration>(e.at - SimStart())) + " " +
                    e.message);
  }
  const std::vector<std::string> expected = {
      "3m noisy neighbour: web.3 works x4 slower until it restarts",
      "5m web.3 restarted",
      "5m20s web.3 is up",
      "12m surge: web load x2.5 for 8m",
      "14m web scaled from 6 to 7 dynos",
      "14m20s web.7 is up",
      "16m web scaled from 7 to 8 dynos",
      "16m20s web.8 is up",
      "20m surge on web ended",
      "22m web scaled from 8 to 6 dynos",
  };
  CHECK(story == expected);
}
