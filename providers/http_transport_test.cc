// The HTTP transport over real sockets on 127.0.0.1: the fake Heroku for plain HTTP and faults,
// a cpp-httplib TLS server for certificate checks, and a listener that never accepts for
// connect timeouts.
#include "providers/http_transport.h"

#include <doctest/doctest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "providers/heroku/heroku_test_support.h"
#include "tests/fake_heroku/fake_heroku.h"

using namespace dynoherd;
using namespace dynoherd::providers;
using namespace dynoherd::fake_heroku;
using namespace std::chrono_literals;
using dynoherd::providers::heroku::testing::ClosedPort;
using dynoherd::providers::heroku::testing::F;

namespace {

Scenario MakeScenario(const char* yaml) {
  Result<Scenario> s = ParseScenario(yaml, "test");
  REQUIRE_MESSAGE(s.ok(), s.status().message());
  return *s;
}

const char* kShop = R"(
token: HRKU-transport
apps:
  - name: shop
    formations: [{type: web, quantity: 3}]
    logs: {default: {medianMs: 50, count: 200}}
)";

struct Fixture {
  ManualClock clock{heroku::testing::kStart};
  std::unique_ptr<FakeHeroku> fake;

  Fixture() {
    auto started = FakeHeroku::Start(MakeScenario(kShop), clock);
    REQUIRE(started.ok());
    fake = std::move(started).value();
  }

  HttpRequest Api(std::string method, std::string path, std::string body = "") const {
    HttpRequest r;
    r.method = std::move(method);
    r.url = fake->base_url() + path;
    r.headers = {{"Accept", "application/vnd.heroku+json; version=3"},
                 {"Authorization", "Bearer HRKU-transport"},
                 {"User-Agent", "dynoherd-test/1"}};
    if (!body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    r.body = std::move(body);
    return r;
  }

  // A log session URL on the fake (opened with the fake's own API).
  std::string LogplexUrl(bool tail) {
    HttpTransport t({.user_agent = "dynoherd-test/1"});
    HttpResult r = t.Send(Api("POST", "/apps/shop/log-sessions",
                              std::string("{\"dyno_name\":\"router\",\"lines\":1500,\"tail\":") +
                                  (tail ? "true" : "false") + "}"));
    REQUIRE(r.ok());
    REQUIRE(r.response.status == 201);
    const std::string key = "\"logplex_url\":\"";
    size_t start = r.response.body.find(key) + key.size();
    return r.response.body.substr(start, r.response.body.find('"', start) - start);
  }
};

std::string SourcePath(const std::string& relative) {
  const char* root = std::getenv("DYNOHERD_SOURCE_DIR");
  return (root != nullptr ? std::string(root) : std::string(".")) + "/" + relative;
}

}  // namespace

TEST_CASE("a request carries its headers and body; response headers are found in any case") {
  Fixture f;
  HttpTransport transport({.user_agent = "dynoherd-default/2"});
  HttpRequest request = f.Api("PATCH", "/apps/shop/formation/web", R"({"quantity":2})");
  std::erase_if(request.headers, [](const auto& h) { return h.first == "User-Agent"; });
  HttpResult r = transport.Send(request);
  REQUIRE_MESSAGE(r.ok(), r.status.message());
  CHECK(r.response.status == 200);
  CHECK(r.response.headers.Get("request-id").has_value());
  CHECK(r.response.headers.Get("RATELIMIT-REMAINING") ==
        r.response.headers.Get("RateLimit-Remaining"));
  CHECK_FALSE(r.response.headers.Get("X-Not-There").has_value());
  CHECK(r.response.body.find("\"quantity\":2") != std::string::npos);

  const RecordedRequest sent = f.fake->Requests().back();
  CHECK(sent.method == "PATCH");
  CHECK(sent.path == "/apps/shop/formation/web");
  CHECK(sent.body == R"({"quantity":2})");
  CHECK(sent.Header("User-Agent") == "dynoherd-default/2");  // the transport's, as none was given
  CHECK(sent.Header("Content-Type") == "application/json");
  CHECK_FALSE(sent.Header("Expect").has_value());
}

