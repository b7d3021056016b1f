#include "tests/fake_heroku/fake_heroku.h"

#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "common/socket_address.h"
#include "tests/fake_heroku/router_log.h"

namespace dynoherd::fake_heroku {
namespace {

using nlohmann::json;

// cpp-httplib 0.11 answers 416 to any Range header that is not a byte range, before any handler
// runs, and Heroku's list ranges ("id ..; max=200") are not. The connection stream below hands
// httplib the request with that header renamed, and the fake reads it back under this name.
constexpr const char* kRenamedRangeHeader = "X-Heroku-Range";
constexpr int kIoTimeoutMs = 5000;
constexpr int kKeepAliveTimeoutMs = 5000;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// One client connection as httplib reads and writes it. Request heads are read whole so the Range
// header can be renamed; bodies pass through. Drop() closes the connection without an answer.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(int fd, const std::atomic<bool>& stopping) : fd_(fd), stopping_(stopping) {}

  bool is_readable() const override {
    return !pending_.empty() || !raw_.empty() || Poll(POLLIN, kIoTimeoutMs);
  }

  bool is_writable() const override {
    if (dropped_ || stopping_) return false;
    pollfd p{fd_, POLLOUT | POLLRDHUP, 0};
    if (::poll(&p, 1, kIoTimeoutMs) <= 0) return false;
    // POLLRDHUP: the client closed its end, e.g. a log reader that reached its limit.
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) == 0 && (p.revents & POLLOUT) != 0;
  }

  ssize_t read(char* ptr, size_t size) override {
    if (dropped_) return -1;
    if (pending_.empty() && body_left_ == 0 && !passthrough_) {
      if (!ReadHead()) return -1;
    }
    if (!pending_.empty()) {
      const size_t n = std::min(size, pending_.size());
      std::memcpy(ptr, pending_.data(), n);
      pending_.erase(0, n);
      return static_cast<ssize_t>(n);
    }
    if (!Poll(POLLIN, kIoTimeoutMs)) return -1;
    const size_t want = passthrough_ ? size : std::min(size, body_left_);
    const ssize_t n = ::recv(fd_, ptr, want, 0);
    if (n > 0 && !passthrough_) body_left_ -= static_cast<size_t>(n);
    return n;
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (dropped_) return -1;
    size_t sent = 0;
    while (sent < size) {
      if (!Poll(POLLOUT, kIoTimeoutMs)) return -1;
      const ssize_t n = ::send(fd_, ptr + sent, size - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return -1;
      sent += static_cast<size_t>(n);
    }
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    SocketAddress peer = AddressOf(fd_, SocketEnd::kPeer);
    ip = std::move(peer.ip);
    port = peer.port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    SocketAddress local = AddressOf(fd_, SocketEnd::kLocal);
    ip = std::move(local.ip);
    port = local.port;
  }
  socket_t socket() const override { return fd_; }

  // Waits for the next request on a kept-alive connection.
  bool WaitForRequest() const {
    if (!pending_.empty() || !raw_.empty()) return true;
    for (int waited = 0; waited < kKeepAliveTimeoutMs && !stopping_; waited += 100) {
      pollfd p{fd_, POLLIN, 0};
      const int r = ::poll(&p, 1, 100);
      if (r < 0 && errno != EINTR) return false;
      if (r > 0) return (p.revents & POLLIN) != 0;
    }
    return false;
  }

  void Drop() {
    dropped_ = true;
    ::shutdown(fd_, SHUT_RDWR);
  }
  bool dropped() const { return dropped_; }

 private:
  bool Poll(short events, int timeout_ms) const {
    pollfd p{fd_, events, 0};
    for (;;) {
      const int r = ::poll(&p, 1, timeout_ms);
      if (r < 0 && errno == EINTR) continue;
      return r > 0;
    }
  }

  // Reads up to the blank line ending a request head, renames Range, and queues the head plus
  // whatever part of the body arrived with it.
  bool ReadHead() {
    size_t end;
    while ((end = raw_.find("\r\n\r\n")) == std::string::npos) {
      if (raw_.size() > (64u << 10) || !Poll(POLLIN, kIoTimeoutMs)) return false;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return false;
      raw_.append(buf, static_cast<size_t>(n));
    }
    std::string head = raw_.substr(0, end + 4);
    std::string rest = raw_.substr(end + 4);
    raw_.clear();
    size_t content_length = 0;
    std::string rewritten;
    size_t pos = 0;
    while (pos < head.size()) {
      size_t eol = head.find("\r\n", pos);
      std::string line = head.substr(pos, eol + 2 - pos);
      pos = eol + 2;
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string_view name(line.data(), colon);
        if (EqualsIgnoreCase(name, "Range")) line = kRenamedRangeHeader + line.substr(colon);
        if (EqualsIgnoreCase(name, "Content-Length")) {
          content_length = std::strtoull(line.c_str() + colon + 1, nullptr, 10);
        }
        if (EqualsIgnoreCase(name, "Transfer-Encoding")) passthrough_ = true;
      }
      rewritten += line;
    }
    const size_t body_here = std::min(rest.size(), content_length);
    pending_ = rewritten + rest.substr(0, body_here);
    body_left_ = content_length - body_here;
    raw_ = rest.substr(body_here);  // the start of a pipelined next request, if any
    return true;
  }

  int fd_;
  const std::atomic<bool>& stopping_;
  std::string raw_;      // received, not yet parsed
  std::string pending_;  // ready for httplib
  size_t body_left_ = 0;
  bool passthrough_ = false;  // a chunked body: no more head parsing on this connection
  bool dropped_ = false;
};

// The connection a handler runs on (httplib calls handlers on the connection's thread).
thread_local ConnectionStream* t_connection = nullptr;

class FakeHttpServer final : public httplib::Server {
 public:
  FakeHttpServer() {
    new_task_queue = [] { return new httplib::ThreadPool(16); };
  }

