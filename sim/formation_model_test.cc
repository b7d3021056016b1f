#include "sim/formation_model.h"

#include <doctest/doctest.h>

#include <cmath>

#include "sim/sim_test_util.h"

using namespace dynoherd;
using namespace dynoherd::sim;
using namespace dynoherd::sim::testing;

namespace {

Timeline OneSecondSteps() {
  return Timeline{SimStart(), 1s};
}

void RunSteps(FormationModel& model, int64_t from, int64_t to, double load_factor = 1.0) {
  for (int64_t step = from; step < to; ++step) {
    model.BringUp(step);
    model.Step(step, load_factor);
  }
}

}  // namespace

TEST_CASE("a quiet web dyno answers in about its service time; arrivals follow the rate") {
  // 1 rps on 4 dynos: almost never a queue, so latency is the lognormal service time.
  FormationModel model(Web("web", 4, 200ms, 1), 42, 0, SimOptions{}, OneSecondSteps());
  RunSteps(model, 0, 600);
  const auto latency = model.Latency(600, 600, spec::Statistic::kP50);
  REQUIRE(latency.value);
  CHECK(latency.sample_count == doctest::Approx(600).epsilon(0.1));
  CHECK(*latency.value == doctest::Approx(0.200).epsilon(0.1));  // the median is serviceTime
  REQUIRE(latency.per_dyno.size() == 4);
  for (const auto& [dyno, stats] : latency.per_dyno) {
    const std::string& name = dyno;  // CAPTURE cannot take a structured binding on Clang 14
    CAPTURE(name);
    CHECK(stats.count == doctest::Approx(150).epsilon(0.3));  // the router spreads evenly
    CHECK(stats.errors == 0);
    CHECK(stats.p50 <= stats.p95);
    CHECK(stats.p95 <= stats.p99);
    CHECK(stats.p99 <= stats.max);
  }
}

TEST_CASE("a worker formation below capacity has no queue; its dynos report job run times") {
  FormationModel model(Worker("worker", 2, 2s, 0.5), 42, 1, SimOptions{}, OneSecondSteps());
  RunSteps(model, 0, 600);
  const auto latency = model.Latency(600, 300, spec::Statistic::kP95);
  REQUIRE(latency.value);
  CHECK(*latency.value < 2.0);
  CHECK(model.jobs_waiting() <= 2);
  for (const auto& [dyno, stats] : latency.per_dyno) {
    const std::string& name = dyno;  // CAPTURE cannot take a structured binding on Clang 14
    CAPTURE(name);
    CHECK(stats.count > 30);
    CHECK(stats.p50 == doctest::Approx(2.0).epsilon(0.2));
  }
  const TruthSummary truth = model.Truth(0, 600, std::nullopt);
  CHECK(truth.latency.count == doctest::Approx(300).epsilon(0.15));
  CHECK(truth.latency.p50 < 0.5);  // most jobs find a free slot at once
}

TEST_CASE("a dyno added while the world runs takes no traffic until it is up") {
  FormationModel model(Web("web", 2, 100ms, 20), 42, 0, SimOptions{}, OneSecondSteps());
  RunSteps(model, 0, 60);
  model.ScaleTo(3, 60, 20);
  RunSteps(model, 60, 80);
  CHECK(model.Latency(80, 80, spec::Statistic::kP50).per_dyno.at("web.3").count == 0);
  RunSteps(model, 80, 120);
  CHECK(model.Latency(120, 40, spec::Statistic::kP50).per_dyno.at("web.3").count > 100);
}

TEST_CASE("the load: web requests answered and their time; worker jobs pushed, kept up or not") {
  FormationModel web(Web("web", 4, 200ms, 20), 42, 0, SimOptions{}, OneSecondSteps());
  RunSteps(web, 0, 600);
  std::optional<model::FormationLoad> load = web.LoadAt(600, 300);
  REQUIRE(load);
  CHECK(load->arrivals_per_second == doctest::Approx(20).epsilon(0.1));  // the newest minute
  // A lognormal of median 200ms and sigma 0.5 has mean 200ms x e^(0.125), plus a little wait.
  CHECK(load->service_seconds == doctest::Approx(0.2 * std::exp(0.125)).epsilon(0.15));
  REQUIRE(load->window_busy_slots);
  CHECK(*load->window_busy_slots == doctest::Approx(load->BusySlots()).epsilon(0.15));

  // 3 jobs/s of 2s on 2 dynos of 2 slots: 6 busy slots needed, 4 there; the queue grows, and the
  // load still says 3 jobs/s arrive.
  FormationModel worker(Worker("worker", 2, 2s, 3), 42, 1, SimOptions{}, OneSecondSteps());
  RunSteps(worker, 0, 300);
  load = worker.LoadAt(300, 300);
  REQUIRE(load);
  CHECK(load->arrivals_per_second == doctest::Approx(3).epsilon(0.15));
  CHECK(load->service_seconds == doctest::Approx(2 * std::exp(0.125)).epsilon(0.15));
  CHECK(worker.jobs_waiting() > 100);

  FormationModel idle(Web("web", 2, 100ms, 5), 42, 0, SimOptions{}, OneSecondSteps());
  CHECK_FALSE(idle.LoadAt(0, 300).has_value());
}
