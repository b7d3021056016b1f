// The reader of Sidekiq's process records and counter against a real redis-server, written as a
// Sidekiq 7 process's heartbeat writes them (tests/support/sidekiq_heartbeat.h).
#include "providers/redis/sidekiq_processes.h"

#include <doctest/doctest.h>

#include "tests/support/redis_server.h"
#include "tests/support/sidekiq_heartbeat.h"

using namespace dynoherd;
using namespace dynoherd::providers::redis;
using namespace dynoherd::testing;
using namespace std::chrono_literals;

namespace {

const TimePoint kNow = TimePoint{} + 1795352400s;  // 2026-11-22T13:00:00Z

struct ProcessRedis {
  ManualSleeper sleeper;
  std::unique_ptr<RedisServer> server;
  std::unique_ptr<RedisConnection> redis;

  ProcessRedis() {
    Result<std::unique_ptr<RedisServer>> started = RedisServer::Start();
    REQUIRE_MESSAGE(started.ok(), started.status().message());
    server = std::move(started).value();
    auto connection =
        RedisConnection::Create(*spec::ParseRedisUrl(server->Url()), {.sleeper = &sleeper});
    REQUIRE(connection.ok());
    redis = std::move(connection).value();
  }

  void Run(const std::vector<RedisCommand>& commands) {
    auto replies = redis->Pipeline(commands);
    REQUIRE_MESSAGE(replies.ok(), replies.status().message());
  }

  Result<SidekiqProcesses> Read(const std::string& key_namespace = "") {
    Result<SidekiqProcessReader> reader = SidekiqProcessReader::Create(key_namespace);
    REQUIRE(reader.ok());
    return reader->Read(*redis);
  }
};

}  // namespace

TEST_CASE("the processes' threads, busy ones, beats and quiet flags, and stat:processed") {
  ProcessRedis r;
  r.Run(SidekiqHeartbeat({.identity = "worker.2:4:b7", .queues = {"default"}, .concurrency = 5,
                          .busy = 5, .beat = kNow - 3s, .quiet = true}));
  r.Run(SidekiqHeartbeat({.identity = "worker.1:4:a3",
                          .queues = {"default", "mailers"},
                          .busy = 2,
                          .beat = kNow - 8s}));
  // A process that died: still in the set, its hash expired.
  r.Run({{"SADD", "processes", "worker.3:4:c1"}});
  r.Run(SidekiqFlush(1234, 12));

  Result<SidekiqProcesses> read = r.Read();
  REQUIRE_MESSAGE(read.ok(), read.status().message());
  CHECK(read->processed == 1234);  // failed jobs are in it already
  REQUIRE(read->processes.size() == 2);
  const SidekiqProcess& first = read->processes[0];
  CHECK(first.identity == "worker.1:4:a3");
  CHECK(first.queues == std::vector<std::string>{"default", "mailers"});
  CHECK(first.concurrency == 10);
  CHECK(first.busy == 2);
  CHECK(ToSeconds(first.beat - (kNow - 8s)) == doctest::Approx(0).epsilon(1e-3));
  CHECK_FALSE(first.quiet);
  CHECK(read->processes[1].quiet);
  CHECK(read->processes[1].concurrency == 5);
}

TEST_CASE("before Sidekiq ever ran: no processes and a count of 0; with a namespace, its keys") {
  ProcessRedis r;
  Result<SidekiqProcesses> empty = r.Read();
  REQUIRE(empty.ok());
  CHECK(empty->processed == 0);
  CHECK(empty->processes.empty());

  r.Run(SidekiqHeartbeat({.identity = "worker.1:4:a3", .queues = {"default"}, .busy = 1,
                          .beat = kNow, .key_namespace = "shop"}));
  r.Run(SidekiqFlush(40, 0, "shop"));
  CHECK(r.Read()->processes.empty());  // the namespace's keys are not the bare ones
  Result<SidekiqProcesses> shop = r.Read("shop");
  REQUIRE(shop.ok());
  CHECK(shop->processed == 40);
  REQUIRE(shop->processes.size() == 1);
  CHECK(shop->processes[0].busy == 1);
  CHECK_FALSE(SidekiqProcessReader::Create("shop:").ok());
}

TEST_CASE("records that are not Sidekiq's fail the read, naming the process, never quoting it") {
  ProcessRedis r;
  r.Run({{"SADD", "processes", "worker.1:4:a3"},
         {"HSET", "worker.1:4:a3", "info", "{private", "busy", "1", "beat", "1795352400.5"}});
  Result<SidekiqProcesses> read = r.Read();
  REQUIRE_FALSE(read.ok());
  CHECK(read.status().message() == r.server->Url() +
                                       ": Sidekiq process \"worker.1:4:a3\": its info is not a "
                                       "JSON object");

  r.Run({{"HSET", "worker.1:4:a3", "info", R"({"queues":["default"]})"}});
  CHECK(r.Read().status().message().find("its info has no concurrency") != std::string::npos);
  r.Run({{"HSET", "worker.1:4:a3", "info", R"({"concurrency":5,"queues":["default"]})", "busy",
          "lots"}});
  CHECK(r.Read().status().message().find("its busy is not a count") != std::string::npos);
  r.Run({{"HSET", "worker.1:4:a3", "busy", "1", "beat", "yesterday"}});
  CHECK(r.Read().status().message().find("its beat is not a time") != std::string::npos);
  r.Run({{"HSET", "worker.1:4:a3", "beat", "1795352400.5"}});
  CHECK(r.Read().ok());

  r.Run({{"SET", "stat:processed", "many"}});
  CHECK(r.Read().status().message().find("\"stat:processed\" is not a count") != std::string::npos);
  r.Run({{"DEL", "stat:processed"}, {"SET", "worker.1:4:a3", "not a hash"}});
  Result<SidekiqProcesses> wrong_type = r.Read();
  CHECK(wrong_type.status().message().find("WRONGTYPE") != std::string::npos);
}