  // Ends every open connection now, so waiting keep-alive reads and log streams return.
  void ShutdownConnections() {
    stopping_ = true;
    std::lock_guard lock(mu_);
    for (int fd : open_)
      ::shutdown(fd, SHUT_RDWR);
  }
  const std::atomic<bool>& stopping() const { return stopping_; }

 private:
  bool process_and_close_socket(socket_t sock) override {
    {
      std::lock_guard lock(mu_);
      if (stopping_) {
        ::close(sock);
        return false;
      }
      open_.insert(sock);
    }
    // Headers and body go out in separate writes; without this, Nagle and the client's delayed
    // ACK stall every answer by 40 ms.
    const int one = 1;
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ConnectionStream stream(sock, stopping_);
    t_connection = &stream;
    while (!stopping_ && stream.WaitForRequest()) {
      bool client_asked_to_close = false;
      if (!process_request(stream, false, client_asked_to_close, {})) break;
      if (client_asked_to_close || stream.dropped()) break;
    }
    t_connection = nullptr;
    {
      std::lock_guard lock(mu_);
      open_.erase(sock);
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return true;
  }

  std::mutex mu_;
  std::set<int> open_;
  std::atomic<bool> stopping_{false};
};

std::string HerokuTime(TimePoint t) {
  std::string s = FormatTimestamp(t);  // 2026-11-22T13:00:00.123Z
  return s.substr(0, 19) + "Z";
}

std::string DefaultErrorId(int status) {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthorized";
    case 402:
      return "delinquent";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 406:
      return "not_acceptable";
    case 409:
      return "conflict";
    case 410:
      return "gone";
    case 416:
      return "requested_range_not_satisfiable";
    case 422:
      return "invalid_params";
    case 429:
      return "rate_limit";
    case 503:
      return "service_unavailable";
    default:
      return status >= 500 ? "internal_server_error" : "bad_request";
  }
}

std::string DefaultErrorMessage(int status) {
  switch (status) {
    case 401:
      return "Invalid credentials provided.";
    case 403:
      return "You do not have access to that app.";
    case 404:
      return "Couldn't find that app.";
    case 406:
      return "Please specify a version along with Heroku's API MIME type. For example, "
             "`Accept: application/vnd.heroku+json; version=3`.";
    case 422:
      return "Invalid params.";
    case 429:
      return "Your account reached the API rate limit\nPlease wait a few minutes before making "
             "new requests";
    case 503:
      return "API is temporarily unavailable.";
    default:
      return status >= 500 ? "Internal server error." : "Bad request.";
  }
}

void SetError(httplib::Response& res, int status, const std::string& id,
              const std::string& message) {
  res.status = status;
  json body = {{"id", id.empty() ? DefaultErrorId(status) : id},
               {"message", message.empty() ? DefaultErrorMessage(status) : message},
               {"url", "https://devcenter.heroku.com/articles/platform-api-reference"}};
  res.set_content(body.dump(), "application/json");
}

void SetJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

std::string Hex(uint64_t v, int digits) {
  static const char* kDigits = "0123456789abcdef";
  std::string s(digits, '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4)
    s[i] = kDigits[v & 0xf];
  return s;
}

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s)
    h = (h ^ c) * 1099511628211ULL;
  return h;
}

struct DynoRecord {
  std::string id;
  std::string name;
  std::string type;
  std::string state;
  std::string size;
  std::string command;
  TimePoint created_at{};
  TimePoint updated_at{};
  std::optional<TimePoint> up_at;  // starting/down until then
  TimePoint up_since{};            // served requests since (router lines start here)
  bool restarted = false;          // a restart cures a laggard (laggardFactor, h12)
};

struct FormationRecord {
  std::string id;
  FormationSpec spec;
  TimePoint created_at{};
  TimePoint updated_at{};
};

struct AppRecord {
  std::string id;
  AppSpec spec;
  std::vector<FormationRecord> formations;
  std::vector<DynoRecord> dynos;
  int release_version = 42;
  std::string release_id;
};

struct LogSession {
  std::string id;
  std::string secret;
  std::string app;
  std::string dyno_name;
  std::string source;
  int lines = 100;
  bool tail = false;
  uint64_t seed = 0;
};

struct ActiveFault {
  Fault fault;
  int seen = 0;
  int applied = 0;
};

struct ParsedRange {
  std::string field = "id";
  bool exclusive = false;
  std::string start;
  int max = 0;
  bool descending = false;
};

}  // namespace

class FakeHeroku::Impl {
 public:
  Impl(Scenario scenario, const Clock& clock)
      : scenario_(std::move(scenario)),
        clock_(clock),
        id_rng_(scenario_.seed),
        rate_remaining_(scenario_.rate_limit_remaining),
        last_refill_(clock.Now()) {
    for (const Fault& f : scenario_.faults)
      faults_.push_back({f});
    for (const AppSpec& spec : scenario_.apps)
      apps_.push_back(BuildApp(spec));
  }

  FakeHttpServer server;
  std::thread listener;
  int port = 0;

  // --- serving ---

  void Handle(const httplib::Request& req, httplib::Response& res) {
    if (req.path.rfind("/__admin/", 0) == 0) {
      HandleAdmin(req, res);
      return;
    }
    // The path as sent, still percent-encoded (httplib decodes req.path): a name holding "%2F"
    // must stay one segment, as it does at Heroku.
    const std::string path = req.target.substr(0, req.target.find('?'));
    std::unique_lock lock(mu_);
    const int64_t seq = Record(req, path);
    if (path.rfind("/logplex/", 0) == 0) {
      HandleLogplex(req, path, res);
    } else {
      HandleApi(req, path, res, lock);
    }
    // Found again by number: a slow answer releases the lock, and the list may be cleared
    // meanwhile.
    for (auto it = requests_.rbegin(); it != requests_.rend(); ++it) {
      if (it->seq != seq) continue;
      it->status = (t_connection != nullptr && t_connection->dropped()) ? 0 : res.status;
      break;
    }
  }

