// A small HTTP client over libcurl, shared by every provider that talks HTTP (the Heroku Platform
// API and its log sessions, Prometheus queries). It knows nothing about the APIs on top: it sends a
// request, returns the status, headers and body, and says precisely what failed when there is none.
//
// One libcurl easy handle is kept per thread and reused, so consecutive requests to the same host
// share a kept-alive connection (and its TLS session). TLS certificates are always verified;
// proxies come from the environment (http_proxy, https_proxy, no_proxy) exactly as libcurl reads
// them. Only http and https URLs are accepted, and redirects are never followed.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace dynoherd::providers {

using namespace std::chrono_literals;

// Header fields in arrival order; lookups ignore case, as HTTP requires (HTTP/2 sends lower case).
class HttpHeaders {
 public:
  void Add(std::string name, std::string value);
  // The first value of `name`, or nullopt.
  std::optional<std::string> Get(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }
  void Clear() { fields_.clear(); }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// Every field has a default, so designated initializers may name only what they need.
struct HttpRequest {
  std::string method = "GET";
  std::string url{};
  std::vector<std::pair<std::string, std::string>> headers{};  // {"Accept", "application/json"}
  std::string body{};  // sent as is; POST, PUT and PATCH send it even when empty
  // Open a new connection instead of reusing a kept-alive one. libcurl silently sends a request a
  // second time when a reused connection dies before any answer arrives; requests that must never
  // be sent twice (a dyno restart) set this so that cannot happen.
  bool fresh_connection = false;
  // Replaces TransportOptions::total_timeout for this request (e.g. what is left of a retry
  // budget).
  std::optional<Duration> total_timeout{};
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;
};

struct TransportOptions {
  Duration connect_timeout = 5s;      // TCP and TLS handshake
  Duration total_timeout = 30s;       // the whole exchange, connection included
  size_t max_body_bytes = 32u << 20;  // a larger body fails the request instead of eating memory
  std::string user_agent{};           // sent when the request has no User-Agent of its own
  std::string ca_bundle{};            // a PEM file of trusted CAs; empty = the system's store
};

// Why an exchange produced no complete HTTP response.
enum class TransportFailure {
  kNone,
  kNotSent,         // the request never left: name resolution, connection refused, connect or TLS
                    // handshake failed or timed out. Always safe to send again.
  kTimedOut,        // sent (or partly sent), no complete answer within the timeout
  kConnectionLost,  // sent, then the connection closed or broke before a complete answer
  kTooLarge,        // the answer exceeded max_body_bytes
  kAborted,         // stopped by the caller
  kOther,           // anything else libcurl reports; treat as "may have been sent"
};

struct HttpResult {
  Status status;  // OK iff a complete HTTP response (of any status code) arrived
  HttpResponse response;
  TransportFailure failure = TransportFailure::kNone;

  bool ok() const { return status.ok(); }
  // True when the server cannot have seen the request, so even a non-idempotent one may be resent.
  bool RequestNeverSent() const { return failure == TransportFailure::kNotSent; }
};

// Bounds for reading an endless or long body (a log stream).
struct StreamLimits {
  size_t max_bytes = 4u << 20;
  Duration max_duration = 15s;              // from the start of the request, connection included
  const std::atomic<bool>* stop = nullptr;  // set it from another thread to end the read early
};

enum class StreamEnd {
  kEndOfBody,     // the server ended the body
  kByteLimit,     // max_bytes reached
  kTimeLimit,     // max_duration reached while the body was flowing (normal for a tailing log)
  kStopped,       // the stop flag was set
  kReceiverDone,  // the data callback returned false
};
std::string_view StreamEndName(StreamEnd end);  // "end of body", "byte limit", ...

struct StreamResult {
  // OK when a 2xx answer's body was read until one of the StreamEnd reasons. A non-2xx answer is
  // OK too: see `http_status` and `error_body` (its first 64 KiB), the caller judges it.
  Status status;
  TransportFailure failure = TransportFailure::kNone;
  int http_status = 0;
  HttpHeaders headers;
  std::string error_body;
  StreamEnd end = StreamEnd::kEndOfBody;
  size_t body_bytes = 0;  // bytes handed to the callback
};

class HttpTransport {
 public:
  explicit HttpTransport(TransportOptions options = {});

  const TransportOptions& options() const { return options_; }

  // Sends one request and reads the whole answer. Thread-safe: each thread uses its own handle.
  // Failure messages name the host, never the path or query (which may carry a secret):
  // "connect to api.heroku.com: timed out after 5s".
  HttpResult Send(const HttpRequest& request) const;

  // Sends one request and hands a 2xx answer's body to `on_data` as it arrives, in chunks of any
  // size, until the body ends or a limit is reached. `on_data` returns false to stop reading.
  StreamResult Stream(const HttpRequest& request, const StreamLimits& limits,
                      const std::function<bool(std::string_view chunk)>& on_data) const;

 private:
  TransportOptions options_;
};

// An HTTP date ("Wed, 21 Oct 2026 07:28:00 GMT", as in Retry-After); nullopt when it is not one.
std::optional<TimePoint> ParseHttpDate(const std::string& text);

// "api.heroku.com" or "127.0.0.1:8080" from a URL: the part that is safe to show. Empty when the
// URL cannot be parsed.
std::string HostOfUrl(const std::string& url);

}  // namespace dynoherd::providers
