// End-to-end tests of replicas sharing a Redis store (`run --store`, docs/operations.md, "Several
// replicas"): two real `run` processes against build/fake-heroku, one real redis-server for the
// store and another for the Sidekiq queues the policy watches. Which replica sent each Platform
// API request is read from the request's User-Agent as the fake recorded it ("... (replica
// TOKEN)"), so the checks are on the recorded timeline, not on logs. Every wait is bounded and
// polls observable state; a lease lives 2 s.
#include <doctest/doctest.h>
#include <httplib.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "providers/redis/redis_connection.h"
#include "tests/support/fake_heroku_process.h"
#include "tests/support/redis_server.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace dynoherd::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kToken = "HRKU-e2e-lease-very-secret-token";
constexpr const char* kStorePassword = "store-e2e-very-secret";

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// shop: 2 workers; the policy declares no quantity, so an event captures 2 as its baseline.
std::string Scenario() {
  return std::string("token: ") + kToken +
         "\napps:\n  - name: shop\n    formations:\n      - {type: worker, quantity: 2}\n";
}

std::string Policy(int max_extra) {
  return "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: shop-worker}\n"
         "spec:\n  app: shop\n  formations:\n    - type: worker\n"
         "      latency: {source: sidekiq, url: \"${REDIS_URL}\", queues: [default]}\n"
         "      autoscale: {latencyThreshold: 30s, maxExtraWorkers: " +
         std::to_string(max_extra) + ", restoreDelay: 0s}\n";
}

std::string UrlWithPassword(const RedisServer& server, const std::string& password) {
  const std::string url = server.Url();
  const size_t host = url.find("://") + 3;
  return url.substr(0, host) + ":" + password + "@" + url.substr(host);
}

struct Replica {
  std::optional<Subprocess> process;
  std::string token;  // its lease token, as its start line and its requests' User-Agent say
  int port = 0;