  void EnableAdmin(ManualClock* manual_clock) {
    std::lock_guard lock(mu_);
    admin_enabled_ = true;
    manual_clock_ = manual_clock;
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    stop_cv_.notify_all();
    server.ShutdownConnections();
    server.stop();
    if (listener.joinable()) listener.join();
  }

  // --- in-process inspection ---

  std::vector<RecordedRequest> Requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  void ClearRequests() {
    std::lock_guard lock(mu_);
    requests_.clear();
  }
  void AddFault(Fault f) {
    std::lock_guard lock(mu_);
    faults_.push_back({std::move(f)});
  }
  void ClearFaults() {
    std::lock_guard lock(mu_);
    faults_.clear();
  }
  int RateLimitRemaining() {
    std::lock_guard lock(mu_);
    Refill();
    return rate_remaining_;
  }
  void SetRateLimitRemaining(int remaining) {
    std::lock_guard lock(mu_);
    rate_remaining_ = std::clamp(remaining, 0, scenario_.rate_limit_capacity);
    refill_carry_ = 0;
    last_refill_ = clock_.Now();
  }
  std::optional<int> FormationQuantity(const std::string& app, const std::string& type) {
    std::lock_guard lock(mu_);
    AppRecord* a = FindApp(app);
    if (a == nullptr) return std::nullopt;
    for (const FormationRecord& f : a->formations) {
      if (f.spec.type == type) return f.spec.quantity;
    }
    return std::nullopt;
  }
  std::vector<DynoView> Dynos(const std::string& app) {
    std::lock_guard lock(mu_);
    std::vector<DynoView> out;
    AppRecord* a = FindApp(app);
    if (a == nullptr) return out;
    AdvanceDynos(*a);
    for (const DynoRecord& d : a->dynos)
      out.push_back({d.id, d.name, d.type, d.state, d.updated_at});
    return out;
  }
  const std::string& token() const { return scenario_.token; }

 private:
  // --- world ---

  std::string NewId() {
    const uint64_t a = id_rng_(), b = id_rng_();
    return Hex(a >> 32, 8) + "-" + Hex((a >> 16) & 0xffff, 4) + "-4" + Hex(a & 0xfff, 3) + "-8" +
           Hex(b >> 52, 3) + "-" + Hex(b & 0xffffffffffffULL, 12);
  }

  std::string DynoName(const AppRecord& app, const std::string& type, int number) {
    if (!app.spec.fir_names) return type + "." + std::to_string(number);
    static const char* kAlnum = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string suffix;
    for (int i = 0; i < 5; ++i)
      suffix += kAlnum[id_rng_() % 36];
    return type + "-" + Hex(Fnv1a(app.spec.name + type) & 0xfffffffffULL, 9) + "-" + suffix;
  }

  AppRecord BuildApp(const AppSpec& spec) {
    AppRecord app;
    app.id = NewId();
    app.spec = spec;
    app.release_id = NewId();
    const TimePoint now = clock_.Now();
    for (const FormationSpec& f : spec.formations) {
      app.formations.push_back({NewId(), f, now - 24h, now - 1h});
    }
    if (!spec.dynos.empty()) {
      for (const DynoSpec& d : spec.dynos)
        app.dynos.push_back(MakeDyno(app, d.name, d.type, d.state, now - 1h));
    } else {
      for (const FormationSpec& f : spec.formations) {
        for (int i = 1; i <= f.quantity; ++i) {
          app.dynos.push_back(MakeDyno(app, DynoName(app, f.type, i), f.type, "up", now - 1h));
        }
      }
    }
    return app;
  }

  DynoRecord MakeDyno(const AppRecord& app, const std::string& name, const std::string& type,
                      const std::string& state, TimePoint at) {
    DynoRecord d;
    d.id = NewId();
    d.name = name;
    d.type = type;
    d.state = state;
    d.created_at = at;
    d.updated_at = at;
    d.up_since = TimePoint{};  // long before any window
    for (const FormationRecord& f : app.formations) {
      if (f.spec.type == type) {
        d.size = f.spec.size;
        d.command = f.spec.command;
      }
    }
    return d;
  }

  AppRecord* FindApp(const std::string& name_or_id) {
    for (AppRecord& a : apps_) {
      if (a.spec.name == name_or_id || a.id == name_or_id) return &a;
    }
    return nullptr;
  }

  void AdvanceDynos(AppRecord& app) {
    const TimePoint now = clock_.Now();
    for (DynoRecord& d : app.dynos) {
      if (d.up_at && now >= *d.up_at) {
        d.state = "up";
        d.updated_at = *d.up_at;
        d.up_since = *d.up_at;
        d.up_at.reset();
      }
    }
  }

  void Refill() {
    const TimePoint now = clock_.Now();
    if (now <= last_refill_) return;
    refill_carry_ += std::chrono::duration<double, std::ratio<60>>(now - last_refill_).count() *
                     scenario_.refill_per_minute;
    last_refill_ = now;
    const int whole = static_cast<int>(refill_carry_);
    refill_carry_ -= whole;
    rate_remaining_ = std::min(scenario_.rate_limit_capacity, rate_remaining_ + whole);
  }

  // --- recording ---

  int64_t Record(const httplib::Request& req, const std::string& path) {
    RecordedRequest r;
    r.seq = ++seq_;
    r.method = req.method;
    r.path = path;
    const size_t q = req.target.find('?');
    if (q != std::string::npos) r.query = req.target.substr(q + 1);
    for (const auto& [name, value] : req.headers) {
      if (name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" ||
          name == "LOCAL_PORT") {
        continue;  // httplib adds these; the client did not send them
      }
      r.headers.emplace_back(EqualsIgnoreCase(name, kRenamedRangeHeader) ? "Range" : name, value);
    }
    r.body = req.body;
    r.remote_port = req.remote_port;
    r.at = clock_.Now();
    requests_.push_back(std::move(r));
    return seq_;
  }

  // --- Platform API ---

