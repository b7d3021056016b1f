// End-to-end tests of `dynoherd run`: the real binary against build/fake-heroku and on the
// simulator, over its listener, signals and state file. Every wait is bounded; the daemon's
// progress is read from its log lines, never waited for by sleeping.
#include <doctest/doctest.h>
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "tests/support/fake_heroku_process.h"
#include "tests/support/json_schema.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace dynoherd::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kToken = "HRKU-fake-0000-e2e-run";
constexpr const char* kDrainSecret = "drain-secret-e2e-run-0000";

// A shop with 2 web dynos; the policy below declares 3, so the first pass scales it (drift).
std::string Scenario(const std::string& faults = "") {
  return std::string("token: ") + kToken +
         "\n"
         "apps:\n"
         "  - name: shop\n"
         "    restartDelay: 0s\n"
         "    formations:\n"
         "      - {type: web, quantity: 2}\n" +
         (faults.empty() ? "" : "faults:\n" + faults);
}

std::string HerokuPolicy(int quantity, const std::string& interval = "10s") {
  return "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: shop}\n"
         "spec:\n  app: shop\n  interval: " +
         interval + "\n  formations:\n    - {type: web, quantity: " + std::to_string(quantity) +
         "}\n";
}

std::string SimPolicy(const std::string& duration, double speed) {
  std::ostringstream speed_text;
  speed_text << speed;
  return "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: demo}\n"
         "spec:\n  app: demo-shop\n  provider: sim\n  interval: 10s\n  formations:\n"
         "    - type: web\n      quantity: 4\n"
         "      latency: {source: sim, window: 1m, statistic: p50}\n"
         "      laggards: {sigma: 2.0, minSamples: 20, cooldown: 5m}\n"
         "  sim:\n    seed: 7\n    speed: " +
         speed_text.str() + "\n    duration: " + duration +
         "\n    restartDelay: 10s\n    formations:\n"
         "      web: {quantity: 4, serviceTime: 100ms, rps: 20}\n"
         "    incidents:\n"
         "      - {at: 1m, kind: noisy-neighbor, dyno: web.2, factor: 4}\n";
}

// build/fake-heroku on `Scenario(faults)`, killed when the test ends.
std::unique_ptr<FakeHerokuProcess> StartFake(const std::string& faults = "") {
  auto fake = FakeHerokuProcess::Start(Scenario(faults));
  REQUIRE(fake.ok());
  return std::move(fake).value();
}

// What a person with the token would do: PATCH the formation through the Platform API.
void ScaleByHand(const FakeHerokuProcess& fake, const std::string& type, int quantity) {
  httplib::Client client("127.0.0.1", fake.port());
  httplib::Headers headers = {{"Accept", "application/vnd.heroku+json; version=3"},
                              {"Authorization", std::string("Bearer ") + kToken},
                              {"User-Agent", "e2e-test"}};
  auto r = client.Patch("/apps/shop/formation/" + type, headers,
                        "{\"quantity\": " + std::to_string(quantity) + "}", "application/json");
  REQUIRE(r);
  REQUIRE(r->status == 200);
}

// `dynoherd run` with the fake's URL and token in its environment.
class Daemon {
 public:
  Daemon(const std::vector<std::string>& args, const std::string& api_url = "") {
    ProcessOptions options;
    options.args = {"run"};
    options.args.insert(options.args.end(), args.begin(), args.end());
    options.env = {{"HEROKU_API_KEY", kToken}, {"DYNOHERD_DRAIN_SECRET", kDrainSecret}};
    if (!api_url.empty()) options.env["HEROKU_API_URL"] = api_url;
    auto started = Subprocess::Start(DynoherdBinary(), options);
    REQUIRE(started.ok());
    process_.emplace(std::move(started).value());
  }

  Subprocess& process() { return *process_; }

  // Waits for the start line and reads the listener's port from it.
  void WaitRunning() {
    REQUIRE_MESSAGE(process_->WaitForOutput("msg=\"dynoherd is running\"", 20s), process_->err());
    std::smatch m;
    const std::string& err = process_->err();
    REQUIRE(std::regex_search(err, m, std::regex(R"(listen=http://127\.0\.0\.1:(\d+))")));
    port_ = std::stoi(m[1]);
  }

