// End-to-end tests of `latency.source: sidekiq` through the real binary: `plan`, `reconcile`,
// `status` and `run` against build/fake-heroku and a real redis-server holding Sidekiq's data for
// two worker formations that serve different queues. Only the formation whose queue is slow is
// scaled; once its queue drains, it is restored. Jobs are enqueued relative to the wall clock, as
// the binary reads it.
#include <doctest/doctest.h>
#include <httplib.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "providers/redis/redis_connection.h"
#include "tests/support/fake_heroku_process.h"
#include "tests/support/redis_server.h"
#include "tests/support/sidekiq_heartbeat.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace dynoherd::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kToken = "HRKU-e2e-sidekiq-very-secret-token";
constexpr const char* kRedisPassword = "redis-e2e-very-secret";

std::string Scenario() {
  return std::string("token: ") + kToken + R"(
seed: 3
apps:
  - name: shop
    formations:
      - {type: web, quantity: 2}
      - {type: worker, quantity: 2}
      - {type: reports, quantity: 1}
)";
}

// worker works default and mailers, reports works reports; both from REDIS_URL.
std::string Policy(const std::string& tls = "") {
  const std::string latency = "source: sidekiq, url: \"${REDIS_URL}\"" + tls;
  return R"(apiVersion: dynoherd/v1
kind: FormationPolicy
metadata: {name: shop-workers}
spec:
  app: shop
  formations:
    - type: worker
      latency: {)" +
         latency + R"(, queues: [default, mailers]}
      autoscale: {latencyThreshold: 30s, maxExtraWorkers: 2, restoreDelay: 0s}
    - type: reports
      latency: {)" +
         latency + R"(, queues: [reports]}
      autoscale: {latencyThreshold: 30s, maxExtraWorkers: 2, restoreDelay: 0s}
)";
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A Sidekiq 7 job (float seconds) enqueued `ago` before now on the wall clock.
std::string JobEnqueued(std::chrono::seconds ago) {
  const auto at = std::chrono::system_clock::now() - ago;
  const double seconds = std::chrono::duration<double>(at.time_since_epoch()).count();
  return json{{"class", "HardWorker"}, {"args", {"private-argument"}}, {"enqueued_at", seconds}}
      .dump();
}

struct World {
  explicit World(RedisServerOptions redis_options = {.password = kRedisPassword}) {
    auto fake_started = FakeHerokuProcess::Start(Scenario());
    REQUIRE_MESSAGE(fake_started.ok(), fake_started.status().message());
    fake = std::move(fake_started).value();
    auto redis_started = RedisServer::Start(std::move(redis_options));
    REQUIRE_MESSAGE(redis_started.ok(), redis_started.status().message());
    redis = std::move(redis_started).value();
    state = (dir.path() / "state.json").string();
  }

  // The URL as Heroku sets REDIS_URL: an empty user and the password.
  std::string RedisUrl(const std::string& password = kRedisPassword) const {
    const std::string url = redis->Url();
    const size_t host = url.find("://") + 3;
    return url.substr(0, host) + ":" + password + "@" + url.substr(host);
  }

  void Redis(const std::vector<providers::redis::RedisCommand>& commands) const {
    auto client = providers::redis::RedisConnection::Create(*spec::ParseRedisUrl(RedisUrl()),
                                                            {.tls_ca_file = redis->ca_file()});
    REQUIRE(client.ok());
    auto replies = (*client)->Pipeline(commands);
    REQUIRE_MESSAGE(replies.ok(), replies.status().message());
  }

  // What Sidekiq's clients do: default has a job waiting 2 minutes, the other queues fresh ones.
  void SlowDefaultQueue() const {
    Redis({{"SADD", "queues", "default", "mailers", "reports"},
           {"LPUSH", "queue:default", JobEnqueued(120s)},
           {"LPUSH", "queue:default", JobEnqueued(1s)},
           {"LPUSH", "queue:mailers", JobEnqueued(2s)},
           {"LPUSH", "queue:reports", JobEnqueued(1s)}});
  }

  std::map<std::string, std::string> Env(const std::string& redis_url) const {
    std::map<std::string, std::string> env = fake->Env(kToken);
    env["REDIS_URL"] = redis_url;
    return env;
  }