  void HandleApi(const httplib::Request& req, const std::string& path, httplib::Response& res,
                 std::unique_lock<std::mutex>& lock) {
    const std::string request_id = Hex(scenario_.seed, 8) + "-0000-4000-8000-" + Hex(seq_, 12);
    res.set_header("Request-Id", request_id);
    if (!CheckHeaders(req, res)) {
      res.set_header("RateLimit-Remaining", std::to_string(rate_remaining_));
      return;
    }
    Refill();
    const bool free_call = path == "/account/rate-limits";
    if (!free_call) {
      if (rate_remaining_ <= 0) {
        SetError(res, 429, "rate_limit", "");
        res.set_header("RateLimit-Remaining", "0");
        return;
      }
      --rate_remaining_;
    }

    std::optional<Fault> fault = TakeFault(req.method, path);
    if (fault && fault->kind == FaultKind::kSlow) {
      stop_cv_.wait_for(lock, fault->delay, [&] { return stopping_; });
      fault.reset();
    }
    if (fault && fault->kind == FaultKind::kDrop) {
      if (t_connection != nullptr) t_connection->Drop();
      res.status = 500;  // never sent: the connection is gone
      return;
    }
    if (fault && fault->kind == FaultKind::kError) {
      SetError(res, fault->status, fault->id, fault->message);
      if (fault->retry_after) res.set_header("Retry-After", *fault->retry_after);
    } else if (fault && (fault->kind == FaultKind::kMalformedJson ||
                         fault->kind == FaultKind::kWrongShape)) {
      Route(req, path, res);  // applied, as Heroku would, then answered with a bad body
      res.status = 200;
      res.headers.erase("Next-Range");
      res.set_content(fault->kind == FaultKind::kMalformedJson
                          ? R"([{"id": "01234567", "type": "web", "quantity": )"
                          : R"([{"id": 7, "type": ["web"], "quantity": "three", "name": null}])",
                      "application/json");
    } else {
      Route(req, path, res);
      if (fault && fault->kind == FaultKind::kDropAfter) {
        if (t_connection != nullptr) t_connection->Drop();
        res.status = 500;  // never sent: the connection is gone, the change is made
        return;
      }
      // A body about to be cut must be sent, not revalidated away by a 304.
      const bool truncating = fault && fault->kind == FaultKind::kTruncate;
      if (req.method == "GET" && (res.status == 200 || res.status == 206) && !truncating) {
        ApplyEtag(req, res);
      }
    }
    res.set_header("RateLimit-Remaining", std::to_string(rate_remaining_));
    if (fault && fault->kind == FaultKind::kTruncate) Truncate(res);
    if (fault && fault->kind == FaultKind::kSlowBody) Trickle(res, fault->delay);
    if (fault && fault->kind == FaultKind::kStall) {
      stop_cv_.wait_for(lock, fault->delay, [&] { return stopping_; });
    }
  }

  bool CheckHeaders(const httplib::Request& req, httplib::Response& res) {
    const std::string accept = req.get_header_value("Accept");
    if (accept.find("application/vnd.heroku+json") == std::string::npos ||
        accept.find("version=3") == std::string::npos) {
      SetError(res, 406, "not_acceptable", "");
      return false;
    }
    if (scenario_.require_user_agent && !req.has_header("User-Agent")) {
      SetError(res, 400, "bad_request", "A User-Agent header is required.");
      return false;
    }
    if (req.get_header_value("Authorization") != "Bearer " + scenario_.token) {
      SetError(res, 401, "unauthorized", "");
      return false;
    }
    if (!req.body.empty() &&
        req.get_header_value("Content-Type").rfind("application/json", 0) != 0) {
      SetError(res, 400, "bad_request",
               "Request bodies must be JSON (Content-Type: application/json).");
      return false;
    }
    return true;
  }

  std::optional<Fault> TakeFault(const std::string& method, const std::string& path) {
    for (ActiveFault& f : faults_) {
      if (!f.fault.Matches(method, path)) continue;
      ++f.seen;
      if (f.seen <= f.fault.skip) continue;
      if (f.fault.times != 0 && f.applied >= f.fault.times) continue;
      ++f.applied;
      return f.fault;
    }
    return std::nullopt;
  }

  void ApplyEtag(const httplib::Request& req, httplib::Response& res) {
    const std::string etag =
        "\"" +
        Hex(Fnv1a(res.body + res.get_header_value("Next-Range") + std::to_string(res.status)), 16) +
        "\"";
    res.set_header("ETag", etag);
    if (req.get_header_value("If-None-Match") == etag) {
      res.status = 304;
      res.body.clear();
      res.headers.erase("Content-Type");
      if (!scenario_.not_modified_costs) ++rate_remaining_;
    }
  }

  void Truncate(httplib::Response& res) {
    auto body = std::make_shared<std::string>(res.body.empty() ? std::string(64, ' ') : res.body);
    res.body.clear();
    res.headers.erase("Content-Type");
    res.set_content_provider(body->size(), "application/json",
                             [body](size_t, size_t, httplib::DataSink& sink) {
                               sink.write(body->data(), body->size() / 2);
                               return false;  // close mid-body
                             });
  }

  // The body in (at most) 8 pieces spread over `delay` of wall time, outside the fake's lock.
  void Trickle(httplib::Response& res, Duration delay) {
    auto body = std::make_shared<std::string>(res.body.empty() ? std::string(64, ' ') : res.body);
    const std::string type = res.get_header_value("Content-Type");
    res.body.clear();
    res.headers.erase("Content-Type");
    const size_t pieces = std::min<size_t>(8, body->size());
    const size_t piece = (body->size() + pieces - 1) / pieces;
    const auto pause = delay / static_cast<int64_t>(pieces);
    res.set_content_provider(
        body->size(), type.empty() ? "application/json" : type,
        [this, body, piece, pause](size_t offset, size_t, httplib::DataSink& sink) {
          {
            std::unique_lock lock(mu_);
            if (stop_cv_.wait_for(lock, pause, [&] { return stopping_; })) return false;
          }
          return sink.write(body->data() + offset, std::min(piece, body->size() - offset));
        });
  }

