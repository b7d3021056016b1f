#include "providers/redis/sidekiq.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

namespace dynoherd::providers::redis {
namespace {

constexpr double kMillisecondsThreshold = 1e11;
constexpr double kLatestSeconds = 9.2e9;  // TimePoint counts nanoseconds in 64 bits: until 2262

// The queue's numbers from its LINDEX -1 and LLEN replies.
SidekiqQueueLatency QueueFromReplies(const std::string& queue, const std::string& key,
                                     const RedisReply& oldest, const RedisReply& length,
                                     TimePoint now) {
  SidekiqQueueLatency result;
  result.queue = queue;
  auto fail = [&](const std::string& why) {
    SidekiqQueueLatency failed;
    failed.queue = queue;
    failed.status =
        Status::FailedPrecondition("queue \"" + queue + "\" (key \"" + key + "\"): " + why);
    return failed;
  };
  for (const RedisReply* reply : {&oldest, &length}) {
    if (reply->is_error()) return fail(reply->text);
  }
  if (length.type != RedisReply::Type::kInteger) return fail("LLEN did not answer an integer");
  result.size = length.integer;
  if (oldest.is_nil()) return result;  // empty (or emptied between the two commands)
  if (oldest.type != RedisReply::Type::kString) return fail("LINDEX did not answer a string");

  Result<std::optional<TimePoint>> enqueued_at = ParseSidekiqEnqueuedAt(oldest.text);
  if (!enqueued_at.ok()) return fail(enqueued_at.status().message());
  if (!enqueued_at->has_value()) {
    result.oldest_lacks_enqueued_at = true;
    return result;
  }
  result.oldest_enqueued_at = **enqueued_at;
  // A job from the future (clocks apart) has not waited at all.
  result.latency_seconds = std::max(0.0, ToSeconds(now - **enqueued_at));
  return result;
}

// Finds the top-level "enqueued_at" while checking the whole job is JSON, without building the
// document: a read of many queues parses one job per queue, and the tree would cost most of it.
class EnqueuedAtFinder final : public nlohmann::json_sax<nlohmann::json> {
 public:
  enum class Found { kNothing, kNumber, kNull, kOther };

  Found found = Found::kNothing;
  double value = 0;
  bool top_level_is_object = false;
  size_t error_byte = 0;  // 0: no syntax error

  bool null() override { return Value(Found::kNull, 0); }
  bool boolean(bool) override { return Value(Found::kOther, 0); }
  bool number_integer(number_integer_t v) override {
    return Value(Found::kNumber, static_cast<double>(v));
  }
  bool number_unsigned(number_unsigned_t v) override {
    return Value(Found::kNumber, static_cast<double>(v));
  }
  bool number_float(number_float_t v, const string_t&) override { return Value(Found::kNumber, v); }
  bool string(string_t&) override { return Value(Found::kOther, 0); }
  bool binary(binary_t&) override { return Value(Found::kOther, 0); }
  bool start_object(size_t) override { return Open(true); }
  bool end_object() override { return Close(); }
  bool start_array(size_t) override { return Open(false); }
  bool end_array() override { return Close(); }
  bool key(string_t& name) override {
    next_is_enqueued_at_ = depth_ == 1 && name == "enqueued_at";
    return true;
  }
  bool parse_error(size_t position, const std::string&,
                   const nlohmann::detail::exception&) override {
    error_byte = std::max<size_t>(position, 1);
    return false;
  }

 private:
  bool Value(Found kind, double number) {
    if (next_is_enqueued_at_) {
      found = kind;
      value = number;
      next_is_enqueued_at_ = false;
    }
    return true;
  }
  bool Open(bool object) {
    if (depth_ == 0) top_level_is_object = object;
    Value(Found::kOther, 0);
    ++depth_;
    return true;
  }
  bool Close() {
    --depth_;
    return true;
  }

