// The fake checked on its own, with cpp-httplib's client, so the Heroku client's tests rest on a
// fake that was verified independently of the code under test.
#include "tests/fake_heroku/fake_heroku.h"

#include <doctest/doctest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

using namespace dynoherd;
using namespace dynoherd::fake_heroku;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const TimePoint kStart = TimePoint{} + 1795352400s;  // 2026-11-22T13:00:00Z

Scenario ShopScenario() {
  Result<Scenario> s = ParseScenario(R"(
token: HRKU-test-token
pageSize: 2
rateLimit: {remaining: 100}
apps:
  - name: shop
    restartDelay: 20s
    formations:
      - {type: web, quantity: 5}
      - {type: worker, quantity: 1}
    logs:
      default: {medianMs: 100, count: 40}
      dynos:
        web.3: {laggardFactor: 6, h12: 2}
)",
                                     "shop");
  REQUIRE(s.ok());
  return *s;
}

Fault F(const char* yaml) {
  Result<Fault> f = ParseFault(yaml);
  REQUIRE_MESSAGE(f.ok(), f.status().message());
  return *f;
}

httplib::Headers HerokuHeaders(const std::string& token = "HRKU-test-token") {
  return {{"Accept", "application/vnd.heroku+json; version=3"},
          {"Authorization", "Bearer " + token},
          {"User-Agent", "fake-test/1"}};
}

struct Fixture {
  ManualClock clock{kStart};
  std::unique_ptr<FakeHeroku> fake;
  std::unique_ptr<httplib::Client> client;

  explicit Fixture(Scenario scenario = ShopScenario()) {
    Result<std::unique_ptr<FakeHeroku>> started = FakeHeroku::Start(std::move(scenario), clock);
    REQUIRE(started.ok());
    fake = std::move(started).value();
    client = std::make_unique<httplib::Client>("127.0.0.1", fake->port());
    client->set_read_timeout(5, 0);
  }
};

}  // namespace

TEST_CASE("the fake refuses requests Heroku would refuse, with Heroku-style errors") {
  Fixture f;
  httplib::Headers no_accept = HerokuHeaders();
  no_accept.erase("Accept");
  auto r = f.client->Get("/apps/shop/formation", no_accept);
  REQUIRE(r);
  CHECK(r->status == 406);
  CHECK(json::parse(r->body)["id"] == "not_acceptable");

  r = f.client->Get("/apps/shop/formation", HerokuHeaders("wrong"));
  REQUIRE(r);
  CHECK(r->status == 401);
  CHECK(json::parse(r->body)["id"] == "unauthorized");
  CHECK(r->has_header("Request-Id"));

  r = f.client->Get("/apps/nope/formation", HerokuHeaders());
  REQUIRE(r);
  CHECK(r->status == 404);
  CHECK(json::parse(r->body)["id"] == "not_found");

  REQUIRE(f.fake->Requests().size() == 3);
  CHECK(f.fake->Requests()[1].Header("authorization") == "Bearer wrong");
  CHECK(f.fake->Requests()[0].status == 406);
}

TEST_CASE("dynos come in 206 pages linked by Next-Range until a 200") {
  Fixture f;
  std::vector<std::string> names;
  std::optional<std::string> range;
  int pages = 0;
  for (; pages < 10; ++pages) {
    httplib::Headers h = HerokuHeaders();
    if (range) h.emplace("Range", *range);
    auto r = f.client->Get("/apps/shop/dynos", h);
    REQUIRE(r);
    for (const json& d : json::parse(r->body))
      names.push_back(d["name"]);
    if (r->status == 200) break;
    REQUIRE(r->status == 206);
    range = r->get_header_value("Next-Range");
    CHECK(range->rfind("]", 0) == 0);
  }
  CHECK(pages == 2);  // 6 dynos, 2 per page
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"web.1", "web.2", "web.3", "web.4", "web.5", "worker.1"});
  // The Range header reached the fake under its own name, despite cpp-httplib's byte ranges.
  CHECK(f.fake->Requests()[1].Header("Range") == f.fake->Requests()[1].Header("Range"));
  CHECK(f.fake->Requests()[1].Header("Range")->find("..; max=2") != std::string::npos);

  httplib::Headers bad = HerokuHeaders();
  bad.emplace("Range", "bytes=0-10");
  auto r = f.client->Get("/apps/shop/dynos", bad);
  REQUIRE(r);
  CHECK(r->status == 416);
}