  void Route(const httplib::Request& req, const std::string& path, httplib::Response& res) {
    static const std::regex kAppPath(R"(^/apps/([^/]+)(/.*)?$)");
    if (req.method == "GET" && path == "/account/rate-limits") {
      SetJson(res, 200, {{"remaining", rate_remaining_}});
      return;
    }
    std::smatch m;
    if (!std::regex_match(path, m, kAppPath)) {
      SetError(res, 404, "not_found", "The requested API endpoint was not found.");
      return;
    }
    AppRecord* app = FindApp(httplib::detail::decode_url(m[1], false));
    if (app == nullptr) {
      SetError(res, 404, "not_found", "Couldn't find that app.");
      return;
    }
    AdvanceDynos(*app);
    const std::string rest = m[2];
    static const std::regex kFormationType(R"(^/formation/([^/]+)$)");
    static const std::regex kDyno(R"(^/dynos/([^/]+)$)");
    static const std::regex kDynoStop(R"(^/dynos/([^/]+)/actions/stop$)");
    std::smatch sub;
    if (rest.empty() && req.method == "GET") {
      SetJson(res, 200, AppJson(*app));
    } else if (rest == "/formation" && req.method == "GET") {
      std::vector<json> items;
      for (const FormationRecord& f : app->formations)
        items.push_back(FormationJson(*app, f));
      RespondList(req, res, std::move(items));
    } else if (rest == "/formation" && req.method == "PATCH") {
      BatchUpdate(*app, req, res);
    } else if (std::regex_match(rest, sub, kFormationType) && req.method == "GET") {
      FormationRecord* f = FindFormation(*app, httplib::detail::decode_url(sub[1], false));
      if (f == nullptr) return SetError(res, 404, "not_found", "Couldn't find that formation.");
      SetJson(res, 200, FormationJson(*app, *f));
    } else if (std::regex_match(rest, sub, kFormationType) && req.method == "PATCH") {
      SingleUpdate(*app, httplib::detail::decode_url(sub[1], false), req, res);
    } else if (rest == "/dynos" && req.method == "GET") {
      std::vector<json> items;
      for (const DynoRecord& d : app->dynos)
        items.push_back(DynoJson(*app, d));
      RespondList(req, res, std::move(items));
    } else if (rest == "/dynos" && req.method == "DELETE") {
      for (DynoRecord& d : app->dynos)
        Restart(*app, d, "starting");
      SetJson(res, 202, json::object());
    } else if (std::regex_match(rest, sub, kDyno) && req.method == "GET") {
      DynoRecord* d = FindDyno(*app, httplib::detail::decode_url(sub[1], false));
      if (d == nullptr) return SetError(res, 404, "not_found", "Couldn't find that dyno.");
      SetJson(res, 200, DynoJson(*app, *d));
    } else if (std::regex_match(rest, sub, kDyno) && req.method == "DELETE") {
      DynoRecord* d = FindDyno(*app, httplib::detail::decode_url(sub[1], false));
      if (d == nullptr) return SetError(res, 404, "not_found", "Couldn't find that dyno.");
      Restart(*app, *d, "starting");
      SetJson(res, 202, json::object());
    } else if (std::regex_match(rest, sub, kDynoStop) && req.method == "POST") {
      DynoRecord* d = FindDyno(*app, httplib::detail::decode_url(sub[1], false));
      if (d == nullptr) return SetError(res, 404, "not_found", "Couldn't find that dyno.");
      Restart(*app, *d, "down");  // the dyno manager starts it again after the delay
      SetJson(res, 202, json::object());
    } else if (rest == "/log-sessions" && req.method == "POST") {
      CreateLogSession(*app, req, res);
    } else {
      SetError(res, 404, "not_found", "The requested API endpoint was not found.");
    }
  }

  static FormationRecord* FindFormation(AppRecord& app, const std::string& type) {
    for (FormationRecord& f : app.formations) {
      if (f.spec.type == type || f.id == type) return &f;
    }
    return nullptr;
  }
  static DynoRecord* FindDyno(AppRecord& app, const std::string& name) {
    for (DynoRecord& d : app.dynos) {
      if (d.name == name || d.id == name) return &d;
    }
    return nullptr;
  }

  void Restart(const AppRecord& app, DynoRecord& d, const std::string& state) {
    const TimePoint now = clock_.Now();
    d.state = state;
    d.updated_at = now;
    d.up_at = now + app.spec.restart_delay;
    d.restarted = true;
  }

  json AppJson(const AppRecord& app) const { return {{"id", app.id}, {"name", app.spec.name}}; }

  json FormationJson(const AppRecord& app, const FormationRecord& f) const {
    return {{"app", AppJson(app)},
            {"command", f.spec.command},
            {"created_at", HerokuTime(f.created_at)},
            {"id", f.id},
            {"quantity", f.spec.quantity},
            {"size", f.spec.size},
            {"dyno_size",
             {{"id", Hex(Fnv1a(f.spec.size), 8) + "-0000-4000-8000-000000000000"},
              {"name", f.spec.size}}},
            {"type", f.spec.type},
            {"updated_at", HerokuTime(f.updated_at)}};
  }

  json DynoJson(const AppRecord& app, const DynoRecord& d) const {
    return {{"attach_url", nullptr},
            {"command", d.command},
            {"created_at", HerokuTime(d.created_at)},
            {"id", d.id},
            {"name", d.name},
            {"release", {{"id", app.release_id}, {"version", app.release_version}}},
            {"app", AppJson(app)},
            {"size", d.size},
            {"state", d.state},
            {"type", d.type},
            {"updated_at", HerokuTime(d.updated_at)}};
  }