  bool WaitLog(const std::string& text, std::chrono::milliseconds timeout = 20s) {
    return process_->WaitForOutput(text, timeout);
  }
  // Waits until `text` appears `n` times in stderr.
  bool WaitLogCount(const std::string& text, size_t n, std::chrono::milliseconds timeout = 20s) {
    return process_->WaitFor(
        [&](const std::string&, const std::string& err) {
          size_t count = 0;
          for (size_t pos = err.find(text); pos != std::string::npos; pos = err.find(text, pos + 1))
            ++count;
          return count >= n;
        },
        timeout);
  }

  httplib::Result Get(const std::string& path) {
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(5);
    client.set_read_timeout(5);
    return client.Get(path);
  }

  ProcessResult Stop(int signal, std::chrono::milliseconds* took = nullptr) {
    auto start = std::chrono::steady_clock::now();
    REQUIRE(process_->Signal(signal).ok());
    ProcessResult r = process_->Wait(20s);
    if (took) {
      *took = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
    }
    return r;
  }

  int port() const { return port_; }

 private:
  std::optional<Subprocess> process_;
  int port_ = 0;
};

// The arguments of `run` on `policies`, with a state file in `dir`, on a free port.
std::vector<std::string> RunArgs(const std::string& policies, const TempDir& dir) {
  const std::string state = (dir.path() / "state.json").string();
  return {"-f", policies, "--state", state, "--listen", "127.0.0.1:0"};
}

void CheckNoSecrets(const std::string& text) {
  CHECK(text.find(kToken) == std::string::npos);
  CHECK(text.find(kDrainSecret) == std::string::npos);
}

}  // namespace

TEST_CASE("run on Heroku: readiness, the first pass, /status, /metrics for promtool, SIGTERM") {
  TempDir dir;
  // The first formation read takes 4 s: long enough to see /readyz before the first pass ends.
  auto fake = StartFake("  - {kind: slow, delay: 4s, method: GET, path: /apps/shop/formation}\n");
  std::string policy = dir.Write("shop.yaml", HerokuPolicy(3));
  std::string state = (dir.path() / "state.json").string();
  Daemon run({"-f", policy, "--state", state, "--listen", "127.0.0.1:0", "--log-level", "debug"},
             fake->url());
  run.WaitRunning();

  auto health = run.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  auto before = run.Get("/readyz");
  REQUIRE(before);
  CHECK(before->status == 503);
  CHECK(before->body == "not ready: waiting for the first pass of shop\n");

  REQUIRE(run.WaitLog("msg=\"scaled formation\""));
  CHECK(run.process().err().find("from=2 to=3 cause=drift") != std::string::npos);
  CHECK(fake->Quantity("shop", "web") == 3);
  REQUIRE(run.WaitLog("msg=\"next pass scheduled\" policy=shop"));  // recorded
  auto after = run.Get("/readyz");
  REQUIRE(after);
  CHECK(after->status == 200);
  CHECK(after->body == "ready: 1 policy reconciled\n");

  auto status = run.Get("/status");
  REQUIRE(status);
  CHECK(status->get_header_value("Content-Type") == "application/json");
  INFO(status->body);
  json page = json::parse(status->body);
  REQUIRE(page.at("policies").size() == 1);
  const json& shop = page["policies"][0];
  CHECK(shop.at("name") == "shop");
  CHECK(shop.at("app") == "shop");
  CHECK(shop.at("lastPass").at("result") == "ok");
  REQUIRE(shop.at("lastPass").at("actions").size() == 1);
  CHECK(shop["lastPass"]["actions"][0].at("summary") == "scale 2 -> 3");
  CHECK(shop.at("nextPassAt").is_string());
  CHECK(shop.at("passInProgress") == false);
  const std::string page_file = dir.Write("status.json", status->body);
  auto verdicts = SchemaVerdicts("docs/schemas/status.schema.json", {page_file});
  REQUIRE_MESSAGE(verdicts.ok(), verdicts.status().message());
  CHECK((*verdicts)[page_file] == "valid");  // the shape of `dynoherd status --output json`

  auto metrics = run.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(metrics->body.find(
            "dynoherd_formation_quantity{app=\"shop\",formation=\"web\",policy=\"shop\"} 2") !=
        std::string::npos);  // as observed before the scale
  CHECK(metrics->body.find("dynoherd_reconcile_total{policy=\"shop\",result=\"ok\"} 1") !=
        std::string::npos);
  CHECK(metrics->body.find("dynoherd_heroku_requests_total{") != std::string::npos);
  ProcessResult promtool =
      RunProcess("/usr/bin/promtool", {.args = {"check", "metrics"}, .stdin_data = metrics->body});
  INFO(promtool.out, promtool.err);
  CHECK(promtool.exit_code == 0);

  std::chrono::milliseconds took{};
  ProcessResult r = run.Stop(SIGTERM, &took);
  CHECK(r.exit_code == 0);
  CHECK_FALSE(r.timed_out);
  CHECK(took < 10s);
  CHECK(r.err.find("msg=stopping") != std::string::npos);
  CHECK(r.err.find("reason=SIGTERM") != std::string::npos);
  json saved = json::parse(ReadFile(state));
  CHECK(saved["policies"].contains("shop"));
  CHECK(saved["lastPasses"]["shop"]["lastPass"]["result"] == "ok");
  CheckNoSecrets(r.out + r.err + status->body + metrics->body);
}