  ProcessResult Run(std::vector<std::string> args, const std::string& redis_url) const {
    args.insert(args.end(), {"--state", state});
    return RunDynoherd(std::move(args), {.env = Env(redis_url)});
  }

  // The bodies of the formation PATCHes the fake received.
  std::vector<json> Scales() const {
    std::vector<json> out;
    for (const json& r : fake->Requests("PATCH"))
      out.push_back(json::parse(r["body"].get<std::string>()));
    return out;
  }

  void CheckNoSecret(const std::string& text) const {
    CHECK_FALSE(Contains(text, kToken));
    CHECK_FALSE(Contains(text, kRedisPassword));
    CHECK_FALSE(Contains(text, "private-argument"));
  }

  TempDir dir;
  std::unique_ptr<FakeHerokuProcess> fake;
  std::unique_ptr<RedisServer> redis;
  std::string state;
};

// The quantity of `type` in a formation PATCH body ({"updates": [{type, quantity}, ...]}).
std::optional<int> QuantityIn(const json& body, const std::string& type) {
  for (const json& u : body.value("updates", json::array())) {
    if (u.value("type", "") == type) return u.value("quantity", -1);
  }
  return std::nullopt;
}

// A `run` of `policy` with its listener on a free port, for tests that follow its passes.
struct RunningDaemon {
  RunningDaemon(const World& w, const std::string& policy) {
    auto started = Subprocess::Start(
        DynoherdBinary(),
        {.args = {"run", "-f", policy, "--state", w.state, "--listen", "127.0.0.1:0"},
         .env = w.Env(w.RedisUrl())});
    REQUIRE(started.ok());
    run.emplace(std::move(started).value());
    REQUIRE_MESSAGE(run->WaitForOutput("listen=http://", 30s), run->err());
    std::smatch m;
    const std::string err = run->err();
    REQUIRE(std::regex_search(err, m, std::regex(R"(listen=http://127\.0\.0\.1:(\d+))")));
    client.emplace("127.0.0.1", std::stoi(m[1]));
    client->set_read_timeout(5);
  }

  // Polls /metrics until `passes` passes have ended, for at most 25s (an interval and more).
  bool WaitForPasses(int passes, const std::string& policy_name) {
    const std::regex counted("dynoherd_reconcile_total\\{policy=\"" + policy_name +
                             "\",result=\"ok\"\\} (\\d+)");
    const auto deadline = std::chrono::steady_clock::now() + 25s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto got = client->Get("/metrics");
      std::smatch m;
      const std::string body = got ? got->body : "";
      if (std::regex_search(body, m, counted) && std::stoi(m[1]) >= passes) return true;
      std::this_thread::sleep_for(20ms);  // the pace of the polls, not a wait for an outcome
    }
    return false;
  }

  ProcessResult Stop() {
    REQUIRE(run->Signal(SIGTERM).ok());
    return run->Wait(20s);
  }

  std::optional<Subprocess> run;
  std::optional<httplib::Client> client;
};

}  // namespace

