#include "sim/sim_world.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <thread>

#include "sim/scaled_clock.h"
#include "sim/sim_test_util.h"

using namespace dynoherd;
using namespace dynoherd::providers;
using namespace dynoherd::sim;
using namespace dynoherd::sim::testing;

namespace {

// Everything an observer can see at this moment, as text, to compare runs exactly.
std::string Fingerprint(TestWorld& w) {
  std::string out;
  char buf[256];
  auto state = w.world->Observe(kApp);
  REQUIRE(state.ok());
  for (const auto& f : state->formations) {
    out += f.type + "=" + std::to_string(f.quantity) + "@" + FormatTimestamp(f.updated_at) + "\n";
  }
  for (const auto& d : state->dynos)
    out += d.name + " " + d.state + " " + FormatTimestamp(d.updated_at) + "\n";
  for (const auto& type : w.world->formation_types()) {
    const auto latency = w.Latency(type);
    std::snprintf(buf, sizeof buf, "%s value=%.17g n=%lld\n", type.c_str(),
                  latency.value.value_or(-1), static_cast<long long>(latency.sample_count));
    out += buf;
    for (const auto& [name, s] : latency.per_dyno) {
      std::snprintf(buf, sizeof buf, "%s %lld %.17g %.17g %.17g %.17g %.17g %lld\n", name.c_str(),
                    static_cast<long long>(s.count), s.mean, s.p50, s.p95, s.p99, s.max,
                    static_cast<long long>(s.errors));
      out += buf;
    }
  }
  return out;
}

bool AllFinite(const model::LatencyStats& s) {
  return std::isfinite(s.mean) && std::isfinite(s.p50) && std::isfinite(s.p95) &&
         std::isfinite(s.p99) && std::isfinite(s.max);
}

}  // namespace

TEST_CASE("Create refuses a spec.sim it cannot simulate, naming the field") {
  ManualClock clock(SimStart());
  struct Case {
    const char* expected;
    spec::SimSpec spec;
  };
  auto with = [](auto change) {
    spec::SimSpec s = SpecWith({Web("web", 2, 100ms, 10), Worker("worker", 1, 1s, 1)});
    change(s);
    return s;
  };
  const std::vector<Case> cases = {
      {"spec.sim.speed", with([](spec::SimSpec& s) { s.speed = 0; })},
      {"spec.sim.duration", with([](spec::SimSpec& s) { s.duration = 0ms; })},
      {"spec.sim.restartDelay", with([](spec::SimSpec& s) { s.restart_delay = -1ms; })},
      {"spec.sim.formations: declare", with([](spec::SimSpec& s) { s.formations.clear(); })},
      {"spec.sim.formations.web: declared twice",
       with([](spec::SimSpec& s) { s.formations.push_back(Web("web", 1, 1s, 1)); })},
      {"spec.sim.formations.web.quantity",
       with([](spec::SimSpec& s) { s.formations[0].quantity = -1; })},
      {"spec.sim.formations.web: needs serviceTime and rps (web) or jobTime and jobsPerSecond",
       with([](spec::SimSpec& s) { s.formations[0].job_time = 1s; })},
      {"spec.sim.formations.web: needs both",
       with([](spec::SimSpec& s) { s.formations[0].rps.reset(); })},
      {"spec.sim.formations.web.serviceTime",
       with([](spec::SimSpec& s) { s.formations[0].service_time = 0ms; })},
      {"spec.sim.formations.web.rps", with([](spec::SimSpec& s) { s.formations[0].rps = NAN; })},
      {"spec.sim.formations.worker.jobsPerSecond",
       with([](spec::SimSpec& s) { s.formations[1].jobs_per_second = -1; })},
      {"spec.sim.incidents[0].dyno: \"web3\" is not a dyno name",
       with([](spec::SimSpec& s) { s.incidents = {NoisyNeighbor(1min, "web3", 2)}; })},
      {"spec.sim.incidents[0].dyno: no formation \"api\"",
       with([](spec::SimSpec& s) { s.incidents = {NoisyNeighbor(1min, "api.1", 2)}; })},
      {"spec.sim.incidents[1].formation: no formation \"api\"", with([](spec::SimSpec& s) {
         s.incidents = {Surge(1min, "web", 2, 1min), Surge(1min, "api", 2, 1min)};
       })},
      {"spec.sim.incidents[0].factor",
       with([](spec::SimSpec& s) { s.incidents = {Surge(1min, "web", 0, {})}; })},
      {"spec.sim.incidents[0].for",
       with([](spec::SimSpec& s) { s.incidents = {Surge(1min, "web", 2, 0ms)}; })},
  };
  for (const Case& c : cases) {
    CAPTURE(c.expected);
    auto created = SimWorld::Create(kApp, c.spec, clock);
    REQUIRE_FALSE(created.ok());
    CHECK(created.status().code() == Status::Code::kInvalidArgument);
    CHECK(created.status().message().find(c.expected) != std::string::npos);
  }
  SimOptions bad_options;
  bad_options.concurrency = 0;
  CHECK_FALSE(SimWorld::Create(kApp, with([](spec::SimSpec&) {}), clock, bad_options).ok());
}

