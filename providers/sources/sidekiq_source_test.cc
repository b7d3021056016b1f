// The Sidekiq latency source against real redis-server processes: the formation's latency is its
// slowest queue's, and every fault leaves that formation unknown with a clear reason while the
// others are read.
#include "providers/sources/sidekiq_source.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tests/support/redis_server.h"
#include "tests/support/sidekiq_heartbeat.h"

using namespace dynoherd;
using namespace dynoherd::providers;
using namespace dynoherd::testing;
using namespace std::chrono_literals;

namespace {

const TimePoint kNow = TimePoint{} + 1795352400s;  // 2026-11-22T13:00:00Z

std::string Job(const std::string& queue, TimePoint enqueued_at, bool milliseconds) {
  const double seconds = std::chrono::duration<double>(enqueued_at.time_since_epoch()).count();
  nlohmann::json job = {{"class", "HardWorker"}, {"args", {"private-argument"}}, {"queue", queue}};
  if (milliseconds) {
    job["enqueued_at"] = static_cast<int64_t>(seconds * 1000);
  } else {
    job["enqueued_at"] = seconds;
  }
  return job.dump();
}

spec::FormationSpec Formation(const std::string& type, const std::string& url,
                              std::vector<std::string> queues) {
  spec::FormationSpec f;
  f.type = type;
  f.latency.emplace();
  f.latency->source = spec::LatencySourceKind::kSidekiq;
  f.latency->statistic = spec::Statistic::kMax;
  f.latency->url = url;
  f.latency->queues = std::move(queues);
  return f;
}

// A formation in autoscale mode capacity: its load is measured between reads.
spec::FormationSpec CapacityFormation(const std::string& type, const std::string& url,
                                      std::vector<std::string> queues) {
  spec::FormationSpec f = Formation(type, url, std::move(queues));
  f.autoscale.emplace();
  f.autoscale->mode = spec::AutoscaleMode::kCapacity;
  f.autoscale->concurrency = 10;
  return f;
}

std::string WithPassword(const std::string& url, const std::string& password) {
  const size_t host = url.find("://") + 3;
  return url.substr(0, host) + ":" + password + "@" + url.substr(host);
}

struct Fixture {
  ManualSleeper sleeper;  // reconnect backoffs are recorded, not waited
  redis::RedisConnections connections{redis::RedisConnectionOptions{.sleeper = &sleeper}};
  std::unique_ptr<RedisServer> server;

  explicit Fixture(RedisServerOptions options = {}) {
    Result<std::unique_ptr<RedisServer>> started = RedisServer::Start(std::move(options));
    REQUIRE_MESSAGE(started.ok(), started.status().message());
    server = std::move(started).value();
  }

  // A client of our own to write Sidekiq's data, as a Sidekiq client does.
  void Run(const std::vector<redis::RedisCommand>& commands, const std::string& password = "") {
    const std::string url =
        password.empty() ? server->Url() : WithPassword(server->Url(), password);
    auto client = redis::RedisConnection::Create(
        *spec::ParseRedisUrl(url), {.tls_ca_file = server->ca_file(), .sleeper = &sleeper});
    REQUIRE(client.ok());
    auto replies = (*client)->Pipeline(commands);
    REQUIRE_MESSAGE(replies.ok(), replies.status().message());
  }
  void Push(const std::string& queue, const std::string& job, const std::string& password = "") {
    Run({{"SADD", "queues", queue}, {"LPUSH", "queue:" + queue, job}}, password);
  }

  std::map<std::string, model::FormationLatency> Read(
      const std::vector<spec::FormationSpec>& specs) {
    std::vector<const spec::FormationSpec*> formations;
    for (const auto& f : specs)
      formations.push_back(&f);
    auto source = sources::SidekiqSource::Create(formations, connections);
    return source->Read(formations, {}, kNow);
  }
};

}  // namespace