TEST_CASE(
    "run: SIGHUP applies a valid set at once and rejects an invalid one, which keeps running") {
  TempDir dir;
  auto fake = StartFake();
  std::string policy = dir.Write("shop.yaml", HerokuPolicy(3));
  Daemon run(RunArgs(policy, dir), fake->url());
  run.WaitRunning();
  REQUIRE(run.WaitLog("to=3 cause=drift"));

  dir.Write("shop.yaml", HerokuPolicy(4));
  REQUIRE(run.process().Signal(SIGHUP).ok());
  REQUIRE(run.WaitLog("msg=\"policies reloaded\" policies=1 added=\"\" changed=shop removed=\"\""));
  REQUIRE(run.WaitLog("to=4 cause=drift"));  // a changed policy passes at once
  CHECK(fake->Quantity("shop", "web") == 4);

  dir.Write("shop.yaml", HerokuPolicy(5, "5s"));
  REQUIRE(run.process().Signal(SIGHUP).ok());
  REQUIRE(run.WaitLog("msg=\"reload rejected; the previous policies keep running\""));
  CHECK(run.process().err().find("level=error msg=\"reload rejected; the previous policies keep "
                                 "running\" error=\"" +
                                 policy + ":6:13: spec.interval: must be >= 10s (got 5s)\"") !=
        std::string::npos);
  auto metrics = run.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find("dynoherd_spec_reload_errors_total 1") != std::string::npos);
  auto ready = run.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);

  // The old set keeps running: someone scales web down by hand, and the next pass of the policy
  // still in force (4, not the rejected 5) puts it back.
  ScaleByHand(*fake, "web", 2);
  REQUIRE(run.WaitLog("from=2 to=4 cause=drift"));
  CHECK(fake->Quantity("shop", "web") == 4);

  ProcessResult r = run.Stop(SIGTERM);
  CHECK(r.exit_code == 0);
  CheckNoSecrets(r.out + r.err);
}

TEST_CASE("run: a policy file edited in place is applied without a signal; a broken one rejected") {
  TempDir dir;
  auto fake = StartFake();
  const std::string policy = dir.Write("shop.yaml", HerokuPolicy(3));
  // The state file sits beside the policy: its writes at every pass must not count as a change.
  Daemon run(RunArgs(policy, dir), fake->url());
  run.WaitRunning();
  REQUIRE(run.WaitLog("to=3 cause=drift"));

  dir.Write("shop.yaml", HerokuPolicy(4));
  REQUIRE(run.WaitLog("msg=\"policy files changed on disk; reloading\" paths=" + policy));
  REQUIRE(run.WaitLog("msg=\"policies reloaded\" policies=1 added=\"\" changed=shop removed=\"\""));
  REQUIRE(run.WaitLog("to=4 cause=drift"));
  CHECK(fake->Quantity("shop", "web") == 4);

  dir.Write("shop.yaml", HerokuPolicy(5, "5s"));
  REQUIRE(run.WaitLog("level=error msg=\"reload rejected; the previous policies keep running\" "
                      "error=\"" +
                      policy + ":6:13: spec.interval: must be >= 10s (got 5s)\""));
  auto metrics = run.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find("dynoherd_spec_reload_errors_total ") != std::string::npos);
  CHECK(metrics->body.find("dynoherd_spec_reload_errors_total 0") == std::string::npos);
  // The policy in force is still the 4: shown by its next pass, one interval (10s) away.
  ScaleByHand(*fake, "web", 2);
  REQUIRE(run.WaitLog("from=2 to=4 cause=drift"));

  ProcessResult r = run.Stop(SIGTERM);
  CHECK(r.exit_code == 0);
}

