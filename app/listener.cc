#include "app/listener.h"

#include <poll.h>
#include <httplib.h>
#include <netdb.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/socket_address.h"

namespace dynoherd::app {

namespace {

constexpr const char* kAddressForm = "expected HOST:PORT, e.g. 127.0.0.1:9790, :9790 or [::1]:9790";

// Why binding `address` fails, asked of the kernel directly: httplib only says that it failed.
int BindErrno(const ListenAddress& address) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  std::string port = std::to_string(address.port);
  if (getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found) != 0 || !found) {
    return EADDRNOTAVAIL;
  }
  int error = 0;
  int fd = socket(found->ai_family, found->ai_socktype, found->ai_protocol);
  if (fd < 0) {
    error = errno;
  } else {
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (bind(fd, found->ai_addr, found->ai_addrlen) != 0) error = errno;
    close(fd);
  }
  freeaddrinfo(found);
  return error;
}

void SetText(httplib::Response& res, int status, std::string text) {
  res.status = status;
  res.set_content(std::move(text), "text/plain; charset=utf-8");
}

}  // namespace

std::string_view DrainRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) {
      return value;
    }
  }
  return {};
}

std::string ListenAddress::ToString() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument("listen address \"" + std::string(text) + "\": " + what + " (" +
                                   kAddressForm + ")");
  };
  ListenAddress out;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return bad("missing ]");
    out.host = std::string(text.substr(1, close - 1));
    if (close + 1 >= text.size() || text[close + 1] != ':') return bad("no port");
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("no port");
    out.host = std::string(text.substr(0, colon));
    if (out.host.find(':') != std::string::npos) return bad("write IPv6 addresses in brackets");
    port = text.substr(colon + 1);
  }
  if (out.host.empty()) out.host = "0.0.0.0";
  int value = -1;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 0 ||
      value > 65535) {
    return bad("the port must be a number in 0..65535");
  }
  out.port = value;
  return out;
}

// httplib serves a connection on one pool thread for as long as it stays open: four fixed threads
// were starved by six trickling clients, and the liveness probe with them. This pool adds a
// thread whenever every thread is busy, up to `max_threads`; the connection bounds and the
// request deadline (GuardedServer) limit how long and how many of them one client can hold.
class ElasticPool : public httplib::TaskQueue {
 public:
  explicit ElasticPool(size_t max_threads) : max_threads_(std::max<size_t>(1, max_threads)) {}

