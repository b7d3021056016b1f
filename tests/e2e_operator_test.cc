// End-to-end tests of `dynoherd plan`, `reconcile` and `status`: the real binary against
// build/fake-heroku started as a process (HEROKU_API_URL, HEROKU_API_KEY in the child's
// environment), and against the embedded simulator for what needs latency.
//
// Heroku-side policies here declare quantities without latency (drift correction needs none):
// the Heroku latency sources (router logs, Prometheus) land separately, and a laggard restart
// through Heroku is tested once they do. Laggard restarts and latency-event scales through the
// real binary are tested on provider: sim with --sim-at.
#include <doctest/doctest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "tests/support/fake_heroku_process.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace dynoherd::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kToken = "HRKU-e2e-0000-shop-secret-token";
constexpr const char* kWrongToken = "HRKU-e2e-9999-wrong-secret-token";

// shop: web x5, worker x1; blog: web x2.
std::string Scenario() {
  return std::string("token: ") + kToken + R"(
apps:
  - name: shop
    formations:
      - {type: web, quantity: 5}
      - {type: worker, quantity: 1}
  - name: blog
    formations:
      - {type: web, quantity: 2}
)";
}

// A policy that declares the quantity of `web` and nothing else: drift correction only.
std::string DriftPolicy(const std::string& name, const std::string& app, int web) {
  return "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: " + name +
         "}\nspec:\n  app: " + app +
         "\n  formations:\n    - {type: web, quantity: " + std::to_string(web) + "}\n";
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// One test's world: a fake Heroku process, a directory with the policies, the state file and
// the metrics file.
struct World {
  World() {
    Result<std::unique_ptr<FakeHerokuProcess>> started = FakeHerokuProcess::Start(Scenario());
    REQUIRE_MESSAGE(started.ok(), started.status().message());
    fake = std::move(started).value();
    state = (dir.path() / "state" / "state.json").string();
  }

  std::string Policy(const std::string& file, const std::string& yaml) const {
    return dir.Write(file, yaml);
  }

  ProcessResult Run(std::vector<std::string> args, std::map<std::string, std::string> env = {},
                    const std::string& token = kToken) const {
    args.push_back("--state");
    args.push_back(state);
    std::map<std::string, std::string> full = fake->Env(token);
    for (auto& [k, v] : env)
      full[k] = v;
    return RunDynoherd(std::move(args), {.env = full});
  }

  TempDir dir;
  std::unique_ptr<FakeHerokuProcess> fake;
  std::string state;
};

// Everything a run left behind that a secret must never be in.
std::string Everything(const World& w, const ProcessResult& r,
                       const std::vector<std::string>& files = {}) {
  std::string all = r.out + "\n" + r.err + "\n" + ReadFile(w.state);
  for (const auto& f : files)
    all.append("\n").append(ReadFile(f));
  return all;
}

// --- plan

TEST_CASE("plan: exit 0 when converged, 2 with actions planned, 1 on error; it changes nothing") {
  World w;
  const std::string converged = w.Policy("converged.yaml", DriftPolicy("shop-web", "shop", 5));
  const std::string drifted = w.Policy("drifted.yaml", DriftPolicy("shop-web", "shop", 6));

  ProcessResult none = w.Run({"plan", "-f", converged});
  CHECK(none.exit_code == 0);
  CHECK(none.out == "shop-web (app shop)\n  No changes.\n\nPlan: no changes.\n");

  ProcessResult changes = w.Run({"plan", "-f", drifted});
  CHECK(changes.exit_code == 2);
  CHECK(changes.out ==
        "shop-web (app shop)\n"
        "  web  scale 5 -> 6        drift: the spec declares 6\n"
        "\n"
        "Plan: 1 scale.\n");
  CHECK(changes.err == "");  // plan logs warnings and errors only by default

  ProcessResult error = w.Run({"plan", "-f", drifted}, {}, kWrongToken);
  CHECK(error.exit_code == 1);
  CHECK(Contains(error.out,
                 "  Error: observe app shop: list formations of shop: Heroku "
                 "answered 401 unauthorized"));
  CHECK(Contains(error.out, "\n1 of 1 policy failed:\n  shop-web: observe app shop"));
  CHECK(Contains(error.err, "level=error msg=\"pass failed\" policy=shop-web app=shop"));

  // An error anywhere wins over planned changes elsewhere.
  const std::string missing = w.Policy("missing.yaml", DriftPolicy("gone", "no-such-app", 1));
  ProcessResult mixed = w.Run({"plan", "-f", drifted, "-f", missing});
  CHECK(mixed.exit_code == 1);
  CHECK(Contains(mixed.out, "web  scale 5 -> 6"));
  CHECK(Contains(mixed.out,
                 "Plan: 1 scale.\n1 of 2 policies failed:\n  gone: observe app "
                 "no-such-app"));

  CHECK(w.fake->Requests("PATCH").empty());
  CHECK(w.fake->Requests("DELETE").empty());
  CHECK(w.fake->Quantity("shop", "web") == 5);
  CHECK_FALSE(fs::exists(w.state));  // read if present, never written
}

TEST_CASE("-a/--app: the same policy file planned and reconciled against another app") {
  World w;
  // Written for production; -a points it at blog (web x2) as `heroku ps -a blog` would.
  const std::string policy = w.Policy("shop.yaml", DriftPolicy("web", "${HEROKU_APP_NAME}", 3));

  ProcessResult plan = w.Run({"plan", "-f", policy, "-a", "blog"});
  CHECK(plan.exit_code == 2);
  CHECK(plan.out ==
        "web (app blog)\n"
        "  web  scale 2 -> 3        drift: the spec declares 3\n"
        "\n"
        "Plan: 1 scale.\n");

  ProcessResult reconcile = w.Run({"reconcile", "-f", policy, "--app", "blog"});
  CHECK(reconcile.exit_code == 0);
  CHECK(w.fake->Quantity("blog", "web") == 3);
  CHECK(w.fake->Quantity("shop", "web") == 5);  // the app the policy did not name is untouched
  ProcessResult status = w.Run({"status", "-f", policy, "-a", "blog", "-o", "json"});
  CHECK(status.exit_code == 0);
  CHECK(json::parse(status.out)["policies"][0]["app"] == "blog");

  // A bad name is located at spec.app and says where it came from; -a needs -f.
  ProcessResult bad = w.Run({"plan", "-f", policy, "-a", "Blog_App"});
  CHECK(bad.exit_code == 1);
  CHECK(Contains(bad.err, policy + ":5:8: spec.app: must be a Heroku app name (3 to 30 "
                                   "characters: a-z, 0-9 and '-', starting with a letter) or "
                                   "an app id (UUID) (got \"Blog_App\" from -a)"));
  ProcessResult alone = w.Run({"status", "-a", "blog"});
  CHECK(alone.exit_code == 1);
  CHECK(Contains(alone.err, "--app requires --filename"));

  // Two policies of two apps in one set, both moved to blog, would fight over blog's web.
  const std::string other = w.Policy("other.yaml", DriftPolicy("other", "shop", 5));
  ProcessResult both = RunDynoherd({"validate", "-f", policy, "-f", other, "-a", "blog"});
  CHECK(both.exit_code == 1);
  CHECK(Contains(both.err, "formation \"web\" of app \"blog\" is already managed by policy"));
}

TEST_CASE("plan --output json: one object with the policies, actions, formations and a summary") {
  World w;
  const std::string drifted = w.Policy("drifted.yaml", DriftPolicy("shop-web", "shop", 6));
  ProcessResult r = w.Run({"plan", "-f", drifted, "--output", "json"});
  CHECK(r.exit_code == 2);
  json j = json::parse(r.out);
  CHECK(j["dryRun"] == true);
  CHECK(j["summary"]["plannedActions"] == 1);
  CHECK(j["summary"]["failedPolicies"] == 0);
  const json& p = j["policies"][0];
  CHECK(p["name"] == "shop-web");
  CHECK(p["result"] == "ok");
  CHECK(p["applied"] == false);
  CHECK(p["actions"][0]["kind"] == "scale");
  CHECK(p["actions"][0]["from"] == 5);
  CHECK(p["actions"][0]["to"] == 6);
  CHECK(p["actions"][0]["cause"] == "drift");
  CHECK(p["actions"][0]["applied"] == false);
  CHECK(p["formations"][0]["observedQuantity"] == 5);
  CHECK(p["formations"][0]["desiredQuantity"] == 6);
  CHECK(p["formations"][0]["dynos"].size() == 5);
  CHECK(p["formations"][0]["dynos"][0]["state"] == "up");
}

TEST_CASE("reconcile --dry-run behaves as plan: nothing sent, no state, exit 2") {
  World w;
  const std::string drifted = w.Policy("drifted.yaml", DriftPolicy("shop-web", "shop", 6));
  ProcessResult r = w.Run({"reconcile", "--dry-run", "-f", drifted});
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.out, "Plan: 1 scale.\n"));
  CHECK(Contains(r.err, "msg=\"action planned, not applied\""));
  CHECK(Contains(r.err, "whyNotApplied=\"dry run\""));
  CHECK(w.fake->Requests("PATCH").empty());
  CHECK_FALSE(fs::exists(w.state));
}