TEST_CASE("run: a ConfigMap volume updated through its ..data symlink is applied") {
  TempDir dir;
  auto fake = StartFake();
  const std::string volume = dir.UpdateLikeConfigMap("policies", {{"shop.yaml", HerokuPolicy(3)}});
  Daemon run(RunArgs(volume, dir), fake->url());
  run.WaitRunning();
  REQUIRE(run.WaitLog("to=3 cause=drift"));

  dir.UpdateLikeConfigMap("policies", {{"shop.yaml", HerokuPolicy(4)}});
  REQUIRE(run.WaitLog("msg=\"policy files changed on disk; reloading\" paths=" + volume));
  REQUIRE(run.WaitLog("to=4 cause=drift"));
  CHECK(fake->Quantity("shop", "web") == 4);

  // A second sync: the first swap removed the directory the file resolved to.
  dir.UpdateLikeConfigMap("policies", {{"shop.yaml", HerokuPolicy(5, "5s")}});
  REQUIRE(run.WaitLog("level=error msg=\"reload rejected; the previous policies keep running\" "
                      "error=\"" +
                      volume + "/shop.yaml:6:13: spec.interval: must be >= 10s (got 5s)\""));
  dir.UpdateLikeConfigMap("policies", {{"shop.yaml", HerokuPolicy(5)}});
  REQUIRE(run.WaitLog("to=5 cause=drift"));
  CHECK(fake->Quantity("shop", "web") == 5);

  ProcessResult r = run.Stop(SIGTERM);
  CHECK(r.exit_code == 0);
}

TEST_CASE("run holds the state file: a reconcile or a second run on it exits 1") {
  TempDir dir;
  std::string policy = dir.Write("demo.yaml", SimPolicy("1h", 1));
  std::string state = (dir.path() / "state.json").string();
  Daemon run({"-f", policy, "--state", state, "--listen", "127.0.0.1:0"});
  run.WaitRunning();

  ProcessResult reconcile = RunDynoherd({"reconcile", "-f", policy, "--state", state});
  CHECK(reconcile.exit_code == 1);
  CHECK(reconcile.err.find("another dynoherd holds " + state) != std::string::npos);

  ProcessResult second =
      RunDynoherd({"run", "-f", policy, "--state", state, "--listen", "127.0.0.1:0"});
  CHECK(second.exit_code == 1);
  CHECK(second.err.find("level=error msg=\"cannot open the state file\" error=\"another dynoherd "
                        "holds " +
                        state + "\"") != std::string::npos);

  ProcessResult r = run.Stop(SIGINT);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("reason=SIGINT") != std::string::npos);
  CHECK(r.out.find("demo (app demo-shop)") != std::string::npos);  // the summary so far
}