  void enqueue(std::function<void()> fn) override {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(fn));
    if (jobs_.size() > idle_ && threads_.size() < max_threads_) {
      threads_.emplace_back([this] { Work(); });
    }
    cv_.notify_one();
  }

  // Called by httplib once its accept loop has ended: no enqueue runs concurrently.
  void shutdown() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
      t.join();
    threads_.clear();
  }

 private:
  void Work() {
    std::unique_lock lock(mu_);
    for (;;) {
      ++idle_;
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      --idle_;
      if (jobs_.empty()) return;  // stopping, and every accepted connection served
      std::function<void()> job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  const size_t max_threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool stopping_ = false;
};

// How many connections are open, in total and per client address, and whether one more may be.
class ConnectionCount {
 public:
  ConnectionCount(size_t total, size_t per_client) : total_(total), per_client_(per_client) {}

  // Counts the connection of `client` (its address, without the port) in, or says why not.
  std::optional<std::string> Admit(const std::string& client) {
    std::lock_guard lock(mu_);
    if (open_ >= total_) return "too many connections";
    if (by_client_[client] >= per_client_) return "too many connections from this client";
    ++open_;
    ++by_client_[client];
    return std::nullopt;
  }

  void Release(const std::string& client) {
    std::lock_guard lock(mu_);
    --open_;
    if (--by_client_[client] == 0) by_client_.erase(client);
  }

 private:
  const size_t total_;
  const size_t per_client_;
  std::mutex mu_;
  size_t open_ = 0;
  std::map<std::string, size_t> by_client_;
};

// One connection as httplib reads and writes it, with the deadline cpp-httplib 0.11 lacks: its
// own read timeout is per read, so a client trickling a header line every few seconds keeps its
// connection, and a listener thread, for as long as it likes; and it has no hook between reading
// a request and its own socket reads. So the listener serves each connection on this stream
// (GuardedServer below): every read of a request waits at most until the request's deadline,
// which starts at its first byte. A read that fails (the deadline, the read timeout, the client
// gone) ends the connection: nothing more is written (httplib would answer 400 and read on).
class DeadlineStream final : public httplib::Stream {
 public:
  using SteadyClock = std::chrono::steady_clock;

  DeadlineStream(int fd, const ListenerOptions& options) : fd_(fd), options_(options) {}

  // Waits for the first byte of the next request, at most the keep-alive timeout, in short
  // slices so that a stopping server (`stopped` true) ends the wait. Its deadline starts then.
  bool NextRequest(const std::function<bool()>& stopped) {
    const auto give_up = SteadyClock::now() + options_.keep_alive_timeout;
    while (next_ == end_) {
      if (failed_ || stopped() || SteadyClock::now() >= give_up) return false;
      if (Poll(POLLIN, 100ms) && !Fill()) return false;
    }
    deadline_ = SteadyClock::now() + options_.request_deadline;
    return true;
  }

  bool is_readable() const override { return next_ != end_ || Poll(POLLIN, ReadWait()); }

  bool is_writable() const override {
    return !failed_ && Poll(POLLOUT, options_.write_timeout);
  }

  ssize_t read(char* ptr, size_t size) override {
    if (next_ == end_) {
      if (failed_ || !Poll(POLLIN, ReadWait()) || !Fill()) {
        failed_ = true;
        return -1;
      }
    }
    const size_t n = std::min(size, end_ - next_);
    std::memcpy(ptr, buffer_ + next_, n);
    next_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    size_t sent = 0;
    while (sent < size) {
      if (failed_ || !Poll(POLLOUT, options_.write_timeout)) return -1;
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

 private:
  // How long the next read may wait: the read timeout, cut short by the request's deadline.
  std::chrono::milliseconds ReadWait() const {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline_ - SteadyClock::now());
    return std::min<std::chrono::milliseconds>(options_.read_timeout, left);
  }

  bool Poll(short events, std::chrono::milliseconds wait) const {
    if (wait <= 0ms) return false;
    pollfd p{fd_, events, 0};
    for (;;) {
      const int r = ::poll(&p, 1, static_cast<int>(wait.count()));
      if (r < 0 && errno == EINTR) continue;
      return r > 0;
    }
  }

  // Reads what has arrived into the empty buffer; false at the end of the stream or an error.
  bool Fill() {
    for (;;) {
      const ssize_t n = ::recv(fd_, buffer_, sizeof buffer_, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      next_ = 0;
      end_ = static_cast<size_t>(n);
      return true;
    }
  }

  const int fd_;
  const ListenerOptions& options_;
  SteadyClock::time_point deadline_ = SteadyClock::now();
  bool failed_ = false;  // a read failed: the connection is over
  char buffer_[4096];
  size_t next_ = 0;
  size_t end_ = 0;
};

// httplib's server with our own connection loop: each connection is admitted (a bound in total
// and per client address, the rest answered 503 at once) and served on a DeadlineStream.
class GuardedServer final : public httplib::Server {
 public:
  explicit GuardedServer(const ListenerOptions& options)
      : options_(options),
        count_(options.max_connections, options.max_connections_per_client) {}

  // httplib listens with a backlog of 5: in a burst of connections (trickling clients and a
  // probe at once) the kernel drops the rest's SYNs, and they wait a second to retry. Once bound,
  // listening again widens the queue (Linux).
  void WidenBacklog() { ::listen(svr_sock_, SOMAXCONN); }

 private:
  bool process_and_close_socket(socket_t sock) override {
    // The address without the port: "127.0.0.1", "::1".
    const std::string client = AddressOf(sock, SocketEnd::kPeer).ip;
    if (std::optional<std::string> refusal = count_.Admit(client)) {
      Refuse(sock, *refusal);
      return false;
    }
    DeadlineStream stream(sock, options_);
    auto stopped = [this] { return svr_sock_ == INVALID_SOCKET; };
    for (size_t served = 0; served < options_.keep_alive_max_requests;) {
      if (!stream.NextRequest(stopped)) break;
      const bool last = ++served == options_.keep_alive_max_requests;
      bool closed = false;
      if (!process_request(stream, last, closed, {}) || closed) break;
    }
    count_.Release(client);
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return true;
  }

  // A short 503 without reading the request: refused connections hold no thread for long.
  static void Refuse(int sock, const std::string& why) {
    const std::string body = why + "\n";
    const std::string answer = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
                               "Content-Type: text/plain; charset=utf-8\r\nContent-Length: " +
                               std::to_string(body.size()) + "\r\n\r\n" + body;
    [[maybe_unused]] const ssize_t sent =
        ::send(sock, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
  }

  const ListenerOptions options_;
  ConnectionCount count_;
};

struct Listener::Impl {
  Impl(ListenerSources s, Logger& l, const ListenerOptions& options)
      : sources(std::move(s)), logger(l), server(options) {}

  ListenerSources sources;
  Logger& logger;
  GuardedServer server;
  std::thread thread;
  std::mutex drain_mu;
  DrainHandler drain;
  std::once_flag stopped;

  void Routes();
  void ServeDrain(const httplib::Request& req, httplib::Response& res);
};

const std::vector<std::string>& RouteIndex() {
  static const std::vector<std::string> routes = {
      "/metrics   Prometheus metrics",
      "/healthz   the process is alive",
      "/readyz    policies loaded and reconciled at least once",
      "/status    the last pass of every policy (JSON)",
      "POST /drains/<policy>   Heroku HTTPS log drains (router-logs via drain)",
  };
  return routes;
}

void Listener::Impl::Routes() {
  server.Get("/", [this](const httplib::Request&, httplib::Response& res) {
    if (sources.live_page) {
      res.set_content(sources.live_page(), "text/html; charset=utf-8");
      return;
    }
    std::string index = "dynoherd\n";
    for (const std::string& route : RouteIndex())
      index += "  " + route + "\n";
    SetText(res, 200, index);
  });
  server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(sources.metrics_text(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server.Get("/healthz",
             [](const httplib::Request&, httplib::Response& res) { SetText(res, 200, "ok\n"); });
  server.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    Readiness r = sources.readiness();
    SetText(res, r.ready ? 200 : 503, (r.ready ? "ready: " : "not ready: ") + r.reason + "\n");
  });
  server.Get("/status", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(sources.status_json(), "application/json");
  });
  server.Post(R"(/drains/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    ServeDrain(req, res);
  });
  // Plain-text bodies for the errors httplib answers itself (404, 413, ...).
  httplib::Server::HandlerWithResponse errors = [](const httplib::Request& req,
                                                   httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string text = res.status == 404   ? "not found: " + req.path + " (see /)\n"
                       : res.status == 413 ? "request body too large\n"
                                           : "error " + std::to_string(res.status) + "\n";
    res.set_content(text, "text/plain; charset=utf-8");
    return httplib::Server::HandlerResponse::Handled;
  };
  server.set_error_handler(std::move(errors));
  server.set_exception_handler(
      [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        logger.Error("listener request failed", {{"path", req.path}, {"error", what}});
        SetText(res, 500, "internal error\n");
      });
  server.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    if (!logger.Enabled(LogLevel::kDebug)) return;
    logger.Debug("http request", {{"method", req.method},
                                  {"path", req.path},
                                  {"status", res.status},
                                  {"remote", req.remote_addr}});
  });
}