TEST_CASE("a new world shows every declared dyno up, named like Heroku's") {
  TestWorld w(DemoSpec());
  auto state = w.provider().Observe(kApp);
  REQUIRE(state.ok());
  REQUIRE(state->formations.size() == 2);
  CHECK(state->formations[0].type == "web");
  CHECK(state->formations[0].quantity == 6);
  CHECK(state->formations[0].size == "standard-1x");
  CHECK(state->formations[0].updated_at == SimStart());
  CHECK(state->formations[1].type == "worker");
  CHECK(state->formations[1].quantity == 2);
  REQUIRE(state->dynos.size() == 8);
  const char* names[] = {"web.1", "web.2", "web.3",    "web.4",
                         "web.5", "web.6", "worker.1", "worker.2"};
  for (size_t i = 0; i < 8; ++i) {
    CHECK(state->dynos[i].name == names[i]);
    CHECK(state->dynos[i].state == "up");
    CHECK(state->dynos[i].updated_at == SimStart());
  }
  CHECK(state->dynos[6].type == "worker");
}

TEST_CASE("every call refuses an app the simulator does not run") {
  TestWorld w(DemoSpec());
  CHECK(w.provider().Observe("other").status().code() == Status::Code::kNotFound);
  CHECK(w.provider().Observe("other").status().message() ==
        "app \"other\" not found: the simulator runs \"demo-app\"");
  CHECK(w.provider().Scale("other", {{"web", 3}}).code() == Status::Code::kNotFound);
  CHECK(w.provider().Restart("other", "web.1").code() == Status::Code::kNotFound);
  CHECK(w.provider().Stop("other", "web.1").code() == Status::Code::kNotFound);
  CHECK(w.Formation("web").quantity == 6);
}

TEST_CASE("scaling up adds starting dynos that are up after restartDelay") {
  TestWorld w(SpecWith({Web("web", 2, 100ms, 20)}));
  w.RunUntil(1min);
  REQUIRE(w.provider().Scale(kApp, {{"web", 4}}).ok());
  const auto formation = w.Formation("web");
  CHECK(formation.quantity == 4);
  CHECK(formation.updated_at == SimStart() + 1min);
  CHECK(w.Dyno("web.3").state == "starting");
  CHECK(w.Dyno("web.4").updated_at == SimStart() + 1min);
  CHECK(w.Dyno("web.1").updated_at == SimStart());  // untouched
  w.RunUntil(1min + 19s);
  CHECK(w.Dyno("web.4").state == "starting");
  CHECK(w.Latency("web", 1min).per_dyno.at("web.4").count == 0);  // no traffic while starting
  w.RunUntil(1min + 20s);
  CHECK(w.Dyno("web.4").state == "up");
  CHECK(w.Dyno("web.4").updated_at == SimStart() + 1min + 20s);
  w.RunUntil(2min);
  CHECK(w.Latency("web", 1min).per_dyno.at("web.4").count > 100);

  const auto events = w.world->Events();
  REQUIRE(events.size() == 3);
  CHECK(events[0].kind == SimEventKind::kScale);
  CHECK(events[0].from_quantity == 2);
  CHECK(events[0].to_quantity == 4);
  CHECK(events[0].message == "web scaled from 2 to 4 dynos");
  CHECK(events[1].kind == SimEventKind::kDynoUp);
  CHECK(events[1].dyno == "web.3");
  CHECK(events[2].at == SimStart() + 1min + 20s);
  CHECK(w.world->Events(3).empty());
}

