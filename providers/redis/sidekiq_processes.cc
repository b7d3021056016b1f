#include "providers/redis/sidekiq_processes.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace dynoherd::providers::redis {
namespace {

constexpr double kLastBeatEpochSeconds =
    9.2e9;  // TimePoint counts nanoseconds in 64 bits: until 2262

std::optional<int64_t> IntegerOf(const std::string& text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [at, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || at != end) return std::nullopt;
  return value;
}

std::optional<TimePoint> EpochSecondsOf(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double seconds = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(seconds) || seconds <= 0 ||
      seconds >= kLastBeatEpochSeconds) {
    return std::nullopt;
  }
  return TimePoint(
      std::chrono::duration_cast<TimePoint::duration>(std::chrono::duration<double>(seconds)));
}

// The fields Sidekiq's `info` JSON gives: its threads and queues. Never quotes the JSON.
Status ReadInfo(const std::string& json_text, SidekiqProcess& process) {
  const nlohmann::json info = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!info.is_object()) return Status::InvalidArgument("its info is not a JSON object");
  const auto concurrency = info.find("concurrency");
  if (concurrency == info.end() || !concurrency->is_number_integer() ||
      concurrency->get<int64_t>() < 0) {
    return Status::InvalidArgument("its info has no concurrency (a count of threads)");
  }
  process.concurrency = concurrency->get<int64_t>();
  const auto queues = info.find("queues");
  if (queues == info.end() || !queues->is_array()) {
    return Status::InvalidArgument("its info has no list of queues");
  }
  for (const auto& queue : *queues) {
    if (!queue.is_string()) return Status::InvalidArgument("its info lists a queue not a string");
    process.queues.push_back(queue.get<std::string>());
  }
  return Status::Ok();
}

// One process from its HMGET info busy beat quiet; nullopt when its hash has expired.
Result<std::optional<SidekiqProcess>> ProcessFrom(const RedisConnection& redis,
                                                  const std::string& identity,
                                                  const RedisReply& reply) {
  auto fail = [&](const std::string& why) {
    return Status::FailedPrecondition(redis.where() + ": Sidekiq process \"" + identity +
                                      "\": " + why);
  };
  if (reply.is_error()) return ErrorReplyStatus(redis.endpoint(), "HMGET", reply);
  if (reply.type != RedisReply::Type::kArray || reply.elements.size() != 4) {
    return fail("HMGET did not answer 4 values");
  }
  const RedisReply& info = reply.elements[0];
  if (info.is_nil()) return std::optional<SidekiqProcess>();  // gone since SMEMBERS, or died
  SidekiqProcess process;
  process.identity = identity;
  if (Status s = ReadInfo(info.text, process); !s.ok()) return fail(s.message());
  const std::optional<int64_t> busy = IntegerOf(reply.elements[1].text);
  if (!busy || *busy < 0) return fail("its busy is not a count of threads");
  process.busy = *busy;
  const std::optional<TimePoint> beat = EpochSecondsOf(reply.elements[2].text);
  if (!beat) return fail("its beat is not a time in epoch seconds");
  process.beat = *beat;
  process.quiet = reply.elements[3].text == "true";
  return std::optional<SidekiqProcess>(std::move(process));
}

}  // namespace

Result<SidekiqProcessReader> SidekiqProcessReader::Create(std::string key_namespace) {
  if (!key_namespace.empty() && key_namespace.back() == ':') {
    return Status::InvalidArgument("sidekiq namespace \"" + key_namespace +
                                   "\": give it without the trailing ':'");
  }
  return SidekiqProcessReader(std::move(key_namespace));
}

std::string SidekiqProcessReader::Key(std::string_view name) const {
  std::string key = key_namespace_.empty() ? "" : key_namespace_ + ":";
  return key.append(name);
}

Result<SidekiqProcesses> SidekiqProcessReader::Read(RedisConnection& redis) const {
  Result<std::vector<RedisReply>> first =
      redis.Pipeline({{"SMEMBERS", Key("processes")}, {"GET", Key("stat:processed")}});
  if (!first.ok()) return first.status();
  const RedisReply& members = (*first)[0];
  const RedisReply& processed = (*first)[1];
  if (members.is_error()) return ErrorReplyStatus(redis.endpoint(), "SMEMBERS", members);
  if (processed.is_error()) return ErrorReplyStatus(redis.endpoint(), "GET", processed);

  SidekiqProcesses out;
  if (!processed.is_nil()) {
    const std::optional<int64_t> count = IntegerOf(processed.text);
    if (!count) {
      return Status::FailedPrecondition(redis.where() + ": \"" + Key("stat:processed") +
                                        "\" is not a count of jobs");
    }
    out.processed = *count;
  }
  std::vector<std::string> identities;
  for (const RedisReply& member : members.elements)
    if (member.type == RedisReply::Type::kString) identities.push_back(member.text);
  std::sort(identities.begin(), identities.end());
  if (identities.empty()) return out;

  std::vector<RedisCommand> commands;
  commands.reserve(identities.size());
  for (const std::string& identity : identities)
    commands.push_back({"HMGET", Key(identity), "info", "busy", "beat", "quiet"});
  Result<std::vector<RedisReply>> hashes = redis.Pipeline(commands);
  if (!hashes.ok()) return hashes.status();
  for (size_t i = 0; i < identities.size(); ++i) {
    Result<std::optional<SidekiqProcess>> process = ProcessFrom(redis, identities[i], (*hashes)[i]);
    if (!process.ok()) return process.status();
    if (*process) out.processes.push_back(std::move(**process));
  }
  return out;
}

}  // namespace dynoherd::providers::redis