void Listener::Impl::ServeDrain(const httplib::Request& req, httplib::Response& res) {
  // The handler checks the credentials before it looks at the name, and every name gets the same
  // answer without them: policy names cannot be enumerated from an unauthenticated URL.
  std::string policy = req.matches[1];
  DrainHandler handler;
  {
    std::lock_guard lock(drain_mu);
    handler = drain;
  }
  if (!handler) {
    SetText(res, 404, "no log drains on this dynoherd\n");
    return;
  }
  DrainRequest request;
  request.policy = std::move(policy);
  for (const auto& [key, value] : req.headers)
    request.headers.emplace_back(key, value);
  request.body = req.body;
  request.remote_address = req.remote_addr;
  DrainResponse answer = handler(request);
  res.status = answer.status;
  if (!answer.body.empty()) res.set_content(answer.body, "text/plain; charset=utf-8");
}

Listener::Listener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Listener::~Listener() {
  Stop();
}

Result<std::unique_ptr<Listener>> Listener::Start(const ListenerOptions& options,
                                                  ListenerSources sources, Logger& logger) {
  Result<ListenAddress> address = ParseListenAddress(options.address);
  if (!address.ok()) return address.status();

  auto impl = std::make_unique<Impl>(std::move(sources), logger, options);
  httplib::Server& server = impl->server;
  // A few threads beyond the bound answer the connections it refuses, at once.
  const size_t threads = options.max_connections + 4;
  server.new_task_queue = [threads] { return new ElasticPool(threads); };
  server.set_payload_max_length(options.max_body_bytes);
  // Timeouts and keep-alive are the DeadlineStream's and GuardedServer's, from `options`.
  // SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, which would let a second
  // dynoherd bind the same port and share the traffic instead of failing.
  server.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  impl->Routes();

  ListenAddress bound = *address;
  bool ok = false;
  if (bound.port == 0) {
    int port = server.bind_to_any_port(bound.host);
    ok = port > 0;
    if (ok) bound.port = port;
  } else {
    ok = server.bind_to_port(bound.host, bound.port);
  }
  if (!ok) {
    int error = BindErrno(*address);
    std::string where = "cannot listen on " + address->ToString() + ": ";
    if (error == EADDRINUSE) {
      return Status::Unavailable(where + "address already in use (choose another with --listen)");
    }
    return Status::FailedPrecondition(where +
                                      (error ? std::strerror(error) : "cannot bind the address"));
  }

  impl->server.WidenBacklog();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->server.listen_after_bind(); });
  // httplib's stop() does nothing until its accept loop runs; wait for it so Stop() always works.
  // Connections made meanwhile wait in the kernel's backlog: the socket already listens.
  for (int i = 0; i < 5000 && !server.is_running(); ++i) {
    std::this_thread::sleep_for(1ms);
  }
  auto listener = std::unique_ptr<Listener>(new Listener(std::move(impl)));
  listener->bound_ = bound;
  return listener;
}

std::string Listener::url() const {
  std::string host = bound_.host == "0.0.0.0" ? "127.0.0.1" : bound_.host;
  return "http://" + ListenAddress{host, bound_.port}.ToString();
}

void Listener::SetDrainHandler(DrainHandler handler) {
  std::lock_guard lock(impl_->drain_mu);
  impl_->drain = std::move(handler);
}

void Listener::Stop() {
  std::call_once(impl_->stopped, [this] {
    impl_->server.stop();
    if (impl_->thread.joinable()) impl_->thread.join();
  });
}

}  // namespace dynoherd::app
