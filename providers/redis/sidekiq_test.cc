// The Sidekiq reader against a real redis-server holding jobs as Sidekiq 7 and 8 push them.
#include "providers/redis/sidekiq.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "providers/redis/sidekiq_processes.h"
#include "tests/support/redis_server.h"
#include "tests/support/sidekiq_heartbeat.h"

using namespace dynoherd;
using namespace dynoherd::providers::redis;
using namespace dynoherd::testing;
using namespace std::chrono_literals;

namespace {

const TimePoint kNow = TimePoint{} + 1795352400s;  // 2026-11-22T13:00:00Z

double UnixSeconds(TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// A job as Sidekiq <= 7 writes it: epoch seconds as a float.
std::string Sidekiq7Job(const std::string& queue, TimePoint enqueued_at) {
  return nlohmann::json{{"class", "HardWorker"},
                        {"args", {"private-argument"}},
                        {"jid", "b4a577edbccf1d805744efa9"},
                        {"queue", queue},
                        {"created_at", UnixSeconds(enqueued_at)},
                        {"enqueued_at", UnixSeconds(enqueued_at)}}
      .dump();
}

// A job as Sidekiq 8 writes it: epoch milliseconds as an integer.
std::string Sidekiq8Job(const std::string& queue, TimePoint enqueued_at) {
  const int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(enqueued_at.time_since_epoch()).count();
  return nlohmann::json{
      {"class", "HardWorker"}, {"args", {1, 2}},   {"jid", "0c3f0b2e9f0b4c6f9a3d8e21"},
      {"queue", queue},        {"created_at", ms}, {"enqueued_at", ms}}
      .dump();
}

struct SidekiqRedis {
  ManualSleeper sleeper;
  std::unique_ptr<RedisServer> server;
  std::unique_ptr<RedisConnection> redis;

  SidekiqRedis() {
    Result<std::unique_ptr<RedisServer>> started = RedisServer::Start();
    REQUIRE_MESSAGE(started.ok(), started.status().message());
    server = std::move(started).value();
    Result<std::unique_ptr<RedisConnection>> connection =
        RedisConnection::Create(*spec::ParseRedisUrl(server->Url()), {.sleeper = &sleeper});
    REQUIRE(connection.ok());
    redis = std::move(connection).value();
  }

  // What a Sidekiq client does: SADD the queue to `queues`, LPUSH the job onto its list.
  void Push(const std::string& queue, const std::string& job, const std::string& ns = "") {
    const std::string prefix = ns.empty() ? "" : ns + ":";
    Result<std::vector<RedisReply>> r = redis->Pipeline(
        {{"SADD", prefix + "queues", queue}, {"LPUSH", prefix + "queue:" + queue, job}});
    REQUIRE(r.ok());
  }

  Result<std::vector<SidekiqQueueLatency>> Read(SidekiqQueueSelection selection,
                                                TimePoint now = kNow) {
    Result<SidekiqQueueReader> reader = SidekiqQueueReader::Create(std::move(selection));
    REQUIRE_MESSAGE(reader.ok(), reader.status().message());
    return reader->Read(*redis, now);
  }

  void Run(const std::vector<RedisCommand>& commands) {
    auto replies = redis->Pipeline(commands);
    REQUIRE_MESSAGE(replies.ok(), replies.status().message());
  }

  Result<SidekiqProcesses> ReadProcesses(const std::string& key_namespace = "") {
    Result<SidekiqProcessReader> reader = SidekiqProcessReader::Create(key_namespace);
    REQUIRE(reader.ok());
    return reader->Read(*redis);
  }
};

const SidekiqQueueLatency& Find(const std::vector<SidekiqQueueLatency>& queues,
                                const std::string& name) {
  for (const SidekiqQueueLatency& q : queues)
    if (q.queue == name) return q;
  FAIL("no queue " << name);
  return queues.front();
}

}  // namespace

TEST_CASE("the oldest job's wait, in Sidekiq 7 seconds and Sidekiq 8 milliseconds") {
  SidekiqRedis sidekiq;
  // LPUSH puts the newest job at the head: the oldest is the first one pushed.
  sidekiq.Push("default", Sidekiq7Job("default", kNow - 12500ms));
  sidekiq.Push("default", Sidekiq7Job("default", kNow - 2s));
  sidekiq.Push("mailers", Sidekiq8Job("mailers", kNow - 30s));
  sidekiq.Push("mailers", Sidekiq8Job("mailers", kNow - 1s));
  sidekiq.Push("mailers", Sidekiq8Job("mailers", kNow));

  const uint64_t before = sidekiq.redis->stats().exchanges;
  auto queues = sidekiq.Read({.queues = {"mailers", "default"}});
  REQUIRE_MESSAGE(queues.ok(), queues.status().message());
  CHECK(sidekiq.redis->stats().exchanges == before + 1);  // one round trip for named queues
  REQUIRE(queues->size() == 2);
  const SidekiqQueueLatency& def = (*queues)[0];  // sorted by name
  CHECK(def.queue == "default");
  CHECK(def.status.ok());
  CHECK(def.size == 2);
  CHECK(def.latency_seconds == doctest::Approx(12.5).epsilon(1e-6));
  REQUIRE(def.oldest_enqueued_at);
  CHECK(std::abs(ToSeconds(kNow - *def.oldest_enqueued_at) - 12.5) < 1e-3);
  CHECK(def.listed);
  const SidekiqQueueLatency& mailers = (*queues)[1];
  CHECK(mailers.queue == "mailers");
  CHECK(mailers.size == 3);
  CHECK(mailers.latency_seconds == doctest::Approx(30.0));

  // The same jobs read later wait longer: `now` is the caller's.
  auto later = sidekiq.Read({.queues = {"mailers"}}, kNow + 90s);
  REQUIRE(later.ok());
  CHECK((*later)[0].latency_seconds == doctest::Approx(120.0));
}

TEST_CASE("an empty queue has latency 0; a job without enqueued_at counts 0 and is flagged") {
  SidekiqRedis sidekiq;
  sidekiq.Push("default", Sidekiq7Job("default", kNow - 5s));
  REQUIRE(sidekiq.redis->Command({"SADD", "queues", "idle"}).ok());  // known, never filled
  sidekiq.Push("legacy", R"({"class":"OldWorker","args":[],"jid":"1","queue":"legacy"})");
  sidekiq.Push("future", Sidekiq7Job("future", kNow + 3s));  // a client clock ahead of ours

  auto queues = sidekiq.Read({.queues = {"idle", "legacy", "future", "typo"}});
  REQUIRE(queues.ok());
  const SidekiqQueueLatency& idle = Find(*queues, "idle");
  CHECK(idle.status.ok());
  CHECK(idle.size == 0);
  CHECK(idle.latency_seconds == 0);
  CHECK_FALSE(idle.oldest_enqueued_at);
  CHECK_FALSE(idle.oldest_lacks_enqueued_at);
  const SidekiqQueueLatency& legacy = Find(*queues, "legacy");
  CHECK(legacy.status.ok());
  CHECK(legacy.size == 1);
  CHECK(legacy.latency_seconds == 0);
  CHECK(legacy.oldest_lacks_enqueued_at);
  CHECK(Find(*queues, "future").latency_seconds == 0);
  const SidekiqQueueLatency& typo = Find(*queues, "typo");
  CHECK(typo.status.ok());
  CHECK_FALSE(typo.listed);  // named but not in `queues`: reported, so a typo can be seen
  CHECK(typo.size == 0);
}

TEST_CASE("\"*\" reads every queue of the `queues` set, in two round trips") {
  SidekiqRedis sidekiq;
  // 'q', not "q": GCC 12 -O3 reports a false -Wrestrict on "literal" + string.
  for (int i = 0; i < 5; ++i)
    sidekiq.Push('q' + std::to_string(i), Sidekiq8Job("q", kNow - std::chrono::seconds(i)));
  const uint64_t before = sidekiq.redis->stats().exchanges;
  auto queues = sidekiq.Read({.queues = {"*", "q3", "extra"}});
  REQUIRE(queues.ok());
  CHECK(sidekiq.redis->stats().exchanges == before + 2);
  std::vector<std::string> names;
  for (const SidekiqQueueLatency& q : *queues)
    names.push_back(q.queue);
  CHECK(names == std::vector<std::string>{"extra", "q0", "q1", "q2", "q3", "q4"});
  CHECK(Find(*queues, "q4").latency_seconds == doctest::Approx(4.0));
  CHECK_FALSE(Find(*queues, "extra").listed);
}

TEST_CASE("a namespace prefixes every key") {
  SidekiqRedis sidekiq;
  sidekiq.Push("default", Sidekiq7Job("default", kNow - 7s), "shop");
  sidekiq.Push("default", Sidekiq7Job("default", kNow - 99s));  // another app's, unprefixed
  auto queues = sidekiq.Read({.key_namespace = "shop", .queues = {"*"}});
  REQUIRE(queues.ok());
  REQUIRE(queues->size() == 1);
  CHECK((*queues)[0].latency_seconds == doctest::Approx(7.0));

  Result<SidekiqQueueReader> reader =
      SidekiqQueueReader::Create({.key_namespace = "shop", .queues = {"a"}});
  REQUIRE(reader.ok());
  CHECK(reader->QueuesKey() == "shop:queues");
  CHECK(reader->QueueKey("a") == "shop:queue:a");

  auto missing = sidekiq.Read({.key_namespace = "other", .queues = {"default"}});
  CHECK(missing.status().code() == Status::Code::kFailedPrecondition);
  CHECK(missing.status().message() ==
        sidekiq.redis->where() +
            ": no Sidekiq queues set at \"other:queues\": is this Sidekiq's Redis, database and "
            "namespace?");
}

TEST_CASE("a garbage job is an error for its queue only, naming the queue and not the job") {
  SidekiqRedis sidekiq;
  sidekiq.Push("default", Sidekiq7Job("default", kNow - 4s));
  sidekiq.Push("broken", "{\"class\":\"X\",\"args\":[\"private-argument\"");
  sidekiq.Push("odd", R"({"enqueued_at":"yesterday"})");
  REQUIRE(sidekiq.redis->Pipeline({{"SADD", "queues", "notalist"}, {"SET", "queue:notalist", "x"}})
              .ok());
  auto queues = sidekiq.Read({.queues = {"*"}});
  REQUIRE(queues.ok());
  CHECK(Find(*queues, "default").latency_seconds == doctest::Approx(4.0));
  const Status& broken = Find(*queues, "broken").status;
  CHECK(broken.code() == Status::Code::kFailedPrecondition);
  CHECK(broken.message() ==
        "queue \"broken\" (key \"queue:broken\"): the oldest job is not JSON (error at byte 40)");
  CHECK(Find(*queues, "odd").status.message() ==
        "queue \"odd\" (key \"queue:odd\"): the oldest job's enqueued_at is not a number");
  const Status& not_a_list = Find(*queues, "notalist").status;
  CHECK(not_a_list.message().find("(key \"queue:notalist\"): WRONGTYPE") != std::string::npos);
}

TEST_CASE("a Redis without Sidekiq's `queues` set, or down, fails the whole read") {
  SidekiqRedis sidekiq;
  REQUIRE(sidekiq.redis->Command({"SET", "unrelated", "1"}).ok());
  auto named = sidekiq.Read({.queues = {"default"}});
  CHECK(named.status().code() == Status::Code::kFailedPrecondition);
  CHECK(named.status().message().find("no Sidekiq queues set at \"queues\"") != std::string::npos);
  auto all = sidekiq.Read({.queues = {"*"}});
  CHECK(all.status().message() == named.status().message());

  REQUIRE(sidekiq.redis->Command({"SET", "queues", "not a set"}).ok());
  auto wrong_type = sidekiq.Read({.queues = {"*"}});
  CHECK(wrong_type.status().message().find(": SMEMBERS: WRONGTYPE") != std::string::npos);

  REQUIRE(sidekiq.server->Stop().ok());
  auto down = sidekiq.Read({.queues = {"default"}});
  CHECK(down.status().code() == Status::Code::kUnavailable);
}

TEST_CASE("enqueued_at: seconds below 1e11, milliseconds from 1e11 on") {
  auto at = [](const std::string& json) {
    Result<std::optional<TimePoint>> t = ParseSidekiqEnqueuedAt(json);
    REQUIRE_MESSAGE(t.ok(), t.status().message());
    REQUIRE(t->has_value());
    return UnixSeconds(**t);
  };
  CHECK(at(R"({"enqueued_at":1795352400.25})") == doctest::Approx(1795352400.25));
  CHECK(at(R"({"enqueued_at":1795352400250})") == doctest::Approx(1795352400.25));
  CHECK(at(R"({"enqueued_at":1795352400})") == doctest::Approx(1795352400.0));  // integer seconds
  CHECK(at(R"({"enqueued_at":1.79535240025e12})") == doctest::Approx(1795352400.25));
  CHECK(at(R"({"enqueued_at":7258118400})") == doctest::Approx(7258118400.0));   // 2200, seconds
  CHECK(at(R"({"enqueued_at":100000000000})") == doctest::Approx(100000000.0));  // March 1973
  CHECK_FALSE(ParseSidekiqEnqueuedAt(R"({"class":"X"})")->has_value());
  CHECK_FALSE(ParseSidekiqEnqueuedAt(R"({"enqueued_at":null})")->has_value());

  for (const char* bad :
       {R"([1,2])", R"({"enqueued_at":-5})", R"({"enqueued_at":0})",
        R"({"enqueued_at":"1795352400"})", R"({"enqueued_at":1e300})",
        R"({"enqueued_at":99999999999})", R"({"args":["private-argument"], oops})"}) {
    CAPTURE(bad);
    Result<std::optional<TimePoint>> t = ParseSidekiqEnqueuedAt(bad);
    CHECK(t.status().code() == Status::Code::kInvalidArgument);
    CHECK(t.status().message().find("private") == std::string::npos);
  }
}

TEST_CASE("the queue selection is checked when the reader is made") {
  CHECK(SidekiqQueueReader::Create({}).status().message() ==
        "sidekiq: no queues; name them, or \"*\" for every queue");
  CHECK(SidekiqQueueReader::Create({.queues = {"a", ""}}).status().message() ==
        "sidekiq: a queue name is empty");
  CHECK(SidekiqQueueReader::Create({.key_namespace = "shop:", .queues = {"*"}})
            .status()
            .message()
            .find("without the trailing ':'") != std::string::npos);
}

// The processes' reports and the counter, as a Sidekiq 7 process's heartbeat writes them
// (tests/support/sidekiq_heartbeat.h): what the load of mode capacity is measured from.
TEST_CASE("the processes' threads, busy ones, beats and quiet flags, and stat:processed") {
  SidekiqRedis r;
  r.Run(SidekiqHeartbeat({.identity = "worker.2:4:b7",
                          .queues = {"default"},
                          .concurrency = 5,
                          .busy = 5,
                          .beat = kNow - 3s,
                          .quiet = true}));
  r.Run(SidekiqHeartbeat({.identity = "worker.1:4:a3",
                          .queues = {"default", "mailers"},
                          .busy = 2,
                          .beat = kNow - 8s}));
  // A process that died: still in the set, its hash expired.
  r.Run({{"SADD", "processes", "worker.3:4:c1"}});
  r.Run(SidekiqFlush(1234, 12));

  Result<SidekiqProcesses> read = r.ReadProcesses();
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
  SidekiqRedis r;
  Result<SidekiqProcesses> empty = r.ReadProcesses();
  REQUIRE(empty.ok());
  CHECK(empty->processed == 0);
  CHECK(empty->processes.empty());

  r.Run(SidekiqHeartbeat({.identity = "worker.1:4:a3",
                          .queues = {"default"},
                          .busy = 1,
                          .beat = kNow,
                          .key_namespace = "shop"}));
  r.Run(SidekiqFlush(40, 0, "shop"));
  CHECK(r.ReadProcesses()->processes.empty());  // the namespace's keys are not the bare ones
  Result<SidekiqProcesses> shop = r.ReadProcesses("shop");
  REQUIRE(shop.ok());
  CHECK(shop->processed == 40);
  REQUIRE(shop->processes.size() == 1);
  CHECK(shop->processes[0].busy == 1);
  CHECK_FALSE(SidekiqProcessReader::Create("shop:").ok());
}

TEST_CASE("records that are not Sidekiq's fail the read, naming the process, never quoting it") {
  SidekiqRedis r;
  r.Run({{"SADD", "processes", "worker.1:4:a3"},
         {"HSET", "worker.1:4:a3", "info", "{private", "busy", "1", "beat", "1795352400.5"}});
  Result<SidekiqProcesses> read = r.ReadProcesses();
  REQUIRE_FALSE(read.ok());
  CHECK(read.status().message() == r.server->Url() +
                                       ": Sidekiq process \"worker.1:4:a3\": its info is not a "
                                       "JSON object");

  r.Run({{"HSET", "worker.1:4:a3", "info", R"({"queues":["default"]})"}});
  CHECK(r.ReadProcesses().status().message().find("its info has no concurrency") !=
        std::string::npos);
  r.Run({{"HSET", "worker.1:4:a3", "info", R"({"concurrency":5,"queues":["default"]})", "busy",
          "lots"}});
  CHECK(r.ReadProcesses().status().message().find("its busy is not a count") != std::string::npos);
  r.Run({{"HSET", "worker.1:4:a3", "busy", "1", "beat", "yesterday"}});
  CHECK(r.ReadProcesses().status().message().find("its beat is not a time") != std::string::npos);
  r.Run({{"HSET", "worker.1:4:a3", "beat", "1795352400.5"}});
  CHECK(r.ReadProcesses().ok());

  r.Run({{"SET", "stat:processed", "many"}});
  CHECK(r.ReadProcesses().status().message().find("\"stat:processed\" is not a count") !=
        std::string::npos);
  r.Run({{"DEL", "stat:processed"}, {"SET", "worker.1:4:a3", "not a hash"}});
  Result<SidekiqProcesses> wrong_type = r.ReadProcesses();
  CHECK(wrong_type.status().message().find("WRONGTYPE") != std::string::npos);
}