// --- reconcile

TEST_CASE("reconcile scales a drifted formation, saves its status, and the next run has nothing") {
  World w;
  const std::string drifted = w.Policy("drifted.yaml", DriftPolicy("shop-web", "shop", 6));
  ProcessResult r = w.Run({"reconcile", "-f", drifted});
  CHECK(r.exit_code == 0);
  CHECK(r.out ==
        "shop-web (app shop)\n"
        "  web  scale 5 -> 6        drift: the spec declares 6\n"
        "\n"
        "Applied: 1 scale.\n");
  CHECK(Contains(r.err,
                 "level=info msg=\"scaled formation\" policy=shop-web app=shop "
                 "formation=web from=5 to=6 cause=drift"));

  std::vector<json> patches = w.fake->Requests("PATCH");
  REQUIRE(patches.size() == 1);
  CHECK(patches[0]["path"] == "/apps/shop/formation");
  CHECK(json::parse(patches[0]["body"].get<std::string>()) ==
        json::parse(R"({"updates": [{"type": "web", "quantity": 6}]})"));
  CHECK(w.fake->Quantity("shop", "web") == 6);

  json state = json::parse(ReadFile(w.state));
  CHECK(state["version"] == 1);
  CHECK(state["policies"]["shop-web"]["app"] == "shop");
  CHECK(state["lastPasses"]["shop-web"]["lastPass"]["result"] == "ok");
  CHECK(state["lastPasses"]["shop-web"]["lastActions"]["actions"][0]["summary"] ==
        "scale 5 -> 6");

  ProcessResult again = w.Run({"reconcile", "-f", drifted});
  CHECK(again.exit_code == 0);
  CHECK(again.out == "shop-web (app shop)\n  No changes.\n\nApplied: no changes.\n");
  CHECK(w.fake->Requests("PATCH").size() == 1);
}

