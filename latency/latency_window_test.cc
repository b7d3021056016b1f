#include "latency/latency_window.h"

#include <doctest/doctest.h>

#include <random>

using namespace dynoherd;
using namespace dynoherd::latency;
using namespace std::chrono_literals;
using spec::Statistic;

namespace {

const TimePoint kStart = TimePoint{} + 1795352400s;  // 2026-11-22T13:00:00Z

LatencyWindow MakeWindow(WindowOptions options = {}) {
  auto window = LatencyWindow::Create(options);
  REQUIRE(window.ok());
  return std::move(window).value();
}

}  // namespace

TEST_CASE("options are validated") {
  CHECK(LatencyWindow::Create({}).ok());
  CHECK_FALSE(LatencyWindow::Create({.window = -1s}).ok());
  CHECK_FALSE(LatencyWindow::Create({.window = 5min, .bucket_count = 0}).ok());
  CHECK_FALSE(LatencyWindow::Create({.window = 5min, .bucket_count = 1001}).ok());
  CHECK_FALSE(LatencyWindow::Create({.window = 5ms, .bucket_count = 10}).ok());
  CHECK_FALSE(LatencyWindow::Create({.window = 5min, .bucket_count = 10, .max_dynos = 0}).ok());
  CHECK(LatencyWindow::Create({.window = 5min, .bucket_count = 10, .max_dynos = 0})
            .status()
            .message() == "latency window: max_dynos must be at least 1");
}

TEST_CASE("per-dyno stats: count, mean, quantiles, max and errors") {
  LatencyWindow window = MakeWindow();
  for (int i = 1; i <= 100; ++i)
    window.Record("web.1", kStart + 1s, i / 1000.0);
  window.Record("web.1", kStart + 2s, 30.001, true, "H12");
  window.Record("web.1", kStart + 2s, std::nullopt, true, "H13");
  model::LatencyStats stats = window.DynoStats("web.1", kStart + 3s);
  CHECK(stats.count == 101);
  CHECK(stats.mean == doctest::Approx((5050 / 1000.0 + 30.001) / 101));
  CHECK(stats.p50 == doctest::Approx(0.051).epsilon(0.02));
  CHECK(stats.p95 == doctest::Approx(0.096).epsilon(0.02));
  CHECK(stats.p99 == doctest::Approx(0.100).epsilon(0.02));
  CHECK(stats.max == 30.001);
  CHECK(stats.errors == 2);
  CHECK(window.DynoStats("web.9", kStart).count == 0);

  std::vector<DynoReport> report = window.Report(kStart + 3s);
  REQUIRE(report.size() == 1);
  CHECK(report[0].formation == "web");
  CHECK(report[0].errors_by_code ==
        std::vector<std::pair<std::string, int64_t>>{{"H12", 1}, {"H13", 1}});
}

TEST_CASE("per-dyno quantiles: in the order asked, empty for a dyno without timed requests") {
  LatencyWindow window = MakeWindow();
  for (int i = 1; i <= 100; ++i)
    window.Record("web.1", kStart + 1s, i / 1000.0);
  window.Record("web.2", kStart + 1s, std::nullopt, true, "H13");
  const std::vector<double> q = window.DynoQuantiles("web.1", kStart + 3s, {0.75, 0.25, 0.5});
  REQUIRE(q.size() == 3);
  CHECK(q[0] == doctest::Approx(0.075).epsilon(0.02));
  CHECK(q[1] == doctest::Approx(0.025).epsilon(0.02));
  CHECK(q[2] == doctest::Approx(window.DynoStats("web.1", kStart + 3s).p50));
  CHECK(window.DynoQuantiles("web.2", kStart + 3s, {0.5}).empty());
  CHECK(window.DynoQuantiles("web.9", kStart + 3s, {0.5}).empty());
}

