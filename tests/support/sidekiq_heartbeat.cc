#include "tests/support/sidekiq_heartbeat.h"

#include <nlohmann/json.hpp>

namespace dynoherd::testing {
namespace {

std::string Key(const std::string& key_namespace, const std::string& name) {
  return key_namespace.empty() ? name : key_namespace + ":" + name;
}

}  // namespace

std::vector<std::vector<std::string>> SidekiqHeartbeat(const SidekiqProcessReport& report) {
  const std::string hostname = report.identity.substr(0, report.identity.find(':'));
  const std::string info = nlohmann::json{
      {"hostname", hostname},
      {"started_at", 1795350000.25},
      {"pid", 4},
      {"tag", "shop"},
      {"concurrency", report.concurrency},
      {"queues", report.queues},
      {"weights", {nlohmann::json::object()}},
      {"labels", nlohmann::json::array()},
      {"identity", report.identity},
      {"version", "7.3.9"},
      {"embedded", false}}.dump();
  const std::string key = Key(report.key_namespace, report.identity);
  return {{"SADD", Key(report.key_namespace, "processes"), report.identity},
          {"HSET", key, "info", info, "busy", std::to_string(report.busy), "beat",
           std::to_string(ToSeconds(report.beat.time_since_epoch())), "rtt_us", "250", "quiet",
           report.quiet ? "true" : "false", "rss", "183204"},
          {"EXPIRE", key, "60"}};
}

std::vector<std::vector<std::string>> SidekiqFlush(int64_t finished, int64_t failed,
                                                   const std::string& key_namespace) {
  return {{"INCRBY", Key(key_namespace, "stat:processed"), std::to_string(finished)},
          {"INCRBY", Key(key_namespace, "stat:processed:2026-11-22"), std::to_string(finished)},
          {"INCRBY", Key(key_namespace, "stat:failed"), std::to_string(failed)},
          {"INCRBY", Key(key_namespace, "stat:failed:2026-11-22"), std::to_string(failed)}};
}

}  // namespace dynoherd::testing