TEST_CASE("reconcile: a failing policy does not stop the others; exit 1 names it and why") {
  World w;
  const std::string shop = w.Policy("a-shop.yaml", DriftPolicy("shop-web", "shop", 6));
  const std::string gone = w.Policy("b-gone.yaml", DriftPolicy("gone", "no-such-app", 1));
  const std::string blog = w.Policy("c-blog.yaml", DriftPolicy("blog-web", "blog", 3));
  ProcessResult r = w.Run({"reconcile", "-f", shop, "-f", gone, "-f", blog});
  CHECK(r.exit_code == 1);
  CHECK(w.fake->Quantity("shop", "web") == 6);
  CHECK(w.fake->Quantity("blog", "web") == 3);
  CHECK(Contains(r.out,
                 "Applied: 2 scales.\n1 of 3 policies failed:\n  gone: observe app "
                 "no-such-app: "));
  CHECK(Contains(r.err, "level=error msg=\"pass failed\" policy=gone app=no-such-app"));
  json state = json::parse(ReadFile(w.state));
  CHECK(state["lastPasses"]["gone"]["lastPass"]["result"] == "error");
  CHECK(state["lastPasses"]["blog-web"]["lastPass"]["result"] == "ok");
}

TEST_CASE("reconcile: an action the API refuses fails the policy and is recorded, not retried") {
  World w;
  REQUIRE(w.fake
              ->AddFault("{method: PATCH, status: 422, id: invalid_params, message: 'Cannot "
                         "change formation for a preboot app until release phase and preboot "
                         "complete.'}")
              .ok());
  const std::string drifted = w.Policy("drifted.yaml", DriftPolicy("shop-web", "shop", 6));
  ProcessResult r = w.Run({"reconcile", "-f", drifted, "--output", "json"});
  CHECK(r.exit_code == 1);
  json j = json::parse(r.out);
  const json& action = j["policies"][0]["actions"][0];
  CHECK(action["failed"] == true);
  CHECK(action["applied"] == false);
  CHECK(Contains(action["error"].get<std::string>(), "preboot"));
  CHECK(j["summary"]["failedActions"] == 1);
  CHECK(Contains(r.err, "level=error msg=\"scaling failed\""));
  CHECK(w.fake->Requests("PATCH").size() == 1);
  json state = json::parse(ReadFile(w.state));
  CHECK(state["lastPasses"]["shop-web"]["lastPass"]["actions"][0]["failed"] == true);
  bool degraded = false;
  for (const auto& c : state["policies"]["shop-web"]["formations"][0]["conditions"]) {
    if (c["type"] == "Degraded") degraded = c["status"] == "True" && c["reason"] == "ActionFailed";
  }
  CHECK(degraded);
}