TEST_CASE("run on a short simulation tells its events, ends by itself with the summary, exits 0") {
  TempDir dir;
  // 5 simulated minutes at 300x: about a second.
  std::string policy = dir.Write("demo.yaml", SimPolicy("5m", 300));
  ProcessResult r = RunDynoherd({"run", "-f", policy, "--listen", "127.0.0.1:0"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_FALSE(r.timed_out);
  // The narrator tells an event at its first tick after it: at 300x a slow build (sanitizers)
  // ticks a few simulated seconds late.
  const std::regex noisy_neighbour(
      R"re(msg="web\.2 gets a noisy neighbour \(x4 slower until it restarts\)" )re"
      R"re(simTime=1m(\d+s)? policy=demo event=noisy-neighbor)re");
  CHECK(std::regex_search(r.err, noisy_neighbour));
  CHECK(r.err.find("msg=\"restarting laggard dyno\"") != std::string::npos);
  CHECK(r.err.find("dyno=web.2") != std::string::npos);
  CHECK(r.err.find("msg=stopping simTime=5m") != std::string::npos);
  CHECK(r.err.find("reason=\"simulation finished\"") != std::string::npos);
  CHECK(r.out.find("demo (app demo-shop): 5m simulated, seed 7, a pass every 10s") !=
        std::string::npos);
  CHECK(r.out.find("restart web.2") != std::string::npos);
  CHECK(r.out.find("noisy-neighbor web.2 x4") != std::string::npos);
  // The temporary state file is gone with the run.
  CHECK(r.err.find("state=temporary") != std::string::npos);
}

TEST_CASE(
    "SIGTERM during a Heroku call that hangs: the pass is abandoned after the grace, exit 0") {
  TempDir dir;
  auto fake = StartFake("  - {kind: slow, delay: 25s, method: GET, path: /apps/shop/formation}\n");
  std::string policy = dir.Write("shop.yaml", HerokuPolicy(3));
  std::string state = (dir.path() / "state.json").string();
  // A short grace, so the test does not wait out the default 8s.
  Daemon run({"-f", policy, "--state", state, "--listen", "127.0.0.1:0", "--log-level", "debug",
              "--shutdown-grace", "500ms"},
             fake->url());
  run.WaitRunning();
  REQUIRE(run.WaitLog("msg=\"pass started\""));

  std::chrono::milliseconds took{};
  ProcessResult r = run.Stop(SIGTERM, &took);
  CHECK(r.exit_code == 0);
  CHECK_FALSE(r.timed_out);
  CHECK(took >= 500ms);  // the grace was given
  CHECK(took < 5s);
  CHECK(r.err.find("msg=\"abandoning passes still in progress\" policies=shop") !=
        std::string::npos);
  CHECK(r.err.find("msg=\"dynoherd stopped\"") != std::string::npos);
  CHECK(std::filesystem::exists(state));
  CheckNoSecrets(r.out + r.err);
}

TEST_CASE("run refuses what it cannot do well, saying why") {
  TempDir dir;
  std::string sim = dir.Write("policies/demo.yaml", SimPolicy("5m", 300));
  std::string heroku = dir.Write("policies/shop.yaml", HerokuPolicy(3));

  SUBCASE("sim and Heroku policies in one run") {
    ProcessResult r = RunDynoherd({"run", "-f", (dir.path() / "policies").string()});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("one run is either simulated or real") != std::string::npos);
  }
  SUBCASE("a taken port: a Heroku run fails, a simulated one takes a free port") {
    auto fake = StartFake();
    const std::string taken = "127.0.0.1:" + std::to_string(fake->port());
    ProcessResult real = RunDynoherd(
        {"run", "-f", heroku, "--state", (dir.path() / "state.json").string(), "--listen", taken},
        {.env = {{"HEROKU_API_KEY", kToken}, {"HEROKU_API_URL", fake->url()}}});
    CHECK(real.exit_code == 1);
    CHECK(real.err.find("msg=\"cannot listen\" error=\"cannot listen on " + taken +
                        ": address already in use (choose another with --listen)\"") !=
          std::string::npos);

    ProcessResult demo = RunDynoherd({"run", "-f", sim, "--listen", taken});
    CHECK(demo.exit_code == 0);
    CHECK(demo.err.find("level=warn msg=\"listen address in use; a simulated run takes a free "
                        "port instead\"") != std::string::npos);
    CHECK(demo.err.find("listen=http://127.0.0.1:" + std::to_string(fake->port()) + " ") ==
          std::string::npos);
  }
  SUBCASE("a malformed listen address") {
    ProcessResult r = RunDynoherd({"run", "-f", sim, "--listen", "9790"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("listen address \\\"9790\\\": no port") != std::string::npos);
  }
}

}  // namespace dynoherd::testing
