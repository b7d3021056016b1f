// Test helpers for the latency sources: a cpp-httplib server on 127.0.0.1 (port 0) that serves
// one handler and records what it was sent, and logplex frame builders.
#pragma once

#include <doctest/doctest.h>
#include <httplib.h>

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/logging.h"
#include "common/time.h"
#include "latency/router_line.h"
#include "providers/observer.h"
#include "spec/policy.h"

namespace dynoherd::providers::sources::testing {

using namespace std::chrono_literals;

inline const TimePoint kStart = TimePoint{} + 1795352400s;  // 2026-11-22T13:00:00Z

// A formation of `type` with a latency section (router-logs via session unless changed).
inline spec::FormationSpec LatencyFormation(const std::string& type, Duration window = 5min,
                                            spec::Statistic statistic = spec::Statistic::kP50) {
  spec::FormationSpec f;
  f.type = type;
  f.latency = spec::LatencySpec{};
  f.latency->window = window;
  f.latency->statistic = statistic;
  return f;
}

// Records the router lines a source reports, by kind, as the metrics would count them.
class LineCounts {
 public:
  RouterLineCounter Counter() {
    return [this](latency::LineKind kind, int64_t n) {
      std::lock_guard lock(mu_);
      counts_[kind] += n;
    };
  }
  int64_t parsed() const { return Of(latency::LineKind::kRouter); }
  int64_t ignored() const { return Of(latency::LineKind::kIgnored); }
  int64_t malformed() const { return Of(latency::LineKind::kMalformed); }

 private:
  int64_t Of(latency::LineKind kind) const {
    std::lock_guard lock(mu_);
    auto it = counts_.find(kind);
    return it == counts_.end() ? 0 : it->second;
  }

  mutable std::mutex mu_;
  std::map<latency::LineKind, int64_t> counts_;
};

struct SeenRequest {
  std::string method;
  std::string path;
  std::multimap<std::string, std::string> params;  // query parameters, decoded
  std::string authorization;
  std::string body;
};

class TestHttpServer {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  // Serves `handler` for every GET and POST on 127.0.0.1, on a free port.
  explicit TestHttpServer(Handler handler, size_t max_body_bytes = 8u << 20)
      : handler_(std::move(handler)) {
    auto serve = [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mu_);
        seen_.push_back(
            {req.method, req.path,
             std::multimap<std::string, std::string>(req.params.begin(), req.params.end()),
             req.get_header_value("Authorization"), req.body});
      }
      handler_(req, res);
    };
    server_.Get(R"(/.*)", serve);
    server_.Post(R"(/.*)", serve);
    server_.set_payload_max_length(max_body_bytes);
    // One request per connection: clients keep connections alive, and a kept-alive connection
    // would hold up stop() until its timeout.
    server_.set_keep_alive_max_count(1);
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() is a no-op until the accept loop runs: wait for it (bounded) so teardown works.
    for (int i = 0; i < 5000 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    REQUIRE(server_.is_running());
  }
  ~TestHttpServer() {
    server_.stop();
    thread_.join();
  }
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<SeenRequest> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  Handler handler_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<SeenRequest> seen_;
};

// One octet-counted logplex frame around an RFC 5424 message (with its trailing newline).
inline std::string Frame(const std::string& timestamp, const std::string& app_name,
                         const std::string& proc_id, const std::string& message) {
  const std::string msg =
      "<158>1 " + timestamp + " host " + app_name + " " + proc_id + " - " + message + "\n";
  return std::to_string(msg.size()) + " " + msg;
}

// A router line's frame: dyno `dyno` served a request in `service_ms`.
inline std::string RouterFrame(const std::string& timestamp, const std::string& dyno,
                               int service_ms, const std::string& extra = "") {
  return Frame(timestamp, "heroku", "router",
               "at=info method=GET path=\"/items\" host=shop.herokuapp.com dyno=" + dyno +
                   " connect=1ms service=" + std::to_string(service_ms) + "ms status=200 bytes=10" +
                   extra);
}

// Whether any log entry (message or field) contains `text`.
inline bool LogsContain(const CapturingLogger& log, const std::string& text) {
  for (const auto& e : log.entries()) {
    if (e.msg.find(text) != std::string::npos) return true;
    for (const auto& f : e.fields) {
      if (f.value.find(text) != std::string::npos) return true;
    }
  }
  return false;
}

}  // namespace dynoherd::providers::sources::testing