  int depth_ = 0;
  bool next_is_enqueued_at_ = false;
};

}  // namespace

Result<std::optional<TimePoint>> ParseSidekiqEnqueuedAt(std::string_view job_json) {
  EnqueuedAtFinder finder;
  const bool parsed =
      nlohmann::json::sax_parse(job_json, &finder, nlohmann::json::input_format_t::json,
                                /*strict=*/true);
  if (!parsed || finder.error_byte != 0) {
    return Status::InvalidArgument("the oldest job is not JSON (error at byte " +
                                   std::to_string(finder.error_byte) + ")");
  }
  if (!finder.top_level_is_object) {
    return Status::InvalidArgument("the oldest job is not a JSON object");
  }
  using Found = EnqueuedAtFinder::Found;
  if (finder.found == Found::kNothing || finder.found == Found::kNull) {
    return std::optional<TimePoint>();
  }
  if (finder.found != Found::kNumber) {
    return Status::InvalidArgument("the oldest job's enqueued_at is not a number");
  }
  const double value = finder.value;
  if (!(value > 0) || !std::isfinite(value)) {
    return Status::InvalidArgument("the oldest job's enqueued_at is not a time after 1970");
  }
  const double seconds = value >= kMillisecondsThreshold ? value / 1000.0 : value;
  if (seconds >= kLatestSeconds) {
    return Status::InvalidArgument("the oldest job's enqueued_at is after the year 2262");
  }
  return std::optional<TimePoint>(TimePoint(
      std::chrono::duration_cast<TimePoint::duration>(std::chrono::duration<double>(seconds))));
}

Result<SidekiqQueueReader> SidekiqQueueReader::Create(SidekiqQueueSelection selection) {
  if (selection.queues.empty()) {
    return Status::InvalidArgument("sidekiq: no queues; name them, or \"*\" for every queue");
  }
  for (const std::string& queue : selection.queues) {
    if (queue.empty()) return Status::InvalidArgument("sidekiq: a queue name is empty");
  }
  if (!selection.key_namespace.empty() && selection.key_namespace.back() == ':') {
    return Status::InvalidArgument("sidekiq namespace \"" + selection.key_namespace +
                                   "\": give it without the trailing ':' (keys are "
                                   "<namespace>:queues)");
  }
  return SidekiqQueueReader(std::move(selection));
}

std::string SidekiqQueueReader::QueuesKey() const {
  return selection_.key_namespace.empty() ? "queues" : selection_.key_namespace + ":queues";
}

std::string SidekiqQueueReader::QueueKey(std::string_view queue) const {
  std::string key = selection_.key_namespace.empty() ? "" : selection_.key_namespace + ":";
  return key + "queue:" + std::string(queue);
}

bool SidekiqQueueReader::all_queues() const {
  return std::find(selection_.queues.begin(), selection_.queues.end(), kAllSidekiqQueues) !=
         selection_.queues.end();
}

std::vector<RedisCommand> SidekiqQueueReader::QueueCommands(
    const std::set<std::string>& queues) const {
  std::vector<RedisCommand> commands;
  commands.reserve(2 * queues.size());
  for (const std::string& queue : queues) {
    commands.push_back({"LINDEX", QueueKey(queue), "-1"});
    commands.push_back({"LLEN", QueueKey(queue)});
  }
  return commands;
}

Status SidekiqQueueReader::CheckMembers(const RedisConnection& redis,
                                        const RedisReply& members) const {
  if (members.is_error()) return ErrorReplyStatus(redis.endpoint(), "SMEMBERS", members);
  if (members.type != RedisReply::Type::kArray || members.elements.empty()) {
    return Status::FailedPrecondition(redis.where() + ": no Sidekiq queues set at \"" +
                                      QueuesKey() +
                                      "\": is this Sidekiq's Redis, database and namespace?");
  }
  return Status::Ok();
}

Result<std::vector<SidekiqQueueLatency>> SidekiqQueueReader::Read(RedisConnection& redis,
                                                                  TimePoint now) const {
  const RedisCommand members_command = {"SMEMBERS", QueuesKey()};
  std::set<std::string> queues;  // sorted, without duplicates
  for (const std::string& queue : selection_.queues)
    if (queue != kAllSidekiqQueues) queues.insert(queue);

  RedisReply members;
  std::vector<RedisReply> queue_replies;
  if (all_queues()) {
    // The names first, then every queue in one pipeline: two round trips.
    Result<std::vector<RedisReply>> first = redis.Pipeline({members_command});
    if (!first.ok()) return first.status();
    members = std::move(first->front());
    if (Status s = CheckMembers(redis, members); !s.ok()) return s;
    for (const RedisReply& member : members.elements)
      if (member.type == RedisReply::Type::kString) queues.insert(member.text);
    Result<std::vector<RedisReply>> second = redis.Pipeline(QueueCommands(queues));
    if (!second.ok()) return second.status();
    queue_replies = std::move(second).value();
  } else {
    // Named queues: the check that this is Sidekiq's Redis rides along, one round trip.
    std::vector<RedisCommand> commands = QueueCommands(queues);
    commands.insert(commands.begin(), members_command);
    Result<std::vector<RedisReply>> all = redis.Pipeline(commands);
    if (!all.ok()) return all.status();
    members = std::move(all->front());
    if (Status s = CheckMembers(redis, members); !s.ok()) return s;
    queue_replies.assign(std::make_move_iterator(all->begin() + 1),
                         std::make_move_iterator(all->end()));
  }

  std::set<std::string> listed;
  for (const RedisReply& member : members.elements)
    listed.insert(member.text);
  std::vector<SidekiqQueueLatency> result;
  result.reserve(queues.size());
  size_t next = 0;
  for (const std::string& queue : queues) {
    result.push_back(QueueFromReplies(queue, QueueKey(queue), queue_replies[next],
                                      queue_replies[next + 1], now));
    result.back().listed = listed.count(queue) > 0;
    next += 2;
  }
  return result;
}

}  // namespace dynoherd::providers::redis
