// End-to-end tests of the latency sources through the real binary: `plan`, `reconcile` and `run`
// with router logs read from build/fake-heroku's log sessions, and `plan` with a Prometheus
// query answered by a fake /api/v1/query in this process. The scenario makes web.3 slow.
#include <doctest/doctest.h>
#include <httplib.h>
#include <signal.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "common/time.h"
#include "tests/support/fake_heroku_process.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace dynoherd::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kToken = "HRKU-e2e-sources-very-secret-token";
constexpr const char* kDrainSecret = "drain-e2e-very-secret";

// shop: five web dynos, web.3 five times slower than the others with some H12s, until restarted.
std::string Scenario() {
  return std::string("token: ") + kToken + R"(
seed: 11
apps:
  - name: shop
    restartDelay: 20s
    formations:
      - {type: web, quantity: 5}
      - {type: worker, quantity: 1}
    logs:
      window: 5m
      default: {medianMs: 120, count: 200, spread: 0.3}
      dynos:
        web.3: {laggardFactor: 5, h12: 3}
)";
}

std::string Policy(const std::string& name, const std::string& latency,
                   const std::string& laggards = "{}") {
  return "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: " + name +
         "}\nspec:\n  app: shop\n  formations:\n    - type: web\n      latency: " + latency +
         "\n      laggards: " + laggards + "\n";
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

struct World {
  World() {
    auto started = FakeHerokuProcess::Start(Scenario());
    REQUIRE_MESSAGE(started.ok(), started.status().message());
    fake = std::move(started).value();
    state = (dir.path() / "state.json").string();
  }

  std::map<std::string, std::string> Env() const {
    std::map<std::string, std::string> env = fake->Env(kToken);
    env["DYNOHERD_DRAIN_SECRET"] = kDrainSecret;
    return env;
  }

  ProcessResult Run(std::vector<std::string> args) const {
    args.push_back("--state");
    args.push_back(state);
    return RunDynoherd(std::move(args), {.env = Env()});
  }

  // Budgeted Platform API calls the fake saw: "GET /apps/shop/formation", ...
  std::vector<std::string> ApiCalls() const {
    std::vector<std::string> out;
    for (const json& r : fake->Requests()) {
      const std::string path = r["path"];
      if (path.rfind("/logplex/", 0) == 0 || path == "/account/rate-limits") continue;
      out.push_back(r["method"].get<std::string>() + " " + path);
    }
    return out;
  }

  void CheckNoSecret(const std::string& text) const {
    CHECK_FALSE(Contains(text, kToken));
    CHECK_FALSE(Contains(text, kDrainSecret));
    CHECK_FALSE(Contains(text, "srv="));  // the log session URL's secret
  }

  TempDir dir;
  std::unique_ptr<FakeHerokuProcess> fake;
  std::string state;
};

// The listener's port from `run`'s start line.
int ListenPort(const Subprocess& run) {
  std::smatch m;
  const std::string& err = run.err();
  REQUIRE(std::regex_search(err, m, std::regex(R"(listen=http://127\.0\.0\.1:(\d+))")));
  return std::stoi(m[1]);
}

// A logplex body as Heroku's drain POSTs it: `per_dyno` router lines for web.1 to web.5 stamped
// now, web.3 six times slower than the others.
std::string LogplexBatch(int per_dyno) {
  const std::string now = FormatTimestamp(std::chrono::time_point_cast<Duration>(
      std::chrono::system_clock::now()));
  std::string body;
  for (int i = 0; i < per_dyno; ++i) {
    for (int dyno = 1; dyno <= 5; ++dyno) {
      const int service = (dyno == 3 ? 600 : 100) + i % 7;
      const std::string message =
          "<158>1 " + now + " host heroku router - at=info method=GET path=\"/items\" " +
          "host=shop.herokuapp.com request_id=r" + std::to_string(i) + " fwd=\"203.0.113.9\" " +
          "dyno=web." + std::to_string(dyno) + " connect=1ms service=" + std::to_string(service) +
          "ms status=200 bytes=975 protocol=https\n";
      body += std::to_string(message.size()) + " " + message;
    }
  }
  return body;
}

httplib::Result PostDrain(int port, const std::string& policy, const std::string& password,
                          const std::string& body, const std::string& frame_id) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  client.set_basic_auth("dynoherd", password);
  httplib::Headers headers = {{"Logplex-Msg-Count", "250"}, {"Logplex-Frame-Id", frame_id}};
  return client.Post("/drains/" + policy, headers, body, "application/logplex-1");
}