TEST_CASE("samples expire bucket by bucket with the injected time") {
  // 5 buckets of 1 minute.
  LatencyWindow window = MakeWindow({.window = 5min, .bucket_count = 5});
  window.Record("web.1", kStart, 1.0);
  window.Record("web.1", kStart + 2min, 2.0);
  CHECK(window.DynoStats("web.1", kStart + 2min).count == 2);
  CHECK(window.DynoStats("web.1", kStart + 4min + 59s).count == 2);
  // At +5min the first minute has left the window; at +7min the second one has too.
  CHECK(window.DynoStats("web.1", kStart + 5min).count == 1);
  CHECK(window.DynoStats("web.1", kStart + 5min).max == 2.0);
  CHECK(window.DynoStats("web.1", kStart + 7min).count == 0);
  // Reading does not free anything; Expire does, down to forgetting the dyno.
  CHECK(window.dyno_count() == 1);
  window.Expire(kStart + 7min);
  CHECK(window.dyno_count() == 0);
}

TEST_CASE("late samples are dropped and counted, recent ones are kept") {
  LatencyWindow window = MakeWindow({.window = 5min, .bucket_count = 5});
  window.Record("web.1", kStart + 10min, 0.1);
  window.Record("web.1", kStart + 6min, 0.2);  // within the window: out of order is fine
  window.Record("web.1", kStart + 5min, 0.3);  // the bucket that just left: late
  window.Record("web.1", kStart, 0.4);
  CHECK(window.counts().recorded == 2);
  CHECK(window.counts().late == 2);
  CHECK(window.DynoStats("web.1", kStart + 10min).count == 2);
}

TEST_CASE("memory stays bounded whatever the rate, and vanished dynos are forgotten") {
  LatencyWindow window = MakeWindow({.window = 1min, .bucket_count = 6});
  std::mt19937_64 rng(1);
  std::lognormal_distribution<double> service(std::log(0.1), 0.5);
  // 20 minutes of 200 requests a second over 4 dynos; then web.4 disappears.
  for (int second = 0; second < 1200; ++second) {
    for (int r = 0; r < 200; ++r) {
      int dyno = static_cast<int>(rng() % (second < 600 ? 4 : 3)) + 1;
      window.Record("web." + std::to_string(dyno), kStart + std::chrono::seconds(second),
                    service(rng));
    }
  }
  const TimePoint end = kStart + 1200s;
  CHECK(window.dyno_count() == 3);  // web.4 went quiet 10 minutes ago
  model::LatencyStats stats = window.DynoStats("web.1", end);
  // web.1 gets a third of 200 rps; the window holds 50 to 60 s of it (6 buckets of 10 s, the
  // newest one still empty at `end`).
  CHECK(stats.count > 50 * 67 * 0.9);
  CHECK(stats.count < 60 * 67 * 1.1);
  CHECK(stats.p50 == doctest::Approx(0.1).epsilon(0.05));
}

TEST_CASE("max_dynos bounds the table; extra dynos are counted, not stored") {
  LatencyWindow window = MakeWindow({.window = 5min, .bucket_count = 5, .max_dynos = 3});
  for (int i = 1; i <= 5; ++i)
    window.Record("web." + std::to_string(i), kStart, 0.1);
  CHECK(window.dyno_count() == 3);
  CHECK(window.counts().dropped_too_many_dynos == 2);
  window.Record("web.1", kStart, 0.2);  // known dynos still record
  CHECK(window.counts().recorded == 4);
}

TEST_CASE("the formation statistic comes from the merged histograms") {
  LatencyWindow window = MakeWindow();
  // web.1: 90 fast requests; web.2: 10 slow ones. The merged p95 is slow although web.1's is
  // fast and an average of the two p95s would be about 0.55 s.
  for (int i = 0; i < 90; ++i)
    window.Record("web.1", kStart, 0.1);
  for (int i = 0; i < 10; ++i)
    window.Record("web.2", kStart, 1.0);
  window.Record("worker.1", kStart, 9.0);             // another formation
  window.Record("web-1234abcde-123ab", kStart, 0.1);  // a Fir dyno of web
  model::FormationLatency web = window.Formation("web", Statistic::kP95, kStart);
  REQUIRE(web.value);
  CHECK(*web.value == doctest::Approx(1.0).epsilon(0.02));
  CHECK(web.sample_count == 101);
  CHECK(web.per_dyno.size() == 3);
  CHECK(web.per_dyno.at("web.2").p95 == doctest::Approx(1.0).epsilon(0.02));
  CHECK(web.unknown_reason.empty());
  CHECK(*window.Formation("web", Statistic::kP50, kStart).value ==
        doctest::Approx(0.1).epsilon(0.02));
  CHECK(*window.Formation("web", Statistic::kMean, kStart).value ==
        doctest::Approx((91 * 0.1 + 10 * 1.0) / 101));
  CHECK(*window.Formation("web", Statistic::kMax, kStart).value == 1.0);
  CHECK(window.FormationTypes(kStart) == std::vector<std::string>{"web", "worker"});
}

