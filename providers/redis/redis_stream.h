// The bytes between us and a Redis: a TCP socket, with TLS on top for rediss://. Part of
// RedisConnection; not used on its own.
//
// TLS runs over memory BIOs: OpenSSL only encrypts and decrypts, and every byte crosses the socket
// through the same non-blocking send/recv and poll, so one deadline covers both layers and a
// closed socket is an error value, never a SIGPIPE.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/time.h"
#include "spec/redis_url.h"

struct ssl_ctx_st;
struct ssl_st;
struct bio_st;

namespace dynoherd::providers::redis {

// When an operation must be over; `timeout` is kept for messages ("timed out after 5s").
struct Deadline {
  std::chrono::steady_clock::time_point at;
  Duration timeout;

  static Deadline After(Duration timeout) {
    return {std::chrono::steady_clock::now() + timeout, timeout};
  }
};

// The TLS settings of one endpoint, with its trusted CAs loaded once. Immutable; shared by the
// streams of one connection across reconnects.
class TlsClientContext {
 public:
  // verify: check the certificate chain against `ca_file` (PEM) or, when empty, the system's CA
  // store, and the host name or IP address against the certificate. A CA file without
  // verification is refused as a contradiction.
  static Result<std::shared_ptr<TlsClientContext>> Create(bool verify, const std::string& ca_file);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  bool verify() const { return verify_; }
  ssl_ctx_st* native() const { return ctx_; }

 private:
  TlsClientContext(ssl_ctx_st* ctx, bool verify) : ctx_(ctx), verify_(verify) {}
  ssl_ctx_st* ctx_;
  bool verify_;
};

// A connected stream. Not thread-safe. Error messages do not name the server: the connection adds
// that.
class RedisStream {
 public:
  // Resolves the host, connects to its addresses in turn and, with `tls`, completes the handshake,
  // all before `deadline`. Errors: NotFound (unknown host), Unavailable (refused, unreachable,
  // handshake failed), DeadlineExceeded, FailedPrecondition (certificate not trusted or not for
  // this host).
  static Result<std::unique_ptr<RedisStream>> Open(const spec::RedisEndpoint& endpoint,
                                                   const TlsClientContext* tls, Deadline deadline);
  ~RedisStream();
  RedisStream(const RedisStream&) = delete;
  RedisStream& operator=(const RedisStream&) = delete;

  // Sends all of `bytes`, or fails (Unavailable, DeadlineExceeded).
  Status Write(std::string_view bytes, Deadline deadline);
  // Reads what has arrived, at least one byte, into `buffer`; returns how many. Fails with
  // DeadlineExceeded when nothing came, Unavailable when the server closed the connection.
  Result<size_t> Read(char* buffer, size_t capacity, Deadline deadline);

  // For a stream with no reply outstanding: false when the server has closed it (a restart, an
  // idle timeout) or sent something unasked for; either way it must not carry a command. Never
  // blocks.
  bool StillOpen();

 private:
  RedisStream() = default;
  Status SendRaw(std::string_view bytes, Deadline deadline);
  Result<size_t> ReceiveRaw(char* buffer, size_t capacity, Deadline deadline);
  Status Handshake(const spec::RedisEndpoint& endpoint, const TlsClientContext& tls,
                   Deadline deadline);
  Status FlushTlsOutput(Deadline deadline);
  Status ReceiveTlsInput(Deadline deadline);

  int fd_ = -1;
  ssl_st* ssl_ = nullptr;         // null for plain TCP
  bio_st* tls_input_ = nullptr;   // owned by ssl_: bytes received, to decrypt
  bio_st* tls_output_ = nullptr;  // owned by ssl_: encrypted bytes, to send
};

}  // namespace dynoherd::providers::redis