TEST_CASE("plan, reconcile, status: only the formation whose queue is slow scales, then restores") {
  World w;
  w.SlowDefaultQueue();
  const std::string policy = w.dir.Write("workers.yaml", Policy());

  ProcessResult plan = w.Run({"plan", "-f", policy}, w.RedisUrl());
  INFO(plan.out, plan.err);
  CHECK(plan.exit_code == 2);
  CHECK(Contains(plan.out, "scale 2 -> 3"));
  CHECK_FALSE(Contains(plan.out, "scale 1 -> 2"));  // reports' queue is fresh
  CHECK(Contains(plan.out, "queues: default 120."));
  CHECK(Contains(plan.out, "(2 jobs), mailers "));
  CHECK(Contains(plan.out, "queues: reports "));
  CHECK(w.Scales().empty());

  ProcessResult json_plan = w.Run({"plan", "-f", policy, "-o", "json"}, w.RedisUrl());
  json parsed = json::parse(json_plan.out);
  const json& worker = parsed["policies"][0]["formations"][0];
  CHECK(worker["type"] == "worker");
  CHECK(worker["latency"]["statistic"] == "max");
  CHECK(worker["latency"]["seconds"].get<double>() >= 119);
  CHECK(worker["latency"]["queues"][0]["queue"] == "default");
  CHECK(worker["latency"]["queues"][0]["size"] == 2);

  ProcessResult reconcile = w.Run({"reconcile", "-f", policy}, w.RedisUrl());
  INFO(reconcile.err);
  CHECK(reconcile.exit_code == 0);
  std::vector<json> scales = w.Scales();
  REQUIRE(scales.size() == 1);
  CHECK(QuantityIn(scales[0], "worker") == 3);
  CHECK_FALSE(QuantityIn(scales[0], "reports"));

  ProcessResult status = w.Run({"status", "-f", policy}, w.RedisUrl());
  INFO(status.out);
  CHECK(status.exit_code == 0);
  CHECK(Contains(status.out, "Sidekiq queues:"));
  CHECK(Contains(status.out, "shop-workers/worker  default 120."));
  CHECK(Contains(status.out, "shop-workers/reports  reports "));

  // The workers catch up: default drains, and the baseline comes back.
  w.Redis({{"DEL", "queue:default"}});
  ProcessResult restored = w.Run({"reconcile", "-f", policy}, w.RedisUrl());
  INFO(restored.err);
  CHECK(restored.exit_code == 0);
  scales = w.Scales();
  REQUIRE(scales.size() == 2);
  CHECK(QuantityIn(scales[1], "worker") == 2);
  CHECK_FALSE(QuantityIn(scales[1], "reports"));
  CHECK(Contains(restored.err, "restored formation"));
  w.CheckNoSecret(plan.out + plan.err + json_plan.out + reconcile.out + reconcile.err + status.out +
                  restored.out + restored.err + ReadFile(w.state));
}

TEST_CASE("faults: a wrong password holds the formations, says why, and never shows it") {
  World w;
  w.SlowDefaultQueue();
  const std::string policy = w.dir.Write("workers.yaml", Policy());
  ProcessResult reconcile =
      w.Run({"reconcile", "-f", policy}, w.RedisUrl("wrong-very-secret-password"));
  INFO(reconcile.out, reconcile.err);
  CHECK(reconcile.exit_code == 0);
  CHECK(w.Scales().empty());
  CHECK(Contains(reconcile.out, "latency unknown"));
  CHECK(Contains(reconcile.out, w.redis->Url()));
  CHECK_FALSE(Contains(reconcile.out + reconcile.err + ReadFile(w.state), "wrong-very-secret"));
  ProcessResult status = w.Run({"status", "-f", policy}, w.RedisUrl());
  CHECK(Contains(status.out, "Degraded"));

  // A Redis that is not Sidekiq's (nothing in it): the same, with the reason.
  w.Redis({{"FLUSHALL"}});
  ProcessResult empty = w.Run({"plan", "-f", policy}, w.RedisUrl());
  INFO(empty.out);
  CHECK(Contains(empty.out, "queues"));
  CHECK(Contains(empty.out, "latency unknown"));
  CHECK(w.Scales().empty());
}

TEST_CASE("rediss:// with the test CA as tlsCaFile, and refused without it") {
  World w({.tls = true, .password = kRedisPassword});
  w.SlowDefaultQueue();
  const std::string verified =
      w.dir.Write("verified.yaml", Policy(", tlsCaFile: \"" + w.redis->ca_file() + "\""));
  ProcessResult plan = w.Run({"plan", "-f", verified}, w.RedisUrl());
  INFO(plan.out, plan.err);
  CHECK(plan.exit_code == 2);
  CHECK(Contains(plan.out, "scale 2 -> 3"));
  CHECK(Contains(plan.out, "queues: default 120."));

  const std::string system_cas = w.dir.Write("system.yaml", Policy());
  ProcessResult refused = w.Run({"plan", "-f", system_cas}, w.RedisUrl());
  INFO(refused.out);
  CHECK(refused.exit_code == 0);
  CHECK(Contains(refused.out, "latency unknown"));
  CHECK(Contains(refused.out, "certificate"));
  w.CheckNoSecret(plan.out + plan.err + refused.out + refused.err);
}