  // Parses Heroku's list Range ("id ..; max=200", "]<id>..; max=200", "name ..; order=desc").
  std::optional<ParsedRange> ParseRange(const std::string& text) {
    static const std::regex kRange(R"(^\s*([a-z_]+)?\s*(\]?)([^;]*?)\.\.([^;]*?)\s*(;\s*(.*))?$)");
    std::smatch m;
    if (!std::regex_match(text, m, kRange)) return std::nullopt;
    ParsedRange r;
    if (m[1].matched && !m[1].str().empty()) r.field = m[1];
    r.exclusive = m[2].str() == "]";
    r.start = m[3];
    r.max = scenario_.page_size;
    static const std::regex kOption(R"(\s*(max|order)=([^,;\s]+)\s*)");
    const std::string options = m[6];
    for (auto it = std::sregex_iterator(options.begin(), options.end(), kOption);
         it != std::sregex_iterator(); ++it) {
      if ((*it)[1] == "max") r.max = std::atoi((*it)[2].str().c_str());
      if ((*it)[1] == "order") r.descending = (*it)[2] == "desc";
    }
    if (r.field != "id" && r.field != "name") return std::nullopt;
    if (r.max < 1 || r.max > 1000) return std::nullopt;
    return r;
  }

  void RespondList(const httplib::Request& req, httplib::Response& res, std::vector<json> items) {
    ParsedRange range;
    range.max = scenario_.page_size;
    if (req.has_header(kRenamedRangeHeader)) {
      std::optional<ParsedRange> parsed = ParseRange(req.get_header_value(kRenamedRangeHeader));
      if (!parsed) {
        return SetError(res, 416, "requested_range_not_satisfiable",
                        "Invalid range (expected e.g. \"id ..; max=200\").");
      }
      range = *parsed;
    }
    const std::string field = range.field;
    std::stable_sort(items.begin(), items.end(), [&](const json& a, const json& b) {
      return range.descending ? a[field].get<std::string>() > b[field].get<std::string>()
                              : a[field].get<std::string>() < b[field].get<std::string>();
    });
    auto first = items.begin();
    if (!range.start.empty()) {
      first = std::find_if(items.begin(), items.end(), [&](const json& item) {
        const std::string v = item[field];
        if (range.descending) return range.exclusive ? v < range.start : v <= range.start;
        return range.exclusive ? v > range.start : v >= range.start;
      });
    }
    json page = json::array();
    for (auto it = first; it != items.end() && static_cast<int>(page.size()) < range.max; ++it) {
      page.push_back(*it);
    }
    const bool more = static_cast<size_t>(std::distance(first, items.end())) > page.size();
    if (more) {
      const std::string last = page.back()[field];
      res.set_header("Next-Range", "]" + last + "..; max=" + std::to_string(range.max) +
                                       (range.descending ? ", order=desc" : ""));
    }
    if (!page.empty()) {
      res.set_header("Content-Range", field + " " + page.front()[field].get<std::string>() + ".." +
                                          page.back()[field].get<std::string>());
    }
    SetJson(res, more ? 206 : 200, page);
  }

  std::optional<json> ParseBody(const httplib::Request& req, httplib::Response& res) {
    try {
      return json::parse(req.body);
    } catch (const json::exception&) {
      SetError(res, 400, "bad_request", "Invalid JSON in the request body.");
      return std::nullopt;
    }
  }

  // Sets `f` to `quantity`, adding `starting` dynos or removing the newest ones.
  void ScaleTo(AppRecord& app, FormationRecord& f, int quantity) {
    const TimePoint now = clock_.Now();
    std::vector<DynoRecord*> of_type;
    for (DynoRecord& d : app.dynos) {
      if (d.type == f.spec.type) of_type.push_back(&d);
    }
    int count = static_cast<int>(of_type.size());
    if (quantity > count) {
      int number = count;
      for (int i = count; i < quantity; ++i) {
        std::string name;
        do {
          name = DynoName(app, f.spec.type, ++number);
        } while (FindDyno(app, name) != nullptr);
        DynoRecord d = MakeDyno(app, name, f.spec.type, "starting", now);
        d.up_at = now + app.spec.restart_delay;
        d.up_since = *d.up_at;
        app.dynos.push_back(std::move(d));
      }
    } else if (quantity < count) {
      std::set<std::string> remove;
      for (int i = count - 1; i >= quantity; --i)
        remove.insert(of_type[i]->name);
      std::erase_if(app.dynos, [&](const DynoRecord& d) { return remove.count(d.name) > 0; });
    }
    if (f.spec.quantity != quantity) f.updated_at = now;
    f.spec.quantity = quantity;
  }

  static std::optional<int> QuantityOf(const json& entry) {
    if (!entry.contains("quantity") || !entry["quantity"].is_number_integer()) return std::nullopt;
    const int q = entry["quantity"].get<int>();
    if (q < 0) return std::nullopt;
    return q;
  }

  void BatchUpdate(AppRecord& app, const httplib::Request& req, httplib::Response& res) {
    std::optional<json> body = ParseBody(req, res);
    if (!body) return;
    if (!body->is_object() || !(*body)["updates"].is_array()) {
      return SetError(res, 422, "invalid_params", "Missing updates.");
    }
    std::vector<std::pair<FormationRecord*, int>> changes;
    for (const json& u : (*body)["updates"]) {
      if (!u.is_object() || !u.contains("type") || !u["type"].is_string()) {
        return SetError(res, 422, "invalid_params", "Each update needs a type.");
      }
      FormationRecord* f = FindFormation(app, u["type"]);
      if (f == nullptr) return SetError(res, 404, "not_found", "Couldn't find that formation.");
      std::optional<int> q = QuantityOf(u);
      if (!q) return SetError(res, 422, "invalid_params", "Quantity must be an integer >= 0.");
      changes.emplace_back(f, *q);
    }
    json out = json::array();
    for (auto& [f, q] : changes) {
      ScaleTo(app, *f, q);
      out.push_back(FormationJson(app, *f));
    }
    SetJson(res, 200, out);
  }

  void SingleUpdate(AppRecord& app, const std::string& type, const httplib::Request& req,
                    httplib::Response& res) {
    FormationRecord* f = FindFormation(app, type);
    if (f == nullptr) return SetError(res, 404, "not_found", "Couldn't find that formation.");
    std::optional<json> body = ParseBody(req, res);
    if (!body) return;
    std::optional<int> q = QuantityOf(*body);
    if (!q) return SetError(res, 422, "invalid_params", "Quantity must be an integer >= 0.");
    ScaleTo(app, *f, *q);
    SetJson(res, 200, FormationJson(app, *f));
  }

