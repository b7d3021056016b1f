// The HTTP listener of `dynoherd run` (cpp-httplib): /metrics, /healthz, /readyz, /status, and
// POST /drains/<policy> for Heroku HTTPS log drains. It knows nothing of the daemon: it serves
// what its ListenerSources return, so tests serve canned answers.
//
// Bounded: connections in total and per client, a deadline for reading each whole request
// (headers and body), a request body limit, write and keep-alive timeouts.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/logging.h"
#include "common/status.h"

namespace dynoherd::app {

using namespace std::chrono_literals;

struct Readiness {
  bool ready = false;
  std::string reason;  // why not ready, or what ready means right now; one line
};

// A POST to /drains/<policy>: one logplex batch.
struct DrainRequest {
  std::string policy;  // from the path; not checked against anything but the policy set
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string body;
  std::string remote_address;
  // The first header named `name` (case-insensitive); "" when absent.
  std::string_view Header(std::string_view name) const;
};

struct DrainResponse {
  int status = 204;  // logplex: 2xx delivered, 4xx (not 429) dropped for good, 429/5xx retried
  std::string body;  // text/plain; never echo a secret
};

// The drain source (latency/, written separately) registers one of these; it answers for every
// policy with a drain and returns 404 for the others. Called on listener threads concurrently.
using DrainHandler = std::function<DrainResponse(const DrainRequest&)>;

// What the listener serves. Each function is called on listener threads, concurrently, and
// must be thread-safe.
struct ListenerSources {
  std::function<std::string()> metrics_text;  // Prometheus text format 0.0.4
  std::function<Readiness()> readiness;
  std::function<std::string()> status_json;
  // The HTML page of `/` (app/live_page.h); empty: `/` lists the routes as text.
  std::function<std::string()> live_page;
};

// The routes the listener serves, a line each: "/metrics   Prometheus metrics", ...
const std::vector<std::string>& RouteIndex();

struct ListenerOptions {
  std::string address = "127.0.0.1:9790";  // HOST:PORT, [IPv6]:PORT or :PORT (every interface)
  // Connections served at once, each on its own thread (started when needed); more wait. Slow
  // or trickling clients hold only their own thread, so probes answer beside them.
  size_t max_connections = 64;
  // Connections open at once from one client address; more are answered 503 and closed, so one
  // client cannot take every connection.
  size_t max_connections_per_client = 16;
  // The longest a client may take to send one whole request, headers and body, counted from the
  // connection's accept or the end of the previous answer; then the connection is cut.
  std::chrono::milliseconds request_deadline = 10s;
  size_t max_body_bytes = 1u << 20;  // logplex batches are far smaller; larger bodies get 413
  std::chrono::seconds read_timeout = 10s;  // per read; request_deadline bounds the whole
  std::chrono::seconds write_timeout = 10s;
  std::chrono::seconds keep_alive_timeout = 5s;
  size_t keep_alive_max_requests = 100;
};

struct ListenAddress {
  std::string host;  // as httplib binds it: "127.0.0.1", "::1", "0.0.0.0"
  int port = 0;
  std::string ToString() const;  // "127.0.0.1:9790", "[::1]:9790"
};

// "127.0.0.1:9790", "localhost:9790", "[::1]:0", ":9790" (0.0.0.0), "0.0.0.0:$PORT" after the
// shell. Errors say what is wrong and show the expected form.
Result<ListenAddress> ParseListenAddress(std::string_view text);

class Listener {
 public:
  // Binds and starts serving on its own threads. Errors: a malformed address (InvalidArgument),
  // the address in use (Unavailable, "address already in use"), any other bind failure
  // (FailedPrecondition), each naming the address.
  static Result<std::unique_ptr<Listener>> Start(const ListenerOptions& options,
                                                 ListenerSources sources, Logger& logger);
  ~Listener();  // stops serving and joins its threads

  // The address actually bound (the chosen port when asked for port 0).
  const ListenAddress& address() const { return bound_; }
  std::string url() const;  // "http://127.0.0.1:9790"

  // Mounts the drain route's handler; replaces any earlier one. Until one is set, and for a
  // policy the sources do not know, the route answers 404. Thread-safe.
  void SetDrainHandler(DrainHandler handler);

  void Stop();  // idempotent

 private:
  struct Impl;
  explicit Listener(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
  ListenAddress bound_;
};

}  // namespace dynoherd::app