TEST_CASE("reconcile: a second one on the same state file exits 1, naming the file") {
  World w;
  // The first reconcile's observation waits 3 s at the fake, holding the lock meanwhile.
  REQUIRE(
      w.fake->AddFault("{kind: slow, delay: 3s, method: GET, path: /apps/shop/formation}").ok());
  const std::string policy = w.Policy("shop.yaml", DriftPolicy("shop-web", "shop", 5));
  std::map<std::string, std::string> env = w.fake->Env(kToken);
  Result<Subprocess> first = Subprocess::Start(
      DynoherdBinary(),
      {.args = {"reconcile", "-f", policy, "--state", w.state, "--log-level", "debug"},
       .env = env});
  REQUIRE(first.ok());
  REQUIRE(first->WaitForOutput("pass started", 20s));

  ProcessResult second = w.Run({"reconcile", "-f", policy});
  CHECK(second.exit_code == 1);
  CHECK(second.out == "");
  CHECK(Contains(second.err, "another dynoherd holds " + w.state));

  // `plan` only reads the state: it runs beside the reconcile.
  ProcessResult plan = w.Run({"plan", "-f", policy});
  CHECK(plan.exit_code == 0);

  ProcessResult done = first->Wait(30s);
  CHECK(done.exit_code == 0);
  CHECK(w.Run({"reconcile", "-f", policy}).exit_code == 0);  // the lock went with the process
}

// --- metrics outputs