TEST_CASE("scale, restart and stop change the fake's state on its own clock") {
  Fixture f;
  auto r =
      f.client->Patch("/apps/shop/formation", HerokuHeaders(),
                      R"({"updates":[{"type":"web","quantity":3},{"type":"worker","quantity":2}]})",
                      "application/json");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(f.fake->FormationQuantity("shop", "web") == 3);
  CHECK(f.fake->FormationQuantity("shop", "worker") == 2);
  auto dynos = f.fake->Dynos("shop");
  CHECK(dynos.size() == 5);
  auto find = [&](const std::string& name) {
    for (const DynoView& d : f.fake->Dynos("shop")) {
      if (d.name == name) return d;
    }
    FAIL("no dyno " << name);
    return DynoView{};
  };
  CHECK(find("worker.2").state == "starting");

  r = f.client->Delete("/apps/shop/dynos/web.2", HerokuHeaders());
  REQUIRE(r);
  CHECK(r->status == 202);
  CHECK(find("web.2").state == "starting");
  CHECK(find("web.2").updated_at == kStart);
  r = f.client->Post("/apps/shop/dynos/web.1/actions/stop", HerokuHeaders(), "", "");
  REQUIRE(r);
  CHECK(r->status == 202);
  CHECK(find("web.1").state == "down");

  f.clock.Advance(19s);
  CHECK(find("web.2").state == "starting");
  f.clock.Advance(1s);
  CHECK(find("web.2").state == "up");
  CHECK(find("web.2").updated_at == kStart + 20s);
  CHECK(find("web.1").state == "up");
  CHECK(find("worker.2").state == "up");

  r = f.client->Patch("/apps/shop/formation", HerokuHeaders(),
                      R"({"updates":[{"type":"web","quantity":-1}]})", "application/json");
  REQUIRE(r);
  CHECK(r->status == 422);
  r = f.client->Delete("/apps/shop/dynos/web.9", HerokuHeaders());
  REQUIRE(r);
  CHECK(r->status == 404);
}

TEST_CASE("the rate-limit pool is charged per call, refills, and 429s when empty") {
  Scenario s = ShopScenario();
  s.rate_limit_remaining = 2;
  Fixture f(s);
  auto r = f.client->Get("/apps/shop/formation", HerokuHeaders());
  CHECK(r->get_header_value("RateLimit-Remaining") == "1");
  r = f.client->Get("/account/rate-limits", HerokuHeaders());
  CHECK(json::parse(r->body)["remaining"] == 1);  // free
  r = f.client->Get("/apps/shop/formation", HerokuHeaders());
  CHECK(r->status == 200);
  r = f.client->Get("/apps/shop/formation", HerokuHeaders());
  CHECK(r->status == 429);
  CHECK(json::parse(r->body)["id"] == "rate_limit");
  f.clock.Advance(4s);  // 75 a minute: 5 in 4 s
  CHECK(f.fake->RateLimitRemaining() == 5);
  CHECK(f.fake->BudgetedApiCalls().size() == 3);
}

TEST_CASE("ETags answer 304 for an unchanged list") {
  Fixture f;
  auto r = f.client->Get("/apps/shop/formation", HerokuHeaders());
  REQUIRE(r);
  const std::string etag = r->get_header_value("ETag");
  CHECK_FALSE(etag.empty());
  httplib::Headers h = HerokuHeaders();
  h.emplace("If-None-Match", etag);
  r = f.client->Get("/apps/shop/formation", h);
  CHECK(r->status == 304);
  CHECK(r->body.empty());
  f.client->Patch("/apps/shop/formation/web", HerokuHeaders(), R"({"quantity": 2})",
                  "application/json");
  r = f.client->Get("/apps/shop/formation", h);
  CHECK(r->status == 200);
}

TEST_CASE(
    "faults: errors with Retry-After, drops, malformed JSON, truncation, each as often as asked") {
  Fixture f;
  f.fake->AddFault(F("{method: GET, path: /apps/shop/formation, status: 429, retryAfter: '3'}"));
  auto r = f.client->Get("/apps/shop/formation", HerokuHeaders());
  CHECK(r->status == 429);
  CHECK(r->get_header_value("Retry-After") == "3");
  r = f.client->Get("/apps/shop/formation", HerokuHeaders());
  CHECK(r->status == 200);

  f.fake->AddFault(F("{kind: drop, path: /apps/shop/dynos}"));
  r = f.client->Get("/apps/shop/dynos", HerokuHeaders());
  CHECK_FALSE(r);
  CHECK(f.fake->Requests().back().status == 0);

  f.fake->AddFault(F("{kind: malformed-json, path: /apps/shop/dynos, skip: 1}"));
  r = f.client->Get("/apps/shop/dynos", HerokuHeaders());
  CHECK_FALSE(json::parse(r->body, nullptr, false).is_discarded());  // skipped once
  r = f.client->Get("/apps/shop/dynos", HerokuHeaders());
  CHECK(json::parse(r->body, nullptr, false).is_discarded());

  f.fake->AddFault(F("{kind: truncate, path: /apps/shop/formation}"));
  r = f.client->Get("/apps/shop/formation", HerokuHeaders());
  CHECK_FALSE(r);
}