TEST_CASE("an explicit dyno list is authoritative") {
  LatencyWindow window = MakeWindow();
  window.Record("web.1", kStart, 0.1);
  window.Record("web.2", kStart, 0.5);
  window.Record("web.9", kStart, 5.0);  // in the logs, but no longer in the formation
  model::FormationLatency web =
      window.Formation("web", Statistic::kMax, kStart, {"web.1", "web.2", "web.3"});
  REQUIRE(web.value);
  CHECK(*web.value == 0.5);
  CHECK(web.sample_count == 2);
  REQUIRE(web.per_dyno.size() == 3);
  CHECK(web.per_dyno.at("web.3").count == 0);  // listed, no requests: present with zero
  CHECK(web.per_dyno.count("web.9") == 0);
  CHECK(
      window.Formation("web", Statistic::kMax, kStart, std::vector<std::string>{}).unknown_reason ==
      "no dynos listed for web");
}

TEST_CASE("unknown formation latency says why") {
  LatencyWindow window = MakeWindow();
  CHECK(window.Formation("web", Statistic::kP95, kStart).unknown_reason ==
        "no router lines for web in the last 5m");
  window.Record("web.1", kStart, std::nullopt, true, "H13");
  model::FormationLatency web = window.Formation("web", Statistic::kP95, kStart);
  CHECK_FALSE(web.value);
  CHECK(web.unknown_reason == "no timed requests for web in the last 5m (1 router errors)");
  CHECK(web.per_dyno.at("web.1").errors == 1);
  LatencyWindow all = MakeWindow({.window = Duration::zero()});
  CHECK(all.Formation("web", Statistic::kP95, kStart).unknown_reason == "no router lines for web");
}

TEST_CASE("an unbounded window keeps everything") {
  LatencyWindow window = MakeWindow({.window = Duration::zero()});
  window.Record("web.1", kStart, 0.1);
  window.Record("web.1", kStart + 24h * 365, 0.2);
  window.Record("web.1", kStart - 24h, 0.3);
  window.Expire(kStart + 24h * 400);
  CHECK(window.DynoStats("web.1", kStart + 24h * 400).count == 3);
  CHECK(window.counts().late == 0);
}

TEST_CASE("router lines: own timestamp, fallback time, errors without a dyno") {
  LatencyWindow window = MakeWindow({.window = 5min, .bucket_count = 5});
  RouterLine timed;
  timed.timestamp = kStart;
  timed.dyno = "web.1";
  timed.service_ms = 250;
  window.Add(timed, kStart + 1h);  // its own timestamp wins
  RouterLine bare;
  bare.dyno = "web.1";
  bare.service_ms = 50;
  window.Add(bare, kStart + 1min);
  RouterLine crashed;
  crashed.timestamp = kStart;
  crashed.at_error = true;
  crashed.code = "H10";
  window.Add(crashed, kStart);
  model::LatencyStats stats = window.DynoStats("web.1", kStart + 1min);
  CHECK(stats.count == 2);
  CHECK(stats.max == 0.25);
  DynoReport unattributed = window.Unattributed(kStart + 1min);
  CHECK(unattributed.stats.errors == 1);
  CHECK(unattributed.errors_by_code == std::vector<std::pair<std::string, int64_t>>{{"H10", 1}});
  CHECK(window.Formation("", Statistic::kP95, kStart).per_dyno.empty());
}

TEST_CASE("Report orders dynos naturally within formations") {
  LatencyWindow window = MakeWindow();
  for (const char* dyno : {"web.10", "worker.1", "web.2", "web.1"}) {
    window.Record(dyno, kStart, 0.1);
  }
  std::vector<std::string> order;
  for (const DynoReport& report : window.Report(kStart))
    order.push_back(report.dyno);
  CHECK(order == std::vector<std::string>{"web.1", "web.2", "web.10", "worker.1"});
}

