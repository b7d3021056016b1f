#include "providers/redis/redis_script.h"

#include <openssl/sha.h>

namespace dynoherd::providers::redis {
namespace {

std::string Sha1Hex(const std::string& text) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char byte : digest) {
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  }
  return out;
}

}  // namespace

RedisScript::RedisScript(std::string name, std::string source)
    : name_(std::move(name)), source_(std::move(source)), sha1_(Sha1Hex(source_)) {}

RedisCommand RedisScript::CommandOf(const std::string& verb, const std::string& script,
                                    const std::vector<std::string>& keys,
                                    const std::vector<std::string>& args) const {
  RedisCommand command{verb, script, std::to_string(keys.size())};
  command.insert(command.end(), keys.begin(), keys.end());
  command.insert(command.end(), args.begin(), args.end());
  return command;
}

Result<RedisReply> RedisScript::Run(RedisConnection& connection,
                                    const std::vector<std::string>& keys,
                                    const std::vector<std::string>& args) const {
  // Pipeline keeps an error reply as a value, so NOSCRIPT can be told from a failed exchange.
  Result<std::vector<RedisReply>> replies =
      connection.Pipeline({CommandOf("EVALSHA", sha1_, keys, args)});
  if (!replies.ok()) return replies.status();
  RedisReply reply = std::move(replies->front());
  if (reply.is_error() && reply.ErrorCode() == "NOSCRIPT") {
    replies = connection.Pipeline({CommandOf("EVAL", source_, keys, args)});
    if (!replies.ok()) return replies.status();
    reply = std::move(replies->front());
  }
  if (reply.is_error()) {
    return ErrorReplyStatus(connection.endpoint(), "EVAL (" + name_ + ")", reply);
  }
  return reply;
}

}  // namespace dynoherd::providers::redis
