// The load of a Sidekiq formation from two reads: the arithmetic, its spans (the newest minute and
// the window), and every case where it must say "unknown" rather than give a number.
#include "providers/sources/sidekiq_load.h"

#include <doctest/doctest.h>

using namespace dynoherd;
using namespace dynoherd::providers;
using namespace dynoherd::providers::sources;
using namespace std::chrono_literals;

namespace {

const TimePoint kStart = TimePoint{} + 1795352400s;  // 2026-11-22T13:00:00Z

redis::SidekiqProcess Process(std::string identity, std::vector<std::string> queues, int64_t busy,
                              TimePoint beat, bool quiet = false) {
  return {.identity = std::move(identity),
          .queues = std::move(queues),
          .concurrency = 10,
          .busy = busy,
          .beat = beat,
          .quiet = quiet};
}

SidekiqLoadSample Sample(Duration after_start, int64_t processed, int64_t queued, int64_t busy) {
  return {.at = kStart + after_start, .processed = processed, .queued = queued, .busy = busy};
}

std::string Message(const Result<model::FormationLoad>& load) {
  return load.ok() ? "" : load.status().message();
}

}  // namespace

TEST_CASE("a sample counts the live processes of the formation's queues; quiet ones' threads not") {
  redis::SidekiqProcesses sidekiq{
      .processed = 1200,
      .processes = {Process("worker.1:4:a", {"default", "mailers"}, 7, kStart - 5s),
                    Process("worker.2:4:b", {"default"}, 3, kStart - 9s, /*quiet=*/true),
                    // Dead 40s ago: its busy is frozen, it flushes nothing more.
                    Process("worker.3:4:c", {"reports"}, 10, kStart - 40s)}};
  Result<SidekiqLoadSample> sample = FormationSample(sidekiq, {"default", "mailers"}, 25, kStart);
  REQUIRE_MESSAGE(sample.ok(), sample.status().message());
  CHECK(sample->at == kStart);
  CHECK(sample->processed == 1200);
  CHECK(sample->queued == 25);
  CHECK(sample->busy == 10);     // the quiet one still finishes its 3 jobs
  CHECK(sample->threads == 10);  // but fetches no more: its threads are not capacity
}

TEST_CASE("a live process working another queue shares the counter: no sample, and who says it") {
  redis::SidekiqProcesses sidekiq{
      .processed = 1200,
      .processes = {Process("worker.1:4:a", {"default"}, 7, kStart - 5s),
                    Process("reports.1:9:f", {"reports", "default"}, 1, kStart - 2s)}};
  Result<SidekiqLoadSample> sample = FormationSample(sidekiq, {"default"}, 0, kStart);
  REQUIRE_FALSE(sample.ok());
  CHECK(sample.status().message() ==
        "stat:processed counts the jobs of every Sidekiq process on this Redis, and process "
        "\"reports.1:9:f\" also works reports: this formation's throughput cannot be told apart");
  // "*": every queue is the formation's.
  Result<SidekiqLoadSample> all = FormationSample(sidekiq, {"*"}, 0, kStart);
  REQUIRE(all.ok());
  CHECK(all->busy == 8);
  CHECK(all->threads == 20);
}

TEST_CASE("two reads 30s apart: arrivals = finished + queue growth, run time by Little's law") {
  SidekiqLoadMeter meter(5min);
  Result<model::FormationLoad> first = meter.Add(Sample(0s, 1000, 40, 8));
  REQUIRE_FALSE(first.ok());
  CHECK(Message(first) ==
        "the load is the change between two reads at least 20s apart: this is the first");

  // 300 jobs finished in 30s (10/s) while 60 more piled up (2/s): 12 arrived a second. The
  // threads were 8 and 12 busy, 10 on average: 10 busy / 10 per second = 1s a job.
  Result<model::FormationLoad> load = meter.Add(Sample(30s, 1300, 100, 12));
  REQUIRE_MESSAGE(load.ok(), Message(load));
  CHECK(load->arrivals_per_second == doctest::Approx(12.0));
  CHECK(load->service_seconds == doctest::Approx(1.0));
  CHECK(load->BusySlots() == doctest::Approx(12.0));  // 10 running, 2 more the backlog needs
  CHECK_FALSE(load->window_busy_slots);               // nothing older than the minute
}