TEST_CASE("scaling down removes the highest-numbered dynos at once") {
  TestWorld w(SpecWith({Web("web", 6, 100ms, 20)}));
  w.RunUntil(1min);
  REQUIRE(w.provider().Scale(kApp, {{"web", 3}}).ok());
  auto state = w.provider().Observe(kApp);
  REQUIRE(state.ok());
  REQUIRE(state->dynos.size() == 3);
  CHECK(state->dynos[2].name == "web.3");
  CHECK(state->dynos[2].state == "up");
  CHECK(w.Formation("web").updated_at == SimStart() + 1min);
  // The same quantity again is no change: nothing logged, updated_at kept.
  w.RunUntil(2min);
  REQUIRE(w.provider().Scale(kApp, {{"web", 3}}).ok());
  CHECK(w.Formation("web").updated_at == SimStart() + 1min);
  CHECK(w.world->Events().size() == 1);
  // Down to zero: requests find no dyno (Heroku's H14) and the latency is unknown.
  REQUIRE(w.provider().Scale(kApp, {{"web", 0}}).ok());
  w.RunUntil(8min);
  const auto latency = w.Latency("web");
  CHECK(latency.per_dyno.empty());
  CHECK_FALSE(latency.value);
  CHECK(latency.unknown_reason == "no requests in the last 5m");
  CHECK(w.Truth("web", 3min, 8min).unserved == doctest::Approx(20 * 300).epsilon(0.1));
}

TEST_CASE("a scale request with one bad entry changes nothing") {
  TestWorld w(DemoSpec());
  const Status unknown = w.provider().Scale(kApp, {{"web", 8}, {"api", 1}});
  CHECK(unknown.code() == Status::Code::kNotFound);
  CHECK(unknown.message() == "formation \"api\" not found");
  CHECK(w.provider().Scale(kApp, {{"web", -1}}).code() == Status::Code::kInvalidArgument);
  CHECK(w.provider().Scale(kApp, {{"web", kMaxDynosPerFormation + 1}}).code() ==
        Status::Code::kInvalidArgument);
  CHECK(w.provider().Scale(kApp, {{"web", 7}, {"web", 8}}).code() ==
        Status::Code::kInvalidArgument);
  CHECK(w.Formation("web").quantity == 6);
  CHECK(w.world->Events().empty());
  REQUIRE(w.provider().Scale(kApp, {{"web", 7}, {"worker", 3}}).ok());
  CHECK(w.Formation("web").quantity == 7);
  CHECK(w.Formation("worker").quantity == 3);
}

TEST_CASE("a restarted dyno is starting for restartDelay, a stopped one down, then both up") {
  TestWorld w(DemoSpec());
  w.RunUntil(1min);
  REQUIRE(w.provider().Restart(kApp, "web.2").ok());
  REQUIRE(w.provider().Stop(kApp, "worker.1").ok());
  CHECK(w.Dyno("web.2").state == "starting");
  CHECK(w.Dyno("web.2").updated_at == SimStart() + 1min);
  CHECK(w.Dyno("worker.1").state == "down");
  CHECK(w.Dyno("web.1").state == "up");
  w.RunUntil(1min + 19s);
  CHECK(w.Dyno("web.2").state == "starting");
  CHECK(w.Dyno("worker.1").state == "down");
  w.RunUntil(1min + 20s);
  CHECK(w.Dyno("web.2").state == "up");
  CHECK(w.Dyno("web.2").updated_at == SimStart() + 1min + 20s);
  CHECK(w.Dyno("worker.1").state == "up");

  const auto events = w.world->Events();
  REQUIRE(events.size() == 4);
  CHECK(events[0].kind == SimEventKind::kRestart);
  CHECK(events[0].message == "web.2 restarted");
  CHECK(events[1].kind == SimEventKind::kStop);
  CHECK(events[2].kind == SimEventKind::kDynoUp);
  CHECK(events[3].kind == SimEventKind::kDynoUp);

  for (const char* missing : {"web.7", "web.0", "web", "api.1", "", "web.x", ".1"}) {
    CAPTURE(missing);
    CHECK(w.provider().Restart(kApp, missing).code() == Status::Code::kNotFound);
    CHECK(w.provider().Stop(kApp, missing).code() == Status::Code::kNotFound);
  }
}

