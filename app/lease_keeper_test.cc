// The lease keeper against a real redis-server, on a ManualClock: who acts, when a lease stops
// being trusted, takeover, fair shares, an unreachable store; and the daemon's side of it.
#include "app/lease_keeper.h"

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "app/daemon.h"
#include "app/leased_passes.h"
#include "tests/support/redis_server.h"

using namespace dynoherd;
using namespace dynoherd::app;
using namespace std::chrono_literals;

namespace {

struct Cluster {
  std::unique_ptr<testing::RedisServer> server;
  ManualClock clock{TimePoint(std::chrono::seconds(1000))};
  NullLogger logger;

  Cluster() {
    auto started = testing::RedisServer::Start();
    REQUIRE_MESSAGE(started.ok(), started.status().message());
    server = std::move(started).value();
  }

  std::shared_ptr<providers::redis::SharedRedisConnection> Connect() const {
    auto endpoint = spec::ParseRedisUrl(server->Url());
    providers::redis::RedisConnectionOptions options;
    options.reconnect.attempts = 1;
    options.connect_timeout = 1s;
    auto made = providers::redis::RedisConnection::Create(*endpoint, options);
    REQUIRE(made.ok());
    return std::make_shared<providers::redis::SharedRedisConnection>(std::move(made).value());
  }

  void Run(const providers::redis::RedisCommand& command) const {
    auto connection = Connect();
    REQUIRE(connection->With([&](auto& c) { return c.Command(command); }).ok());
  }

  std::unique_ptr<LeaseKeeper> Keeper(const std::string& token, std::vector<std::string> policies,
                                      LeaseOptions options = {}) {
    auto leases = std::make_shared<providers::redis::RedisLeases>(Connect(),
                                                                  providers::redis::RedisKeys{});
    auto keeper = LeaseKeeper::Create(leases, token, options, clock, logger, nullptr);
    REQUIRE_MESSAGE(keeper.ok(), keeper.status().message());
    (*keeper)->SetPolicies(std::move(policies));
    return std::move(keeper).value();
  }
};

std::string HolderOf(const LeaseKeeper& keeper, const std::string& policy) {
  for (const LeaseView& view : keeper.Views()) {
    if (view.policy == policy) return view.holder;
  }
  return "?";
}

class CountingProvider final : public providers::Provider {
 public:
  std::atomic<int> writes = 0;
  Result<model::AppState> Observe(const std::string&) override { return model::AppState{}; }
  Status Scale(const std::string&, const std::vector<providers::ScaleRequest>&) override {
    ++writes;
    return Status::Ok();
  }
  Status Restart(const std::string&, const std::string&) override {
    ++writes;
    return Status::Ok();
  }
  Status Stop(const std::string&, const std::string&) override {
    ++writes;
    return Status::Ok();
  }
};

}  // namespace

TEST_CASE("LeaseKeeper::Create refuses options that cannot keep a lease") {
  Cluster cluster;
  auto leases = std::make_shared<providers::redis::RedisLeases>(cluster.Connect(),
                                                                providers::redis::RedisKeys{});
  auto make = [&](LeaseOptions options) {
    return LeaseKeeper::Create(leases, "a", options, cluster.clock, cluster.logger, nullptr);
  };
  CHECK(make({}).ok());
  CHECK((*make({}))->safety_margin() == 5s);
  CHECK(make({.ttl = 3s, .renew_interval = 2s}).status().message().find("--lease-renew (2s)") !=
        std::string::npos);
  CHECK_FALSE(make({.ttl = 3s, .renew_interval = 1s, .safety_margin = 3s}).ok());
}

TEST_CASE("one holder per policy; the other sees who holds it and never acts") {
  Cluster cluster;
  auto a = cluster.Keeper("a", {"checkout"});
  auto b = cluster.Keeper("b", {"checkout"});
  CHECK(a->Tick().acquired == std::vector<std::string>{"checkout"});
  CHECK(b->Tick().acquired.empty());
  CHECK(a->Fence("checkout").ok());
  CHECK(a->TokenFor("checkout") == "a");
  CHECK(b->Fence("checkout").message().find("does not hold the lease") != std::string::npos);
  CHECK_FALSE(b->TokenFor("checkout"));
  CHECK(HolderOf(*b, "checkout") == "a");
  CHECK(b->Held().empty());
  CHECK(a->live_replicas() == 1);  // a's heartbeat came before b's
  CHECK(b->live_replicas() == 2);
}

