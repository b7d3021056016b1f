// The Sidekiq source's cost per pass: one read of 200 named queues (SMEMBERS and every queue's
// LINDEX -1 and LLEN in one pipelined round trip; with "*", SMEMBERS first) against a local
// redis-server, plain and TLS; beside it, the same numbers read one round trip per command, as a
// naive client would.
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
  auto redis = RedisConnection::Create(*spec::ParseRedisUrl((*server)->Url()), options);
  if (!redis.ok()) {
    std::fprintf(stderr, "sidekiq_bench: %s\n", redis.status().message().c_str());
    return 1;
  }
  RedisConnection& connection = **redis;
  Fill(connection);
  std::vector<std::string> names;
  for (int q = 0; q < kQueues; ++q) {
    char name[32];
    std::snprintf(name, sizeof name, "queue-%03d", q);
    names.push_back(name);
  }

  // Named queues: one round trip. "*": SMEMBERS first, then the same pipeline.
  auto measure_reader = [&](const SidekiqQueueReader& reader, double& round_trips) {
    const uint64_t exchanges_before = connection.stats().exchanges;
    int runs = 0;
    Timing timing = Measure(passes, [&] {
      ++runs;
      auto queues = reader.Read(connection, kNow);
      if (!queues.ok() || queues->size() != kQueues) {
        std::fprintf(stderr, "sidekiq_bench: %s\n", queues.status().message().c_str());
        std::exit(1);
      }
    });
    round_trips = static_cast<double>(connection.stats().exchanges - exchanges_before) / runs;
    return timing;
  };
  double named_round_trips = 0;
  double all_round_trips = 0;
  const Timing named =
      measure_reader(*SidekiqQueueReader::Create({.queues = names}), named_round_trips);
  const Timing all =
      measure_reader(*SidekiqQueueReader::Create({.queues = {"*"}}), all_round_trips);

  // The same replies, one round trip per command.
  const int naive_passes = std::max(1, passes / 10);
  const Timing naive = Measure(naive_passes, [&] {
    (void)connection.Command({"SMEMBERS", "queues"});
    for (const std::string& name : names) {
      (void)connection.Command({"LINDEX", "queue:" + name, "-1"});
      (void)connection.Command({"LLEN", "queue:" + name});
    }
  });

  std::printf("%s: %d queues x %d jobs\n", label, kQueues, kJobsPerQueue);
  auto print = [](const char* what, int runs, double round_trips, const Timing& t) {
    std::printf("  %-36s %5d passes %4.0f round trips  mean %7.3f ms  p50 %7.3f ms  p99 %7.3f ms\n",
                what, runs, round_trips, t.mean_ms, t.p50_ms, t.p99_ms);
  };
  print("named queues (one pipeline)", passes, named_round_trips, named);
  print("\"*\" (SMEMBERS, then the pipeline)", passes, all_round_trips, all);
  print("one round trip per command", naive_passes, 1 + 2 * kQueues, naive);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int passes = argc > 1 ? std::max(1, std::atoi(argv[1])) : 2000;
  if (int rc = Run("plain", false, passes); rc != 0) return rc;
  return Run("tls", true, passes);
}
