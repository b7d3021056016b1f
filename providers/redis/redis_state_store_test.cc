// The Redis store and the lease primitives against a real redis-server (plain and TLS): statuses
// written with a version, a stale writer refused, writes fenced by the lease, values that are not
// statuses refused, no password in any message.
#include "providers/redis/redis_state_store.h"

#include <doctest/doctest.h>

#include "model/codec.h"
#include "providers/redis/redis_lease.h"
#include "tests/support/redis_server.h"

using namespace dynoherd;
using namespace dynoherd::providers::redis;
using namespace std::chrono_literals;

namespace {

constexpr char kStoreTestPassword[] = "lease-s3cret-pw";

struct StoreRedis {
  std::unique_ptr<testing::RedisServer> server;
  spec::RedisEndpoint endpoint;

  explicit StoreRedis(testing::RedisServerOptions options = {.password = kStoreTestPassword}) {
    auto started = testing::RedisServer::Start(options);
    REQUIRE_MESSAGE(started.ok(), started.status().message());
    server = std::move(started).value();
    std::string url = server->Url();
    url.insert(url.find("//") + 2, std::string(":") + kStoreTestPassword + "@");
    Result<spec::RedisEndpoint> parsed = spec::ParseRedisUrl(url);
    REQUIRE(parsed.ok());
    endpoint = *parsed;
  }

  std::shared_ptr<SharedRedisConnection> Connect() const {
    RedisConnectionOptions options;
    options.reconnect.attempts = 1;
    if (endpoint.tls) options.tls_ca_file = server->ca_file();
    auto made = RedisConnection::Create(endpoint, options);
    REQUIRE_MESSAGE(made.ok(), made.status().message());
    return std::make_shared<SharedRedisConnection>(std::move(made).value());
  }

  RedisReply Run(const RedisCommand& command) const {
    auto connection = Connect();
    Result<RedisReply> reply = connection->With([&](RedisConnection& c) {
      return c.Command(command);
    });
    REQUIRE_MESSAGE(reply.ok(), reply.status().message());
    return *reply;
  }