TEST_CASE("SharedLatencyWindow records batches and reads under its lock") {
  SharedLatencyWindow shared(MakeWindow({.window = 5min, .bucket_count = 5}));
  std::vector<RouterLine> lines(3);
  for (size_t i = 0; i < lines.size(); ++i) {
    lines[i].timestamp = kStart;
    lines[i].dyno = "web.1";
    lines[i].service_ms = 100.0 * (i + 1);
  }
  shared.Add(lines, kStart);
  model::FormationLatency web = shared.Formation("web", Statistic::kMax, kStart);
  CHECK(web.value == 0.3);
  // Formation() expires first: ten minutes later the dyno is gone.
  CHECK_FALSE(shared.Formation("web", Statistic::kMax, kStart + 10min).value);
  CHECK(shared.WithLock([](LatencyWindow& window) { return window.dyno_count(); }) == 0);
}

TEST_CASE("a read may cover only the last part of the window") {
  // One 10-minute window of 1-minute buckets serves a formation that declares 3 minutes.
  LatencyWindow window = MakeWindow({.window = 10min, .bucket_count = 10});
  window.Record("web.1", kStart, 5.0);              // 9 minutes before the read
  window.Record("web.1", kStart + 7min, 0.1);       // 2 minutes before
  window.Record("web.1", kStart + 9min + 5s, 0.2);  // in the newest bucket
  const TimePoint now = kStart + 9min + 30s;
  model::FormationLatency all = window.Formation("web", Statistic::kMax, now);
  CHECK(all.sample_count == 3);
  CHECK(all.value == 5.0);
  model::FormationLatency last3 = window.Formation("web", Statistic::kMax, now, 3min);
  CHECK(last3.sample_count == 2);
  CHECK(last3.value == 0.2);
  CHECK(last3.per_dyno.at("web.1").count == 2);
  // Rounded up to whole buckets: 2m1s reads the three newest, as 3m does.
  CHECK(window.Formation("web", Statistic::kMax, now, 2min + 1s).sample_count == 2);
  CHECK(window.Formation("web", Statistic::kMax, now, 2min).sample_count == 1);
  CHECK(window.Formation("web", Statistic::kMax, now, 1s).sample_count == 1);
  CHECK(window.Formation("web", Statistic::kMax, now, {"web.1"}, 3min).sample_count == 2);
  CHECK(window.Formation("api", Statistic::kMax, now, 3min).unknown_reason ==
        "no router lines for api in the last 3m");
  // Longer than the window: the whole window.
  CHECK(window.Formation("web", Statistic::kMax, now, 1h).sample_count == 3);
}

TEST_CASE("the formation's load: requests per second over the newest minute and their mean time") {
  LatencyWindow window = MakeWindow({.window = 100s, .bucket_count = 10});
  // 400 requests over 90s on two dynos: 300 before the last minute, then 100 (of which 10 take
  // 2s and 90 take 200ms).
  for (int i = 0; i < 300; ++i)
    window.Record(i % 2 ? "web.1" : "web.2", kStart + std::chrono::milliseconds(i * 100), 0.1);
  for (int i = 0; i < 100; ++i) {
    window.Record(i % 2 ? "web.1" : "web.2", kStart + 40s + std::chrono::milliseconds(i * 500),
                  i % 10 ? 0.2 : 2.0);
  }
  model::FormationLatency web = window.Formation("web", Statistic::kP95, kStart + 90s);
  REQUIRE(web.load.has_value());
  // The minute is 6 buckets of 10s ([40s, 100s)), the newest counted half full: 55s.
  CHECK(web.load->arrivals_per_second == doctest::Approx(100 / 55.0));
  CHECK(web.load->service_seconds == doctest::Approx((90 * 0.2 + 10 * 2.0) / 100));
  CHECK(web.load->BusySlots() == doctest::Approx((90 * 0.2 + 10 * 2.0) / 55.0));
  CHECK(web.sample_count == 400);
  CHECK_FALSE(window.Formation("worker", Statistic::kP95, kStart + 90s).load.has_value());
}