// A Prometheus /api/v1/query on 127.0.0.1 that answers one value per web dyno (web.1 to web.5,
// web.3 the slowest) and records the queries. Basic auth in url() is accepted, never checked.
class FakePrometheus {
 public:
  static constexpr const char* kPassword = "pr0m-pass";

  FakePrometheus() {
    server_.Get("/api/v1/query", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mu_);
        queries_.push_back(req.get_param_value("query"));
      }
      json result = json::array();
      for (int i = 1; i <= 5; ++i) {
        const std::string dyno = "web." + std::to_string(i);
        result.push_back({{"metric", {{"dyno", dyno}}},
                          {"value", {1795352400, i == 3 ? "0.900" : "0.1" + std::to_string(i)}}});
      }
      res.set_content(
          json{{"status", "success"}, {"data", {{"resultType", "vector"}, {"result", result}}}}
              .dump(),
          "application/json");
    });
    server_.set_keep_alive_max_count(1);
    port_ = server_.bind_to_any_port("127.0.0.1");
    serving_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 5000 && !server_.is_running(); ++i)
      std::this_thread::sleep_for(1ms);  // bounded: until the server thread listens
  }
  ~FakePrometheus() {
    server_.stop();
    serving_.join();
  }

  std::string url() const {
    return std::string("http://reader:") + kPassword + "@127.0.0.1:" + std::to_string(port_);
  }
  std::vector<std::string> queries() {
    std::lock_guard lock(mu_);
    return queries_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread serving_;
  std::mutex mu_;
  std::vector<std::string> queries_;
};

std::string Metrics(int port) {
  httplib::Client client("127.0.0.1", port);
  auto r = client.Get("/metrics");
  REQUIRE(r);
  return r->body;
}