  void CreateLogSession(AppRecord& app, const httplib::Request& req, httplib::Response& res) {
    std::optional<json> body = ParseBody(req, res);
    if (!body) return;
    LogSession s;
    s.app = app.spec.name;
    if (!body->is_object()) return SetError(res, 422, "invalid_params", "Expected an object.");
    s.dyno_name = body->value("dyno_name", body->value("dyno", std::string()));
    s.source = body->value("source", std::string());
    s.lines = body->value("lines", 100);
    s.tail = body->value("tail", false);
    if (s.lines < 1 || s.lines > 1500) {
      return SetError(res, 422, "invalid_params", "Lines must be between 1 and 1500.");
    }
    s.id = NewId();
    s.secret = Hex(id_rng_(), 16) + Hex(id_rng_(), 16);
    s.seed = scenario_.seed ^ (0x9e3779b97f4a7c15ULL * (sessions_.size() + 1));
    const TimePoint now = clock_.Now();
    json out = {{"created_at", HerokuTime(now)},
                {"id", s.id},
                {"logplex_url", "http://127.0.0.1:" + std::to_string(port) + "/logplex/sessions/" +
                                    s.id + "?srv=" + s.secret},
                {"updated_at", HerokuTime(now)}};
    sessions_[s.id] = s;
    SetJson(res, 201, out);
  }

  // --- logplex ---

  void HandleLogplex(const httplib::Request& req, const std::string& path, httplib::Response& res) {
    static const std::regex kSession(R"(^/logplex/sessions/([^/]+)$)");
    std::smatch m;
    auto it = sessions_.end();
    if (std::regex_match(path, m, kSession)) it = sessions_.find(m[1]);
    if (it == sessions_.end() || req.get_param_value("srv") != it->second.secret) {
      res.status = 404;
      res.set_content("no such log session\n", "text/plain");
      return;
    }
    if (req.has_header("Authorization")) {
      res.status = 400;
      res.set_content("refusing a request that carries Authorization: logplex needs no token\n",
                      "text/plain");
      return;
    }
    std::optional<Fault> fault = TakeFault(req.method, path);
    if (fault && fault->kind == FaultKind::kDrop) {
      if (t_connection != nullptr) t_connection->Drop();
      res.status = 500;
      return;
    }
    if (fault && fault->kind == FaultKind::kError) {
      res.status = fault->status;
      res.set_content(fault->message.empty() ? "error\n" : fault->message, "text/plain");
      return;
    }
    const LogSession& s = it->second;
    auto lines = std::make_shared<std::vector<std::string>>(SessionLines(s));
    const bool tail = s.tail;
    res.status = 200;
    res.set_chunked_content_provider("text/plain", [this, lines, tail, next = size_t{0}](
                                                       size_t, httplib::DataSink& sink) mutable {
      for (; next < lines->size(); ++next) {
        const std::string line = (*lines)[next] + "\n";
        if (!sink.is_writable() || !sink.write(line.data(), line.size())) return false;
      }
      if (!tail) {
        sink.done();
        return true;
      }
      // A tailing session stays open, as logplex does, until the reader leaves or we stop.
      std::unique_lock lock(mu_);
      stop_cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return stopping_; });
      return !stopping_ && sink.is_writable();
    });
  }

  std::vector<std::string> SessionLines(const LogSession& s) {
    AppRecord* app = FindApp(s.app);
    if (app == nullptr) return {};
    AdvanceDynos(*app);
    const bool router = s.dyno_name.empty() || s.dyno_name == "router";
    const bool heroku = s.source.empty() || s.source == "heroku";
    std::vector<std::string> out;
    if (router && heroku) {
      std::vector<RouterLogSource> sources;
      for (const DynoRecord& d : app->dynos) {
        const auto& types = app->spec.log_types;
        if (d.state != "up" || std::find(types.begin(), types.end(), d.type) == types.end())
          continue;
        auto p = app->spec.profiles.find(d.name);
        LatencyProfile profile =
            p != app->spec.profiles.end() ? p->second : app->spec.default_profile;
        if (d.restarted) {
          profile.laggard_factor = 1;
          profile.h12 = 0;
        }
        sources.push_back({d.name, profile, d.up_since});
      }
      out =
          GenerateRouterLines(app->spec.name, sources, clock_.Now(), app->spec.log_window, s.seed);
      if (static_cast<int>(out.size()) > s.lines) out.erase(out.begin(), out.end() - s.lines);
    }
    out.insert(out.end(), app->spec.extra_log_lines.begin(), app->spec.extra_log_lines.end());
    return out;
  }

  // --- admin ---

  void HandleAdmin(const httplib::Request& req, httplib::Response& res) {
    std::unique_lock lock(mu_);
    if (!admin_enabled_) {
      SetError(res, 404, "not_found", "Admin routes are off.");
      return;
    }
    if (req.path == "/__admin/requests" && req.method == "GET") {
      json out = json::array();
      for (const RecordedRequest& r : requests_) {
        json headers = json::array();
        for (const auto& [name, value] : r.headers)
          headers.push_back({name, value});
        out.push_back({{"seq", r.seq},
                       {"method", r.method},
                       {"path", r.path},
                       {"query", r.query},
                       {"headers", headers},
                       {"body", r.body},
                       {"status", r.status},
                       {"remotePort", r.remote_port},
                       {"at", FormatTimestamp(r.at)}});
      }
      SetJson(res, 200, out);
    } else if (req.path == "/__admin/requests" && req.method == "DELETE") {
      requests_.clear();
      SetJson(res, 200, json::object());
    } else if (req.path == "/__admin/state" && req.method == "GET") {
      Refill();
      json apps = json::array();
      for (AppRecord& app : apps_) {
        AdvanceDynos(app);
        json formations = json::array();
        for (const FormationRecord& f : app.formations) {
          formations.push_back({{"type", f.spec.type}, {"quantity", f.spec.quantity}});
        }
        json dynos = json::array();
        for (const DynoRecord& d : app.dynos) {
          dynos.push_back({{"name", d.name},
                           {"type", d.type},
                           {"state", d.state},
                           {"updated_at", HerokuTime(d.updated_at)}});
        }
        apps.push_back({{"name", app.spec.name}, {"formations", formations}, {"dynos", dynos}});
      }
      SetJson(res, 200,
              {{"now", FormatTimestamp(clock_.Now())},
               {"rateLimitRemaining", rate_remaining_},
               {"apps", apps}});
    } else if (req.path == "/__admin/faults" && req.method == "POST") {
      Result<Fault> fault = ParseFault(req.body);
      if (!fault.ok()) return SetError(res, 400, "bad_request", fault.status().message());
      faults_.push_back({*fault});
      SetJson(res, 201, json::object());
    } else if (req.path == "/__admin/faults" && req.method == "DELETE") {
      faults_.clear();
      SetJson(res, 200, json::object());
    } else if (req.path == "/__admin/rate-limit" && req.method == "POST") {
      json body = json::parse(req.body, nullptr, false);
      if (!body.is_object() || !body["remaining"].is_number_integer()) {
        return SetError(res, 400, "bad_request", "Expected {\"remaining\": N}.");
      }
      rate_remaining_ = std::clamp(body["remaining"].get<int>(), 0, scenario_.rate_limit_capacity);
      refill_carry_ = 0;
      last_refill_ = clock_.Now();
      SetJson(res, 200, {{"remaining", rate_remaining_}});
    } else if (req.path == "/__admin/clock/advance" && req.method == "POST") {
      if (manual_clock_ == nullptr) {
        return SetError(res, 409, "conflict",
                        "The fake runs on the system clock (--clock manual).");
      }
      json body = json::parse(req.body, nullptr, false);
      Result<Duration> by =
          body.is_object() && body["by"].is_string()
              ? ParseDuration(body["by"].get<std::string>())
              : Result<Duration>(Status::InvalidArgument("expected {\"by\": \"30s\"}"));
      if (!by.ok()) return SetError(res, 400, "bad_request", by.status().message());
      manual_clock_->Advance(*by);
      SetJson(res, 200, {{"now", FormatTimestamp(clock_.Now())}});
    } else {
      SetError(res, 404, "not_found", "Unknown admin route.");
    }
  }

  Scenario scenario_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  bool admin_enabled_ = false;
  ManualClock* manual_clock_ = nullptr;
  std::mt19937_64 id_rng_;
  std::vector<AppRecord> apps_;
  std::vector<ActiveFault> faults_;
  std::vector<RecordedRequest> requests_;
  std::map<std::string, LogSession> sessions_;
  int64_t seq_ = 0;
  int rate_remaining_;
  double refill_carry_ = 0;
  TimePoint last_refill_;
};