TEST_CASE("log sessions stream generated router lines from the fake itself, without the token") {
  Fixture f;
  auto r = f.client->Post("/apps/shop/log-sessions", HerokuHeaders(),
                          R"({"source":"heroku","dyno_name":"router","lines":1500,"tail":false})",
                          "application/json");
  REQUIRE(r);
  REQUIRE(r->status == 201);
  const std::string url = json::parse(r->body)["logplex_url"];
  const std::string prefix = f.fake->base_url();
  REQUIRE(url.rfind(prefix, 0) == 0);
  const std::string path = url.substr(prefix.size());

  auto logs = f.client->Get(path);
  REQUIRE(logs);
  CHECK(logs->status == 200);
  int lines = 0, web3 = 0, h12 = 0;
  for (size_t pos = 0; pos < logs->body.size(); ++lines) {
    size_t eol = logs->body.find('\n', pos);
    const std::string line = logs->body.substr(pos, eol - pos);
    CHECK(line.find(" heroku[router]: at=") != std::string::npos);
    if (line.find("dyno=web.3 ") != std::string::npos) ++web3;
    if (line.find("code=H12") != std::string::npos) ++h12;
    pos = eol + 1;
  }
  CHECK(lines == 5 * 40 + 2);  // web dynos only: the router does not serve workers
  CHECK(web3 == 42);
  CHECK(h12 == 2);

  auto leak = f.client->Get(path, HerokuHeaders());
  CHECK(leak->status == 400);  // the fake refuses to be sent the API token
  auto wrong_secret = f.client->Get(path.substr(0, path.find("srv=") + 4) + "nope");
  CHECK(wrong_secret->status == 404);

  // After a restart web.3 is cured, and it serves no requests until it is up again.
  f.client->Delete("/apps/shop/dynos/web.3", HerokuHeaders());
  r = f.client->Post("/apps/shop/log-sessions", HerokuHeaders(),
                     R"({"dyno_name":"router","lines":1500})", "application/json");
  const std::string url2 = json::parse(r->body)["logplex_url"];
  logs = f.client->Get(url2.substr(prefix.size()));
  CHECK(logs->body.find("dyno=web.3 ") == std::string::npos);
  CHECK(logs->body.find("code=H12") == std::string::npos);
}

TEST_CASE("fake-heroku runs as a process with admin routes") {
  const char* build_dir = std::getenv("DYNOHERD_BUILD_DIR");
  REQUIRE_MESSAGE(build_dir != nullptr, "run through ctest, which sets DYNOHERD_BUILD_DIR");
  char dir_template[] = "/tmp/fake-heroku-test-XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  const std::string dir = dir_template;
  const std::string scenario = dir + "/scenario.yaml";
  std::ofstream(scenario) << "token: HRKU-proc\nstartTime: 2026-11-22T13:00:00Z\n"
                             "apps:\n  - name: shop\n    formations: [{type: web, quantity: 2}]\n";
  const std::string binary = std::string(build_dir) + "/fake-heroku";
  const std::string port_file = dir + "/port";
  std::vector<std::string> args = {binary,    "--scenario", scenario, "--port-file",
                                   port_file, "--clock",    "manual"};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  REQUIRE(pipe(out) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);

  // The process announces itself once it accepts connections; wait for that line (bounded).
  std::string announced;
  pollfd p{out[0], POLLIN, 0};
  while (announced.find('\n') == std::string::npos && poll(&p, 1, 10000) > 0) {
    char buf[256];
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    announced.append(buf, n);
  }
  close(out[0]);
  REQUIRE_MESSAGE(announced.rfind("fake-heroku listening on http://127.0.0.1:", 0) == 0, announced);
  int port = 0;
  std::ifstream(port_file) >> port;
  CHECK(announced.find(std::string(":").append(std::to_string(port)).append("\n")) !=
        std::string::npos);

  httplib::Client client("127.0.0.1", port);
  auto r = client.Get("/apps/shop/formation", HerokuHeaders("HRKU-proc"));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(json::parse(r->body)[0]["quantity"] == 2);
  client.Delete("/apps/shop/dynos/web.1", HerokuHeaders("HRKU-proc"));

  auto recorded = client.Get("/__admin/requests");
  REQUIRE(recorded);
  json requests = json::parse(recorded->body);
  REQUIRE(requests.size() == 2);
  CHECK(requests[0]["path"] == "/apps/shop/formation");
  CHECK(requests[1]["method"] == "DELETE");

  auto advanced = client.Post("/__admin/clock/advance", R"({"by": "25s"})", "application/json");
  REQUIRE(advanced);
  CHECK(json::parse(advanced->body)["now"] == "2026-11-22T13:00:25.000Z");
  json state = json::parse(client.Get("/__admin/state")->body);
  CHECK(state["apps"][0]["dynos"][0]["state"] == "up");

  auto fault = client.Post("/__admin/faults", R"({"status": 503, "path": "/apps/shop/formation"})",
                           "application/json");
  CHECK(fault->status == 201);
  CHECK(client.Get("/apps/shop/formation", HerokuHeaders("HRKU-proc"))->status == 503);

  kill(pid, SIGTERM);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::remove(port_file.c_str());
  std::remove(scenario.c_str());
  rmdir(dir.c_str());
}
