// The listener over real HTTP on 127.0.0.1, serving canned sources.
#include "app/listener.h"

#include <doctest/doctest.h>
#include <httplib.h>

#include <atomic>
#include <memory>
#include <vector>

#include "tests/support/raw_connection.h"

using namespace dynoherd;
using namespace dynoherd::app;
using dynoherd::testing::RawConnection;
using namespace std::chrono_literals;

namespace {

struct Served {
  std::atomic<bool> ready{false};
  ListenerSources Sources() {
    ListenerSources s;
    s.metrics_text = [] { return std::string("# TYPE dynoherd_up gauge\ndynoherd_up 1\n"); };
    s.readiness = [this] {
      return ready ? Readiness{true, "1 policy reconciled"}
                   : Readiness{false, "waiting for the first pass of shop"};
    };
    s.status_json = [] { return std::string("{\"policies\":[]}\n"); };
    return s;
  }
};

std::unique_ptr<Listener> StartOnFreePort(Served& served, CapturingLogger& log,
                                          ListenerOptions options = {}) {
  options.address = "127.0.0.1:0";
  auto listener = Listener::Start(options, served.Sources(), log);
  REQUIRE(listener.ok());
  return std::move(listener).value();
}

httplib::Client ClientFor(const Listener& listener) {
  httplib::Client client("127.0.0.1", listener.address().port);
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  return client;
}

}  // namespace

TEST_CASE("listen addresses: host and port, every interface, IPv6 in brackets, clear errors") {
  auto parsed = ParseListenAddress("127.0.0.1:9790");
  REQUIRE(parsed.ok());
  CHECK(parsed->host == "127.0.0.1");
  CHECK(parsed->port == 9790);
  CHECK(ParseListenAddress(":8080")->host == "0.0.0.0");
  CHECK(ParseListenAddress("[::1]:0")->host == "::1");
  CHECK(ParseListenAddress("[::1]:0")->ToString() == "[::1]:0");
  CHECK(ParseListenAddress("localhost:1")->ToString() == "localhost:1");

  CHECK(ParseListenAddress("9790").status().message() ==
        "listen address \"9790\": no port (expected HOST:PORT, e.g. 127.0.0.1:9790, :9790 or "
        "[::1]:9790)");
  CHECK(ParseListenAddress("host:99999").status().message().find("0..65535") != std::string::npos);
  CHECK(ParseListenAddress("host:").status().message().find("0..65535") != std::string::npos);
  CHECK(ParseListenAddress("::1:80").status().message().find("brackets") != std::string::npos);
  CHECK_FALSE(ParseListenAddress("[::1]80").ok());
}

TEST_CASE("/metrics, /healthz, /readyz and /status answer with their content types") {
  Served served;
  CapturingLogger log;
  auto listener = StartOnFreePort(served, log);
  CHECK(listener->address().port > 0);
  CHECK(listener->url() == "http://127.0.0.1:" + std::to_string(listener->address().port));
  httplib::Client client = ClientFor(*listener);

  auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  CHECK(metrics->get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(metrics->body == "# TYPE dynoherd_up gauge\ndynoherd_up 1\n");

  auto health = client.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(health->body == "ok\n");

  auto not_ready = client.Get("/readyz");
  REQUIRE(not_ready);
  CHECK(not_ready->status == 503);
  CHECK(not_ready->body == "not ready: waiting for the first pass of shop\n");
  served.ready = true;
  auto ready = client.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  CHECK(ready->body == "ready: 1 policy reconciled\n");

  auto status = client.Get("/status");
  REQUIRE(status);
  CHECK(status->get_header_value("Content-Type") == "application/json");
  CHECK(status->body == "{\"policies\":[]}\n");

  // The index names every route, the drain route included (docs/operations.md, "The listener").
  auto index = client.Get("/");
  REQUIRE(index);
  CHECK(index->status == 200);
  for (const char* route :
       {"/metrics", "/healthz", "/readyz", "/status", "POST /drains/<policy>"}) {
    CHECK_MESSAGE(index->body.find(route) != std::string::npos, route);
  }

  auto missing = client.Get("/nothing-here");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(missing->body == "not found: /nothing-here (see /)\n");
}

TEST_CASE("/ serves the live page as HTML when there is one, the list of routes otherwise") {
  Served served;
  CapturingLogger log;
  ListenerSources sources = served.Sources();
  sources.live_page = [] { return std::string("<!DOCTYPE html><title>dynoherd</title>"); };
  auto listener = Listener::Start({.address = "127.0.0.1:0"}, sources, log);
  REQUIRE(listener.ok());
  httplib::Client client = ClientFor(**listener);
  auto page = client.Get("/");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(page->get_header_value("Content-Type") == "text/html; charset=utf-8");
  CHECK(page->body == "<!DOCTYPE html><title>dynoherd</title>");
}

TEST_CASE("the drain route: 404 until a handler is mounted, which then answers every name") {
  Served served;
  CapturingLogger log;
  auto listener = StartOnFreePort(served, log);
  httplib::Client client = ClientFor(*listener);
  const std::string batch = "83 <40>1 2012-11-30T06:45:29+00:00 host app web.3 - State changed\n";

  auto none = client.Post("/drains/shop", batch, "application/logplex-1");
  REQUIRE(none);
  CHECK(none->status == 404);
  CHECK(none->body == "no log drains on this dynoherd\n");

  std::mutex mu;
  std::vector<DrainRequest> seen;
  listener->SetDrainHandler([&](const DrainRequest& r) {
    std::lock_guard lock(mu);
    seen.push_back(r);
    return DrainResponse{202, ""};
  });
  httplib::Headers headers = {{"Logplex-Msg-Count", "1"}, {"Logplex-Frame-Id", "09C5"}};
  auto delivered = client.Post("/drains/shop", headers, batch, "application/logplex-1");
  REQUIRE(delivered);
  CHECK(delivered->status == 202);
  {
    std::lock_guard lock(mu);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].policy == "shop");
    CHECK(seen[0].body == batch);
    CHECK(seen[0].Header("logplex-frame-id") == "09C5");  // case-insensitive
    CHECK(seen[0].Header("Content-Type") == "application/logplex-1");
    CHECK(seen[0].Header("X-Absent").empty());
    CHECK(seen[0].remote_address == "127.0.0.1");
  }

  // Any name reaches the handler, which authenticates before it looks the name up: the
  // listener itself tells no policy name from another.
  auto unknown = client.Post("/drains/other", batch, "application/logplex-1");
  REQUIRE(unknown);
  CHECK(unknown->status == 202);
  std::lock_guard lock(mu);
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].policy == "other");
}