TEST_CASE("restartDelay is rounded up to whole steps; zero means up at once") {
  spec::SimSpec spec = SpecWith({Web("web", 2, 100ms, 10)});
  spec.restart_delay = 0ms;
  TestWorld instant(spec);
  instant.RunUntil(10s);
  REQUIRE(instant.provider().Restart(kApp, "web.1").ok());
  CHECK(instant.Dyno("web.1").state == "up");
  REQUIRE(instant.provider().Scale(kApp, {{"web", 3}}).ok());
  CHECK(instant.Dyno("web.3").state == "up");

  spec.restart_delay = 2500ms;
  TestWorld odd(spec);
  REQUIRE(odd.provider().Restart(kApp, "web.1").ok());
  odd.RunUntil(2s);
  CHECK(odd.Dyno("web.1").state == "starting");
  odd.RunUntil(3s);
  CHECK(odd.Dyno("web.1").state == "up");
}

TEST_CASE("more dynos under the same load give lower latency") {
  double previous_p95 = 1e9;
  double previous_mean = 1e9;
  for (int dynos : {3, 4, 6, 8, 12}) {
    CAPTURE(dynos);
    TestWorld w(SpecWith({Web("web", dynos, 120ms, 40)}));
    w.RunUntil(10min);
    const auto truth = w.Truth("web", 1min, 10min);
    const double seen_p95 = *w.Latency("web").value;
    CHECK(truth.latency.p95 < previous_p95);
    CHECK(truth.latency.mean < previous_mean);
    CHECK(seen_p95 == doctest::Approx(truth.latency.p95).epsilon(0.25));
    previous_p95 = truth.latency.p95;
    previous_mean = truth.latency.mean;
  }
}

TEST_CASE("more load on the same dynos gives higher latency") {
  double previous_p95 = 0;
  for (double rps : {10.0, 20.0, 40.0, 60.0, 80.0}) {
    CAPTURE(rps);
    TestWorld w(SpecWith({Web("web", 6, 120ms, rps)}));
    w.RunUntil(10min);
    const auto truth = w.Truth("web", 1min, 10min);
    CHECK(truth.latency.count == doctest::Approx(rps * 540).epsilon(0.05));
    CHECK(truth.latency.p95 > previous_p95);
    previous_p95 = truth.latency.p95;
  }
}

TEST_CASE("a noisy neighbour slows down its dyno and no other") {
  const auto spec = SpecWith({Web("web", 6, 120ms, 40)});
  spec::SimSpec noisy_spec = spec;
  noisy_spec.incidents = {NoisyNeighbor(1min, "web.3", 2)};
  TestWorld quiet(spec), noisy(noisy_spec);
  quiet.RunUntil(6min);
  noisy.RunUntil(6min);
  const auto q = quiet.Latency("web", 5min, spec::Statistic::kP50);
  const auto n = noisy.Latency("web", 5min, spec::Statistic::kP50);
  CHECK(n.per_dyno.at("web.3").p50 > 2 * q.per_dyno.at("web.3").p50);
  for (const char* other : {"web.1", "web.2", "web.4", "web.5", "web.6"}) {
    CAPTURE(other);
    // Same seed, same traffic: the other dynos see exactly what they saw without the incident.
    const auto& a = q.per_dyno.at(other);
    const auto& b = n.per_dyno.at(other);
    CHECK(a.count == b.count);
    CHECK(a.p50 == b.p50);
    CHECK(a.p99 == b.p99);
    CHECK(a.max == b.max);
  }
  CHECK(*n.value > *q.value);
  const auto events = noisy.world->Events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == SimEventKind::kNoisyNeighbor);
  CHECK(events[0].at == SimStart() + 1min);
  CHECK(events[0].message == "noisy neighbour: web.3 works x2 slower until it restarts");
}