  std::unique_ptr<RedisStateStore> Open(RedisStateStoreOptions options = {}) const {
    auto store = RedisStateStore::Open(Connect(), std::move(options));
    REQUIRE_MESSAGE(store.ok(), store.status().message());
    return std::move(store).value();
  }
};

model::PolicyStatus StoredStatus(const std::string& policy, int baseline) {
  model::PolicyStatus status;
  status.policy = policy;
  status.app = "shop";
  status.updated_at = TimePoint(std::chrono::seconds(1'800'000'000));
  model::FormationStatus web;
  web.type = "web";
  web.event.started_at = status.updated_at;
  web.event.depth = 2;
  web.event.captured_baseline = baseline;
  status.formations.push_back(web);
  return status;
}

}  // namespace

TEST_CASE("Redis store: statuses and last passes written with a version, read back by another") {
  StoreRedis redis;
  auto writer = redis.Open();
  CHECK(writer->Policies().empty());
  writer->Put(StoredStatus("checkout", 3));
  writer->PutLastPass("checkout", nlohmann::json{{"result", "ok"}});
  writer->Put(StoredStatus("search", 5));
  REQUIRE(writer->Write().ok());
  CHECK(writer->VersionOf("checkout") == 1);
  writer->Put(StoredStatus("checkout", 4));
  REQUIRE(writer->Write().ok());
  CHECK(writer->VersionOf("checkout") == 2);
  CHECK(writer->VersionOf("search") == 1);  // unchanged: not written again

  auto reader = redis.Open({.read_only = true});
  CHECK(reader->Policies() == std::vector<std::string>{"checkout", "search"});
  REQUIRE(reader->Find("checkout"));
  CHECK(*reader->Find("checkout") == StoredStatus("checkout", 4));
  REQUIRE(reader->FindLastPass("checkout"));
  CHECK((*reader->FindLastPass("checkout"))["result"] == "ok");
  CHECK(reader->ReportedPolicies() == std::vector<std::string>{"checkout", "search"});
  reader->Put(StoredStatus("checkout", 9));
  Status refused = reader->Write();
  CHECK(refused.code() == Status::Code::kFailedPrecondition);
  CHECK(refused.message().find("read-only") != std::string::npos);
  CHECK(redis.Run({"HGET", "dynoherd:{checkout}:status", "version"}).text == "2");
}

TEST_CASE("Redis store: a stale writer cannot overwrite a newer status") {
  StoreRedis redis;
  auto first = redis.Open();
  first->Put(StoredStatus("checkout", 3));
  REQUIRE(first->Write().ok());

  auto a = redis.Open();  // both read version 1
  auto b = redis.Open();
  a->Put(StoredStatus("checkout", 4));
  REQUIRE(a->Write().ok());  // version 2
  b->Put(StoredStatus("checkout", 7));
  Status stale = b->Write();
  CHECK(stale.code() == Status::Code::kFailedPrecondition);
  CHECK(stale.message().find("written by another dynoherd") != std::string::npos);
  CHECK(stale.message().find("version 2, expected 1") != std::string::npos);
  CHECK(b->Write().ok());  // the refused write was dropped, not retried

  auto check = redis.Open();
  CHECK(check->Find("checkout")->formations[0].event.captured_baseline == 4);

  REQUIRE(b->Refresh("checkout").ok());  // reads version 2: b may write again
  CHECK(b->Find("checkout")->formations[0].event.captured_baseline == 4);
  b->Put(StoredStatus("checkout", 7));
  CHECK(b->Write().ok());
  CHECK(b->VersionOf("checkout") == 3);
}

TEST_CASE("Redis store: a write needs the policy's lease when fenced") {
  StoreRedis redis;
  std::optional<std::string> token;
  auto store = redis.Open({.lease_token = [&token](std::string_view) { return token; }});
  store->Put(StoredStatus("checkout", 3));
  Status no_lease = store->Write();
  CHECK(no_lease.message().find("does not hold the lease of policy checkout") != std::string::npos);

  token = "replica-a";
  redis.Run({"SET", "dynoherd:{checkout}:lease", "replica-b", "PX", "10000"});
  store->Put(StoredStatus("checkout", 3));
  Status other = store->Write();
  CHECK(other.message().find("no longer this dynoherd's") != std::string::npos);
  CHECK(redis.Run({"EXISTS", "dynoherd:{checkout}:status"}).integer == 0);

  redis.Run({"SET", "dynoherd:{checkout}:lease", "replica-a", "PX", "10000"});
  store->Put(StoredStatus("checkout", 3));
  CHECK(store->Write().ok());
  CHECK(redis.Run({"HGET", "dynoherd:{checkout}:status", "version"}).text == "1");
}

TEST_CASE("Redis store: values that are not a valid status are refused, naming the key") {
  StoreRedis redis;
  auto open_error = [&] {
    auto store = RedisStateStore::Open(redis.Connect(), {});
    REQUIRE_FALSE(store.ok());
    CHECK(store.status().message().find(kStoreTestPassword) == std::string::npos);
    return store.status().message();
  };
  const std::string key = "dynoherd:{checkout}:status";
  redis.Run({"HSET", key, "version", "one", "status", "{}"});
  CHECK(open_error().find(key + " is not a valid status: version") != std::string::npos);

  redis.Run({"HSET", key, "version", "1", "status", "{not json"});
  CHECK(open_error().find("status is not valid JSON") != std::string::npos);

  redis.Run({"HSET", key, "status", model::ToJson(StoredStatus("search", 3)).dump()});
  CHECK(open_error().find("status.policy is \"search\"") != std::string::npos);

  nlohmann::json forged = model::ToJson(StoredStatus("checkout", 3));
  forged["formations"] = "many";
  redis.Run({"HSET", key, "status", forged.dump()});
  CHECK(open_error().find(key + " is not a valid status: status:") != std::string::npos);

  redis.Run({"HSET", key, "status", model::ToJson(StoredStatus("checkout", 3)).dump(), "lastPass",
             "[1]"});
  CHECK(open_error().find("lastPass must be an object") != std::string::npos);

  // Refresh checks the same way: a policy whose value turned invalid fails its pass.
  redis.Run({"HDEL", key, "lastPass"});
  auto store = redis.Open();
  redis.Run({"HSET", key, "status", "[]"});
  Status refreshed = store->Refresh("checkout");
  CHECK(refreshed.code() == Status::Code::kFailedPrecondition);
  CHECK(store->Find("checkout"));  // the last good one stays
}

TEST_CASE("Redis store over TLS with a password: errors name the server, never the password") {
  StoreRedis redis({.tls = true, .password = kStoreTestPassword});
  auto store = redis.Open();
  store->Put(StoredStatus("checkout", 3));
  REQUIRE(store->Write().ok());
  CHECK(redis.Open()->Find("checkout"));
  CHECK(store->where().find(kStoreTestPassword) == std::string::npos);
  CHECK(store->where().rfind("rediss://127.0.0.1:", 0) == 0);

  REQUIRE(redis.server->Stop().ok());
  store->Put(StoredStatus("checkout", 4));
  Status down = store->Write();
  CHECK_FALSE(down.ok());
  CHECK(down.message().find(kStoreTestPassword) == std::string::npos);
  CHECK(down.message().find("rediss://127.0.0.1:") != std::string::npos);
  // The failed write stays to be retried; this server kept nothing across its restart, so the
  // retry finds version 0 where it expected 1 and is refused rather than guessed.
  REQUIRE(redis.server->Restart().ok());
  Status retried = store->Write();
  CHECK(retried.message().find("(version 0, expected 1)") != std::string::npos);
  REQUIRE(store->Refresh("checkout").ok());
  CHECK_FALSE(store->Find("checkout"));
  store->Put(StoredStatus("checkout", 4));
  CHECK(store->Write().ok());
  REQUIRE(redis.Open()->Find("checkout"));
  CHECK(redis.Open()->Find("checkout")->formations[0].event.captured_baseline == 4);
}

TEST_CASE("leases: SET NX PX takes, only the holder renews or releases; heartbeats count replicas") {
  StoreRedis redis;
  RedisLeases leases(redis.Connect(), RedisKeys{});
  CHECK(*leases.Acquire("checkout", "a", 10s));
  CHECK_FALSE(*leases.Acquire("checkout", "b", 10s));
  CHECK(**leases.Holder("checkout") == "a");
  CHECK(*leases.Renew("checkout", "a", 20s));
  CHECK(redis.Run({"PTTL", "dynoherd:{checkout}:lease"}).integer > 10'000);
  CHECK_FALSE(*leases.Renew("checkout", "b", 20s));
  CHECK_FALSE(*leases.Release("checkout", "b"));
  CHECK(*leases.Release("checkout", "a"));
  CHECK_FALSE(leases.Holder("checkout")->has_value());
  CHECK_FALSE(*leases.Renew("checkout", "a", 20s));  // gone: a renewal does not recreate it
  CHECK(*leases.Acquire("checkout", "b", 10s));

  CHECK(*leases.Heartbeat("a", 10s) == std::vector<std::string>{"a"});
  CHECK(*leases.Heartbeat("b", 10s) == std::vector<std::string>{"a", "b"});
  REQUIRE(leases.Leave("a").ok());
  CHECK(*leases.Heartbeat("b", 10s) == std::vector<std::string>{"b"});
  // A replica whose heartbeat ran out (on the server's clock) is not counted.
  redis.Run({"ZADD", "dynoherd:replicas", "1", "dead"});
  CHECK(*leases.Heartbeat("b", 10s) == std::vector<std::string>{"b"});

  redis.Run({"SCRIPT", "FLUSH"});  // EVALSHA misses: the script is sent again
  CHECK(*leases.Renew("checkout", "b", 10s));
}