TEST_CASE("a body over the limit is refused with 413 before any handler runs") {
  Served served;
  CapturingLogger log;
  ListenerOptions options;
  options.max_body_bytes = 1024;
  auto listener = StartOnFreePort(served, log, options);
  std::atomic<int> calls{0};
  listener->SetDrainHandler([&](const DrainRequest&) {
    ++calls;
    return DrainResponse{};
  });
  httplib::Client client = ClientFor(*listener);
  auto small = client.Post("/drains/shop", std::string(100, 'x'), "application/logplex-1");
  REQUIRE(small);
  CHECK(small->status == 204);
  auto large = client.Post("/drains/shop", std::string(4096, 'x'), "application/logplex-1");
  REQUIRE(large);
  CHECK(large->status == 413);
  CHECK(calls == 1);
}

TEST_CASE("an address in use is Unavailable, naming the address") {
  Served served;
  CapturingLogger log;
  auto first = StartOnFreePort(served, log);
  ListenerOptions options;
  options.address = first->address().ToString();
  auto second = Listener::Start(options, served.Sources(), log);
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == Status::Code::kUnavailable);
  CHECK(second.status().message() == "cannot listen on " + options.address +
                                         ": address already in use (choose another with --listen)");
}

TEST_CASE("Stop ends serving and is idempotent") {
  Served served;
  CapturingLogger log;
  auto listener = StartOnFreePort(served, log);
  int port = listener->address().port;
  listener->Stop();
  listener->Stop();
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  CHECK_FALSE(client.Get("/healthz"));
}

namespace {

// Opens `count` connections that send nothing, and says how many the listener answered with a
// 503 and closed within `wait` (the others it keeps, waiting for their requests).
int RefusedOf(int port, int count, std::chrono::milliseconds wait) {
  std::vector<std::unique_ptr<RawConnection>> open;
  for (int i = 0; i < count; ++i) {
    open.push_back(std::make_unique<RawConnection>(port));
    REQUIRE(open.back()->ok());
  }
  int refused = 0;
  for (auto& c : open) {
    if (c->ClosedByServer(wait) &&
        c->received().rfind("HTTP/1.1 503 Service Unavailable", 0) == 0) {
      ++refused;
    }
    wait = 50ms;  // the first wait covered the others' too
  }
  return refused;
}

}  // namespace

TEST_CASE("connections beyond the bound per client, or in total, are answered 503 at once") {
  Served served;
  CapturingLogger log;
  SUBCASE("per client") {
    auto listener = StartOnFreePort(served, log, {.max_connections_per_client = 3});
    CHECK(RefusedOf(listener->address().port, 5, 2s) == 2);
  }
  SUBCASE("in total") {
    auto listener = StartOnFreePort(served, log, {.max_connections = 2});
    CHECK(RefusedOf(listener->address().port, 4, 2s) == 2);
  }
}

TEST_CASE("a request trickled a header line at a time is cut at the whole-request deadline") {
  Served served;
  CapturingLogger log;
  auto listener = StartOnFreePort(served, log, {.request_deadline = 300ms});
  const auto started = std::chrono::steady_clock::now();  // before the first byte leaves
  RawConnection slow(listener->address().port);
  REQUIRE(slow.Send("GET /metrics HTTP/1.1\r\nHost: x\r\n"));
  // A line every 50 ms: each read is quick, so only the deadline can end it. Bounded: 10 s.
  bool cut = false;
  for (int line = 0; line < 200 && !cut; ++line) {
    cut = slow.ClosedByServer(50ms) || !slow.Send("X-Slow: 1\r\n");
  }
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(cut);
  CHECK(took >= 290ms);  // the listener's waits are whole milliseconds, rounded down
  CHECK(slow.received().empty());  // cut, not answered

  // A request sent whole is answered, and the connection kept for the next one.
  httplib::Client client = ClientFor(*listener);
  auto health = client.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
}
