// End-to-end tests of crash and fault safety (docs/operations.md, "Crash points and guarantees"):
// the real binary against build/fake-heroku and a Prometheus answered in this process, killed at
// every crash point and with SIGKILL mid-write, fed a forged status file, told nothing back about
// a write it sent, and trickled requests by slowloris clients. Every
// wait is bounded and polls observable state (the fake's formation, the state file, log lines).
#include <doctest/doctest.h>
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "tests/support/raw_connection.h"
#include "tests/support/shop_world.h"

namespace dynoherd::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// The port of `listen=http://127.0.0.1:PORT` in the daemon's start line.
int ListenPort(const std::string& err) {
  const std::string prefix = "listen=http://127.0.0.1:";
  const size_t at = err.find(prefix);
  REQUIRE(at != std::string::npos);
  return std::stoi(err.substr(at + prefix.size()));
}

}  // namespace

// Each named crash point of docs/operations.md in turn: the first pass of a latency event (scale
// 2 -> 3) with a laggard (restart web.3) dies there with SIGKILL; the binary is started again on
// the same state file for one more pass during the event and, once the queue drains, until the
// formation is back. About 1 s per point: real processes, the fake's logs and Prometheus.
TEST_CASE("a crash at any point of a pass loses nothing: baseline back, no double action") {
  // A restart whose intent was saved counts as done, sent or not: its cooldown runs from the
  // planned time, so a crash between the intent and the DELETE leaves the laggard for one
  // cooldown rather than risk a second restart (docs/operations.md).
  struct CrashCase {
    std::string point;
    size_t restarts;  // DELETE requests for web.3 over every pass
  };
  const std::vector<CrashCase> cases = {
      {"after-observe", 1},  {"before-rename", 1},  {"after-rename", 0},   {"after-intent", 0},
      {"mid-patch", 0},      {"after-patch", 0},    {"mid-delete", 1},     {"after-delete", 1},
      {"before-rename:2", 1}, {"after-rename:2", 1}};
  for (const CrashCase& c : cases) {
    const std::string& point = c.point;
    CAPTURE(point);
    ShopWorld w(/*laggards=*/true);
    ProcessOptions crashing = w.Options({"reconcile"});
    crashing.env["DYNOHERD_CRASH_AT"] = point;
    ProcessResult crashed = RunProcess(DynoherdBinary(), crashing);
    INFO(crashed.err);
    REQUIRE(crashed.term_signal == SIGKILL);
    CHECK(Contains(crashed.err, "crash point " + point.substr(0, point.find(':')) + " reached"));
    ProcessResult readable = RunProcess(DynoherdBinary(), {.args = {"status", "--state", w.state}});
    CHECK_MESSAGE(readable.exit_code == 0, readable.err);

    ProcessResult during = RunProcess(DynoherdBinary(), w.Options({"reconcile"}));
    INFO(during.err);
    CHECK(during.exit_code == 0);
    CHECK(w.fake->Quantity("shop", "worker") == 3);
    w.prometheus.Set(0.5);
    ProcessResult after = RunProcess(DynoherdBinary(), w.Options({"reconcile"}));
    INFO(after.err);
    CHECK(after.exit_code == 0);
    CHECK(w.fake->Quantity("shop", "worker") == 2);  // the captured baseline, restored

    CHECK(w.PatchedQuantities() == std::vector<int>{3, 2});
    CHECK(w.Deleted() == std::vector<std::string>(c.restarts, "/apps/shop/dynos/web.3"));
    json saved = w.SavedFormation();
    REQUIRE(saved.is_object());
    CHECK(saved["event"]["capturedBaseline"].is_null());
    CHECK(saved["intents"].empty());
  }
}

TEST_CASE("kill -9 while a scale-up is in flight: the restarted daemon restores the baseline") {
  ShopWorld w;
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
    ShopWorld w;
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
  ShopWorld w;
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
  ShopWorld w;
  constexpr const char* kSecret = "drain-secret-e2e-crash-0000";
  const std::string drained = w.dir.Write(
      "shop-web.yaml",
      "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: shop-drained}\n"
      "spec:\n  app: shop\n  formations:\n    - type: worker\n"
      "      latency: {source: router-logs, via: drain}\n");
  ProcessOptions options = {.args = {"run", "-f", drained, "--state", w.state, "--listen",
                                     "127.0.0.1:0"},
                            .env = w.fake->Env(kShopToken)};
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

TEST_CASE("slowloris clients are cut at --request-timeout; /healthz and /metrics answer meanwhile") {
  ShopWorld w;
  w.prometheus.Set(0.5);
  auto run = Subprocess::Start(
      DynoherdBinary(), w.Options({"run", "--listen", "127.0.0.1:0", "--request-timeout", "2s"}));
  REQUIRE(run.ok());
  REQUIRE_MESSAGE(run->WaitForOutput("msg=\"dynoherd is running\"", 20s), run->err());
  const int port = ListenPort(run->err());
  // Twelve clients (three times what once held every listener thread), each sending one header
  // line every 100 ms: every read is quick, only the whole-request deadline can end them.
  const auto started = std::chrono::steady_clock::now();  // before their first bytes leave
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 12; ++i) {
    slow.push_back(std::make_unique<RawConnection>(port));
    REQUIRE(slow.back()->ok());
    REQUIRE(slow.back()->Send("GET /metrics HTTP/1.1\r\nHost: x\r\n"));
  }
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  client.set_read_timeout(2);
  size_t cut = 0;
  int probes_beside_all = 0;  // answered while all twelve trickled
  for (int round = 0; round < 150 && cut < slow.size(); ++round) {  // 15 s at most
    cut = 0;
    for (auto& c : slow) {
      if (c->ClosedByServer() || !c->Send("X-Slow: 1\r\n")) ++cut;
    }
    if (cut == 0) {
      ++probes_beside_all;
      auto health = client.Get("/healthz");
      REQUIRE(health);
      CHECK(health->status == 200);
      auto metrics = client.Get("/metrics");
      REQUIRE(metrics);
      CHECK(metrics->status == 200);
    }
    std::this_thread::sleep_for(100ms);  // the slow clients' pace, not a wait for an outcome
  }
  CHECK(cut == slow.size());
  CHECK(std::chrono::steady_clock::now() - started >= 2s);
  CHECK(probes_beside_all >= 1);
  for (auto& c : slow)
    CHECK(c->received().empty());  // cut, never answered
  REQUIRE(run->Signal(SIGTERM).ok());
  CHECK(run->Wait(20s).exit_code == 0);
}

}  // namespace dynoherd::testing
