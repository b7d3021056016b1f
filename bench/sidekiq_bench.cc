// The Sidekiq source's cost per pass: one read of 200 queues (SMEMBERS, then LINDEX -1 and LLEN of
// every queue in one pipelined round trip) against a local redis-server, plain and TLS; beside it,
// the same numbers read one round trip per command, as a naive client would.
//
//   build/bench/sidekiq_bench [passes]      (default 2000)
//
// It starts its own redis-server processes on 127.0.0.1 (tests/support/redis_server.h).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "providers/redis/redis_connection.h"
#include "providers/redis/sidekiq.h"
#include "tests/support/redis_server.h"

using namespace dynoherd;
using namespace dynoherd::providers::redis;

namespace {

constexpr int kQueues = 200;
constexpr int kJobsPerQueue = 20;
const TimePoint kNow = TimePoint{} + std::chrono::seconds(1795352400);

struct Timing {
  double mean_ms;
  double p50_ms;
  double p99_ms;
};

template <typename Pass>
Timing Measure(int passes, Pass pass) {
  for (int i = 0; i < std::max(1, passes / 20); ++i)  // warm up: connection, caches
    pass();
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(passes));
  for (int i = 0; i < passes; ++i) {
    const auto start = std::chrono::steady_clock::now();
    pass();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  double total = 0;
  for (double m : ms)
    total += m;
  std::sort(ms.begin(), ms.end());
  return {total / passes, ms[ms.size() / 2], ms[ms.size() * 99 / 100]};
}

void Fill(RedisConnection& redis) {
  std::vector<RedisCommand> commands;
  for (int q = 0; q < kQueues; ++q) {
    char name[32];
    std::snprintf(name, sizeof name, "queue-%03d", q);
    commands.push_back({"SADD", "queues", name});
    for (int j = kJobsPerQueue; j > 0; --j) {
      const double enqueued_at = ToUnixSeconds(kNow) - q - j;
      std::string job = R"({"class":"HardWorker","args":[42,"x"],"jid":"b4a577edbccf1d805744efa9",)"
                        R"("queue":")" +
                        std::string(name) + R"(","created_at":)" + std::to_string(enqueued_at) +
                        R"(,"enqueued_at":)" + std::to_string(enqueued_at) + "}";
      commands.push_back({"LPUSH", std::string("queue:") + name, std::move(job)});
    }
  }
  Result<std::vector<RedisReply>> r = redis.Pipeline(commands);
  if (!r.ok()) {
    std::fprintf(stderr, "sidekiq_bench: filling Redis: %s\n", r.status().message().c_str());
    std::exit(1);
  }
}

int Run(const char* label, bool tls, int passes) {
  Result<std::unique_ptr<testing::RedisServer>> server = testing::RedisServer::Start({.tls = tls});
  if (!server.ok()) {
    std::fprintf(stderr, "sidekiq_bench: %s\n", server.status().message().c_str());
    return 1;
  }
  RedisConnectionOptions options;
  if (tls) options.tls_ca_file = (*server)->ca_file();
  auto redis = RedisConnection::Create(*ParseRedisUrl((*server)->Url()), options);
  if (!redis.ok()) {
    std::fprintf(stderr, "sidekiq_bench: %s\n", redis.status().message().c_str());
    return 1;
  }
  RedisConnection& connection = **redis;
  Fill(connection);
  SidekiqQueueReader reader = *SidekiqQueueReader::Create({.queues = {"*"}});

  size_t queues_read = 0;
  const uint64_t exchanges_before = connection.stats().exchanges;
  Timing pipelined = Measure(passes, [&] {
    auto queues = reader.Read(connection, kNow);
    if (!queues.ok()) {
      std::fprintf(stderr, "sidekiq_bench: %s\n", queues.status().message().c_str());
      std::exit(1);
    }
    queues_read = queues->size();
  });
  const double round_trips = static_cast<double>(connection.stats().exchanges - exchanges_before) /
                             (passes + std::max(1, passes / 20));

  // The same replies, one round trip per command.
  const int naive_passes = std::max(1, passes / 10);
  Timing naive = Measure(naive_passes, [&] {
    (void)connection.Command({"SMEMBERS", "queues"});
    for (int q = 0; q < kQueues; ++q) {
      char key[32];
      std::snprintf(key, sizeof key, "queue:queue-%03d", q);
      (void)connection.Command({"LINDEX", key, "-1"});
      (void)connection.Command({"LLEN", key});
    }
  });

  std::printf(
      "%-6s %zu queues x %d jobs, %d passes: mean %.3f ms, p50 %.3f ms, p99 %.3f ms "
      "(%.0f round trips per pass: SMEMBERS, then one pipeline)\n",
      label, queues_read, kJobsPerQueue, passes, pipelined.mean_ms, pipelined.p50_ms,
      pipelined.p99_ms, round_trips);
  std::printf(
      "%-6s one round trip per command (%d per pass), %d passes: mean %.3f ms, p50 %.3f "
      "ms, p99 %.3f ms\n",
      label, 1 + 2 * kQueues, naive_passes, naive.mean_ms, naive.p50_ms, naive.p99_ms);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int passes = argc > 1 ? std::max(1, std::atoi(argv[1])) : 2000;
  if (int rc = Run("plain", false, passes); rc != 0) return rc;
  return Run("tls", true, passes);
}