TEST_CASE("restarting the noisy dyno clears it once it is up again") {
  TestWorld w(SpecWith({Web("web", 6, 120ms, 40)}, {NoisyNeighbor(1min, "web.3", 3)}));
  w.RunUntil(5min);
  const auto before = w.Latency("web", 3min, spec::Statistic::kP50);
  CHECK(before.per_dyno.at("web.3").p50 > 5 * before.per_dyno.at("web.1").p50);
  CHECK(before.per_dyno.at("web.3").errors > 0);  // saturated: H12 timeouts
  REQUIRE(w.provider().Restart(kApp, "web.3").ok());
  w.RunUntil(5min + 20s);
  CHECK(w.Dyno("web.3").state == "up");
  w.RunUntil(12min);
  const auto after = w.Latency("web", 5min, spec::Statistic::kP50);
  const auto& web3 = after.per_dyno.at("web.3");
  CHECK(web3.count > 1000);
  CHECK(web3.errors == 0);
  CHECK(web3.p50 == doctest::Approx(after.per_dyno.at("web.1").p50).epsilon(0.25));
  CHECK(web3.p95 < 2 * after.per_dyno.at("web.1").p95);
}

TEST_CASE("a noisy neighbour for a dyno that does not exist at the time is ignored") {
  TestWorld w(SpecWith({Web("web", 2, 120ms, 10)}, {NoisyNeighbor(1min, "web.5", 3)}));
  w.RunUntil(2min);
  const auto events = w.world->Events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].message == "noisy neighbour for web.5 ignored: no such dyno now");
}

TEST_CASE("a surge raises latency while it lasts and ends when its `for` ends") {
  TestWorld w(SpecWith({Web("web", 6, 120ms, 40)}, {Surge(3min, "web", 2, 3min)}));
  w.RunUntil(12min);
  const auto before = w.Truth("web", 0min, 3min);
  const auto during = w.Truth("web", 3min + 30s, 6min);
  const auto after = w.Truth("web", 8min, 12min);
  CHECK(during.latency.count == doctest::Approx(80 * 150).epsilon(0.05));  // load x2
  CHECK(during.latency.p95 > 2 * before.latency.p95);
  CHECK(after.latency.count == doctest::Approx(40 * 240).epsilon(0.05));
  CHECK(after.latency.p95 == doctest::Approx(before.latency.p95).epsilon(0.2));
  const auto events = w.world->Events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].kind == SimEventKind::kSurgeStart);
  CHECK(events[0].message == "surge: web load x2 for 3m");
  CHECK(events[1].kind == SimEventKind::kSurgeEnd);
  CHECK(events[1].at == SimStart() + 6min);
}

TEST_CASE("worker queue latency grows while jobs outpace workers and drains when they catch up") {
  // 4 slots (2 dynos x concurrency 2) of ~1.13 s jobs: about 3.5 jobs/s; the surge brings 6.
  const auto spec = SpecWith({Worker("worker", 2, 1s, 1)}, {Surge(2min, "worker", 6, 3min)});
  TestWorld w(spec), scaled(spec);
  auto queue_latency = [](TestWorld& world) { return *world.Latency("worker").value; };
  w.RunUntil(2min);
  CHECK(queue_latency(w) < 3);
  w.RunUntil(3min);
  const double at3 = queue_latency(w);
  w.RunUntil(4min);
  const double at4 = queue_latency(w);
  w.RunUntil(5min);
  const double at5 = queue_latency(w);
  CHECK(at3 > 10);
  CHECK(at4 > at3 + 20);
  CHECK(at5 > at4 + 20);
  w.RunUntil(6min);
  const double at6 = queue_latency(w);
  // FIFO: the oldest job keeps ageing until the surge's backlog is served, then the age collapses.
  CHECK(at6 > at5);
  w.RunUntil(10min);
  CHECK(queue_latency(w) < 3);
  const double peak = w.world->Truth("worker")->peak_queue_latency;
  CHECK(peak > at6);
  CHECK(w.Truth("worker", 8min, 10min).peak_queue_latency < 3);

  // Adding workers during the surge drains the queue sooner.
  scaled.RunUntil(4min);
  REQUIRE(scaled.provider().Scale(kApp, {{"worker", 6}}).ok());
  scaled.RunUntil(6min);
  CHECK(queue_latency(scaled) < at6 / 4);
  CHECK(scaled.world->Truth("worker")->peak_queue_latency < peak / 2);
  CHECK(scaled.Truth("worker", 4min, 10min).latency.p95 <
        w.Truth("worker", 4min, 10min).latency.p95);
}

