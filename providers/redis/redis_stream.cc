#include "providers/redis/redis_stream.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace dynoherd::providers::redis {
namespace {

using SteadyClock = std::chrono::steady_clock;

int RemainingMs(Deadline deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline.at - SteadyClock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1 << 30));
}

// Waits until `fd` is ready for `events`. DeadlineExceeded when the deadline passes first.
Status WaitFor(int fd, short events, Deadline deadline, const char* waiting_for) {
  for (;;) {
    pollfd pfd{fd, events, 0};
    int ready = ::poll(&pfd, 1, RemainingMs(deadline));
    if (ready > 0) return Status::Ok();
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return Status::Unavailable(std::string("poll: ") + std::strerror(errno));
    return Status::DeadlineExceeded(std::string(waiting_for) + " timed out after " +
                                    FormatDuration(deadline.timeout));
  }
}

// The most useful line OpenSSL left in its error queue, which it then empties.
std::string TakeOpenSslError() {
  const unsigned long code = ERR_peek_last_error();
  const char* reason = code == 0 ? nullptr : ERR_reason_error_string(code);
  std::string text = reason != nullptr ? reason
                     : code == 0       ? "unknown error"
                                       : "error " + std::to_string(code);
  ERR_clear_error();
  return text;
}

bool IsIpAddress(const std::string& host) {
  in6_addr v6;
  in_addr v4;
  return ::inet_pton(AF_INET, host.c_str(), &v4) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

// One address: a non-blocking connect that completes (or fails) before the deadline. Returns the
// connected socket or the reason.
Result<int> ConnectTo(const addrinfo& address, Deadline deadline) {
  int fd = ::socket(address.ai_family, address.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    address.ai_protocol);
  if (fd < 0) return Status::Unavailable(std::string("socket: ") + std::strerror(errno));
  auto fail = [fd](Status status) {
    ::close(fd);
    return status;
  };
  if (::connect(fd, address.ai_addr, address.ai_addrlen) != 0) {
    if (errno != EINPROGRESS) return fail(Status::Unavailable(std::strerror(errno)));
    if (Status s = WaitFor(fd, POLLOUT, deadline, "connect"); !s.ok()) return fail(s);
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) return fail(Status::Unavailable(std::strerror(error)));
  }
  int on = 1;
  // Commands go out whole, so Nagle would only delay them; keepalive finds dead idle peers.
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  return fd;
}

std::string LowerFirst(std::string text) {
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

}  // namespace

Result<std::shared_ptr<TlsClientContext>> TlsClientContext::Create(bool verify,
                                                                   const std::string& ca_file) {
  if (!verify && !ca_file.empty()) {
    return Status::InvalidArgument("a CA file (" + ca_file +
                                   ") is given but TLS verification is off: drop one of the two");
  }
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return Status::Internal("TLS: " + TakeOpenSslError());
  std::shared_ptr<TlsClientContext> context(new TlsClientContext(ctx, verify));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (!verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return context;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (!ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
      return Status::InvalidArgument("TLS CA file " + ca_file +
                                     ": cannot be read as PEM certificates (" + TakeOpenSslError() +
                                     ")");
    }
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return Status::Internal("TLS: cannot load the system's CA store: " + TakeOpenSslError());
  }
  return context;
}

TlsClientContext::~TlsClientContext() {
  SSL_CTX_free(ctx_);
}