namespace {

// A worker formation in mode capacity: 10 Sidekiq threads a dyno, used to 75%; a pass every 10s.
std::string CapacityPolicy() {
  return R"(apiVersion: dynoherd/v1
kind: FormationPolicy
metadata: {name: shop-capacity}
spec:
  app: shop
  interval: 10s
  formations:
    - type: worker
      latency: {source: sidekiq, url: "${REDIS_URL}", queues: [default]}
      autoscale:
        mode: capacity
        concurrency: 10
        latencyThreshold: 30s
        maxExtraWorkers: 6
        restoreDelay: 0s
)";
}

// Plays the Sidekiq of the worker formation from one pass to the next: each of its processes
// beats with its busy threads, the jobs they finished are flushed into stat:processed, and the
// queue holds `waiting` jobs enqueued just now (the workers take the oldest first), with one more
// that has waited a minute when `old_job` (the queue's latency then is above latencyThreshold).
void SidekiqBetweenPasses(const World& w, const std::vector<int>& busy, int finished, int waiting,
                          bool old_job = false) {
  std::vector<providers::redis::RedisCommand> commands;
  const TimePoint now = std::chrono::system_clock::now();
  for (size_t i = 0; i < busy.size(); ++i) {
    const std::string identity = "worker." + std::to_string(i + 1) + ":4:a" + std::to_string(i);
    for (auto& c : SidekiqHeartbeat(
             {.identity = identity, .queues = {"default"}, .busy = busy[i], .beat = now}))
      commands.push_back(std::move(c));
  }
  for (auto& c : SidekiqFlush(finished, finished / 20))
    commands.push_back(std::move(c));
  commands.push_back({"SADD", "queues", "default"});
  commands.push_back({"DEL", "queue:default"});
  for (int i = 0; i < waiting; ++i)
    commands.push_back({"LPUSH", "queue:default", JobEnqueued(1s)});
  if (old_job) commands.push_back({"RPUSH", "queue:default", JobEnqueued(60s)});
  w.Redis(commands);
}

}  // namespace

// The daemon keeps the reads of Sidekiq between passes, so a formation in mode capacity knows its
// load from its reads 20s apart on: a surge is met in one step to what the load needs, held while
// the load needs it, and let go as the load falls. A pass every 10s (the shortest interval) over
// eight passes: this test takes about 75s, the time the daemon's own measure needs.
TEST_CASE("run, mode capacity: one PATCH straight to what Sidekiq's load needs, down as it falls") {
  World w;
  // 2 dynos of 10 threads, all busy; 12 jobs a second finish while 6 more a second pile up: 18
  // arrive, each holds a thread 20 / 12 = 1.67s: 30 threads busy (and 2 or 3 more to drain the
  // backlog within alertInterval), 5 dynos at 75%. Utilization 1.5 of the 20 threads there are:
  // the Overloaded trigger, as soon as the reads span 20s.
  SidekiqBetweenPasses(w, {10, 10}, 0, 10);
  const std::string policy = w.dir.Write("capacity.yaml", CapacityPolicy());
  RunningDaemon daemon(w, policy);
  for (int pass = 1; pass <= 3; ++pass) {
    REQUIRE(daemon.WaitForPasses(pass, "shop-capacity"));
    SidekiqBetweenPasses(w, {10, 10}, 120, 10 + 60 * pass);
  }
  REQUIRE(daemon.WaitForPasses(4, "shop-capacity"));
  CHECK(w.Scales().size() == 1);
  // The 4th pass's load on /status, the reads 30s apart: whatever the span, the busy threads are
  // 20 x (finished + queued) / finished = 30.
  auto status = daemon.client->Get("/status");
  REQUIRE(status);
  const json capacity =
      json::parse(status->body)["policies"][0]["lastPass"]["formations"][0]["capacity"];
  INFO(capacity.dump());
  const double arrivals = capacity["arrivalsPerSecond"].get<double>();
  CHECK(arrivals == doctest::Approx(18).epsilon(0.05));
  CHECK(arrivals * capacity["serviceSeconds"].get<double>() == doctest::Approx(30));
  CHECK(capacity["queuedJobs"] == 190);
  CHECK(capacity["neededQuantity"] == 5);

  // Five dynos carry it: 20.4 a second finish, 34 threads busy, the backlog steady. Latency is
  // fine, the load still needs 5: held.
  SidekiqBetweenPasses(w, {7, 7, 7, 7, 6}, 204, 190);
  REQUIRE(daemon.WaitForPasses(5, "shop-capacity"));
  CHECK(w.Scales().size() == 1);

  // The surge is over: 2 jobs a second of half a second each, the backlog worked off. The load
  // of the newest minute still holds some of the surge: 3 dynos first, then the baseline.
  for (int pass = 6; pass <= 8; ++pass) {
    SidekiqBetweenPasses(w, {1, 0, 0, 0, 0}, 20, 0);
    REQUIRE(daemon.WaitForPasses(pass, "shop-capacity"));
  }
  ProcessResult r = daemon.Stop();
  INFO(r.err);
  CHECK(r.exit_code == 0);
  const std::vector<json> scales = w.Scales();
  REQUIRE(scales.size() >= 2);
  CHECK(QuantityIn(scales[0], "worker") == 5);  // not 3: the whole jump at once
  CHECK(Contains(r.err, "the load needs 5 ("));
  CHECK(Contains(r.err, "reason=Overloaded"));
  // Down only as far as the load allowed at each pass, to the baseline at last.
  for (size_t i = 1; i < scales.size(); ++i) {
    CHECK(QuantityIn(scales[i], "worker") < QuantityIn(scales[i - 1], "worker"));
  }
  CHECK(QuantityIn(scales.back(), "worker") == 2);
  CHECK(Contains(r.err, "capacity: the load needs 3 ("));

  // `plan` reads Sidekiq once: no load, so a slow queue steps by one, as mode step does.
  SidekiqBetweenPasses(w, {10, 10}, 120, 84, /*old_job=*/true);
  ProcessResult plan = w.Run({"plan", "-f", policy, "-o", "json"}, w.RedisUrl());
  INFO(plan.out);
  CHECK(plan.exit_code == 2);
  const json planned = json::parse(plan.out)["policies"][0];
  CHECK(planned["actions"][0]["summary"] == "scale 2 -> 3");
  CHECK(Contains(planned["actions"][0]["reason"].get<std::string>(),
                 "load unknown, one dyno at a time"));
  CHECK(planned["formations"][0]["capacity"]["arrivalsPerSecond"].is_null());
  w.CheckNoSecret(r.out + r.err + plan.out + plan.err);
}

