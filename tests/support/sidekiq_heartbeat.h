// The Redis commands with which a Sidekiq process reports itself (Sidekiq 7's launcher.rb: one
// heartbeat every 10 s), for tests that play Sidekiq against a real redis-server:
//
//   redis.Run(SidekiqHeartbeat({.identity = "worker.1:4:a", .queues = {"default"}, .busy = 3,
//                               .beat = now}));
//   redis.Run(SidekiqFlush(120));  // the jobs it finished since its last beat
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/time.h"

namespace dynoherd::testing {

struct SidekiqProcessReport {
  std::string identity;             // "<hostname>:<pid>:<nonce>"; Heroku's hostname is the dyno
  std::vector<std::string> queues;  // info.queues
  int concurrency = 10;             // info.concurrency
  int busy = 0;                     // threads running a job
  TimePoint beat{};                 // when it beat
  bool quiet = false;               // stopping
  std::string key_namespace = {};   // redis-namespace's prefix, without ':'
};

// SADD processes, HSET <identity> info/busy/beat/quiet/rss/rtt_us, EXPIRE 60: as Sidekiq does.
std::vector<std::vector<std::string>> SidekiqHeartbeat(const SidekiqProcessReport& report);

// INCRBY stat:processed (and the day's counter, as Sidekiq does) by `finished` jobs, of which
// `failed` failed: Sidekiq counts those in stat:processed too, and again in stat:failed.
std::vector<std::vector<std::string>> SidekiqFlush(int64_t finished, int64_t failed = 0,
                                                   const std::string& key_namespace = "");

}  // namespace dynoherd::testing