Result<std::unique_ptr<RedisStream>> RedisStream::Open(const spec::RedisEndpoint& endpoint,
                                                       const TlsClientContext* tls,
                                                       Deadline deadline) {
  // Name resolution blocks, bounded by the system resolver's own timeouts, not by `deadline`.
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* addresses = nullptr;
  const std::string port = std::to_string(endpoint.port);
  int rc = ::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &addresses);
  if (rc == EAI_NONAME || rc == EAI_NODATA) return Status::NotFound("unknown host");
  if (rc != 0)
    return Status::Unavailable(std::string("cannot resolve host: ") + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(addresses, &::freeaddrinfo);

  Status last_failure = Status::Unavailable("no address");
  for (const addrinfo* a = addresses; a != nullptr; a = a->ai_next) {
    Result<int> fd = ConnectTo(*a, deadline);
    if (!fd.ok()) {
      last_failure = fd.status();
      if (last_failure.code() == Status::Code::kDeadlineExceeded) break;
      continue;
    }
    std::unique_ptr<RedisStream> stream(new RedisStream());
    stream->fd_ = *fd;
    if (tls != nullptr) {
      if (Status s = stream->Handshake(endpoint, *tls, deadline); !s.ok()) return s;
    }
    return stream;
  }
  if (last_failure.code() == Status::Code::kUnavailable) {
    return Status::Unavailable(LowerFirst(last_failure.message()));
  }
  return last_failure;
}

RedisStream::~RedisStream() {
  if (ssl_ != nullptr) SSL_free(ssl_);  // frees both BIOs
  if (fd_ >= 0) ::close(fd_);
}

Status RedisStream::Handshake(const spec::RedisEndpoint& endpoint, const TlsClientContext& tls,
                              Deadline deadline) {
  ERR_clear_error();
  ssl_ = SSL_new(tls.native());
  if (ssl_ == nullptr) return Status::Internal("TLS: " + TakeOpenSslError());
  tls_input_ = BIO_new(BIO_s_mem());
  tls_output_ = BIO_new(BIO_s_mem());
  if (tls_input_ == nullptr || tls_output_ == nullptr) {
    BIO_free(tls_input_);
    BIO_free(tls_output_);
    tls_input_ = tls_output_ = nullptr;
    return Status::Internal("TLS: " + TakeOpenSslError());
  }
  BIO_set_mem_eof_return(tls_input_, -1);  // empty means "wait for more", not end of stream
  SSL_set_bio(ssl_, tls_input_, tls_output_);
  SSL_set_connect_state(ssl_);
  // SNI is for names only (RFC 6066); an IP address is checked against the certificate's IP SANs.
  if (IsIpAddress(endpoint.host)) {
    if (tls.verify()) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), endpoint.host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl_, endpoint.host.c_str());
    if (tls.verify()) SSL_set1_host(ssl_, endpoint.host.c_str());
  }

  for (int round = 0; round < 64; ++round) {  // a TLS handshake takes a few; bounded for safety
    ERR_clear_error();
    int rc = SSL_do_handshake(ssl_);
    Status flushed = FlushTlsOutput(deadline);
    if (rc == 1) return flushed;
    const int error = SSL_get_error(ssl_, rc);
    if (error == SSL_ERROR_WANT_READ && flushed.ok()) {
      Status received = ReceiveTlsInput(deadline);
      if (received.ok()) continue;
      if (received.code() == Status::Code::kDeadlineExceeded) {
        return Status::DeadlineExceeded("TLS handshake timed out after " +
                                        FormatDuration(deadline.timeout) +
                                        " (is this port plain redis://?)");
      }
      return Status::Unavailable("TLS handshake failed: " + received.message() +
                                 " (is this port plain redis://?)");
    }
    const long verify_result = SSL_get_verify_result(ssl_);
    if (verify_result != X509_V_OK) {
      return Status::FailedPrecondition(
          std::string("TLS certificate verification failed: ") +
          X509_verify_cert_error_string(verify_result) +
          " (give the CA file that signed it, or turn TLS verification off for a self-signed "
          "certificate such as Heroku Key-Value Store's)");
    }
    if (!flushed.ok()) return flushed;
    return Status::Unavailable("TLS handshake failed: " + TakeOpenSslError() +
                               " (is this port plain redis://?)");
  }
  return Status::Unavailable("TLS handshake did not complete");
}

Status RedisStream::FlushTlsOutput(Deadline deadline) {
  char buffer[16384];
  while (BIO_ctrl_pending(tls_output_) > 0) {
    int n = BIO_read(tls_output_, buffer, sizeof buffer);
    if (n <= 0) break;
    if (Status s = SendRaw(std::string_view(buffer, static_cast<size_t>(n)), deadline); !s.ok()) {
      return s;
    }
  }
  return Status::Ok();
}