TEST_CASE("requests from one thread reuse the connection unless a fresh one is asked for") {
  Fixture f;
  HttpTransport transport;
  REQUIRE(transport.Send(f.Api("GET", "/apps/shop/formation")).ok());
  REQUIRE(transport.Send(f.Api("GET", "/apps/shop/dynos")).ok());
  HttpRequest fresh = f.Api("GET", "/apps/shop/dynos");
  fresh.fresh_connection = true;
  REQUIRE(transport.Send(fresh).ok());
  auto requests = f.fake->Requests();
  REQUIRE(requests.size() == 3);
  CHECK(requests[0].remote_port == requests[1].remote_port);
  CHECK(requests[2].remote_port != requests[1].remote_port);
}

TEST_CASE(
    "libcurl resends a request whose reused connection dies unanswered; a fresh connection "
    "prevents it") {
  Fixture f;
  HttpTransport transport;
  REQUIRE(transport.Send(f.Api("GET", "/apps/shop/formation")).ok());  // a kept-alive connection
  f.fake->AddFault(F("{kind: drop, method: DELETE}"));
  HttpResult reused = transport.Send(f.Api("DELETE", "/apps/shop/dynos/web.1"));
  int deletes = 0;
  for (const auto& r : f.fake->Requests())
    deletes += r.method == "DELETE";
  // This is why non-idempotent calls ask for a fresh connection.
  CHECK(deletes == 2);
  CHECK(reused.ok());

  f.fake->ClearRequests();
  f.fake->AddFault(F("{kind: drop, method: DELETE}"));
  REQUIRE(transport.Send(f.Api("GET", "/apps/shop/formation")).ok());
  HttpRequest once = f.Api("DELETE", "/apps/shop/dynos/web.2");
  once.fresh_connection = true;
  HttpResult fresh = transport.Send(once);
  deletes = 0;
  for (const auto& r : f.fake->Requests())
    deletes += r.method == "DELETE";
  CHECK(deletes == 1);
  CHECK_FALSE(fresh.ok());
  CHECK(fresh.failure == TransportFailure::kConnectionLost);
  CHECK_FALSE(fresh.RequestNeverSent());
  CHECK(fresh.status.message() == "DELETE " + HostOfUrl(f.fake->base_url()) +
                                      ": the server closed the connection without answering");
}

TEST_CASE("a refused connection was never sent, and says so") {
  const int port = ClosedPort();
  HttpTransport transport;
  HttpResult r =
      transport.Send({.method = "DELETE",
                      .url = "http://127.0.0.1:" + std::to_string(port) + "/apps/x/dynos/web.1"});
  REQUIRE_FALSE(r.ok());
  CHECK(r.RequestNeverSent());
  CHECK(r.status.code() == Status::Code::kUnavailable);
  CHECK(r.status.message() ==
        "connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
}

TEST_CASE("a connect that hangs times out after the connect timeout, naming the host") {
  // A listener with a full backlog that never accepts: the kernel drops further SYNs.
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  REQUIRE(listen(listener, 0) == 0);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    fillers.push_back(fd);
  }
  const std::string host = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  HttpTransport transport({.connect_timeout = 200ms, .total_timeout = 5s});
  HttpResult r = transport.Send({.url = "http://" + host + "/"});
  for (int fd : fillers)
    close(fd);
  close(listener);
  REQUIRE_FALSE(r.ok());
  CHECK(r.RequestNeverSent());
  CHECK(r.status.code() == Status::Code::kDeadlineExceeded);
  CHECK(r.status.message() == "connect to " + host + ": timed out after 200ms");
}

