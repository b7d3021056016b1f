#include "providers/redis/redis_reply.h"

#include <doctest/doctest.h>

using namespace dynoherd;
using namespace dynoherd::providers::redis;

namespace {

// Every reply `bytes` holds, feeding them `chunk` bytes at a time.
std::vector<RedisReply> ReadAll(std::string_view bytes, size_t chunk) {
  RedisReplyReader reader;
  std::vector<RedisReply> replies;
  for (size_t at = 0; at < bytes.size(); at += chunk) {
    REQUIRE(reader.Feed(bytes.substr(at, chunk)).ok());
    for (int i = 0; i < 100; ++i) {
      Result<std::optional<RedisReply>> next = reader.Next();
      REQUIRE(next.ok());
      if (!next->has_value()) break;
      replies.push_back(std::move(**next));
    }
  }
  return replies;
}

}  // namespace

TEST_CASE("commands are formatted binary-safe") {
  CHECK(FormatCommand({"PING"}) == "*1\r\n$4\r\nPING\r\n");
  CHECK(FormatCommand({"SET", "k", ""}) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
  CHECK(FormatCommand({"SET", std::string("a\0\r\nb", 5)}) ==
        std::string("*2\r\n$3\r\nSET\r\n$5\r\na\0\r\nb\r\n", 24));
}

TEST_CASE("replies are read whole however the bytes are split") {
  const std::string bytes =
      "+OK\r\n:-42\r\n$-1\r\n$5\r\nab\r\nc\r\n-WRONGTYPE Operation against a key\r\n"
      "*3\r\n:1\r\n*2\r\n$1\r\nx\r\n$-1\r\n+QUEUED\r\n*0\r\n*-1\r\n";
  const std::vector<RedisReply> expected = {
      RedisReply::StatusReply("OK"),
      RedisReply::Integer(-42),
      RedisReply::Nil(),
      RedisReply::String("ab\r\nc"),
      RedisReply::Error("WRONGTYPE Operation against a key"),
      RedisReply::Array({RedisReply::Integer(1),
                         RedisReply::Array({RedisReply::String("x"), RedisReply::Nil()}),
                         RedisReply::StatusReply("QUEUED")}),
      RedisReply::Array({}),
      RedisReply::Nil(),
  };
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{7}, bytes.size()}) {
    CAPTURE(chunk);
    std::vector<RedisReply> replies = ReadAll(bytes, chunk);
    REQUIRE(replies.size() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      CAPTURE(i);
      CHECK(DescribeReply(replies[i]) == DescribeReply(expected[i]));
      CHECK(replies[i] == expected[i]);
    }
  }
  CHECK(expected[4].ErrorCode() == "WRONGTYPE");
  CHECK(expected[0].ErrorCode().empty());
}

TEST_CASE("bytes that are not the Redis protocol are an error, not a reply") {
  RedisReplyReader reader;
  REQUIRE(reader.Feed("HTTP/1.1 400 Bad Request\r\n").ok());
  Result<std::optional<RedisReply>> next = reader.Next();
  REQUIRE_FALSE(next.ok());
  CHECK(next.status().message().find("protocol error") != std::string::npos);
}