TEST_CASE("the load is over the newest minute; the window's, steadier, over the older reads") {
  SidekiqLoadMeter meter(5min);
  // Calm for 4 minutes: 2 jobs a second of 1s on 2 busy threads.
  int64_t processed = 0;
  for (int i = 0; i <= 8; ++i) {
    (void)meter.Add(Sample(i * 30s, processed, 0, 2));
    processed += 60;
  }
  // Then a surge: 8 a second finished, 4 more a second queued, 8 busy.
  (void)meter.Add(Sample(270s, processed + 240 - 60, 120, 8));
  Result<model::FormationLoad> load = meter.Add(Sample(300s, processed + 480 - 60, 240, 8));
  REQUIRE_MESSAGE(load.ok(), Message(load));
  // The minute from 240s: 480 finished (8/s) and 240 queued (4/s); busy 2, 8, 8.
  CHECK(load->arrivals_per_second == doctest::Approx(12.0));
  CHECK(load->service_seconds == doctest::Approx(6.0 / 8.0));
  REQUIRE(load->window_busy_slots);
  // The 5 minutes from 0s: 960 finished (3.2/s), 240 queued (0.8/s); busy 2 x 9 + 8 x 2 over 11.
  const double busy = (2.0 * 9 + 8 * 2) / 11;
  CHECK(*load->window_busy_slots == doctest::Approx(4.0 * busy / 3.2));
}

TEST_CASE("reads too close together for Sidekiq's 10s flushes measure nothing") {
  SidekiqLoadMeter meter(5min);
  (void)meter.Add(Sample(0s, 1000, 0, 4));
  Result<model::FormationLoad> load = meter.Add(Sample(10s, 1040, 0, 4));
  CHECK(Message(load) ==
        "the reads are 10s apart; the load needs 20s at least (Sidekiq flushes its counters every "
        "10s)");
  // The next read is 25s after the first: measured from there.
  CHECK(meter.Add(Sample(25s, 1100, 0, 4)).ok());
}

TEST_CASE("a counter that went back starts the measure again") {
  SidekiqLoadMeter meter(5min);
  (void)meter.Add(Sample(0s, 1000, 0, 4));
  Result<model::FormationLoad> reset = meter.Add(Sample(30s, 12, 0, 4));
  CHECK(Message(reset) ==
        "stat:processed went back from 1000 to 12 (reset, or another Redis): measuring again "
        "from this read");
  Result<model::FormationLoad> load = meter.Add(Sample(60s, 132, 0, 4));
  REQUIRE_MESSAGE(load.ok(), Message(load));
  CHECK(load->arrivals_per_second == doctest::Approx(4.0));
  CHECK(load->service_seconds == doctest::Approx(1.0));
}

TEST_CASE("no job finished: idle is a load of 0, busy threads or a backlog are unknown") {
  SidekiqLoadMeter idle(5min);
  (void)idle.Add(Sample(0s, 500, 0, 0));
  Result<model::FormationLoad> none = idle.Add(Sample(30s, 500, 0, 0));
  REQUIRE(none.ok());
  CHECK(none->BusySlots() == 0);

  SidekiqLoadMeter stuck(5min);
  (void)stuck.Add(Sample(0s, 500, 3, 2));
  SidekiqLoadSample still = Sample(30s, 500, 9, 2);
  still.threads = 20;
  Result<model::FormationLoad> long_jobs = stuck.Add(still);
  CHECK(Message(long_jobs) ==
        "no job finished in the last 30s while 2 of 20 threads were busy on average and 9 jobs "
        "waited: a job's run time cannot be measured yet");

  // No process works the queues: no thread, and a backlog that grows.
  SidekiqLoadMeter nobody(5min);
  (void)nobody.Add(Sample(0s, 500, 3, 0));
  CHECK(Message(nobody.Add(Sample(30s, 500, 40, 0))).find("while 0 of 0 threads") !=
        std::string::npos);
}

TEST_CASE("after Reset or a clock that went back, the next read is a first one") {
  SidekiqLoadMeter meter(5min);
  (void)meter.Add(Sample(0s, 0, 0, 1));
  meter.Reset();
  CHECK(Message(meter.Add(Sample(30s, 30, 0, 1))).find("this is the first") != std::string::npos);
  CHECK(Message(meter.Add(Sample(20s, 60, 0, 1))).find("this is the first") != std::string::npos);
}