TEST_CASE("an answer slower than the total timeout fails as a timeout after sending") {
  Fixture f;
  f.fake->AddFault(F("{kind: slow, delay: 10s, path: /apps/shop/dynos}"));
  HttpTransport transport({.connect_timeout = 5s, .total_timeout = 300ms});
  HttpResult r = transport.Send(f.Api("GET", "/apps/shop/dynos"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.failure == TransportFailure::kTimedOut);
  CHECK(r.status.code() == Status::Code::kDeadlineExceeded);
  CHECK(r.status.message() ==
        "GET " + HostOfUrl(f.fake->base_url()) + ": no complete response within 300ms");
  // A per-request timeout overrides the transport's.
  HttpRequest quick = f.Api("GET", "/apps/shop/formation");
  quick.total_timeout = 2s;
  CHECK(transport.Send(quick).ok());
}

TEST_CASE("a body cut short and a body too large are failures, not answers") {
  Fixture f;
  f.fake->AddFault(F("{kind: truncate, path: /apps/shop/dynos}"));
  HttpTransport transport;
  HttpResult cut = transport.Send(f.Api("GET", "/apps/shop/dynos"));
  REQUIRE_FALSE(cut.ok());
  CHECK(cut.failure == TransportFailure::kConnectionLost);
  CHECK(cut.status.message().find("connection lost before a complete response") !=
        std::string::npos);

  HttpTransport small({.max_body_bytes = 100});
  HttpResult big = small.Send(f.Api("GET", "/apps/shop/dynos"));
  REQUIRE_FALSE(big.ok());
  CHECK(big.failure == TransportFailure::kTooLarge);
  CHECK(big.status.message() ==
        "GET " + HostOfUrl(f.fake->base_url()) + ": response larger than 100 bytes");
}

TEST_CASE("only http and https URLs are fetched") {
  HttpTransport transport;
  HttpResult r = transport.Send({.url = "file:///etc/passwd"});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status.code() == Status::Code::kInvalidArgument);
  CHECK(r.RequestNeverSent());
}

TEST_CASE("TLS certificates are verified; a CA bundle can be given") {
  httplib::SSLServer server(SourcePath("tests/fake_heroku/testdata/localhost-cert.pem").c_str(),
                            SourcePath("tests/fake_heroku/testdata/localhost-key.pem").c_str());
  REQUIRE(server.is_valid());
  server.set_keep_alive_max_count(1);  // so stop() need not wait out a kept-alive connection
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server.listen_after_bind(); });
  while (!server.is_running())
    std::this_thread::yield();
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/";

  HttpResult untrusted = HttpTransport().Send({.url = url});
  CHECK_FALSE(untrusted.ok());
  CHECK(untrusted.RequestNeverSent());
  CHECK(untrusted.status.message().rfind("TLS with 127.0.0.1:" + std::to_string(port) + ": ", 0) ==
        0);

  HttpTransport trusting(
      {.ca_bundle = SourcePath("tests/fake_heroku/testdata/localhost-cert.pem")});
  HttpResult trusted = trusting.Send({.url = url});
  CHECK_MESSAGE(trusted.ok(), trusted.status.message());
  CHECK(trusted.response.body == "ok");
  server.stop();
  thread.join();
}

TEST_CASE("proxies come from the environment, as libcurl reads them") {
  Fixture proxy;
  const char* before = std::getenv("http_proxy");
  setenv("http_proxy", proxy.fake->base_url().c_str(), 1);
  HttpTransport transport;
  HttpResult r = transport.Send({.url = "http://api.example.invalid/apps/shop/formation"});
  if (before != nullptr) {
    setenv("http_proxy", before, 1);
  } else {
    unsetenv("http_proxy");
  }
  REQUIRE_MESSAGE(r.ok(), r.status.message());
  REQUIRE(proxy.fake->Requests().size() == 1);
  CHECK(proxy.fake->Requests()[0].path == "http://api.example.invalid/apps/shop/formation");
}