Status RedisStream::ReceiveTlsInput(Deadline deadline) {
  char buffer[16384];
  Result<size_t> n = ReceiveRaw(buffer, sizeof buffer, deadline);
  if (!n.ok()) return n.status();
  BIO_write(tls_input_, buffer, static_cast<int>(*n));
  return Status::Ok();
}

Status RedisStream::SendRaw(std::string_view bytes, Deadline deadline) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (Status s = WaitFor(fd_, POLLOUT, deadline, "write"); !s.ok()) return s;
    } else if (n < 0 && errno != EINTR) {
      return Status::Unavailable(std::string("write failed: ") + std::strerror(errno));
    }
  }
  return Status::Ok();
}

Result<size_t> RedisStream::ReceiveRaw(char* buffer, size_t capacity, Deadline deadline) {
  for (;;) {
    ssize_t n = ::recv(fd_, buffer, capacity, 0);
    if (n > 0) return static_cast<size_t>(n);
    if (n == 0) return Status::Unavailable("connection closed by the server");
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (Status s = WaitFor(fd_, POLLIN, deadline, "read"); !s.ok()) return s;
    } else if (errno != EINTR) {
      return Status::Unavailable(std::string("read failed: ") + std::strerror(errno));
    }
  }
}

Status RedisStream::Write(std::string_view bytes, Deadline deadline) {
  if (ssl_ == nullptr) return SendRaw(bytes, deadline);
  while (!bytes.empty()) {
    ERR_clear_error();
    // Writing into a memory BIO takes everything at once unless the TLS layer first needs input.
    int n =
        SSL_write(ssl_, bytes.data(), static_cast<int>(std::min<size_t>(bytes.size(), 1 << 30)));
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (SSL_get_error(ssl_, n) != SSL_ERROR_WANT_READ) {
      return Status::Unavailable("TLS write failed: " + TakeOpenSslError());
    }
    if (Status s = FlushTlsOutput(deadline); !s.ok()) return s;
    if (Status s = ReceiveTlsInput(deadline); !s.ok()) return s;
  }
  return FlushTlsOutput(deadline);
}

Result<size_t> RedisStream::Read(char* buffer, size_t capacity, Deadline deadline) {
  if (ssl_ == nullptr) return ReceiveRaw(buffer, capacity, deadline);
  for (;;) {
    ERR_clear_error();
    int n = SSL_read(ssl_, buffer, static_cast<int>(std::min<size_t>(capacity, 1 << 30)));
    if (n > 0) return static_cast<size_t>(n);
    switch (SSL_get_error(ssl_, n)) {
      case SSL_ERROR_WANT_READ:
        // TLS 1.3 may need to answer (a key update) before more data comes.
        if (Status s = FlushTlsOutput(deadline); !s.ok()) return s;
        if (Status s = ReceiveTlsInput(deadline); !s.ok()) return s;
        break;
      case SSL_ERROR_ZERO_RETURN:
        return Status::Unavailable("connection closed by the server");
      default:
        return Status::Unavailable("TLS read failed: " + TakeOpenSslError());
    }
  }
}

bool RedisStream::StillOpen() {
  // Bounded: every round consumes what has arrived; TLS 1.3 session tickets take one or two.
  for (int round = 0; round < 16; ++round) {
    pollfd pfd{fd_, POLLIN | POLLRDHUP, 0};
    if (::poll(&pfd, 1, 0) <= 0) return true;  // nothing happened since the last reply
    if ((pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) return false;
    char buffer[4096];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    if (n <= 0 || ssl_ == nullptr) return false;  // closed, or plain bytes no one asked for
    BIO_write(tls_input_, buffer, static_cast<int>(n));
    ERR_clear_error();
    char peek;
    int r = SSL_read(ssl_, &peek, 1);
    if (r > 0 || SSL_get_error(ssl_, r) != SSL_ERROR_WANT_READ) {
      ERR_clear_error();
      return false;  // data no one asked for, a close_notify or a TLS error
    }
  }
  return false;
}

}  // namespace dynoherd::providers::redis