TEST_CASE("reconcile --metrics-file: Prometheus text that promtool accepts, written atomically") {
  World w;
  const std::string drifted = w.Policy("drifted.yaml", DriftPolicy("shop-web", "shop", 6));
  const fs::path textfile_dir = w.dir.path() / "textfile";
  fs::create_directories(textfile_dir);
  const std::string metrics = (textfile_dir / "dynoherd.prom").string();
  ProcessResult r = w.Run({"reconcile", "-f", drifted, "--metrics-file", metrics});
  CHECK(r.exit_code == 0);
  const std::string text = ReadFile(metrics);
  CHECK(Contains(text, "dynoherd_build_info{version=\""));
  CHECK(Contains(text, "dynoherd_reconcile_total{policy=\"shop-web\",result=\"ok\"} 1\n"));
  CHECK(Contains(text,
                 "dynoherd_formation_quantity{app=\"shop\",formation=\"web\","
                 "policy=\"shop-web\"} 5\n"));
  CHECK(Contains(text,
                 "dynoherd_formation_desired_quantity{app=\"shop\",formation=\"web\","
                 "policy=\"shop-web\"} 6\n"));
  CHECK(Contains(text,
                 "dynoherd_scale_changes_total{app=\"shop\",direction=\"up\","
                 "formation=\"web\",policy=\"shop-web\"} 1\n"));
  CHECK(Contains(text, "dynoherd_heroku_requests_total{code=\"200\",method=\"PATCH\"} 1\n"));
  CHECK(Contains(text, "dynoherd_last_reconcile_timestamp_seconds{policy=\"shop-web\"} "));

  ProcessResult promtool =
      RunProcess("/usr/bin/promtool", {.args = {"check", "metrics"}, .stdin_data = text});
  INFO(promtool.out, promtool.err);
  CHECK(promtool.exit_code == 0);

  // Only the file itself: no temporary left for the textfile collector's *.prom glob to catch.
  std::vector<std::string> entries;
  for (const auto& e : fs::directory_iterator(textfile_dir))
    entries.push_back(e.path().filename().string());
  CHECK(entries == std::vector<std::string>{"dynoherd.prom"});
  CHECK((fs::status(metrics).permissions() & fs::perms::others_read) != fs::perms::none);
}

TEST_CASE(
    "reconcile --metrics-file: a failed pass is counted; an unwritable file is an error log") {
  World w;
  const std::string drifted = w.Policy("drifted.yaml", DriftPolicy("shop-web", "shop", 6));
  const std::string metrics = (w.dir.path() / "dynoherd.prom").string();
  ProcessResult failed =
      w.Run({"reconcile", "-f", drifted, "--metrics-file", metrics}, {}, kWrongToken);
  CHECK(failed.exit_code == 1);
  const std::string text = ReadFile(metrics);
  CHECK(Contains(text, "dynoherd_reconcile_total{policy=\"shop-web\",result=\"error\"} 1\n"));
  CHECK(Contains(text, "dynoherd_heroku_requests_total{code=\"401\",method=\"GET\"} 1\n"));
  CHECK_FALSE(Contains(text, "dynoherd_last_reconcile_timestamp_seconds{"));

  const std::string nowhere = (w.dir.path() / "missing-dir" / "dynoherd.prom").string();
  ProcessResult unwritable = w.Run({"reconcile", "-f", drifted, "--metrics-file", nowhere});
  CHECK(unwritable.exit_code == 0);  // the formations were reconciled; the metrics are not
  CHECK(Contains(unwritable.err,
                 "level=error msg=\"writing the metrics file failed\" "
                 "error=\"cannot write the metrics file " +
                     nowhere));
}