TEST_CASE("replicas started at the same instant: each policy has exactly one holder") {
  Cluster cluster;
  std::vector<std::string> policies{"p1", "p2", "p3"};
  std::vector<std::unique_ptr<LeaseKeeper>> keepers;
  for (const char* token : {"a", "b", "c"})
    keepers.push_back(cluster.Keeper(token, policies));
  for (int round = 0; round < 3; ++round) {
    std::vector<std::thread> threads;
    for (auto& keeper : keepers)
      threads.emplace_back([&keeper] { keeper->Tick(); });
    for (auto& thread : threads)
      thread.join();
    for (const std::string& policy : policies) {
      int holders = 0;
      for (const auto& keeper : keepers)
        holders += keeper->Holds(policy) ? 1 : 0;
      CHECK(holders <= 1);
    }
  }
  // Three rounds: every replica has seen the other two, so each holds its share of one.
  for (const auto& keeper : keepers) {
    CHECK(keeper->live_replicas() == 3);
    CHECK(keeper->Held().size() == 1);
  }
}

TEST_CASE("a lease is trusted until ttl minus the margin after its renewal was sent") {
  Cluster cluster;
  auto a = cluster.Keeper("a", {"checkout"}, {.ttl = 3s, .renew_interval = 1s});
  a->Tick();
  cluster.clock.Advance(1999ms);  // the trusted span is 3s - 1s
  CHECK(a->Fence("checkout").ok());
  cluster.clock.Advance(1ms);
  // A process paused past its span (SIGSTOP) acts on nothing when it wakes, before any renewal.
  CHECK(a->Fence("checkout").message().find("not renewed in time") != std::string::npos);
  CHECK_FALSE(a->Holds("checkout"));
  // The key is still a's on the server (no real time passed): the renewal restores the trust.
  a->Tick();
  CHECK(a->Fence("checkout").ok());
}

TEST_CASE("takeover: once the lease is gone another replica takes it; the old holder stops") {
  Cluster cluster;
  auto a = cluster.Keeper("a", {"checkout"});
  auto b = cluster.Keeper("b", {"checkout"});
  a->Tick();
  b->Tick();
  cluster.Run({"DEL", "dynoherd:{checkout}:lease"});  // the TTL ran out while a was gone
  CHECK(b->Tick().acquired == std::vector<std::string>{"checkout"});
  CHECK(b->Holds("checkout"));
  LeaseKeeper::TickOutcome outcome = a->Tick();
  CHECK(outcome.lost == std::vector<std::string>{"checkout"});
  CHECK_FALSE(a->Holds("checkout"));
  CHECK(a->Views()[0].losses == 1);
  CHECK(HolderOf(*a, "checkout") == "b");
}

TEST_CASE("replicas share the policies fairly, never giving back one under a pass") {
  Cluster cluster;
  std::vector<std::string> policies{"p1", "p2", "p3", "p4"};
  auto a = cluster.Keeper("a", policies);
  CHECK(a->Tick().acquired.size() == 4);  // alone: everything
  auto b = cluster.Keeper("b", policies);
  CHECK(b->Tick().acquired.empty());      // two replicas now, but every lease is taken
  a->BeginPass("p4");
  a->BeginPass("p3");
  a->BeginPass("p2");
  LeaseKeeper::TickOutcome given = a->Tick();  // share 2: gives back what no pass holds
  CHECK(given.lost == std::vector<std::string>{"p1"});
  CHECK(a->Held().size() == 3);
  a->EndPass("p4");
  CHECK(a->Tick().lost == std::vector<std::string>{"p4"});
  CHECK(a->Held() == std::vector<std::string>{"p2", "p3"});
  CHECK(b->Tick().acquired.size() == 2);
  CHECK(b->Held() == std::vector<std::string>{"p1", "p4"});

  // reconcile asks for every policy, whatever the share.
  auto ci = cluster.Keeper("ci", policies, {.fair_share = false});
  cluster.Run({"DEL", "dynoherd:{p1}:lease"});
  CHECK(ci->Tick().acquired == std::vector<std::string>{"p1"});
}

TEST_CASE("the store unreachable: every lease dropped at once, the health says why") {
  Cluster cluster;
  auto a = cluster.Keeper("a", {"checkout", "search"});
  a->Tick();
  CHECK(a->Held().size() == 2);
  REQUIRE(cluster.server->Stop().ok());
  LeaseKeeper::TickOutcome outcome = a->Tick();
  CHECK(outcome.lost.size() == 2);
  CHECK(a->Held().empty());
  CHECK_FALSE(a->Health().ok());
  Readiness ready = LeaseReadiness({true, "2 policies reconciled"}, *a);
  CHECK_FALSE(ready.ready);
  CHECK(ready.reason.find("the store is unreachable") != std::string::npos);
  REQUIRE(cluster.server->Restart().ok());
  a->Tick();  // the keys expired with the restart's empty data set, or are still a's
  CHECK(a->Held().size() == 2);
  CHECK(LeaseReadiness({true, "2 policies reconciled"}, *a).ready);
}