TEST_CASE("a formation's latency is its slowest queue's; each queue comes with its size") {
  Fixture redis;
  redis.Push("default", Job("default", kNow - 40s, false));  // Sidekiq 7: float seconds
  redis.Push("default", Job("default", kNow - 1s, false));
  redis.Push("mailers", Job("mailers", kNow - 3s, true));  // Sidekiq 8: integer milliseconds
  redis.Push("reports", Job("reports", kNow - 90s, true));
  redis.Run({{"SADD", "queues", "idle"}});

  auto latency = redis.Read({Formation("worker", redis.server->Url(), {"default", "mailers"}),
                             Formation("reporter", redis.server->Url(), {"reports", "idle"}),
                             Formation("all", redis.server->Url(), {"*"})});
  const model::FormationLatency& worker = latency.at("worker");
  REQUIRE_MESSAGE(worker.value, worker.unknown_reason);
  CHECK(*worker.value == doctest::Approx(40.0).epsilon(1e-3));
  REQUIRE(worker.queues.size() == 2);
  CHECK(worker.queues[0] ==
        model::QueueLatency{"default", 2, worker.queues[0].latency_seconds, ""});
  CHECK(*worker.queues[0].latency_seconds == doctest::Approx(40.0).epsilon(1e-3));
  CHECK(worker.queues[1].queue == "mailers");
  CHECK(worker.queues[1].size == 1);
  CHECK(*worker.queues[1].latency_seconds == doctest::Approx(3.0).epsilon(1e-3));
  CHECK(worker.sample_count == 3);

  const model::FormationLatency& reporter = latency.at("reporter");
  CHECK(*reporter.value == doctest::Approx(90.0).epsilon(1e-3));
  CHECK(reporter.queues[0].queue == "idle");
  CHECK(reporter.queues[0].latency_seconds == 0.0);  // empty: 0, as Sidekiq says

  const model::FormationLatency& all = latency.at("all");
  CHECK(all.queues.size() == 4);
  CHECK(*all.value == doctest::Approx(90.0).epsilon(1e-3));
  // Three formations on one Redis share one connection.
  CHECK(redis.connections.Acquire(*spec::ParseRedisUrl(redis.server->Url()), {}).ok());
}

TEST_CASE("a job that is not JSON or lacks enqueued_at: that formation unknown, the other read") {
  Fixture redis;
  redis.Push("default", "{not json");
  redis.Push("mailers", R"({"class":"Mailer","args":["secret@example.com"]})");
  redis.Push("reports", Job("reports", kNow - 5s, false));
  auto latency = redis.Read({Formation("worker", redis.server->Url(), {"default"}),
                             Formation("mailer", redis.server->Url(), {"mailers", "reports"}),
                             Formation("reporter", redis.server->Url(), {"reports"})});
  const model::FormationLatency& worker = latency.at("worker");
  CHECK_FALSE(worker.value);
  CHECK(worker.unknown_reason.find("queue \"default\"") != std::string::npos);
  CHECK(worker.unknown_reason.find("not JSON") != std::string::npos);
  const model::FormationLatency& mailer = latency.at("mailer");
  CHECK_FALSE(mailer.value);
  CHECK(mailer.unknown_reason == "sidekiq: queue \"mailers\": the oldest job has no enqueued_at");
  CHECK(mailer.unknown_reason.find("secret@") == std::string::npos);
  CHECK(mailer.queues.at(1).latency_seconds);  // reports, still read and shown
  CHECK(*latency.at("reporter").value == doctest::Approx(5.0).epsilon(1e-3));
}

TEST_CASE("a Redis that is not Sidekiq's: no queues set, latency unknown") {
  Fixture redis;
  redis.Run({{"SET", "session:1", "x"}});
  auto latency = redis.Read({Formation("worker", redis.server->Url(), {"default"})});
  const model::FormationLatency& worker = latency.at("worker");
  CHECK_FALSE(worker.value);
  INFO(worker.unknown_reason);
  CHECK(worker.unknown_reason.find("queues") != std::string::npos);
  CHECK(worker.unknown_reason.find(redis.server->Url().substr(8)) != std::string::npos);
}

TEST_CASE("a wrong password and an unknown host: unknown, the reason without the password") {
  Fixture redis({.password = "right-password"});
  redis.Push("default", Job("default", kNow - 7s, false), "right-password");
  const std::string wrong = WithPassword(redis.server->Url(), "hunter2-wrong");
  auto latency = redis.Read(
      {Formation("wrong", wrong, {"default"}),
       Formation("nowhere", "redis://:hunter2@no-such-host.invalid:6379", {"default"}),
       Formation("right", WithPassword(redis.server->Url(), "right-password"), {"default"})});
  const model::FormationLatency& bad = latency.at("wrong");
  CHECK_FALSE(bad.value);
  CHECK(bad.unknown_reason.find("sidekiq: ") == 0);
  CHECK(bad.unknown_reason.find("hunter2") == std::string::npos);
  CHECK(bad.unknown_reason.find("password") != std::string::npos);
  const model::FormationLatency& nowhere = latency.at("nowhere");
  CHECK_FALSE(nowhere.value);
  CHECK(nowhere.unknown_reason.find("no-such-host.invalid") != std::string::npos);
  CHECK(nowhere.unknown_reason.find("hunter2") == std::string::npos);
  CHECK(*latency.at("right").value == doctest::Approx(7.0).epsilon(1e-3));
}

