// The Redis protocol (RESP2) without the network: commands to bytes and bytes to replies. hiredis
// does both (its command formatter and its reply reader); nothing of hiredis appears here, so
// callers see only RedisReply, an owned value.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dynoherd::providers::redis {

// One command and its arguments, binary-safe: {"LINDEX", "queue:default", "-1"}.
using RedisCommand = std::vector<std::string>;

struct RedisReply {
  enum class Type { kNil, kInteger, kString, kStatus, kError, kArray };

  Type type = Type::kNil;
  int64_t integer = 0;                 // kInteger
  std::string text{};                  // kString (bulk), kStatus ("OK"), kError ("ERR ...")
  std::vector<RedisReply> elements{};  // kArray

  static RedisReply Nil() { return {}; }
  static RedisReply Integer(int64_t value) { return {.type = Type::kInteger, .integer = value}; }
  static RedisReply String(std::string value) {
    return {.type = Type::kString, .text = std::move(value)};
  }
  static RedisReply StatusReply(std::string value) {
    return {.type = Type::kStatus, .text = std::move(value)};
  }
  static RedisReply Error(std::string value) {
    return {.type = Type::kError, .text = std::move(value)};
  }
  static RedisReply Array(std::vector<RedisReply> values) {
    return {.type = Type::kArray, .elements = std::move(values)};
  }

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
  // The error's code word: "WRONGPASS" for "WRONGPASS invalid username-password pair". "" unless
  // an error.
  std::string_view ErrorCode() const;

  bool operator==(const RedisReply&) const = default;
};

// "nil", "(integer) 3", "\"abc\"", "OK", "(error) ERR ...", "[1, \"a\"]": for test messages.
std::string DescribeReply(const RedisReply& reply);

// The command in the protocol's request form. REQUIRES: `command` is not empty.
std::string FormatCommand(const RedisCommand& command);

// Turns bytes received from a Redis into replies, in order, however the bytes were split.
class RedisReplyReader {
 public:
  RedisReplyReader();
  ~RedisReplyReader();
  RedisReplyReader(const RedisReplyReader&) = delete;
  RedisReplyReader& operator=(const RedisReplyReader&) = delete;

  // A protocol error (bytes that are not RESP) is permanent: the connection must be dropped.
  Status Feed(std::string_view bytes);
  // The next complete reply, nullopt when more bytes are needed, or the protocol error.
  Result<std::optional<RedisReply>> Next();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dynoherd::providers::redis