std::optional<std::string> RecordedRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

Result<std::unique_ptr<FakeHeroku>> FakeHeroku::Start(Scenario scenario, const Clock& clock,
                                                      int port) {
  auto impl = std::make_unique<Impl>(std::move(scenario), clock);
  Impl* raw = impl.get();
  auto handler = [raw](const httplib::Request& req, httplib::Response& res) {
    raw->Handle(req, res);
  };
  raw->server.Get(".*", handler);
  raw->server.Post(".*", handler);
  raw->server.Patch(".*", handler);
  raw->server.Delete(".*", handler);
  raw->server.Put(".*", handler);
  if (port == 0) {
    raw->port = raw->server.bind_to_any_port("127.0.0.1");
    if (raw->port <= 0) return Status::Unavailable("fake-heroku: cannot bind 127.0.0.1");
  } else {
    if (!raw->server.bind_to_port("127.0.0.1", port)) {
      return Status::Unavailable("fake-heroku: cannot bind 127.0.0.1:" + std::to_string(port));
    }
    raw->port = port;
  }
  raw->listener = std::thread([raw] { raw->server.listen_after_bind(); });
  // stop() is a no-op until the accept loop runs, so wait for it (it starts at once).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!raw->server.is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  return std::unique_ptr<FakeHeroku>(new FakeHeroku(std::move(impl)));
}

FakeHeroku::FakeHeroku(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FakeHeroku::~FakeHeroku() {
  Stop();
}

int FakeHeroku::port() const {
  return impl_->port;
}
std::string FakeHeroku::base_url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}
const std::string& FakeHeroku::token() const {
  return impl_->token();
}
std::vector<RecordedRequest> FakeHeroku::Requests() const {
  return impl_->Requests();
}
std::vector<RecordedRequest> FakeHeroku::BudgetedApiCalls() const {
  std::vector<RecordedRequest> out;
  for (RecordedRequest& r : impl_->Requests()) {
    if (r.IsBudgetedApiCall()) out.push_back(std::move(r));
  }
  return out;
}
void FakeHeroku::ClearRequests() {
  impl_->ClearRequests();
}
void FakeHeroku::AddFault(Fault fault) {
  impl_->AddFault(std::move(fault));
}
void FakeHeroku::ClearFaults() {
  impl_->ClearFaults();
}
int FakeHeroku::RateLimitRemaining() const {
  return impl_->RateLimitRemaining();
}
void FakeHeroku::SetRateLimitRemaining(int remaining) {
  impl_->SetRateLimitRemaining(remaining);
}
std::optional<int> FakeHeroku::FormationQuantity(const std::string& app,
                                                 const std::string& type) const {
  return impl_->FormationQuantity(app, type);
}
std::vector<DynoView> FakeHeroku::Dynos(const std::string& app) const {
  return impl_->Dynos(app);
}
void FakeHeroku::EnableAdminRoutes(ManualClock* manual_clock) {
  impl_->EnableAdmin(manual_clock);
}
void FakeHeroku::Stop() {
  impl_->Stop();
}

}  // namespace dynoherd::fake_heroku
