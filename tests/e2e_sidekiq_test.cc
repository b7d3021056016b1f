// End-to-end tests of `latency.source: sidekiq` through the real binary: `plan`, `reconcile`,
// `status` and `run` against build/fake-heroku and a real redis-server holding Sidekiq's data for
// two worker formations that serve different queues. Only the formation whose queue is slow is
// scaled; once its queue drains, it is restored. Jobs are enqueued relative to the wall clock, as
// the binary reads it.
#include <doctest/doctest.h>
#include <httplib.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "providers/redis/redis_connection.h"
#include "tests/support/fake_heroku_process.h"
#include "tests/support/redis_server.h"
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