  // Polls /status until its lease view names `token` as the holder, for at most 10 s.
  bool WaitHolder(const std::string& token) const {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (Get("/status")["leases"][0]["holder"] == token) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  // The Degraded condition of the worker formation in /status (null when it has none).
  json Degraded() const {
    const json status = Get("/status")["policies"][0]["status"];
    if (!status.is_object()) return nullptr;
    for (const json& condition : status["formations"][0]["conditions"]) {
      if (condition["type"] == "Degraded") return condition;
    }
    return nullptr;
  }
  // Polls /status until the Degraded condition is (or is no longer) StoreUnreachable, for at
  // most 30 s: a paused Redis is noticed when a lease round's command times out.
  bool WaitDegraded(bool unreachable) const {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      const json degraded = Degraded();
      const bool shown = degraded.is_object() && degraded["status"] == "True" &&
                         degraded["reason"] == "StoreUnreachable";
      if (shown == unreachable) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  json Get(const std::string& path, int* status = nullptr) const {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(5);
    auto r = client.Get(path);
    REQUIRE(r);
    if (status) *status = r->status;
    if (path == "/status") return json::parse(r->body);
    return json(r->body);
  }
};

struct World {
  World() {
    auto fake_started = FakeHerokuProcess::Start(Scenario());
    REQUIRE_MESSAGE(fake_started.ok(), fake_started.status().message());
    fake = std::move(fake_started).value();
    for (auto* server : {&store, &queues}) {
      auto started = RedisServer::Start({.password = kStorePassword});
      REQUIRE_MESSAGE(started.ok(), started.status().message());
      *server = std::move(started).value();
    }
    policy = dir.Write("shop-worker.yaml", Policy(2));
  }

  void Queues(const std::vector<providers::redis::RedisCommand>& commands) const {
    auto client = providers::redis::RedisConnection::Create(
        *spec::ParseRedisUrl(UrlWithPassword(*queues, kStorePassword)), {});
    REQUIRE(client.ok());
    REQUIRE((*client)->Pipeline(commands).ok());
  }
  // The oldest job of queue default waited 2 minutes: above the 30s threshold.
  void SlowQueue() const {
    const double enqueued = std::chrono::duration<double>(
                                (std::chrono::system_clock::now() - 120s).time_since_epoch())
                                .count();
    Queues({{"SADD", "queues", "default"},
            {"LPUSH", "queue:default", json{{"class", "W"}, {"enqueued_at", enqueued}}.dump()}});
  }
  void DrainQueue() const { Queues({{"DEL", "queue:default"}}); }

  // The store's process id (INFO server), to pause it: a Redis that stops answering without
  // losing its data (this test server keeps nothing across a restart).
  pid_t StorePid() const {
    auto client = providers::redis::RedisConnection::Create(
        *spec::ParseRedisUrl(UrlWithPassword(*store, kStorePassword)), {});
    REQUIRE(client.ok());
    auto info = (*client)->Command({"INFO", "server"});
    REQUIRE(info.ok());
    const size_t at = info->text.find("process_id:");
    REQUIRE(at != std::string::npos);
    return static_cast<pid_t>(std::stol(info->text.substr(at + 11)));
  }

  // A replica, once it started sharing the policies.
  Replica Start() const {
    Replica replica = Launch();
    AwaitSharing(replica);
    return replica;
  }

  // The process only, at once; `extra_env` adds to its environment (libfaketime).
  Replica Launch(const std::map<std::string, std::string>& extra_env = {}) const {
    std::map<std::string, std::string> env = fake->Env(kToken);
    env["REDIS_URL"] = UrlWithPassword(*queues, kStorePassword);
    env["DYNOHERD_STORE"] = UrlWithPassword(*store, kStorePassword);  // as from a Secret
    env.insert(extra_env.begin(), extra_env.end());
    auto started = Subprocess::Start(
        DynoherdBinary(), {.args = {"run", "-f", policy, "--listen", "127.0.0.1:0", "--lease-ttl",
                                    "2s", "--lease-renew", "500ms"},
                           .env = env});
    REQUIRE(started.ok());
    Replica replica;
    replica.process.emplace(std::move(started).value());
    return replica;
  }

  // Waits for the replica's line saying it shares the policies; reads its token and port.
  static void AwaitSharing(Replica& replica) {
    REQUIRE_MESSAGE(replica.process->WaitForOutput("msg=\"sharing the policies", 20s),
                    replica.process->err());
    const std::string& err = replica.process->err();
    const size_t at = err.find(" replica=") + 9;
    replica.token = err.substr(at, err.find_first_of(" \n", at) - at);
    const std::string listen = "listen=http://127.0.0.1:";
    replica.port = std::stoi(err.substr(err.find(listen) + listen.size()));
  }

  // Polls the fake's formation until it is `quantity`, for at most `timeout`.
  bool WaitQuantity(int quantity, std::chrono::milliseconds timeout = 30s) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (fake->Quantity("shop", "worker") == quantity) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  // Every recorded Platform API request after `after_seq`: (seq, method, sender's token).
  struct Sent {
    int64_t seq;
    std::string method;
    std::string sender;
  };
  std::vector<Sent> SentAfter(int64_t after_seq) const {
    std::vector<Sent> out;
    for (const json& r : fake->Requests()) {
      if (r["seq"].get<int64_t>() <= after_seq) continue;
      std::string sender;
      for (const json& header : r["headers"]) {
        if (header[0].get<std::string>() != "User-Agent") continue;
        const std::string agent = header[1];
        const size_t at = agent.find("(replica ");
        if (at != std::string::npos) sender = agent.substr(at + 9, agent.size() - at - 10);
      }
      out.push_back({r["seq"].get<int64_t>(), r["method"], sender});
    }
    return out;
  }
  int64_t LastSeq() const {
    std::vector<Sent> all = SentAfter(0);
    return all.empty() ? 0 : all.back().seq;
  }

  TempDir dir;
  std::unique_ptr<FakeHerokuProcess> fake;
  std::unique_ptr<RedisServer> store;
  std::unique_ptr<RedisServer> queues;
  std::string policy;
};

// The senders of the writes (PATCH, DELETE) in order, with consecutive repeats folded:
// {"a", "b"} means a wrote, then b, and never a again.
std::vector<std::string> WriterBlocks(const std::vector<World::Sent>& sent) {
  std::vector<std::string> blocks;
  for (const World::Sent& s : sent) {
    if (s.method == "GET") continue;
    if (blocks.empty() || blocks.back() != s.sender) blocks.push_back(s.sender);
  }
  return blocks;
}

const std::string kDegradedSeries =
    "dynoherd_condition{app=\"shop\",formation=\"worker\",policy=\"shop-worker\",status=";

void CheckNoSecret(const std::string& text) {
  CHECK_FALSE(Contains(text, kToken));
  CHECK_FALSE(Contains(text, kStorePassword));
}

}  // namespace

TEST_CASE("kill -9 the holder while scaled up: the other replica takes over and restores") {
  World w;
  w.SlowQueue();
  Replica a = w.Start();
  Replica b = w.Start();
  REQUIRE(a.token != b.token);
  REQUIRE_MESSAGE(w.WaitQuantity(3), a.process->err(), b.process->err());
  std::vector<std::string> blocks = WriterBlocks(w.SentAfter(0));
  REQUIRE(blocks.size() == 1);  // one writer so far
  Replica& holder = blocks[0] == a.token ? a : b;
  Replica& other = blocks[0] == a.token ? b : a;
  REQUIRE(holder.token == blocks[0]);
  // The other's first lease round may still be running (it may have started after the pass).
  CHECK(other.WaitHolder(holder.token));
  int ready = 0;
  other.Get("/readyz", &ready);
  CHECK(ready == 503);  // a standby: alive, holding no lease

  const int64_t before_kill = w.LastSeq();
  REQUIRE(holder.process->Signal(SIGKILL).ok());
  const auto killed_at = std::chrono::steady_clock::now();
  CHECK(holder.process->Wait(10s).term_signal == SIGKILL);
  w.DrainQueue();
  REQUIRE_MESSAGE(w.WaitQuantity(2), other.process->err());
  const auto takeover = std::chrono::steady_clock::now() - killed_at;
  // The lease lives 2 s after its last renewal, the standby looks every 0.5 s; the rest is
  // the pass on a loaded machine.
  MESSAGE("kill to restore: " << std::chrono::duration<double>(takeover).count() << " s");
  CHECK(takeover < 15s);
  // The log lines are read as they come (the formation may change before they are read).
  CHECK(other.process->WaitForOutput("msg=\"lease taken: acting on the policy\"", 10s));
  CHECK(other.process->WaitForOutput("from=3 to=2 cause=restored", 10s));

  // The whole timeline: the holder wrote, then the other, never both; nothing from the dead one.
  CHECK(WriterBlocks(w.SentAfter(0)) == std::vector<std::string>{holder.token, other.token});
  for (const World::Sent& s : w.SentAfter(before_kill))
    CHECK(s.sender == other.token);
  other.Get("/readyz", &ready);
  CHECK(ready == 200);
  const std::string metrics = other.Get("/metrics").get<std::string>();
  CHECK(Contains(metrics, "dynoherd_lease_held{policy=\"shop-worker\"} 1"));
  CHECK(Contains(metrics, "dynoherd_lease_replica_info{replica=\"" + other.token + "\"} 1"));
  CheckNoSecret(metrics);
  ProcessResult promtool =
      RunProcess("/usr/bin/promtool", {.args = {"check", "metrics"}, .stdin_data = metrics});
  INFO(promtool.out, promtool.err);
  CHECK(promtool.exit_code == 0);
  CheckNoSecret(other.Get("/status").dump());
  REQUIRE(other.process->Signal(SIGTERM).ok());
  CHECK(other.process->Wait(20s).exit_code == 0);
  CheckNoSecret(other.process->err() + other.process->out());
}

TEST_CASE("two replicas started at the same instant: one holder, the writes from it alone") {
  World w;
  w.SlowQueue();
  // Both processes before either has looked at Redis: their first lease rounds race.
  Replica a = w.Launch();
  Replica b = w.Launch();
  World::AwaitSharing(a);
  World::AwaitSharing(b);
  REQUIRE(a.token != b.token);
  REQUIRE_MESSAGE(w.WaitQuantity(3), a.process->err(), b.process->err());
  const std::vector<std::string> writers = WriterBlocks(w.SentAfter(0));
  REQUIRE(writers.size() == 1);
  const std::string holder = writers[0];
  for (Replica* r : {&a, &b}) {
    CHECK(r->WaitHolder(holder));
    CHECK(r->Get("/status")["leases"][0]["heldHere"] == (r->token == holder));
  }
  // A changed policy reloaded by both: due at once on each; only the holder passes.
  w.DrainQueue();
  w.dir.Write("shop-worker.yaml", Policy(3));
  for (Replica* r : {&a, &b})
    REQUIRE(r->process->Signal(SIGHUP).ok());
  REQUIRE_MESSAGE(w.WaitQuantity(2), a.process->err(), b.process->err());
  CHECK(WriterBlocks(w.SentAfter(0)) == std::vector<std::string>{holder});
  for (Replica* r : {&a, &b}) {
    REQUIRE(r->process->Signal(SIGTERM).ok());
    CHECK(r->process->Wait(20s).exit_code == 0);
  }
}

TEST_CASE("SIGSTOP past the lease, then SIGCONT: the paused replica never acts again on it") {
  World w;
  w.SlowQueue();
  Replica a = w.Start();
  Replica b = w.Start();
  REQUIRE_MESSAGE(w.WaitQuantity(3), a.process->err(), b.process->err());
  std::vector<std::string> blocks = WriterBlocks(w.SentAfter(0));
  REQUIRE(blocks.size() == 1);
  Replica& paused = blocks[0] == a.token ? a : b;
  Replica& other = blocks[0] == a.token ? b : a;

  REQUIRE(paused.process->Signal(SIGSTOP).ok());
  w.DrainQueue();
  REQUIRE_MESSAGE(w.WaitQuantity(2), other.process->err());  // taken over: the lease ran out
  w.SlowQueue();  // a holder would scale up again
  // A changed policy and SIGHUP, delivered on SIGCONT: the paused replica's policy is due at
  // once when it wakes, with the stale lease it still remembers.
  w.dir.Write("shop-worker.yaml", Policy(3));
  const int64_t before_wake = w.LastSeq();
  REQUIRE(paused.process->Signal(SIGHUP).ok());
  REQUIRE(paused.process->Signal(SIGCONT).ok());
  REQUIRE_MESSAGE(paused.process->WaitForOutput("msg=\"policies reloaded\"", 20s),
                  paused.process->err());
  REQUIRE_MESSAGE(paused.process->WaitForOutput("msg=\"lease lost", 20s), paused.process->err());
  // Its next lease round has run (it saw the lease gone); a pass that had started would
  // have read the formation first.
  for (const World::Sent& s : w.SentAfter(before_wake))
    CHECK(s.sender != paused.token);
  CHECK(paused.Get("/status")["leases"][0]["heldHere"] == false);
  CHECK(WriterBlocks(w.SentAfter(0)).front() == paused.token);
  CHECK(WriterBlocks(w.SentAfter(0)).size() == 2);
  for (Replica* r : {&paused, &other}) {
    REQUIRE(r->process->Signal(SIGTERM).ok());
    CHECK(r->process->Wait(20s).exit_code == 0);
  }
}

TEST_CASE("the store unreachable: Degraded on every replica, no write, /metrics and /healthz served") {
  World w;
  w.SlowQueue();
  Replica a = w.Start();
  Replica b = w.Start();
  REQUIRE_MESSAGE(w.WaitQuantity(3), a.process->err(), b.process->err());
  const std::string holder = WriterBlocks(w.SentAfter(0)).at(0);
  for (Replica* r : {&a, &b})
    CHECK(r->WaitHolder(holder));
  const pid_t store_pid = w.StorePid();
  REQUIRE(kill(store_pid, SIGSTOP) == 0);
  const int64_t stopped_at = w.LastSeq();
  w.DrainQueue();  // a holder would restore now

  // The holder and the standby alike: neither may act, neither knows who does.
  for (Replica* r : {&a, &b}) {
    INFO(r->process->err());
    REQUIRE(r->WaitDegraded(true));
    CHECK(r->process->WaitForOutput("msg=\"the status store is unreachable", 10s));
    const json degraded = r->Degraded();
    CHECK(Contains(degraded["message"], "the status store " + w.store->Url() + " is unreachable"));
    CheckNoSecret(degraded.dump());
    int status = 0;
    const std::string metrics = r->Get("/metrics", &status).get<std::string>();
    CHECK(status == 200);
    CHECK(Contains(metrics, "dynoherd_lease_store_up 0"));
    CHECK(Contains(metrics, "dynoherd_lease_held{policy=\"shop-worker\"} 0"));
    CHECK(Contains(metrics, kDegradedSeries + "\"True\",type=\"Degraded\"} 1"));
    CHECK(Contains(metrics, kDegradedSeries + "\"False\",type=\"Degraded\"} 0"));
    CheckNoSecret(metrics);
    ProcessResult promtool =
        RunProcess("/usr/bin/promtool", {.args = {"check", "metrics"}, .stdin_data = metrics});
    INFO(promtool.out, promtool.err);
    CHECK(promtool.exit_code == 0);
    r->Get("/healthz", &status);
    CHECK(status == 200);  // alive: a restart would not bring the store back
    const std::string ready = r->Get("/readyz", &status).get<std::string>();
    CHECK(status == 503);
    CHECK(Contains(ready, "the store is unreachable"));
    CheckNoSecret(ready);
  }
  CHECK((holder == a.token ? a : b).process->WaitForOutput("msg=\"lease lost", 10s));
  // Due at once by a reload, the pass is skipped: no lease.
  w.dir.Write("shop-worker.yaml", Policy(3));
  for (Replica* r : {&a, &b})
    REQUIRE(r->process->Signal(SIGHUP).ok());
  for (Replica* r : {&a, &b})
    REQUIRE(r->process->WaitForOutput("msg=\"policies reloaded\"", 20s));
  CHECK(w.SentAfter(stopped_at).empty());  // no Platform API request at all, reads included

  REQUIRE(kill(store_pid, SIGCONT) == 0);  // a lease back, the restore follows
  REQUIRE_MESSAGE(w.WaitQuantity(2), a.process->err(), b.process->err());
  for (Replica* r : {&a, &b}) {
    INFO(r->process->err());
    CHECK(r->WaitDegraded(false));
    CHECK(r->process->WaitForOutput("msg=\"the status store answers again\"", 10s));
    const std::string metrics = r->Get("/metrics").get<std::string>();
    CHECK(Contains(metrics, "dynoherd_lease_store_up 1"));
    CHECK_FALSE(Contains(metrics, kDegradedSeries + "\"True\",type=\"Degraded\"} 1"));
  }
  const std::vector<std::string> writers = WriterBlocks(w.SentAfter(stopped_at));
  REQUIRE(writers.size() == 1);  // the restore, by the one replica that took the lease back
  CHECK((writers[0] == a.token ? a : b).process->WaitForOutput("from=3 to=2 cause=restored", 10s));
  for (Replica* r : {&a, &b}) {
    REQUIRE(r->process->Signal(SIGTERM).ok());
    CHECK(r->process->Wait(20s).exit_code == 0);
    CheckNoSecret(r->process->err());
  }
}

// libfaketime (Debian's faketime package), when installed: the wall clock of one process moved
// at will through a file it reads at every call, its monotonic clock left alone.
std::string FakeTimeLibrary() {
  const std::string path = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";
  return std::filesystem::exists(path) ? path : "";
}

// How far the replica's wall clock is from the test's, as its /status says (within a second).
std::chrono::seconds WallOffset(const Replica& replica) {
  const json status = replica.Get("/status");
  const std::optional<TimePoint> at = ParseTimestamp(status["generatedAt"].get<std::string>());
  REQUIRE(at);
  return std::chrono::round<std::chrono::seconds>(*at - std::chrono::system_clock::now());
}

TEST_CASE("a wall-clock jump of an hour either way (libfaketime): the lease kept, no write") {
  const std::string library = FakeTimeLibrary();
  if (library.empty()) {
    MESSAGE("libfaketime is not installed (apt-get install faketime): not run");
    return;
  }
  World w;
  w.Queues({{"SADD", "queues", "default"}});  // an empty queue: latency 0 whatever the clock
  const std::string offset = w.dir.Write("faketime", "+0\n");
  const char* asan = std::getenv("ASAN_OPTIONS");
  Replica a = w.Launch({{"LD_PRELOAD", library},
                        {"FAKETIME_TIMESTAMP_FILE", offset},
                        {"FAKETIME_NO_CACHE", "1"},
                        {"FAKETIME_DONT_FAKE_MONOTONIC", "1"},
                        // ASan wants to be first to load; libfaketime is, here.
                        {"ASAN_OPTIONS", std::string(asan ? asan : "") +
                                             ":verify_asan_link_order=0"}});
  World::AwaitSharing(a);
  REQUIRE(a.WaitHolder(a.token));

  int max_extra = 3;
  for (const std::chrono::hours expected : {1h, -1h}) {
    const std::string jump = (expected > 0h ? "+" : "") + std::to_string(expected.count()) + "h";
    INFO("jump ", jump, "\n", a.process->err());
    const uint64_t renewals = a.Get("/status")["leases"][0]["renewals"];
    w.dir.Write("faketime", jump + "\n");
    REQUIRE(std::chrono::abs(WallOffset(a) - expected) < 5s);
    // A changed policy and SIGHUP: a pass at once, on the jumped clock.
    w.dir.Write("shop-worker.yaml", Policy(max_extra++));
    REQUIRE(a.process->Signal(SIGHUP).ok());
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    bool passed = false;
    bool renewed = false;
    while (!(passed && renewed) && std::chrono::steady_clock::now() < deadline) {
      const json status = a.Get("/status");
      const json& last = status["policies"][0]["lastPass"];
      const std::optional<TimePoint> finished =
          last.is_object() ? ParseTimestamp(last["finishedAt"].get<std::string>()) : std::nullopt;
      passed = finished && std::chrono::abs(*finished - (std::chrono::system_clock::now() +
                                                         expected)) < 5min;
      renewed = status["leases"][0]["renewals"].get<uint64_t>() >= renewals + 2;
      std::this_thread::sleep_for(20ms);
    }
    CHECK(passed);
    CHECK(renewed);  // renewals go on: neither expired nor stretched by the jump
    const json lease = a.Get("/status")["leases"][0];
    CHECK(lease["heldHere"] == true);
    CHECK(lease["losses"] == 0);
  }
  CHECK_FALSE(Contains(a.process->err(), "lease lost"));
  CHECK(WriterBlocks(w.SentAfter(0)).empty());  // reads only
  CHECK_FALSE(w.SentAfter(0).empty());
  REQUIRE(a.process->Signal(SIGTERM).ok());
  CHECK(a.process->Wait(20s).exit_code == 0);
}

TEST_CASE("status --store with Redis down: a located error, exit 1, no password") {
  auto started = RedisServer::Start({.password = kStorePassword});
  REQUIRE_MESSAGE(started.ok(), started.status().message());
  std::unique_ptr<RedisServer> store = std::move(started).value();
  const std::string url = UrlWithPassword(*store, kStorePassword);
  REQUIRE(store->Stop().ok());
  ProcessResult status = RunProcess(DynoherdBinary(), {.args = {"status", "--store", url}});
  INFO(status.err);
  CHECK(status.exit_code == 1);
  CHECK(Contains(status.err, "level=error msg=\"cannot read the status store\" error=\"" +
                                 store->Url() + ": connection refused\""));
  CHECK(status.out.empty());
  CheckNoSecret(status.err);
}

TEST_CASE("reconcile takes the lease: exit 4 while a daemon holds it, then reconciles") {
  World w;
  w.SlowQueue();
  Replica a = w.Start();
  REQUIRE_MESSAGE(w.WaitQuantity(3), a.process->err());
  std::map<std::string, std::string> env = w.fake->Env(kToken);
  env["REDIS_URL"] = UrlWithPassword(*w.queues, kStorePassword);
  const std::vector<std::string> args = {"reconcile", "-f", w.policy, "--store",
                                         UrlWithPassword(*w.store, kStorePassword)};
  ProcessResult held = RunProcess(DynoherdBinary(), {.args = args, .env = env});
  INFO(held.err);
  CHECK(held.exit_code == 4);
  CHECK(Contains(held.err, "msg=\"another dynoherd holds the lease of the policy: not "
                           "reconciled\" policy=shop-worker holder=" + a.token));
  CheckNoSecret(held.err + held.out);

  REQUIRE(a.process->Signal(SIGTERM).ok());  // gives its lease back
  CHECK(a.process->Wait(20s).exit_code == 0);
  w.DrainQueue();
  ProcessResult done = RunProcess(DynoherdBinary(), {.args = args, .env = env});
  INFO(done.err);
  CHECK(done.exit_code == 0);
  CHECK(Contains(done.err, "from=3 to=2 cause=restored"));  // the daemon's baseline, from Redis
  CHECK(w.fake->Quantity("shop", "worker") == 2);

  ProcessResult status = RunProcess(
      DynoherdBinary(), {.args = {"status", "--store", UrlWithPassword(*w.store, kStorePassword),
                                  "-o", "json"},
                         .env = env});
  CHECK(status.exit_code == 0);
  CHECK(Contains(status.out, "\"shop-worker\""));
  CheckNoSecret(status.out + status.err);
}

}  // namespace dynoherd::testing
