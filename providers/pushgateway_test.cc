// Pushing to a Pushgateway: a cpp-httplib server on 127.0.0.1 stands in for it.
#include "providers/pushgateway.h"

#include <doctest/doctest.h>
#include <httplib.h>

#include <mutex>
#include <thread>

#include "providers/heroku/heroku_test_support.h"

using namespace dynoherd;
using namespace dynoherd::providers;
using namespace std::chrono_literals;

namespace {

// A gateway that records what it is sent and answers `status` with `answer`.
class FakeGateway {
 public:
  explicit FakeGateway(int status = 200, std::string answer = "") {
    server_.Put(R"(/.*)",
                [this, status, answer](const httplib::Request& req, httplib::Response& res) {
                  std::lock_guard lock(mu_);
                  path_ = req.path;
                  body_ = req.body;
                  content_type_ = req.get_header_value("Content-Type");
                  authorization_ = req.get_header_value("Authorization");
                  res.status = status;
                  res.set_content(answer, "text/plain");
                });
    // One request per connection, so stop() need not wait out the client's kept-alive one.
    server_.set_keep_alive_max_count(1);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // bind_to_any_port listens already: requests queue until the loop accepts them.
  }
  ~FakeGateway() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string path() {
    std::lock_guard lock(mu_);
    return path_;
  }
  std::string body() {
    std::lock_guard lock(mu_);
    return body_;
  }
  std::string content_type() {
    std::lock_guard lock(mu_);
    return content_type_;
  }
  std::string authorization() {
    std::lock_guard lock(mu_);
    return authorization_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::string path_, body_, content_type_, authorization_;
};

const std::string kText =
    "# TYPE dynoherd_build_info gauge\ndynoherd_build_info{version=\"1\"} 1\n";

}  // namespace

TEST_CASE("PushMetrics PUTs the text format under the job, and the instance when given") {
  FakeGateway gateway;
  REQUIRE(PushMetrics({.url = gateway.url()}, kText).ok());
  CHECK(gateway.path() == "/metrics/job/dynoherd");
  CHECK(gateway.body() == kText);
  CHECK(gateway.content_type() == "text/plain; version=0.0.4");

  REQUIRE(PushMetrics({.url = gateway.url() + "/prefix/", .instance = "cron-eu"}, kText).ok());
  CHECK(gateway.path() == "/prefix/metrics/job/dynoherd/instance/cron-eu");
}

TEST_CASE("PushMetrics sends the URL's user info as basic auth") {
  FakeGateway gateway;
  const std::string url = "http://ops:s3cret@" + gateway.url().substr(7);
  REQUIRE(PushMetrics({.url = url}, kText).ok());
  CHECK(gateway.authorization() == "Basic b3BzOnMzY3JldA==");  // ops:s3cret
  CHECK(PushgatewayPassword(url) == "s3cret");
  CHECK(PushgatewayPassword(gateway.url()) == "");
}

TEST_CASE("PushMetrics: a refusal names the gateway, the status and its message") {
  FakeGateway gateway(400,
                      "pushed metrics are invalid or inconsistent with existing metrics\nmore");
  Status s = PushMetrics({.url = gateway.url()}, kText);
  CHECK(s.message() == "push metrics to the Pushgateway " + gateway.url().substr(7) +
                           ": HTTP 400: pushed metrics are invalid or inconsistent with existing "
                           "metrics");
}

TEST_CASE("PushMetrics: an unreachable gateway fails within the timeout, naming the host only") {
  const int port = heroku::testing::ClosedPort();
  Status s = PushMetrics(
      {.url = "http://ops:s3cret@127.0.0.1:" + std::to_string(port) + "/x", .timeout = 2s}, kText);
  CHECK(s.message() == "push metrics to the Pushgateway 127.0.0.1:" + std::to_string(port) +
                           ": connect to 127.0.0.1:" + std::to_string(port) +
                           ": Connection refused");
  CHECK(s.message().find("s3cret") == std::string::npos);
}

TEST_CASE("ValidatePushgatewayUrl and ValidatePushgatewayInstance") {
  CHECK(ValidatePushgatewayUrl("http://pushgateway:9091").ok());
  CHECK(ValidatePushgatewayUrl("https://user:pw@gw.example.com/prefix").ok());
  CHECK(
      ValidatePushgatewayUrl("pushgateway:9091").message().starts_with("--pushgateway: not a URL"));
  CHECK(ValidatePushgatewayUrl("ftp://gw:9091").message() ==
        "--pushgateway: scheme ftp is not supported (expected http(s)://host[:port][/path], "
        "e.g. http://pushgateway:9091)");
  CHECK(ValidatePushgatewayUrl("http://gw/?a=b")
            .message()
            .starts_with("--pushgateway: a query or fragment cannot be used"));
  CHECK(ValidatePushgatewayUrl("").message().starts_with("--pushgateway: not a URL"));
  CHECK(ValidatePushgatewayInstance("cron-eu.1:a_b").ok());
  CHECK(ValidatePushgatewayInstance("a/b").message() ==
        "--pushgateway-instance \"a/b\": use letters, digits, '.', '_', '-' and ':' only");
}