TEST_CASE("the same seed gives identical observations; another seed other samples") {
  auto play = [](uint64_t seed) {
    spec::SimSpec spec = DemoSpec();
    spec.seed = seed;
    TestWorld w(spec);
    std::string trace;
    for (int minute = 1; minute <= 16; ++minute) {
      w.RunUntil(std::chrono::minutes(minute));
      if (minute == 5) REQUIRE(w.provider().Restart(kApp, "web.3").ok());
      if (minute == 13) REQUIRE(w.provider().Scale(kApp, {{"web", 8}}).ok());
      trace += Fingerprint(w);
    }
    return trace;
  };
  const std::string first = play(42);
  CHECK(first == play(42));
  CHECK(first != play(43));
}

TEST_CASE("a request is seen only once it has completed, as in router logs") {
  // One overloaded dyno: latency grows with the queue, but nothing older than the run is seen.
  TestWorld w(SpecWith({Web("web", 1, 1s, 10)}));
  w.RunUntil(10s);
  const auto latency = w.Latency("web", 10s, spec::Statistic::kMax);
  CHECK(latency.per_dyno.at("web.1").count > 0);
  CHECK(*latency.value <= 10.0);
}

TEST_CASE("extreme overload saturates at the router timeout, never inf or NaN") {
  TestWorld w(SpecWith({Web("web", 1, 1s, 5000), Worker("worker", 1, 10s, 2000)}));
  w.RunUntil(2min);
  const auto web = w.Latency("web", 1min, spec::Statistic::kP99);
  const auto& stats = web.per_dyno.at("web.1");
  CHECK(AllFinite(stats));
  CHECK(stats.max == doctest::Approx(30.0));
  CHECK(stats.p50 == doctest::Approx(30.0));
  CHECK(stats.errors > stats.count / 2);
  REQUIRE(web.value);
  CHECK(*web.value == doctest::Approx(30.0));
  const auto truth = w.Truth("web", 0min, 2min, 5s);
  CHECK(AllFinite(truth.latency));
  CHECK(truth.latency.max == doctest::Approx(30.0));
  CHECK(truth.slower_than_threshold > truth.latency.count / 2);

  const auto worker = w.Latency("worker");
  REQUIRE(worker.value);
  CHECK(std::isfinite(*worker.value));
  CHECK(*worker.value == doctest::Approx(120).epsilon(0.02));  // the first job is still waiting
  CHECK(worker.sample_count > 200'000);
}

TEST_CASE("memory stays bounded: it does not grow with the number of requests") {
  // Recent samples are kept for latency_retention only; the ground truth is a histogram per
  // truth_resolution range, whatever the number of requests in it.
  auto memory_growth = [](double rps) {
    TestWorld w(SpecWith({Web("web", 8, 120ms, rps), Worker("worker", 2, 2s, 0.8)}));
    w.RunUntil(15min);
    const size_t at15 = w.world->MemoryBytes();
    w.RunUntil(30min);
    const size_t at30 = w.world->MemoryBytes();
    MESSAGE(rps << " rps: " << at15 << " bytes at 15m, " << at30 << " at 30m");
    CHECK(at30 < 6'000'000);
    CHECK(w.Truth("web", 0min, 30min).latency.count == doctest::Approx(rps * 1800).epsilon(0.02));
    return at30 - at15;
  };
  const size_t growth_100 = memory_growth(100);
  const size_t growth_400 = memory_growth(400);  // 4x the requests of the same latency spread
  CHECK(growth_100 < 500'000);
  CHECK(growth_400 < 2 * growth_100);
}

TEST_CASE("ground truth: dyno-minutes, ranges that add up, slow-request counts") {
  TestWorld w(SpecWith({Web("web", 6, 120ms, 40)}));
  w.RunUntil(5min);
  REQUIRE(w.provider().Scale(kApp, {{"web", 8}}).ok());
  w.RunUntil(10min);
  const auto all = w.Truth("web", 0min, 10min, 1s);
  CHECK(all.dyno_minutes() == 6 * 5 + 8 * 5);  // starting dynos are billed too
  const auto first = w.Truth("web", 0min, 5min, 1s);
  const auto second = w.Truth("web", 5min, 10min, 1s);
  CHECK(first.latency.count + second.latency.count == all.latency.count);
  CHECK(first.dyno_seconds + second.dyno_seconds == all.dyno_seconds);
  CHECK(all.latency.p50 <= all.latency.p95);
  CHECK(all.latency.p95 <= all.latency.p99);
  CHECK(all.latency.p99 <= all.latency.max);
  CHECK(all.slower_than_threshold < all.latency.count / 100);
  CHECK(w.Truth("web", 0min, 10min, 1ms).slower_than_threshold == all.latency.count);
  // The whole run so far, and a range past the present, are clamped to what was simulated.
  CHECK(w.world->Truth("web")->latency.count == all.latency.count);
  CHECK(w.Truth("web", 0min, 60min).dyno_seconds == all.dyno_seconds);
  CHECK(w.Truth("web", 7min, 6min).latency.count == 0);
}

TEST_CASE("Latency answers windows up to the retention, for known formations") {
  TestWorld w(DemoSpec());
  w.RunUntil(1min);
  CHECK(w.world->Latency("web", 0ms, spec::Statistic::kP95).status().code() ==
        Status::Code::kInvalidArgument);
  const auto too_long = w.world->Latency("web", 11min, spec::Statistic::kP95);
  CHECK(too_long.status().code() == Status::Code::kInvalidArgument);
  CHECK(too_long.status().message() ==
        "latency window 11m must be > 0 and at most the simulator's retention of 10m");
  CHECK(w.world->Latency("web", 10min, spec::Statistic::kP95).ok());
  CHECK(w.world->Latency("api", 5min, spec::Statistic::kP95).status().code() ==
        Status::Code::kNotFound);
  CHECK(w.world->Truth("api").status().code() == Status::Code::kNotFound);
  // The statistic picks which value a web formation reports.
  const auto p50 = w.Latency("web", 1min, spec::Statistic::kP50);
  const auto p99 = w.Latency("web", 1min, spec::Statistic::kP99);
  CHECK(p50.sample_count == p99.sample_count);
  CHECK(*p50.value < *p99.value);
}

TEST_CASE("run mode: the world follows a ScaledClock over the wall clock") {
  ManualClock wall(SimStart() - 24h);
  auto clock = ScaledClock::Create(wall, SimStart(), 30);
  REQUIRE(clock.ok());
  auto created = SimWorld::Create(kApp, DemoSpec(), *clock);
  REQUIRE(created.ok());
  SimWorld& world = **created;
  CHECK(world.Now() == SimStart());
  CHECK(world.end_time() == SimStart() + 30min);
  wall.Advance(2s);
  CHECK(world.Now() == SimStart() + 60s);
  CHECK_FALSE(world.Finished());
  wall.Advance(58s);
  CHECK(world.Now() == SimStart() + 30min);
  CHECK(world.Finished());
}

TEST_CASE("the world can be asked from several threads at once") {
  TestWorld w(DemoSpec());
  std::atomic<bool> failed{false};
  auto ask = [&](bool act) {
    for (int i = 0; i < 300; ++i) {
      if (!w.world->Observe(kApp).ok()) failed = true;
      if (!w.world->Latency("web", 5min, spec::Statistic::kP95).ok()) failed = true;
      if (act && !w.world->Scale(kApp, {{"web", 6 + i % 3}}).ok()) failed = true;
      if (!w.world->Truth("worker").ok()) failed = true;
    }
  };
  std::thread reader(ask, false);
  std::thread actor(ask, true);
  for (int i = 0; i < 300; ++i)
    w.clock.Advance(1s);
  reader.join();
  actor.join();
  CHECK_FALSE(failed.load());
  CHECK(w.world->Now() == SimStart() + 300s);
}