// True once `run` has finished its first pass (/readyz answers 200 from then on), polled for at
// most `timeout`.
bool WaitForFirstPass(int port, std::chrono::milliseconds timeout) {
  httplib::Client client("127.0.0.1", port);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = client.Get("/readyz");
    if (r && r->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace

TEST_CASE("run with router logs via drain: batches in, the laggard restarted, across a reload") {
  World w;
  const std::string latency = "{source: router-logs, via: drain, window: 1m}";
  const std::string laggards = "{minSamples: 20}";
  const std::string policy = w.dir.Write("drain.yaml", Policy("shop-drain", latency, laggards));
  auto started = Subprocess::Start(DynoherdBinary(), {.args = {"run", "-f", policy, "--state",
                                                               w.state, "--listen", "127.0.0.1:0"},
                                                      .env = w.Env()});
  REQUIRE(started.ok());
  Subprocess& run = *started;
  REQUIRE_MESSAGE(run.WaitForOutput("msg=\"dynoherd is running\"", 20s), run.err());
  const int port = ListenPort(run);
  const std::string batch = LogplexBatch(40);
  // The first pass, at start, must be over before the batch arrives: a slow one (a loaded
  // machine, the sanitizers) would otherwise read the batch and restart the laggard itself,
  // before the reload this test is about.
  REQUIRE_MESSAGE(WaitForFirstPass(port, 20s), run.err());

  // Wrong credentials: refused, nothing ingested.
  auto wrong = PostDrain(port, "shop-drain", "not-the-secret", batch, "frame-0");
  REQUIRE(wrong);
  CHECK(wrong->status == 401);
  CHECK(Contains(Metrics(port), "dynoherd_router_lines_total{result=\"parsed\"} 0"));

  auto right = PostDrain(port, "shop-drain", kDrainSecret, batch, "frame-1");
  REQUIRE(right);
  CHECK(right->status == 204);
  CHECK(Contains(Metrics(port), "dynoherd_router_lines_total{result=\"parsed\"} 200"));

  // A reload that changes the policy passes it at once, on the window the drain already filled.
  w.dir.Write("drain.yaml", Policy("shop-drain", latency, "{minSamples: 20, cooldown: 6m}"));
  REQUIRE(run.Signal(SIGHUP).ok());
  REQUIRE_MESSAGE(run.WaitForOutput("restarting laggard dyno", 20s), run.err());
  CHECK(Contains(run.err(), "changed=shop-drain"));
  auto deletes = w.fake->Requests("DELETE");
  REQUIRE(deletes.size() == 1);
  CHECK(deletes[0]["path"] == "/apps/shop/dynos/web.3");

  // The route still takes batches after the reload; a retried frame is not counted twice.
  auto again = PostDrain(port, "shop-drain", kDrainSecret, batch, "frame-1");
  REQUIRE(again);
  CHECK(again->status == 204);
  CHECK(Contains(Metrics(port), "dynoherd_router_lines_total{result=\"parsed\"} 200"));
  auto unknown = PostDrain(port, "nobody", kDrainSecret, batch, "frame-2");
  REQUIRE(unknown);
  CHECK(unknown->status == 404);

  REQUIRE(run.Signal(SIGTERM).ok());
  ProcessResult r = run.Wait(20s);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  w.CheckNoSecret(r.out + r.err + ReadFile(w.state));
}

// The metric names of docs/metrics.md that `run` exports once a pass of `policy_file` (named
// `policy`) is recorded, or once `wait_for` is logged.
std::string MetricsAfterFirstPass(const World& w, const std::string& policy_file,
                                  const std::string& policy, std::string wait_for = "") {
  auto started = Subprocess::Start(
      DynoherdBinary(), {.args = {"run", "-f", policy_file, "--state", w.state, "--listen",
                                  "127.0.0.1:0", "--log-level", "debug"},
                         .env = w.Env()});
  REQUIRE(started.ok());
  Subprocess& run = *started;
  REQUIRE_MESSAGE(run.WaitForOutput("msg=\"dynoherd is running\"", 20s), run.err());
  const int port = ListenPort(run);
  if (wait_for.empty()) wait_for = "msg=\"next pass scheduled\" policy=" + policy;
  REQUIRE_MESSAGE(run.WaitForOutput(wait_for, 20s), run.err());
  const std::string metrics = Metrics(port);
  ProcessResult promtool =
      RunProcess("/usr/bin/promtool", {.args = {"check", "metrics"}, .stdin_data = metrics});
  CHECK_MESSAGE(promtool.exit_code == 0, promtool.out << promtool.err);
  REQUIRE(run.Signal(SIGTERM).ok());
  CHECK(run.Wait(20s).exit_code == 0);
  return metrics;
}

// Whether `metrics` holds a series of `name` for the formation web of `policy`.
bool HasWebSeries(const std::string& metrics, const std::string& name, const std::string& policy) {
  const std::regex series(name + R"(\{[^}]*formation="web"[^}]*policy=")" + policy + R"("[^}]*\} )");
  return std::regex_search(metrics, series);
}

// Checks that `metrics` holds every name of `names` (each with the character that follows it,
// "{" or " ") and, for each name of `web_names`, a series of the web formation of `policy`.
void CheckExported(const std::string& metrics, const std::vector<std::string>& names,
                   const std::vector<std::string>& web_names, const std::string& policy) {
  for (const auto& name : names)
    CHECK_MESSAGE(Contains(metrics, name), name);
  for (const auto& name : web_names)
    CHECK_MESSAGE(HasWebSeries(metrics, name, policy), name);
}

TEST_CASE("run exports every metric of docs/metrics.md its policy configures") {
  // Whatever the policy: the passes, the reloads and the process (docs/metrics.md).
  const std::vector<std::string> always = {"dynoherd_build_info{",
                                           "dynoherd_reconcile_total{",
                                           "dynoherd_reconcile_duration_seconds_count{",
                                           "dynoherd_last_reconcile_timestamp_seconds{",
                                           "dynoherd_reconcile_interval_seconds{",
                                           "dynoherd_spec_reload_errors_total ",
                                           "process_cpu_seconds_total ",
                                           "process_resident_memory_bytes ",
                                           "process_virtual_memory_bytes ",
                                           "process_open_fds ",
                                           "process_max_fds ",
                                           "process_start_time_seconds "};
  // A Heroku policy: the Platform API and the router-log lines (0 until lines are read).
  std::vector<std::string> heroku = always;
  for (const char* name :
       {"dynoherd_heroku_requests_total{", "dynoherd_heroku_ratelimit_remaining ",
        "dynoherd_router_lines_total{"}) {
    heroku.push_back(name);
  }
  const std::vector<std::string> every_formation = {
      "dynoherd_formation_quantity", "dynoherd_formation_desired_quantity",
      "dynoherd_formation_latency_seconds", "dynoherd_dyno_latency_seconds",
      "dynoherd_dyno_restarts_total", "dynoherd_scale_changes_total", "dynoherd_condition"};
  std::vector<std::string> with_laggards = every_formation;
  with_laggards.push_back("dynoherd_dyno_zscore");
  const std::vector<std::string> autoscale_only = {"dynoherd_latency_event_active",
                                                   "dynoherd_latency_event_depth",
                                                   "dynoherd_formation_baseline_quantity",
                                                   "dynoherd_formation_max_quantity",
                                                   "dynoherd_formation_latency_threshold_seconds",
                                                   "dynoherd_latency_event_duration_seconds",
                                                   "dynoherd_latency_event_max_duration_seconds"};
  std::vector<std::string> both = with_laggards;
  both.insert(both.end(), autoscale_only.begin(), autoscale_only.end());
  std::vector<std::string> with_autoscale = every_formation;
  with_autoscale.insert(with_autoscale.end(), autoscale_only.begin(), autoscale_only.end());
  const std::string autoscale =
      "{latencyThreshold: 2s, restoredThreshold: 1s, alertInterval: 2m, maxExtraWorkers: 2, "
      "maxDuration: 1h}";

  SUBCASE("laggards only") {
    World w;
    const std::string file =
        w.dir.Write("shop.yaml", Policy("shop-web", "{source: router-logs}", "{minSamples: 20}"));
    const std::string metrics = MetricsAfterFirstPass(w, file, "shop-web");
    INFO(metrics);
    CheckExported(metrics, heroku, with_laggards, "shop-web");
    CHECK(Contains(metrics, "dynoherd_condition{app=\"shop\",formation=\"web\",policy=\"shop-web\","
                            "status=\"True\",type=\"Degraded\"} "));
    CHECK(Contains(metrics, "dynoherd_formation_latency_seconds{app=\"shop\",formation=\"web\","
                            "policy=\"shop-web\",statistic=\"p95\"} "));
  }
  SUBCASE("autoscale only") {
    World w;
    const std::string file = w.dir.Write(
        "shop.yaml",
        "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: shop-scale}\nspec:\n"
        "  app: shop\n  formations:\n    - type: web\n      quantity: 5\n"
        "      latency: {source: router-logs, statistic: p50}\n"
        "      autoscale: " +
            autoscale + "\n");
    const std::string metrics = MetricsAfterFirstPass(w, file, "shop-scale");
    INFO(metrics);
    CheckExported(metrics, heroku, with_autoscale, "shop-scale");
    CHECK(Contains(metrics, "dynoherd_formation_latency_seconds{app=\"shop\",formation=\"web\","
                            "policy=\"shop-scale\",statistic=\"p50\"} "));
  }
  SUBCASE("laggards and autoscale") {
    World w;
    const std::string file =
        w.dir.Write("shop.yaml", Policy("shop-both", "{source: router-logs}", "{minSamples: 20}") +
                                     "      quantity: 5\n      autoscale: " + autoscale + "\n");
    const std::string metrics = MetricsAfterFirstPass(w, file, "shop-both");
    INFO(metrics);
    CheckExported(metrics, heroku, both, "shop-both");
  }
  SUBCASE("Prometheus source") {
    World w;
    FakePrometheus prometheus;
    const std::string file =
        w.dir.Write("shop.yaml", Policy("shop-prom",
                                        "{source: prometheus, url: '" + prometheus.url() +
                                            "', query: 'my_p50_seconds', statistic: p50}",
                                        "{minSamples: 1}") +
                                     "      quantity: 5\n      autoscale: " + autoscale + "\n");
    const std::string metrics = MetricsAfterFirstPass(w, file, "shop-prom");
    INFO(metrics);
    CheckExported(metrics, heroku, both, "shop-prom");
    CHECK(HasWebSeries(metrics, "dynoherd_dyno_zscore", "shop-prom"));
    CHECK_FALSE(Contains(metrics, FakePrometheus::kPassword));
  }
  SUBCASE("the simulator") {
    World w;
    const std::string file =
        w.dir.Write("demo.yaml",
                    "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: demo}\n"
                    "spec:\n  app: demo-shop\n  provider: sim\n  interval: 10s\n  formations:\n"
                    "    - type: web\n      quantity: 4\n"
                    "      latency: {source: sim, window: 1m, statistic: p50}\n"
                    "      laggards: {sigma: 2.0, minSamples: 20}\n"
                    "      autoscale: " +
                        autoscale +
                        "\n"
                        "  sim:\n    seed: 7\n    speed: 60\n    duration: 1h\n    formations:\n"
                        "      web: {quantity: 4, serviceTime: 100ms, rps: 20}\n");
    // Laggards are judged once the 1m window holds only the formation's current size: the
    // first passes of a world that starts with the run cannot (1m lasts 1s at speed 60).
    const std::string metrics =
        MetricsAfterFirstPass(w, file, "demo", "msg=\"next pass scheduled\" simTime=2m");
    INFO(metrics);
    CheckExported(metrics, always, both, "demo");
  }
}

TEST_CASE("plan and reconcile with router logs via session: the laggard found and restarted") {
  World w;
  const std::string policy = w.dir.Write("shop.yaml", Policy("shop-web", "{source: router-logs}"));

  ProcessResult plan = w.Run({"plan", "-f", policy});
  INFO(plan.err);
  CHECK(plan.exit_code == 2);
  CHECK(Contains(plan.out, "restart web.3"));
  CHECK(Contains(plan.out, "laggard: p50"));
  CHECK_FALSE(Contains(plan.out, "restart web.1"));
  // One pass: the formation, the dynos and one log session.
  CHECK(w.ApiCalls() == std::vector<std::string>{"GET /apps/shop/formation", "GET /apps/shop/dynos",
                                                 "POST /apps/shop/log-sessions"});
  w.CheckNoSecret(plan.out + plan.err);

  ProcessResult reconcile = w.Run({"reconcile", "-f", policy});
  INFO(reconcile.err);
  CHECK(reconcile.exit_code == 0);
  CHECK(Contains(reconcile.err, "restarting laggard dyno"));
  CHECK(Contains(reconcile.err, "dyno=web.3"));
  auto deletes = w.fake->Requests("DELETE");
  REQUIRE(deletes.size() == 1);
  CHECK(deletes[0]["path"] == "/apps/shop/dynos/web.3");
  w.CheckNoSecret(reconcile.out + reconcile.err + ReadFile(w.state));

  // Restarted, web.3 is cured and too fresh to judge: nothing more to do.
  ProcessResult after = w.Run({"plan", "-f", policy});
  CHECK(after.exit_code == 0);
  CHECK_FALSE(Contains(after.out, "restart"));
}

TEST_CASE("a log session that cannot be opened fails plan and reconcile, naming the cause") {
  World w;
  REQUIRE(w.fake->AddFault("{method: POST, path: /apps/shop/log-sessions, status: 503, times: 0}")
              .ok());
  const std::string policy = w.dir.Write("shop.yaml", Policy("shop-web", "{source: router-logs}"));

  for (const std::string command : {"plan", "reconcile"}) {
    CAPTURE(command);
    ProcessResult r = w.Run({command, "-f", policy});
    INFO(r.err);
    CHECK(r.exit_code == 1);  // not 0 ("no changes") nor 2 ("changes planned"): it could not see
    CHECK(Contains(r.out, "1 of 1 policy failed:\n  shop-web: "));
    CHECK(Contains(r.out, "latency source cannot observe web: cannot open a log session: "));
    CHECK(Contains(r.out, "503"));
    CHECK(Contains(r.err, "level=error msg=\"pass failed\" policy=shop-web app=shop"));
    CHECK(Contains(r.err, "level=warn msg=\"condition changed\" policy=shop-web app=shop "
                          "formation=web condition=Degraded status=True "
                          "reason=LatencySourceFailed"));
    w.CheckNoSecret(r.out + r.err);
  }
  // Blind, nothing was done to the app.
  CHECK(w.fake->Requests("DELETE").empty());
  CHECK(w.fake->Requests("PATCH").empty());
  const json state = json::parse(ReadFile(w.state));
  const json& record = state["lastPasses"]["shop-web"]["lastPass"];
  CHECK(record["result"] == "error");
  CHECK(Contains(record["formations"][0]["latency"]["error"].get<std::string>(),
                 "cannot open a log session"));
  bool degraded = false;
  for (const auto& c : state["policies"]["shop-web"]["formations"][0]["conditions"]) {
    if (c["type"] == "Degraded") {
      degraded = c["status"] == "True" && c["reason"] == "LatencySourceFailed";
    }
  }
  CHECK(degraded);
}

TEST_CASE("plan with a drain policy: latency unknown, and the log says it needs dynoherd run") {
  World w;
  const std::string policy =
      w.dir.Write("drain.yaml", Policy("shop-drain", "{source: router-logs, via: drain}"));
  ProcessResult plan = w.Run({"plan", "-f", policy});
  INFO(plan.err);
  CHECK(plan.exit_code == 0);
  CHECK(Contains(plan.err, "via: drain needs `dynoherd run` to receive the drain"));
  // No log session for a drain: only the app was observed.
  CHECK(w.ApiCalls() ==
        std::vector<std::string>{"GET /apps/shop/formation", "GET /apps/shop/dynos"});
  w.CheckNoSecret(plan.out + plan.err);
}

TEST_CASE("plan with Prometheus per-dyno values: minSamples 1 lets laggards judge them") {
  World w;
  FakePrometheus prometheus;
  const std::string latency = "{source: prometheus, url: '" + prometheus.url() +
                              "', query: 'my_p50_seconds{app=\"shop\"}'}";
  const std::string counted = w.dir.Write("prom.yaml", Policy("shop-prom", latency));
  const std::string judged =
      w.dir.Write("prom1.yaml", Policy("shop-prom", latency, "{minSamples: 1}"));

  ProcessResult by_default = w.Run({"plan", "-f", counted});
  CHECK(by_default.exit_code == 0);  // one value per dyno is not 30 requests
  ProcessResult with_one = w.Run({"plan", "-f", judged});
  INFO(with_one.err);
  CHECK(with_one.exit_code == 2);
  CHECK(Contains(with_one.out, "restart web.3"));
  CHECK_FALSE(Contains(with_one.out + with_one.err, FakePrometheus::kPassword));
  std::vector<std::string> queries = prometheus.queries();
  REQUIRE(queries.size() == 2);
  CHECK(queries[0] == "my_p50_seconds{app=\"shop\"}");
}

TEST_CASE("run with router logs via session: one tail, the laggard restarted, a clean stop") {
  World w;
  const std::string policy = w.dir.Write("shop.yaml", Policy("shop-web", "{source: router-logs}"));
  auto started = Subprocess::Start(DynoherdBinary(), {.args = {"run", "-f", policy, "--state",
                                                               w.state, "--listen", "127.0.0.1:0"},
                                                      .env = w.Env()});
  REQUIRE(started.ok());
  Subprocess& run = *started;
  REQUIRE_MESSAGE(run.WaitForOutput("restarting laggard dyno", 30s), run.err());
  CHECK(run.WaitForOutput("log tail started", 1s));
  REQUIRE(run.Signal(SIGTERM).ok());
  ProcessResult r = run.Wait(20s);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.err, "log tail stopped"));
  auto deletes = w.fake->Requests("DELETE");
  REQUIRE(deletes.size() == 1);
  CHECK(deletes[0]["path"] == "/apps/shop/dynos/web.3");
  size_t sessions = 0;
  for (const std::string& call : w.ApiCalls())
    sessions += call == "POST /apps/shop/log-sessions";
  CHECK(sessions == 1);
  for (const json& req : w.fake->Requests("POST")) {
    if (req["path"] == "/apps/shop/log-sessions") CHECK(Contains(req["body"], "\"tail\":true"));
  }
  w.CheckNoSecret(r.out + r.err + ReadFile(w.state));
}

}  // namespace dynoherd::testing