TEST_CASE("Redis down mid-run: unknown while down, read again once it is back") {
  Fixture redis;
  redis.Push("default", Job("default", kNow - 12s, true));
  spec::FormationSpec worker = Formation("worker", redis.server->Url(), {"default"});
  std::vector<const spec::FormationSpec*> formations = {&worker};
  auto source = sources::SidekiqSource::Create(formations, redis.connections);
  CHECK(source->Read(formations, {}, kNow).at("worker").value);

  REQUIRE(redis.server->Stop().ok());
  model::FormationLatency down = source->Read(formations, {}, kNow).at("worker");
  CHECK_FALSE(down.value);
  CHECK(down.unknown_reason.find(redis.server->Url()) != std::string::npos);
  CHECK_FALSE(redis.sleeper.waits().empty());  // it retried, with backoff

  // Stop loses the data (no persistence in the test server): push again after the restart.
  REQUIRE(redis.server->Restart().ok());
  redis.Push("default", Job("default", kNow - 4s, true));
  model::FormationLatency back = source->Read(formations, {}, kNow).at("worker");
  REQUIRE_MESSAGE(back.value, back.unknown_reason);
  CHECK(*back.value == doctest::Approx(4.0).epsilon(1e-3));
}

TEST_CASE("TLS with the test CA, and a CA file that cannot be read") {
  Fixture redis({.tls = true});
  redis.Push("default", Job("default", kNow - 20s, false));
  spec::FormationSpec verified = Formation("verified", redis.server->Url(), {"default"});
  verified.latency->tls_ca_file = redis.server->ca_file();
  spec::FormationSpec unverified = Formation("unverified", redis.server->Url(), {"default"});
  unverified.latency->tls_verify = false;
  spec::FormationSpec missing = Formation("missing", redis.server->Url(), {"default"});
  missing.latency->tls_ca_file = "/nonexistent/ca.pem";
  spec::FormationSpec system = Formation("system", redis.server->Url(), {"default"});
  auto latency = redis.Read({verified, unverified, missing, system});
  CHECK(*latency.at("verified").value == doctest::Approx(20.0).epsilon(1e-3));
  CHECK(*latency.at("unverified").value == doctest::Approx(20.0).epsilon(1e-3));
  CHECK_FALSE(latency.at("missing").value);
  CHECK(latency.at("missing").unknown_reason.find("/nonexistent/ca.pem") != std::string::npos);
  CHECK_FALSE(latency.at("system").value);  // the test CA is not the system's
  CHECK(latency.at("system").unknown_reason.find("certificate") != std::string::npos);
}

TEST_CASE(
    "FormationLatencyOf: the highest known queue latency; any unknown queue makes it unknown") {
  auto queue = [](std::string name, int64_t size, double latency) {
    redis::SidekiqQueueLatency q;
    q.queue = std::move(name);
    q.size = size;
    q.latency_seconds = latency;
    return q;
  };
  redis::SidekiqQueueLatency a = queue("a", 2, 5);
  redis::SidekiqQueueLatency b = queue("b", 0, 0);
  model::FormationLatency known = sources::FormationLatencyOf({a, b});
  CHECK(known.value == 5.0);
  CHECK(known.sample_count == 2);
  redis::SidekiqQueueLatency c = queue("c", 1, 0);
  c.status = Status::InvalidArgument("bad");
  model::FormationLatency unknown = sources::FormationLatencyOf({a, c});
  CHECK_FALSE(unknown.value);
  CHECK(unknown.unknown_reason == "sidekiq: bad");
  CHECK(unknown.queues.size() == 2);
  CHECK(sources::FormationLatencyOf({}).value == 0.0);
}

namespace {

// Plays Sidekiq for the load: two worker processes on `default`; at each beat they report their
// busy threads, and flush what they finished, while clients push jobs.
struct SidekiqPlay {
  Fixture& redis;
  void Beat(TimePoint at, int busy_each, int64_t finished, int pushed) {
    for (const char* identity : {"worker.1:4:a3", "worker.2:4:b7"}) {
      redis.Run(SidekiqHeartbeat(
          {.identity = identity, .queues = {"default"}, .busy = busy_each, .beat = at}));
    }
    redis.Run(SidekiqFlush(finished, finished / 10));
    for (int i = 0; i < pushed; ++i)
      redis.Push("default", Job("default", at, true));
  }
};

}  // namespace

