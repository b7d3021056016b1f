// One connection per Redis and TLS settings, shared while in use, against a real redis-server.
#include "providers/redis/shared_connection.h"

#include <doctest/doctest.h>

#include <thread>

#include "tests/support/redis_server.h"

using namespace dynoherd;
using namespace dynoherd::providers::redis;

namespace {

spec::RedisEndpoint Endpoint(const std::string& url) {
  Result<spec::RedisEndpoint> endpoint = spec::ParseRedisUrl(url);
  REQUIRE_MESSAGE(endpoint.ok(), endpoint.status().message());
  return *endpoint;
}

}  // namespace

TEST_CASE("RedisConnections: the same Redis and settings share one connection while it is used") {
  ManualSleeper sleeper;
  RedisConnections connections({.sleeper = &sleeper});
  auto a = connections.Acquire(Endpoint("redis://:pw@127.0.0.1:7001"), {});
  auto b = connections.Acquire(Endpoint("redis://:pw@127.0.0.1:7001"), {.verify = false});
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->get() == b->get());  // TLS settings mean nothing to redis://
  auto other_password = connections.Acquire(Endpoint("redis://:other@127.0.0.1:7001"), {});
  auto other_db = connections.Acquire(Endpoint("redis://:pw@127.0.0.1:7001/2"), {});
  CHECK(other_password->get() != a->get());
  CHECK(other_db->get() != a->get());

  auto tls = connections.Acquire(Endpoint("rediss://:pw@127.0.0.1:7001"), {});
  auto tls_unverified =
      connections.Acquire(Endpoint("rediss://:pw@127.0.0.1:7001"), {.verify = false});
  CHECK(tls->get() != tls_unverified->get());
  auto refused = connections.Acquire(Endpoint("rediss://127.0.0.1:7001"),
                                     {.verify = false, .ca_file = "/etc/hostname"});
  CHECK_FALSE(refused.ok());

  SharedRedisConnection* first = a->get();
  CHECK(first->where() == "redis://127.0.0.1:7001");
  a = Status::Aborted("released");
  b = Status::Aborted("released");
  // Released by everyone: the next Acquire opens a new one.
  auto again = connections.Acquire(Endpoint("redis://:pw@127.0.0.1:7001"), {});
  REQUIRE(again.ok());
}

TEST_CASE("a shared connection serves callers on several threads one at a time") {
  auto server = testing::RedisServer::Start();
  REQUIRE_MESSAGE(server.ok(), server.status().message());
  RedisConnections connections({});
  auto redis = connections.Acquire(Endpoint((*server)->Url()), {});
  REQUIRE(redis.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&redis] {
      for (int i = 0; i < 50; ++i) {
        (*redis)->With([](RedisConnection& c) { return c.Command({"INCR", "n"}); });
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  Result<RedisReply> n = (*redis)->With([](RedisConnection& c) { return c.Command({"GET", "n"}); });
  REQUIRE(n.ok());
  CHECK(n->text == "200");
  CHECK((*redis)->With([](RedisConnection& c) { return c.stats().connects; }) == 1);
}
