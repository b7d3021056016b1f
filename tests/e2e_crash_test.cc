// End-to-end tests of crash and fault safety (docs/operations.md, "Crash points and guarantees"):
// the real binary against build/fake-heroku and a Prometheus answered in this process, killed with
// SIGKILL mid-write, fed a forged status file, and told nothing back about a write it sent. Every
// wait is bounded and polls observable state (the fake's formation, the state file, log lines).
#include <doctest/doctest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/fake_heroku_process.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace dynoherd::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kToken = "HRKU-e2e-crash-0000-secret";

// shop: 2 workers; the policy declares no quantity, so an event captures 2 as its baseline.
std::string Scenario() {
  return std::string("token: ") + kToken +
         "\napps:\n  - name: shop\n    formations:\n      - {type: worker, quantity: 2}\n";
}

// One queue latency for the formation, in seconds, that the test sets (Prometheus's answer).
class FakePrometheus {
 public:
  FakePrometheus() {
    server_.Get("/api/v1/query", [this](const httplib::Request&, httplib::Response& res) {
      json sample = {{"metric", json::object()},
                     {"value", {1795352400, std::to_string(seconds_.load())}}};
      res.set_content(json{{"status", "success"},
                           {"data", {{"resultType", "vector"}, {"result", {sample}}}}}
                          .dump(),
                      "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    serving_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 5000 && !server_.is_running(); ++i)
      std::this_thread::sleep_for(1ms);
  }
  ~FakePrometheus() {
    server_.stop();
    serving_.join();
  }

  void Set(double seconds) { seconds_ = seconds; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  std::atomic<double> seconds_{10.0};
  int port_ = 0;
  std::thread serving_;
};

// Queue latency above 5s starts an event (one more worker per 10s, at most 3); below 2s it ends
// and the captured baseline is restored at once.
std::string Policy(const std::string& prometheus_url) {
  return "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: shop-worker}\n"
         "spec:\n  app: shop\n  interval: 10s\n  formations:\n    - type: worker\n"
         "      latency: {source: prometheus, url: '" +
         prometheus_url +
         "', query: 'queue_latency_seconds', window: 1m, statistic: max}\n"
         "      autoscale: {latencyThreshold: 5s, restoredThreshold: 2s, alertInterval: 10s,\n"
         "                  maxExtraWorkers: 3, restoreDelay: 0s}\n";
}

struct World {
  World() {
    auto started = FakeHerokuProcess::Start(Scenario());
    REQUIRE_MESSAGE(started.ok(), started.status().message());
    fake = std::move(started).value();
    state = (dir.path() / "state.json").string();
    policy = dir.Write("shop-worker.yaml", Policy(prometheus.url()));
  }

  ProcessOptions Options(std::vector<std::string> args) const {
    args.insert(args.end(), {"-f", policy, "--state", state});
    return {.args = std::move(args), .env = fake->Env(kToken)};
  }

  // Polls the fake's formation until it is `quantity`, for at most `timeout`.
  bool WaitQuantity(int quantity, std::chrono::milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (fake->Quantity("shop", "worker") == quantity) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  json SavedFormation() const {
    std::string text = ReadFile(state);
    if (text.empty()) return nullptr;
    json saved = json::parse(text, nullptr, false);
    if (saved.is_discarded() || !saved["policies"].contains("shop-worker")) return nullptr;
    return saved["policies"]["shop-worker"]["formations"][0];
  }

  TempDir dir;
  FakePrometheus prometheus;
  std::unique_ptr<FakeHerokuProcess> fake;
  std::string state;
  std::string policy;
};

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The port of `listen=http://127.0.0.1:PORT` in the daemon's start line.
int ListenPort(const std::string& err) {
  const std::string prefix = "listen=http://127.0.0.1:";
  const size_t at = err.find(prefix);
  REQUIRE(at != std::string::npos);
  return std::stoi(err.substr(at + prefix.size()));
}

// A connection that sends the start of a request and never finishes it (a slowloris client).
class HalfRequest {
 public:
  explicit HalfRequest(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
    const std::string start = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n";
    REQUIRE(send(fd_, start.data(), start.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(start.size()));
  }
  ~HalfRequest() { close(fd_); }
  HalfRequest(const HalfRequest&) = delete;
  HalfRequest& operator=(const HalfRequest&) = delete;

 private:
  int fd_;
};

}  // namespace

TEST_CASE("kill -9 while a scale-up is in flight: the restarted daemon restores the baseline") {
  World w;
  // Heroku applies the first PATCH at once and answers it only a minute later: the daemon is
  // killed while it waits, as if it died with the request on the wire.
  REQUIRE(w.fake->AddFault("{kind: stall, delay: 60s, method: PATCH}").ok());
  auto first = Subprocess::Start(DynoherdBinary(), w.Options({"run", "--listen", "127.0.0.1:0"}));
  REQUIRE(first.ok());
  REQUIRE_MESSAGE(w.WaitQuantity(3), first->err());
  // The intent was saved before the PATCH left: the baseline, the step, the pending write.
  json saved = w.SavedFormation();
  INFO(saved.dump());
  CHECK(saved["event"]["capturedBaseline"] == 2);
  CHECK(saved["event"]["depth"] == 1);
  REQUIRE(saved["intents"].size() == 1);
  CHECK(saved["intents"][0]["state"] == "pending");
  CHECK(saved["intents"][0]["from"] == 2);
  CHECK(saved["intents"][0]["to"] == 3);
  CHECK_FALSE(Contains(first->err(), "scaled formation"));  // still waiting for the answer
  REQUIRE(first->Signal(SIGKILL).ok());
  ProcessResult killed = first->Wait(10s);
  CHECK(killed.term_signal == SIGKILL);

  // The queue drains; a new daemon starts on the same state file and puts the formation back.
  w.prometheus.Set(0.5);
  auto second = Subprocess::Start(DynoherdBinary(), w.Options({"run", "--listen", "127.0.0.1:0"}));
  REQUIRE(second.ok());
  REQUIRE_MESSAGE(w.WaitQuantity(2), second->err());
  REQUIRE(second->WaitForOutput("msg=\"restored formation\"", 20s));
  CHECK(Contains(second->err(), "from=3 to=2 cause=restored"));
  REQUIRE(second->Signal(SIGTERM).ok());
  ProcessResult stopped = second->Wait(20s);
  CHECK(stopped.exit_code == 0);
  saved = w.SavedFormation();
  CHECK(saved["event"]["capturedBaseline"].is_null());
  CHECK(saved["intents"].empty());
}

TEST_CASE("a saved baseline out of range is reported, located, and never acted on") {
  for (const std::string baseline : {"-3", "2000000000"}) {
    CAPTURE(baseline);
    World w;
    w.prometheus.Set(0.5);  // the event is over: a trusted baseline would be restored now
    const std::string forged =
        R"({"version": 1, "policies": {"shop-worker": {"policy": "shop-worker", "app": "shop",
        "updatedAt": "2026-11-22T13:00:00Z", "formations": [{"type": "worker",
        "event": {"startedAt": "2026-11-22T12:50:00Z", "depth": 1,
                  "lastStepAt": "2026-11-22T12:55:00Z", "capturedBaseline": )" +
        baseline + R"(}, "restarts": [], "conditions": [], "overloadedAt": null}]}}})";
    w.dir.Write("state.json", forged);
    ProcessResult r = RunProcess(DynoherdBinary(), w.Options({"reconcile"}));
    INFO(r.out, r.err);
    CHECK(r.exit_code == 0);
    CHECK(Contains(r.err, "level=error msg=\"saved status is invalid; planned as if there were "
                          "none\" policy=shop-worker app=shop formation=worker problems=\"event."
                          "capturedBaseline: " +
                              baseline + " is not in 0..1000\""));
    CHECK(Contains(r.out, "the saved status of worker is invalid and was ignored"));
    CHECK(w.fake->Requests("PATCH").empty());
    CHECK(w.fake->Quantity("shop", "worker") == 2);
    CHECK(w.SavedFormation()["event"]["capturedBaseline"].is_null());
  }
}

TEST_CASE("a scale whose answer never came is reported unknown, not failed; the next pass sees") {
  World w;
  // Every PATCH is applied and answered after the client's timeout, retries included. A --timeout
  // of 1 s leaves the reads room on a loaded machine, and an absolute scale is tried 4 times: this
  // case takes about 6 s.
  REQUIRE(w.fake->AddFault("{kind: stall, delay: 30s, method: PATCH, times: 0}").ok());
  const std::string metrics = (w.dir.path() / "dynoherd.prom").string();
  ProcessResult r = RunProcess(
      DynoherdBinary(), w.Options({"reconcile", "--timeout", "1s", "--metrics-file", metrics}));
  INFO(r.out, r.err);
  CHECK(r.exit_code == 3);
  CHECK(Contains(ReadFile(metrics),
                 "dynoherd_reconcile_total{policy=\"shop-worker\",result=\"unknown\"} 1"));
  CHECK(Contains(r.err, "level=warn msg=\"scaling: outcome unknown\""));
  CHECK(Contains(r.err, "it may have taken effect"));
  CHECK_FALSE(Contains(r.err, "scaling failed"));
  CHECK_FALSE(Contains(r.err, "level=error"));
  CHECK(Contains(r.out, "outcome unknown: "));
  CHECK(Contains(r.out, "Outcome unknown: 1 scale."));
  CHECK(w.fake->Quantity("shop", "worker") == 3);
  json saved = w.SavedFormation();
  INFO(saved.dump());
  CHECK(saved["event"]["capturedBaseline"] == 2);  // kept: the step may have happened
  REQUIRE(saved["intents"].size() == 1);
  CHECK(saved["intents"][0]["state"] == "unknown");
  bool unknown_condition = false;
  for (const auto& c : saved["conditions"]) {
    if (c["type"] == "Degraded") {
      unknown_condition = c["status"] == "True" && c["reason"] == "OutcomeUnknown";
    }
  }
  CHECK(unknown_condition);

  // The next pass observes 3 (the write did happen) and, the queue drained, restores 2.
  REQUIRE(w.fake->RemoveFaults().ok());
  w.prometheus.Set(0.5);
  ProcessResult next = RunProcess(DynoherdBinary(), w.Options({"reconcile"}));
  INFO(next.err);
  CHECK(next.exit_code == 0);
  CHECK(Contains(next.err, "from=3 to=2 cause=restored"));
  CHECK(w.fake->Quantity("shop", "worker") == 2);
  CHECK(w.SavedFormation()["intents"].empty());
}

TEST_CASE("drains: every policy name gets the same 401 without the secret") {
  World w;
  constexpr const char* kSecret = "drain-secret-e2e-crash-0000";
  const std::string drained = w.dir.Write(
      "shop-web.yaml",
      "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: shop-drained}\n"
      "spec:\n  app: shop\n  formations:\n    - type: worker\n"
      "      latency: {source: router-logs, via: drain}\n");
  ProcessOptions options = {.args = {"run", "-f", drained, "--state", w.state, "--listen",
                                     "127.0.0.1:0"},
                            .env = w.fake->Env(kToken)};
  options.env["DYNOHERD_DRAIN_SECRET"] = kSecret;
  auto run = Subprocess::Start(DynoherdBinary(), options);
  REQUIRE(run.ok());
  REQUIRE_MESSAGE(run->WaitForOutput("msg=\"dynoherd is running\"", 20s), run->err());
  httplib::Client client("127.0.0.1", ListenPort(run->err()));
  client.set_read_timeout(5);
  const std::string batch = "83 <40>1 2012-11-30T06:45:29+00:00 host app web.3 - State changed\n";
  std::vector<std::pair<int, std::string>> answers;
  for (const char* name : {"shop-drained", "no-such-policy"}) {
    for (const char* password : {"", "wrong"}) {
      CAPTURE(name);
      CAPTURE(password);
      httplib::Headers headers;
      if (*password) headers.insert(httplib::make_basic_authentication_header("u", password));
      auto r =
          client.Post(std::string("/drains/") + name, headers, batch, "application/logplex-1");
      REQUIRE(r);
      CHECK(r->status == 401);
      answers.emplace_back(r->status, r->body);
    }
  }
  CHECK(answers[0] == answers[2]);
  CHECK(answers[1] == answers[3]);
  CHECK(answers[0].second.find("no-such-policy") == std::string::npos);
  httplib::Headers authorized = {httplib::make_basic_authentication_header("u", kSecret)};
  auto known = client.Post("/drains/no-such-policy", authorized, batch, "application/logplex-1");
  REQUIRE(known);
  CHECK(known->status == 404);  // with the secret, the name may be told
  REQUIRE(run->Signal(SIGTERM).ok());
  CHECK(run->Wait(20s).exit_code == 0);
}

TEST_CASE("clients that never finish their request do not starve /healthz and /metrics") {
  World w;
  w.prometheus.Set(0.5);
  auto run = Subprocess::Start(DynoherdBinary(), w.Options({"run", "--listen", "127.0.0.1:0"}));
  REQUIRE(run.ok());
  REQUIRE_MESSAGE(run->WaitForOutput("msg=\"dynoherd is running\"", 20s), run->err());
  const int port = ListenPort(run->err());
  // Three times what once held every listener thread until its 10 s read timeout.
  std::vector<std::unique_ptr<HalfRequest>> slow;
  for (int i = 0; i < 12; ++i)
    slow.push_back(std::make_unique<HalfRequest>(port));
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  client.set_read_timeout(2);  // well within the 10 s the slow ones may hold their threads
  for (int i = 0; i < 3; ++i) {
    auto health = client.Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
    auto metrics = client.Get("/metrics");
    REQUIRE(metrics);
    CHECK(metrics->status == 200);
  }
  slow.clear();
  REQUIRE(run->Signal(SIGTERM).ok());
  CHECK(run->Wait(20s).exit_code == 0);
}

}  // namespace dynoherd::testing