TEST_CASE("mode capacity: the load from the second read on, from the processes and the counter") {
  Fixture redis;
  SidekiqPlay sidekiq{redis};
  sidekiq.Beat(kNow, 6, 1000, 4);
  spec::FormationSpec worker = CapacityFormation("worker", redis.server->Url(), {"default"});
  spec::FormationSpec stepper = Formation("stepper", redis.server->Url(), {"default"});
  std::vector<const spec::FormationSpec*> formations = {&worker, &stepper};
  auto source = sources::SidekiqSource::Create(formations, redis.connections);

  std::map<std::string, model::FormationLatency> first = source->Read(formations, {}, kNow);
  CHECK_FALSE(first.at("worker").load);
  CHECK(first.at("worker").load_unknown_reason ==
        "sidekiq: the load is the change between two reads at least 20s apart: this is the first");
  CHECK(first.at("stepper").load_unknown_reason.empty());  // mode step: not measured at all

  // 30s later: 360 more finished (12/s, 36 of them failed: counted once), 60 more wait (2/s),
  // 6 and 10 threads busy on each of the two processes: 16 on average, 16 / 12 = 1.33s a job.
  sidekiq.Beat(kNow + 30s, 10, 360, 60);
  std::map<std::string, model::FormationLatency> second = source->Read(formations, {}, kNow + 30s);
  const model::FormationLatency& latency = second.at("worker");
  REQUIRE_MESSAGE(latency.load, latency.load_unknown_reason);
  CHECK(latency.load->arrivals_per_second == doctest::Approx(14.0));
  CHECK(latency.load->service_seconds == doctest::Approx(16.0 / 12.0));
  CHECK(latency.load->BusySlots() == doctest::Approx(14.0 * 16.0 / 12.0));
  CHECK(latency.value);  // the latency is read as ever
  CHECK_FALSE(second.at("stepper").load);
}

TEST_CASE("mode capacity: one read only, a shared counter, and the latency unaffected") {
  Fixture redis;
  SidekiqPlay sidekiq{redis};
  sidekiq.Beat(kNow, 2, 100, 1);
  spec::FormationSpec worker = CapacityFormation("worker", redis.server->Url(), {"default"});
  std::vector<const spec::FormationSpec*> formations = {&worker};

  auto once = sources::SidekiqSource::Create(formations, redis.connections,
                                             /*reads_across_passes=*/false);
  model::FormationLatency one_shot = once->Read(formations, {}, kNow).at("worker");
  CHECK_FALSE(one_shot.load);
  CHECK(one_shot.load_unknown_reason.find("this command reads once") != std::string::npos);

  auto source = sources::SidekiqSource::Create(formations, redis.connections);
  (void)source->Read(formations, {}, kNow);
  // A reports process on the same Redis: stat:processed counts its jobs too.
  redis.Run(SidekiqHeartbeat(
      {.identity = "reports.1:7:c9", .queues = {"reports"}, .busy = 1, .beat = kNow + 25s}));
  sidekiq.Beat(kNow + 30s, 2, 100, 1);
  model::FormationLatency shared = source->Read(formations, {}, kNow + 30s).at("worker");
  CHECK_FALSE(shared.load);
  CHECK(shared.load_unknown_reason.find("process \"reports.1:7:c9\" also works reports") !=
        std::string::npos);
  CHECK(shared.value);

  // It stopped (no beat for 30s and more): the counter is the formation's again, from then on.
  sidekiq.Beat(kNow + 60s, 2, 100, 1);
  model::FormationLatency restarted = source->Read(formations, {}, kNow + 60s).at("worker");
  CHECK(restarted.load_unknown_reason.find("this is the first") != std::string::npos);
  sidekiq.Beat(kNow + 90s, 2, 90, 0);
  model::FormationLatency measured = source->Read(formations, {}, kNow + 90s).at("worker");
  REQUIRE_MESSAGE(measured.load, measured.load_unknown_reason);
  CHECK(measured.load->arrivals_per_second == doctest::Approx(3.0));
}

TEST_CASE("mode capacity over TLS, in a namespace") {
  Fixture redis({.tls = true});
  auto beat = [&redis](TimePoint at, int64_t finished) {
    redis.Run(SidekiqHeartbeat({.identity = "worker.1:4:a3",
                                .queues = {"default"},
                                .busy = 4,
                                .beat = at,
                                .key_namespace = "shop"}));
    redis.Run(SidekiqFlush(finished, 0, "shop"));
    redis.Run({{"SADD", "shop:queues", "default"}});
  };
  beat(kNow, 500);
  spec::FormationSpec worker = CapacityFormation("worker", redis.server->Url(), {"default"});
  worker.latency->tls_ca_file = redis.server->ca_file();
  worker.latency->key_namespace = "shop";
  std::vector<const spec::FormationSpec*> formations = {&worker};
  auto source = sources::SidekiqSource::Create(formations, redis.connections);
  (void)source->Read(formations, {}, kNow);
  beat(kNow + 40s, 160);
  model::FormationLatency latency = source->Read(formations, {}, kNow + 40s).at("worker");
  INFO(latency.unknown_reason);
  REQUIRE_MESSAGE(latency.load, latency.load_unknown_reason);
  CHECK(latency.load->arrivals_per_second == doctest::Approx(4.0));
  CHECK(latency.load->service_seconds == doctest::Approx(1.0));
}