TEST_CASE("run: one pass scales the slow formation and exports each queue on /metrics") {
  World w;
  w.SlowDefaultQueue();
  const std::string policy = w.dir.Write("workers.yaml", Policy());
  auto started = Subprocess::Start(DynoherdBinary(), {.args = {"run", "-f", policy, "--state",
                                                               w.state, "--listen", "127.0.0.1:0"},
                                                      .env = w.Env(w.RedisUrl())});
  REQUIRE(started.ok());
  Subprocess& run = *started;
  REQUIRE_MESSAGE(run.WaitForOutput("msg=\"scaled formation\"", 30s), run.err());
  std::smatch m;
  const std::string err = run.err();
  REQUIRE(std::regex_search(err, m, std::regex(R"(listen=http://127\.0\.0\.1:(\d+))")));
  httplib::Client client("127.0.0.1", std::stoi(m[1]));
  client.set_read_timeout(5);
  // The pass records its metrics just after it scaled, one formation after the other: wait until
  // a scrape shows both formations' queues.
  const std::string default_size =
      "dynoherd_queue_size{app=\"shop\",formation=\"worker\",policy=\"shop-workers\","
      "queue=\"default\"} 2";
  const std::string reports_latency =
      "dynoherd_queue_latency_seconds{app=\"shop\",formation=\"reports\",policy=\"shop-"
      "workers\",queue=\"reports\"}";
  std::string metrics;
  const bool both = run.WaitFor(
      [&](const std::string&, const std::string&) {
        auto got = client.Get("/metrics");
        metrics = got ? got->body : "";
        return Contains(metrics, default_size) && Contains(metrics, reports_latency);
      },
      10s);
  INFO(metrics);
  CHECK(both);
  REQUIRE(run.Signal(SIGTERM).ok());
  ProcessResult r = run.Wait(20s);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  std::vector<json> scales = w.Scales();
  REQUIRE_FALSE(scales.empty());
  CHECK(QuantityIn(scales[0], "worker") == 3);
  CHECK_FALSE(QuantityIn(scales[0], "reports"));
  w.CheckNoSecret(r.out + r.err + metrics);
}

}  // namespace dynoherd::testing