TEST_CASE("a stream hands over the body as it comes, within its limits") {
  Fixture f;
  HttpTransport transport;
  std::string received;
  auto collect = [&](std::string_view chunk) {
    received += chunk;
    return true;
  };

  SUBCASE("to the end of the body") {
    StreamResult r = transport.Stream({.url = f.LogplexUrl(false)}, {}, collect);
    REQUIRE_MESSAGE(r.status.ok(), r.status.message());
    CHECK(r.end == StreamEnd::kEndOfBody);
    CHECK(r.http_status == 200);
    CHECK(r.body_bytes == received.size());
    CHECK(std::count(received.begin(), received.end(), '\n') == 600);  // 3 dynos x 200
  }
  SUBCASE("up to the byte limit") {
    StreamResult r = transport.Stream({.url = f.LogplexUrl(false)}, {.max_bytes = 1000}, collect);
    REQUIRE(r.status.ok());
    CHECK(r.end == StreamEnd::kByteLimit);
    CHECK(received.size() == 1000);
  }
  SUBCASE("up to the time limit of a tailing session") {
    StreamResult r =
        transport.Stream({.url = f.LogplexUrl(true)}, {.max_duration = 300ms}, collect);
    REQUIRE_MESSAGE(r.status.ok(), r.status.message());
    CHECK(r.end == StreamEnd::kTimeLimit);
    CHECK(std::count(received.begin(), received.end(), '\n') == 600);
  }
  SUBCASE("until the receiver has enough") {
    int calls = 0;
    StreamResult r = transport.Stream({.url = f.LogplexUrl(false)}, {}, [&](std::string_view) {
      ++calls;
      return false;
    });
    REQUIRE(r.status.ok());
    CHECK(r.end == StreamEnd::kReceiverDone);
    CHECK(calls == 1);
  }
  SUBCASE("until the stop flag is set") {
    std::atomic<bool> stop{false};
    StreamResult r =
        transport.Stream({.url = f.LogplexUrl(true)}, {.max_duration = 20s, .stop = &stop},
                         [&](std::string_view chunk) {
                           received += chunk;
                           stop = true;  // as another thread would
                           return true;
                         });
    REQUIRE(r.status.ok());
    CHECK(r.end == StreamEnd::kStopped);
  }
  SUBCASE("a non-2xx answer is returned with its body, not streamed") {
    std::string url = f.LogplexUrl(false);
    url = url.substr(0, url.find("srv=") + 4) + "wrong";
    StreamResult r = transport.Stream({.url = url}, {}, collect);
    REQUIRE(r.status.ok());
    CHECK(r.http_status == 404);
    CHECK(r.error_body == "no such log session\n");
    CHECK(received.empty());
  }
}

TEST_CASE("a request sent from inside a stream callback does not disturb the stream") {
  Fixture f;
  HttpTransport transport({.user_agent = "dynoherd-test/1"});
  std::string received;
  int nested_ok = 0;
  StreamResult r = transport.Stream({.url = f.LogplexUrl(false)}, {}, [&](std::string_view chunk) {
    received += chunk;
    if (nested_ok == 0) nested_ok += transport.Send(f.Api("GET", "/apps/shop/formation")).ok();
    return true;
  });
  REQUIRE(r.status.ok());
  CHECK(nested_ok == 1);
  CHECK(std::count(received.begin(), received.end(), '\n') == 600);
}

TEST_CASE("HostOfUrl shows the host and port, never the path or credentials") {
  CHECK(HostOfUrl("https://api.heroku.com/apps/x") == "api.heroku.com");
  CHECK(HostOfUrl("https://logs.example.com:8443/sessions/s3cret?srv=abc") ==
        "logs.example.com:8443");
  CHECK(HostOfUrl("https://user:pw@host.example/") == "host.example");
  CHECK(HostOfUrl("not a url").empty());
}

TEST_CASE("HTTP dates parse for Retry-After") {
  std::optional<TimePoint> t = ParseHttpDate("Sun, 22 Nov 2026 13:00:07 GMT");
  REQUIRE(t);
  CHECK(*t == heroku::testing::kStart + 7s);
  CHECK_FALSE(ParseHttpDate("soon").has_value());
}
