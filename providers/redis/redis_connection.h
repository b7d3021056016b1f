// One connection to a Redis (redis:// or rediss://), for the Sidekiq source and, later, the
// replicas' shared store. hiredis formats the commands and reads the replies; the bytes travel over
// our own socket and OpenSSL (redis_stream.h), because Debian's hiredis has no TLS.
//
//   auto redis = RedisConnection::Create(spec::ParseRedisUrl(url).value(), {});
//   Result<RedisReply> pong = (*redis)->Command({"PING"});
//   Result<std::vector<RedisReply>> replies = (*redis)->Pipeline({{"LLEN", "a"}, {"LLEN", "b"}});
//
// Connecting is lazy and repeated as needed: a call finds the connection closed (never opened, a
// server restart, an earlier failure) and reconnects first, with capped exponential backoff
// between attempts. A command is never sent twice: a call that fails once its bytes may have left
// returns the error and drops the connection, and the next call starts afresh.
//
// Every error is a Status naming the server ("redis://10.0.0.5:6379: connection refused"); none
// contains the password or the arguments of a command. Not thread-safe: one user at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/logging.h"
#include "common/sleeper.h"
#include "common/status.h"
#include "common/time.h"
#include "providers/redis/redis_reply.h"
#include "spec/redis_url.h"

namespace dynoherd::providers::redis {

using namespace std::chrono_literals;

class RedisStream;
class TlsClientContext;

struct ReconnectPolicy {
  int attempts = 4;                  // connect attempts one call may make (at least 1)
  Duration initial_backoff = 100ms;  // the wait before the 2nd attempt; doubled before each next
  Duration max_backoff = 2s;         // the cap of one wait
};

struct RedisConnectionOptions {
  Duration connect_timeout = 5s;  // per attempt: TCP connect, TLS handshake, AUTH and SELECT
  Duration io_timeout = 5s;       // per call: the first byte written to the last reply read
  bool tls_verify = true;         // rediss:// only; false accepts any certificate (Heroku's)
  std::string tls_ca_file{};      // PEM CAs to trust instead of the system's; needs tls_verify
  ReconnectPolicy reconnect{};
  // The backoff's waits; interrupting it cuts a reconnect short. Null: a SystemSleeper of the
  // connection's own. Outlives the connection.
  Sleeper* sleeper = nullptr;
  Logger* logger = nullptr;  // connects and failed attempts (debug, info, warn); may be null
  // Told after every Command and Pipeline whether it succeeded (connecting included), for
  // metrics; may be empty.
  std::function<void(bool ok)> on_request{};
};

// What the connection has done, for tests and metrics.
struct RedisConnectionStats {
  uint64_t connects = 0;  // successful connects, reconnects included
  uint64_t exchanges =
      0;  // round trips: a Command or a Pipeline is one, a connect's AUTH/SELECT one
  uint64_t commands = 0;  // commands sent, the connect's included
};

class RedisConnection {
 public:
  // Checks the options (and loads the TLS CA store) without connecting.
  static Result<std::unique_ptr<RedisConnection>> Create(spec::RedisEndpoint endpoint,
                                                         RedisConnectionOptions options);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Connects unless connected: TCP, TLS, then AUTH (user and password, or the password alone) and
  // SELECT in one round trip. A user the server refuses (WRONGPASS, or ERR from a Redis before 6,
  // whose AUTH takes no user) is tried once more as the password alone: old Heroku URLs read
  // redis://h:PASSWORD@host, where "h" is no ACL user. Errors: NotFound (unknown host),
  // Unavailable (refused, unreachable, TLS handshake), DeadlineExceeded, Unauthenticated (wrong
  // password, or one is needed), FailedPrecondition (an untrusted certificate), InvalidArgument
  // (no such database).
  Status Connect();

  // Sends one command and returns its reply. An error reply ("-ERR ...") becomes a Status
  // (ErrorReplyStatus).
  Result<RedisReply> Command(const RedisCommand& command);

  // Writes all the commands, then reads all their replies: one round trip. Error replies stay in
  // the vector, in place (RedisReply::kError), so one failing command does not hide the others'
  // replies; the Result fails only when the exchange did. REQUIRES: no command is empty.
  Result<std::vector<RedisReply>> Pipeline(const std::vector<RedisCommand>& commands);

  void Close();
  bool connected() const { return stream_ != nullptr; }
  const spec::RedisEndpoint& endpoint() const { return endpoint_; }
  const RedisConnectionStats& stats() const { return stats_; }
  // "redis://host:port" or "rediss://host:port": how messages name the server.
  std::string where() const;

 private:
  RedisConnection(spec::RedisEndpoint endpoint, RedisConnectionOptions options);
  Status ConnectOnce();
  Status Handshake();
  // The AUTH and SELECT of a handshake; `user` false sends AUTH with the password alone.
  std::vector<RedisCommand> HandshakeCommands(bool user) const;
  // Drops the connection; the message has the refusal of the password alone too, when tried.
  Status AuthFailed(const RedisReply& reply, const RedisReply* password_alone);
  Result<std::vector<RedisReply>> Exchange(const std::vector<RedisCommand>& commands,
                                           Duration timeout);
  Status Fail(Status status);  // drops the connection, returns the status naming the server

  spec::RedisEndpoint endpoint_;
  RedisConnectionOptions options_;
  std::unique_ptr<SystemSleeper> own_sleeper_;  // when options_ named none
  Sleeper* sleeper_;
  // The server refused the URL's user and took the password alone: later connects send that.
  bool password_alone_ = false;
  std::shared_ptr<TlsClientContext> tls_;     // null for redis://
  std::unique_ptr<RedisStream> stream_;       // null when not connected
  std::unique_ptr<RedisReplyReader> reader_;  // one per stream
  RedisConnectionStats stats_;
};

// An error reply as a Status: "redis://host:port: GET: WRONGTYPE ...". Names the command, never
// its arguments. WRONGPASS and NOAUTH are Unauthenticated, NOPERM PermissionDenied, LOADING, BUSY,
// READONLY, MASTERDOWN and TRYAGAIN Unavailable, OOM ResourceExhausted, the rest
// FailedPrecondition.
Status ErrorReplyStatus(const spec::RedisEndpoint& endpoint, std::string_view command_name,
                        const RedisReply& reply);

}  // namespace dynoherd::providers::redis
