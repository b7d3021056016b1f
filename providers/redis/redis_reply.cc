#include "providers/redis/redis_reply.h"

#include <hiredis.h>

#include <cassert>

namespace dynoherd::providers::redis {
namespace {

RedisReply Convert(const redisReply& raw) {
  switch (raw.type) {
    case REDIS_REPLY_INTEGER:
      return RedisReply::Integer(raw.integer);
    case REDIS_REPLY_STRING:
      return RedisReply::String(std::string(raw.str, raw.len));
    case REDIS_REPLY_STATUS:
      return RedisReply::StatusReply(std::string(raw.str, raw.len));
    case REDIS_REPLY_ERROR:
      return RedisReply::Error(std::string(raw.str, raw.len));
    case REDIS_REPLY_ARRAY: {
      std::vector<RedisReply> elements;
      elements.reserve(raw.elements);
      for (size_t i = 0; i < raw.elements; ++i)
        elements.push_back(Convert(*raw.element[i]));
      return RedisReply::Array(std::move(elements));
    }
    default:
      return RedisReply::Nil();  // REDIS_REPLY_NIL, and a nil array (*-1)
  }
}

struct ReplyDeleter {
  void operator()(void* reply) const { freeReplyObject(reply); }
};

}  // namespace

std::string_view RedisReply::ErrorCode() const {
  if (type != Type::kError) return {};
  std::string_view view = text;
  return view.substr(0, view.find(' '));
}

std::string DescribeReply(const RedisReply& reply) {
  switch (reply.type) {
    case RedisReply::Type::kNil:
      return "nil";
    case RedisReply::Type::kInteger:
      return "(integer) " + std::to_string(reply.integer);
    case RedisReply::Type::kString:
      return "\"" + reply.text + "\"";
    case RedisReply::Type::kStatus:
      return reply.text;
    case RedisReply::Type::kError:
      return "(error) " + reply.text;
    case RedisReply::Type::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < reply.elements.size(); ++i) {
        if (i > 0) out += ", ";
        out += DescribeReply(reply.elements[i]);
      }
      return out + "]";
    }
  }
  return "?";
}

std::string FormatCommand(const RedisCommand& command) {
  assert(!command.empty());
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  argv.reserve(command.size());
  lengths.reserve(command.size());
  for (const std::string& arg : command) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  char* formatted = nullptr;
  int length = redisFormatCommandArgv(&formatted, static_cast<int>(argv.size()), argv.data(),
                                      lengths.data());
  if (length < 0) throw std::bad_alloc();  // its only failure is running out of memory
  std::string out(formatted, static_cast<size_t>(length));
  redisFreeCommand(formatted);
  return out;
}

struct RedisReplyReader::Impl {
  redisReader* reader = nullptr;
};

RedisReplyReader::RedisReplyReader() : impl_(std::make_unique<Impl>()) {
  impl_->reader = redisReaderCreate();
  if (impl_->reader == nullptr) throw std::bad_alloc();
}

RedisReplyReader::~RedisReplyReader() {
  redisReaderFree(impl_->reader);
}

Status RedisReplyReader::Feed(std::string_view bytes) {
  if (redisReaderFeed(impl_->reader, bytes.data(), bytes.size()) != REDIS_OK) {
    return Status::Internal(std::string("Redis protocol: ") + impl_->reader->errstr);
  }
  return Status::Ok();
}

Result<std::optional<RedisReply>> RedisReplyReader::Next() {
  void* raw = nullptr;
  if (redisReaderGetReply(impl_->reader, &raw) != REDIS_OK) {
    return Status::Unavailable(std::string("not a Redis reply (protocol error: ") +
                               impl_->reader->errstr + ")");
  }
  if (raw == nullptr) return std::optional<RedisReply>();
  std::unique_ptr<void, ReplyDeleter> owned(raw);
  return std::optional<RedisReply>(Convert(*static_cast<redisReply*>(raw)));
}

}  // namespace dynoherd::providers::redis