TEST_CASE("the fenced provider sends no write without the lease") {
  Cluster cluster;
  auto a = cluster.Keeper("a", {"checkout"}, {.ttl = 3s, .renew_interval = 1s});
  auto inner = std::make_shared<CountingProvider>();
  FencedProvider fenced(inner, *a, "checkout");
  CHECK(fenced.Scale("shop", {{"web", 2}}).message().find("the write was not sent") !=
        std::string::npos);
  a->Tick();
  CHECK(fenced.Scale("shop", {{"web", 2}}).ok());
  CHECK(fenced.Restart("shop", "web.1").ok());
  cluster.clock.Advance(2s);
  CHECK_FALSE(fenced.Stop("shop", "web.1").ok());
  CHECK(fenced.Observe("shop").ok());
  CHECK(inner->writes == 2);
}

TEST_CASE("the daemon passes only the policies it acts on; a lease taken makes one due at once") {
  ManualClock clock(TimePoint(std::chrono::seconds(1'795'352'400)));
  NullLogger logger;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> passed;
  std::set<std::string> acting{"a"};
  DaemonHooks hooks;
  hooks.pass = [&](const spec::Policy& policy, PolicyRuntime&, const model::PolicyStatus*,
                   std::mt19937_64&, const SaveStatus&) {
    std::lock_guard lock(mu);
    passed.push_back(policy.name);
    cv.notify_all();
    PassResult result;
    result.policy = policy.name;
    result.app = policy.app;
    return result;
  };
  size_t recorded = 0;
  hooks.on_pass = [&](const PassResult&) {
    std::lock_guard lock(mu);
    ++recorded;
    cv.notify_all();
  };
  hooks.build_runtime = [](const spec::Policy&) -> Result<std::shared_ptr<PolicyRuntime>> {
    return std::make_shared<PolicyRuntime>();
  };
  hooks.acts_on = [&](const std::string& policy) {
    std::lock_guard lock(mu);
    return acting.contains(policy);
  };
  Daemon daemon({}, clock, hooks, logger, nullptr, nullptr);
  std::vector<spec::Policy> policies(2);
  policies[0].name = "a";
  policies[1].name = "b";
  for (spec::Policy& p : policies) {
    p.app = "shop";
    p.interval = 30s;
  }
  REQUIRE(daemon.Start(policies).ok());
  std::thread loop([&] { daemon.Run(); });
  auto wait_recorded = [&](size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 10s, [&] { return recorded >= n; });
  };
  REQUIRE(wait_recorded(1));
  // Ready once the policies it acts on had their first pass; b is another replica's.
  CHECK(daemon.Ready().ready);
  {
    std::lock_guard lock(mu);
    CHECK(passed == std::vector<std::string>{"a"});
    acting.insert("b");
  }
  daemon.PassSoon("b");  // the clock has not moved: only PassSoon makes b due now
  REQUIRE(wait_recorded(2));
  {
    std::lock_guard lock(mu);
    CHECK(passed == std::vector<std::string>{"a", "b"});
  }
  daemon.RequestStop("test");
  loop.join();
}

// The keeper reads only its monotonic clock (MonotonicClock in the binary); the daemon and the
// passes read the wall clock. Here each is a ManualClock, moved on its own.
TEST_CASE("a wall-clock jump of an hour either way neither expires nor extends a held lease") {
  Cluster cluster;  // cluster.clock: the keeper's monotonic clock
  ManualClock wall(TimePoint(std::chrono::seconds(1'795'352'400)));
  auto keeper = cluster.Keeper("a", {"checkout"}, {.ttl = 3s, .renew_interval = 1s});
  auto store = providers::redis::RedisStateStore::Open(cluster.Connect(), {});
  REQUIRE(store.ok());
  auto platform = std::make_shared<CountingProvider>();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Status> writes;  // what each pass's one scale returned
  DaemonHooks hooks;
  // A pass that scales once, through the runtime the daemon built (fenced by UseLeases).
  hooks.pass = [&](const spec::Policy& policy, PolicyRuntime& runtime, const model::PolicyStatus*,
                   std::mt19937_64&, const SaveStatus&) {
    Status sent = runtime.provider->Scale(policy.app, {{"web", 3}});
    std::lock_guard lock(mu);
    writes.push_back(sent);
    cv.notify_all();
    PassResult result;
    result.policy = policy.name;
    result.app = policy.app;
    result.status = sent;
    return result;
  };
  hooks.build_runtime = [&](const spec::Policy&) -> Result<std::shared_ptr<PolicyRuntime>> {
    auto runtime = std::make_shared<PolicyRuntime>();
    runtime->provider = platform;
    return runtime;
  };
  UseLeases(hooks, *keeper, **store);
  const DaemonHooks leased = hooks;  // the same wrapped pass, to call by hand below
  NullLogger logger;
  Daemon daemon({}, wall, std::move(hooks), logger, nullptr, nullptr);
  spec::Policy policy;
  policy.name = "checkout";
  policy.app = "shop";
  policy.interval = 30s;
  REQUIRE(daemon.Start({policy}).ok());
  auto wait_writes = [&](size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 10s, [&] { return writes.size() >= n; });
  };

  REQUIRE(keeper->Tick().acquired == std::vector<std::string>{"checkout"});
  std::thread loop([&] { daemon.Run(); });
  REQUIRE(wait_writes(1));
  // An hour forward on the wall (NTP stepping a clock, a VM resumed with its clock set): the next
  // pass is due at once, and the lease, judged on the monotonic clock, still holds.
  wall.Advance(1h);
  daemon.Wake();
  REQUIRE(wait_writes(2));
  CHECK(keeper->Holds("checkout"));
  daemon.RequestStop("test");
  loop.join();
  // The pass after the jump may be followed at once by one more (the schedule catches up with the
  // wall); every one of them was let through, and reached the platform.
  const int sent = platform->writes;
  {
    std::lock_guard lock(mu);
    for (const Status& write : writes) CHECK(write.ok());
    CHECK(static_cast<size_t>(sent) == writes.size());
  }

  // Two hours back: the wall now reads an hour before the renewal. Still held, never longer.
  wall.Advance(-2h);
  CHECK(keeper->Fence("checkout").ok());
  cluster.clock.Advance(1999ms);  // the trusted span is 3s - 1s after the renewal was sent
  CHECK(keeper->Fence("checkout").ok());
  cluster.clock.Advance(1ms);
  CHECK_FALSE(keeper->Holds("checkout"));
  // A monotonic jump past the span (the machine suspended, as by SIGSTOP): whatever the wall
  // says, the pass stops before its write.
  PolicyRuntime runtime;
  runtime.provider = platform;
  auto fenced = FencedRuntime(runtime, *keeper, "checkout");
  std::mt19937_64 rng(1);
  PassResult skipped = leased.pass(policy, *fenced, nullptr, rng, {});
  CHECK(skipped.status.message().find("not renewed in time") != std::string::npos);
  CHECK(platform->writes == sent);
}

TEST_CASE("a suspension during a pass, past the lease: the write after it is never sent") {
  Cluster cluster;
  auto keeper = cluster.Keeper("a", {"checkout"}, {.ttl = 3s, .renew_interval = 1s});
  auto store = providers::redis::RedisStateStore::Open(cluster.Connect(), {});
  REQUIRE(store.ok());
  auto platform = std::make_shared<CountingProvider>();
  DaemonHooks hooks;
  Status second;
  hooks.pass = [&](const spec::Policy& policy, PolicyRuntime& runtime, const model::PolicyStatus*,
                   std::mt19937_64&, const SaveStatus&) {
    CHECK(runtime.provider->Scale(policy.app, {{"web", 3}}).ok());
    cluster.clock.Advance(5s);  // suspended between two writes, longer than the TTL
    second = runtime.provider->Restart(policy.app, "web.1");
    PassResult result;
    result.policy = policy.name;
    return result;
  };
  UseLeases(hooks, *keeper, **store);
  REQUIRE(keeper->Tick().acquired.size() == 1);
  spec::Policy policy;
  policy.name = "checkout";
  policy.app = "shop";
  PolicyRuntime runtime;
  runtime.provider = platform;
  auto fenced = FencedRuntime(runtime, *keeper, "checkout");
  std::mt19937_64 rng(1);
  hooks.pass(policy, *fenced, nullptr, rng, {});
  CHECK(second.message().find("the write was not sent") != std::string::npos);
  CHECK(platform->writes == 1);
}