// A Pushgateway stand-in on 127.0.0.1 that records each push.
class FakePushgateway {
 public:
  FakePushgateway() {
    server_.Put(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      pushes_.push_back({req.path, req.body, req.get_header_value("Authorization")});
      res.status = 200;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakePushgateway() {
    server_.stop();
    thread_.join();
  }
  struct Push {
    std::string path, body, authorization;
  };
  std::vector<Push> pushes() {
    std::lock_guard lock(mu_);
    return pushes_;
  }
  int port() const { return port_; }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Push> pushes_;
};

TEST_CASE(
    "reconcile --pushgateway: the run's metrics PUT under job dynoherd; failures only logged") {
  World w;
  const std::string drifted = w.Policy("drifted.yaml", DriftPolicy("shop-web", "shop", 6));
  FakePushgateway gateway;
  const std::string url =
      "http://ops:gw-password-42@127.0.0.1:" + std::to_string(gateway.port()) + "/";
  ProcessResult r = w.Run({"reconcile", "-f", drifted, "--pushgateway", url,
                           "--pushgateway-instance", "cron-eu", "--log-level", "debug"});
  CHECK(r.exit_code == 0);
  std::vector<FakePushgateway::Push> pushes = gateway.pushes();
  REQUIRE(pushes.size() == 1);
  CHECK(pushes[0].path == "/metrics/job/dynoherd/instance/cron-eu");
  CHECK(Contains(pushes[0].body, "dynoherd_scale_changes_total{app=\"shop\",direction=\"up\","));
  CHECK(pushes[0].authorization == "Basic b3BzOmd3LXBhc3N3b3JkLTQy");  // ops:gw-password-42
  CHECK(Contains(r.err, "msg=\"metrics pushed\""));
  CHECK_FALSE(Contains(r.out + r.err, "gw-password-42"));

  // Nothing listens there: the reconcile still succeeds; the failure is an ERROR log.
  ProcessResult down = w.Run({"reconcile", "-f", drifted, "--pushgateway", "http://127.0.0.1:1/",
                              "--pushgateway-timeout", "2s"});
  CHECK(down.exit_code == 0);
  CHECK(Contains(down.err,
                 "level=error msg=\"pushing the metrics failed\" error=\"push metrics "
                 "to the Pushgateway 127.0.0.1:1: connect to 127.0.0.1:1: "));

  ProcessResult bad = w.Run({"reconcile", "-f", drifted, "--pushgateway", "gateway:9091"});
  CHECK(bad.exit_code == 1);
  CHECK(Contains(bad.err, "--pushgateway: not a URL"));
}

// --- secrets

TEST_CASE("no token in any output: stdout, stderr, logs, state and metrics, across failures") {
  World w;
  const std::string drifted = w.Policy("drifted.yaml", DriftPolicy("shop-web", "shop", 6));
  const std::string metrics = (w.dir.path() / "dynoherd.prom").string();

  SUBCASE("a token Heroku rejects (401)") {
    for (const char* format : {"logfmt", "json"}) {
      ProcessResult r = w.Run({"reconcile", "-f", drifted, "--metrics-file", metrics, "--log-level",
                               "debug", "--log-format", format},
                              {}, kWrongToken);
      CHECK(r.exit_code == 1);
      CHECK(Contains(r.out, "401"));
      CHECK_FALSE(Contains(Everything(w, r, {metrics}), kWrongToken));
    }
  }
  SUBCASE("503 on every call") {
    REQUIRE(w.fake->AddFault("{method: GET, status: 503, times: 0}").ok());
    ProcessResult r =
        w.Run({"reconcile", "-f", drifted, "--metrics-file", metrics, "--log-level", "debug"});
    CHECK(r.exit_code == 1);
    CHECK(Contains(r.out, "503"));
    CHECK_FALSE(Contains(Everything(w, r, {metrics}), kToken));
  }
  SUBCASE("an unreachable API") {
    ProcessResult r =
        w.Run({"reconcile", "-f", drifted, "--metrics-file", metrics, "--log-level", "debug"},
              {{"HEROKU_API_URL", "http://127.0.0.1:1"}});
    CHECK(r.exit_code == 1);
    CHECK(Contains(r.out, "connect to 127.0.0.1:1"));
    CHECK_FALSE(Contains(Everything(w, r, {metrics}), kToken));
  }
  SUBCASE("success, with every debug line and the JSON output") {
    ProcessResult r = w.Run({"reconcile", "-f", drifted, "--metrics-file", metrics, "--log-level",
                             "debug", "--output", "json"});
    CHECK(r.exit_code == 0);
    ProcessResult status = w.Run({"status", "--output", "yaml"});
    CHECK(status.exit_code == 0);
    CHECK_FALSE(Contains(Everything(w, r, {metrics}) + status.out + status.err, kToken));
  }
  SUBCASE("a secret that reaches a message anyway is redacted on stdout and stderr") {
    // An app named after a secret: every message about the app quotes it.
    const std::string named =
        w.Policy("named.yaml", DriftPolicy("leaky", "${DYNOHERD_DRAIN_SECRET}", 1));
    ProcessResult r = w.Run({"plan", "-f", named, "--log-level", "debug"},
                            {{"DYNOHERD_DRAIN_SECRET", "drain-password-77"}});
    CHECK(r.exit_code == 1);
    CHECK(Contains(r.out, "observe app [REDACTED]: "));
    CHECK(Contains(r.err, "app=[REDACTED]"));
    CHECK_FALSE(Contains(r.out + r.err, "drain-password-77"));

    // The loader quotes the expanded value of a field it rejects.
    const std::string invalid =
        w.Policy("invalid.yaml", DriftPolicy("leaky", "${HEROKU_API_KEY}", 1));
    ProcessResult loader = w.Run({"plan", "-f", invalid});
    CHECK(loader.exit_code == 1);
    CHECK(Contains(loader.err, "(got \"[REDACTED]\" from \"${HEROKU_API_KEY}\")"));
    CHECK_FALSE(Contains(loader.out + loader.err, kToken));
  }
}

// --- status

TEST_CASE("status: a table of the last known state, problems and last actions; json and yaml") {
  World w;
  const std::string drifted = w.Policy("drifted.yaml", DriftPolicy("shop-web", "shop", 6));

  ProcessResult empty = w.Run({"status"});
  CHECK(empty.exit_code == 0);
  CHECK(empty.out == "No policy has a status in " + w.state +
                         " yet: `dynoherd reconcile` (or `run`) writes it.\n");

  REQUIRE(w.Run({"reconcile", "-f", drifted}).exit_code == 0);
  REQUIRE(w.Run({"reconcile", "-f", drifted}, {}, kWrongToken).exit_code == 1);

  ProcessResult text = w.Run({"status"});
  CHECK(text.exit_code == 0);
  INFO(text.out);
  // The failed pass could not observe: the columns are what the last pass that could saw.
  CHECK(
      text.out.starts_with("POLICY    FORMATION  DYNOS  DESIRED  BASELINE  LATENCY  EVENT  "
                           "CONDITIONS      LAST PASS\n"
                           "shop-web  web        5      6        6         -        -      "
                           "Ready=False "));
  // Ages depend on how fast the runs went: "0s" or "1s" are the same here.
  const std::string aged = std::regex_replace(text.out, std::regex(R"(\b\d+s\b)"), "Ns");
  CHECK(Contains(aged, "failed Ns ago\n"));
  CHECK(Contains(aged,
                 "\nProblems:\n  shop-web: last pass Ns ago failed: observe app shop: "
                 "list formations of shop: Heroku answered 401 unauthorized"));
  CHECK(Contains(aged, "  shop-web/web: Ready=False for Ns: observed 5, desired 6\n"));
  CHECK(Contains(aged,
                 "\nLast actions:\n  shop-web/web  Ns ago  scale 5 -> 6  drift: the "
                 "spec declares 6\n"));

  ProcessResult js = w.Run({"status", "--output", "json"});
  CHECK(js.exit_code == 0);
  json j = json::parse(js.out);
  CHECK(j["stateFile"] == w.state);
  CHECK(j["policies"][0]["name"] == "shop-web");
  CHECK(j["policies"][0]["status"]["app"] == "shop");
  CHECK(j["policies"][0]["lastPass"]["result"] == "error");
  CHECK(j["policies"][0]["lastPass"]["formations"][0]["observedQuantity"] == 5);

  ProcessResult yaml = w.Run({"status", "--output", "yaml"});
  CHECK(yaml.exit_code == 0);
  CHECK(Contains(yaml.out, "stateFile: \"" + w.state + "\"\n"));
  CHECK(Contains(yaml.out, "\n    name: \"shop-web\"\n"));
  CHECK(Contains(yaml.out, "\n      result: \"error\"\n"));

  // -f picks and orders the policies, and names those never reconciled.
  const std::string blog = w.Policy("blog.yaml", DriftPolicy("blog-web", "blog", 2));
  ProcessResult picked = w.Run({"status", "-f", blog, "-f", drifted});
  CHECK(Contains(picked.out, "\nblog-web  web        -  "));
  CHECK(Contains(picked.out, "never\nshop-web  web"));
}

// --- the simulator: latency, laggards and events through the real binary

TEST_CASE("sim: a fresh world has served no request; --sim-at shows the demo's incidents") {
  TempDir dir;
  const std::string state = (dir.path() / "state.json").string();
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"-f", "examples/demo.yaml", "--state", state});
    return RunDynoherd(std::move(args));
  };

  ProcessResult fresh = run({"plan"});
  CHECK(fresh.exit_code == 0);
  CHECK(Contains(fresh.out, "  web  latency unknown (no requests in the last 2m): holding 6"));

  // 3m: web.3 gets a noisy neighbour; by 6m it is far slower than the others.
  ProcessResult laggard = run({"plan", "--sim-at", "6m"});
  CHECK(laggard.exit_code == 2);
  CHECK(Contains(laggard.out, "  web  restart web.3       laggard: p50 "));
  CHECK(Contains(laggard.out, "Plan: 1 restart.\n"));

  ProcessResult restarted = run({"reconcile", "--sim-at", "6m"});
  CHECK(restarted.exit_code == 0);
  CHECK(Contains(restarted.out, "Applied: 1 restart.\n"));
  CHECK(Contains(restarted.err,
                 "level=warn msg=\"restarting laggard dyno\" policy=demo "
                 "app=demo-shop formation=web dyno=web.3 p50Ms="));
  json saved = json::parse(ReadFile(state));
  CHECK(saved["policies"]["demo"]["formations"][0]["restarts"][0]["dyno"] == "web.3");

  // 12m: traffic surges 2.5x; a minute later the first step up.
  ProcessResult surge = run({"reconcile", "--sim-at", "13m", "--output", "json"});
  CHECK(surge.exit_code == 0);
  json j = json::parse(surge.out);
  const json& step = j["policies"][0]["actions"][0];
  CHECK(step["kind"] == "scale");
  CHECK(step["cause"] == "latency-event");
  CHECK(step["from"] == 6);
  CHECK(step["to"] == 7);
  CHECK(step["applied"] == true);
  CHECK(Contains(surge.err,
                 "level=info msg=\"scaled formation\" policy=demo app=demo-shop "
                 "formation=web from=6 to=7 cause=latency-event"));

  // Past the 30m scenario the world still serves its base traffic; the user is told.
  ProcessResult late = run({"plan", "--sim-at", "45m"});
  CHECK(late.exit_code != 1);
  CHECK(Contains(late.err, "level=warn msg=\"--sim-at is past the end of the scenario: no incident "
                           "happens after it\" policy=demo simAt=45m simDuration=30m"));
  CHECK_FALSE(Contains(laggard.err, "past the end of the scenario"));

  ProcessResult heroku_too =
      RunDynoherd({"plan", "-f", "examples/demo.yaml", "-f", "examples/shop-web.yaml", "--sim-at",
                   "1m", "--state", state});
  CHECK(heroku_too.exit_code == 1);
  CHECK(Contains(heroku_too.err,
                 "--sim-at applies to provider: sim policies only; shop-web is "
                 "provider heroku"));
}

TEST_CASE("usage errors exit 1: bad flags, missing -f, an unusable state path") {
  TempDir dir;
  ProcessResult no_files = RunDynoherd({"plan"});
  CHECK(no_files.exit_code == 1);
  CHECK(Contains(no_files.err, "--filename is required"));

  ProcessResult bad_output = RunDynoherd({"plan", "-f", "examples/demo.yaml", "--output", "xml"});
  CHECK(bad_output.exit_code == 1);

  fs::create_directories(dir.path() / "state.json");  // a directory where the file should be
  ProcessResult bad_state = RunDynoherd(
      {"reconcile", "-f", "examples/demo.yaml", "--state", (dir.path() / "state.json").string()});
  CHECK(bad_state.exit_code == 1);
  CHECK(Contains(bad_state.err, "msg=\"cannot open the state file\""));
}

}  // namespace
}  // namespace dynoherd::testing
