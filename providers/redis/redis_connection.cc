#include "providers/redis/redis_connection.h"

#include <algorithm>

#include "providers/redis/redis_stream.h"

namespace dynoherd::providers::redis {
namespace {

// Worth another attempt: the server may be restarting or the network recovering. Wrong passwords,
// untrusted certificates and unknown hosts will not fix themselves within a call.
bool IsTransient(const Status& status) {
  return status.code() == Status::Code::kUnavailable ||
         status.code() == Status::Code::kDeadlineExceeded;
}

Duration Backoff(const ReconnectPolicy& policy, int failed_attempts) {
  Duration wait = policy.initial_backoff;
  for (int i = 1; i < failed_attempts && wait < policy.max_backoff; ++i)
    wait *= 2;
  return std::min(wait, policy.max_backoff);
}

std::string Count(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

Status ErrorReplyStatus(const spec::RedisEndpoint& endpoint, std::string_view command_name,
                        const RedisReply& reply) {
  const std::string where = std::string(endpoint.tls ? "rediss://" : "redis://") +
                            endpoint.HostPort() + ": " + std::string(command_name) + ": ";
  const std::string_view code = reply.ErrorCode();
  std::string message = where + reply.text;
  if (code == "NOAUTH" && endpoint.password.empty()) {
    return Status::Unauthenticated(message + " (the server wants a password; the URL has none)");
  }
  if (code == "WRONGPASS" || code == "NOAUTH") return Status::Unauthenticated(message);
  if (code == "NOPERM") return Status::PermissionDenied(message);
  if (code == "LOADING" || code == "BUSY" || code == "READONLY" || code == "MASTERDOWN" ||
      code == "TRYAGAIN") {
    return Status::Unavailable(message);
  }
  if (code == "OOM") return Status::ResourceExhausted(message);
  return Status::FailedPrecondition(message);
}

Result<std::unique_ptr<RedisConnection>> RedisConnection::Create(spec::RedisEndpoint endpoint,
                                                                 RedisConnectionOptions options) {
  if (options.reconnect.attempts < 1) {
    return Status::InvalidArgument("Redis reconnect attempts must be at least 1");
  }
  if (options.connect_timeout <= Duration::zero() || options.io_timeout <= Duration::zero()) {
    return Status::InvalidArgument("Redis connect and I/O timeouts must be positive");
  }
  std::unique_ptr<RedisConnection> connection(
      new RedisConnection(std::move(endpoint), std::move(options)));
  if (connection->endpoint_.tls) {
    auto tls =
        TlsClientContext::Create(connection->options_.tls_verify, connection->options_.tls_ca_file);
    if (!tls.ok()) return tls.status().WithContext(connection->where());
    connection->tls_ = *tls;
  }
  return connection;
}

RedisConnection::RedisConnection(spec::RedisEndpoint endpoint, RedisConnectionOptions options)
    : endpoint_(std::move(endpoint)), options_(std::move(options)) {
  if (options_.sleeper == nullptr) own_sleeper_ = std::make_unique<SystemSleeper>();
  sleeper_ = options_.sleeper != nullptr ? options_.sleeper : own_sleeper_.get();
}

RedisConnection::~RedisConnection() = default;

std::string RedisConnection::where() const {
  return (endpoint_.tls ? "rediss://" : "redis://") + endpoint_.HostPort();
}

void RedisConnection::Close() {
  stream_.reset();
  reader_.reset();
}

Status RedisConnection::Fail(Status status) {
  Close();
  return status.WithContext(where());
}

Status RedisConnection::Connect() {
  if (stream_ != nullptr) {
    if (stream_->StillOpen()) return Status::Ok();
    if (options_.logger != nullptr) {
      options_.logger->Info("redis connection closed by the server; reconnecting",
                            {{"redis", endpoint_.Redacted()}});
    }
    Close();
  }
  Status last;
  for (int attempt = 1; attempt <= options_.reconnect.attempts; ++attempt) {
    if (attempt > 1) {
      const Duration wait = Backoff(options_.reconnect, attempt - 1);
      if (options_.logger != nullptr) {
        options_.logger->Warn("redis connect failed; retrying", {{"redis", endpoint_.Redacted()},
                                                                 {"attempt", attempt - 1},
                                                                 {"retryIn", FormatDuration(wait)},
                                                                 {"error", last.message()}});
      }
      if (!sleeper_->Sleep(wait)) return Status::Aborted(where() + ": connect interrupted");
    }
    last = ConnectOnce();
    if (last.ok()) {
      ++stats_.connects;
      if (options_.logger != nullptr) {
        options_.logger->Debug("redis connected",
                               {{"redis", endpoint_.Redacted()}, {"attempt", attempt}});
      }
      return last;
    }
    if (!IsTransient(last)) break;
  }
  return last;
}

Status RedisConnection::ConnectOnce() {
  Result<std::unique_ptr<RedisStream>> stream =
      RedisStream::Open(endpoint_, tls_.get(), Deadline::After(options_.connect_timeout));
  if (!stream.ok()) return stream.status().WithContext(where());
  stream_ = std::move(stream).value();
  reader_ = std::make_unique<RedisReplyReader>();
  return Handshake();
}

std::vector<RedisCommand> RedisConnection::HandshakeCommands(bool user) const {
  std::vector<RedisCommand> commands;
  if (!endpoint_.password.empty()) {
    commands.push_back(user ? RedisCommand{"AUTH", endpoint_.username, endpoint_.password}
                            : RedisCommand{"AUTH", endpoint_.password});
  }
  if (endpoint_.database != 0) commands.push_back({"SELECT", std::to_string(endpoint_.database)});
  return commands;
}

Status RedisConnection::Handshake() {
  const bool with_user = !endpoint_.username.empty() && !password_alone_;
  std::vector<RedisCommand> commands = HandshakeCommands(with_user);
  if (commands.empty()) return Status::Ok();
  Result<std::vector<RedisReply>> replies = Exchange(commands, options_.connect_timeout);
  if (!replies.ok()) return replies.status();

  // A refused user: Redis 6+ answers WRONGPASS when no such ACL user exists, Redis 5 answers ERR
  // to an AUTH with two arguments. The password alone may still be the default user's.
  const std::string_view code = replies->front().ErrorCode();
  if (with_user && (code == "WRONGPASS" || code == "ERR")) {
    const RedisReply refused = replies->front();
    commands = HandshakeCommands(false);
    replies = Exchange(commands, options_.connect_timeout);
    if (!replies.ok()) return replies.status();
    if (replies->front().is_error()) return AuthFailed(refused, &replies->front());
    password_alone_ = true;
    if (options_.logger != nullptr) {
      options_.logger->Info(
          "redis refused the URL's user; logged in with the password alone (the default user)",
          {{"redis", endpoint_.Redacted()}, {"user", endpoint_.username}});
    }
  }
  for (size_t i = 0; i < replies->size(); ++i) {
    const RedisReply& reply = (*replies)[i];
    if (!reply.is_error()) continue;
    // AUTH fails first; the SELECT after a failed AUTH only repeats NOAUTH.
    if (commands[i][0] == "AUTH") return AuthFailed(reply, nullptr);
    Close();
    if (reply.ErrorCode() == "NOAUTH") return ErrorReplyStatus(endpoint_, "SELECT", reply);
    return Status::InvalidArgument(where() + ": database " + std::to_string(endpoint_.database) +
                                   ": " + reply.text);
  }
  return Status::Ok();
}

Status RedisConnection::AuthFailed(const RedisReply& reply, const RedisReply* password_alone) {
  Close();
  const std::string who =
      endpoint_.username.empty() ? "" : " as user \"" + endpoint_.username + "\"";
  std::string message = where() + ": authentication" + who + " failed: " + reply.text;
  if (password_alone != nullptr) message += "; with the password alone: " + password_alone->text;
  return Status::Unauthenticated(message);
}

Result<RedisReply> RedisConnection::Command(const RedisCommand& command) {
  Result<std::vector<RedisReply>> replies = Pipeline({command});
  if (!replies.ok()) return replies.status();
  RedisReply& reply = replies->front();
  if (reply.is_error()) return ErrorReplyStatus(endpoint_, command.front(), reply);
  return std::move(reply);
}

Result<std::vector<RedisReply>> RedisConnection::Pipeline(
    const std::vector<RedisCommand>& commands) {
  if (commands.empty()) return std::vector<RedisReply>();
  Status connected = Connect();
  Result<std::vector<RedisReply>> replies = connected;
  if (connected.ok()) replies = Exchange(commands, options_.io_timeout);
  if (options_.on_request) options_.on_request(replies.ok());
  return replies;
}

Result<std::vector<RedisReply>> RedisConnection::Exchange(const std::vector<RedisCommand>& commands,
                                                          Duration timeout) {
  // Redis keeps reading a client's commands while its replies pile up, so writing everything
  // before reading anything cannot deadlock, whatever the size of the pipeline.
  std::string request;
  for (const RedisCommand& command : commands)
    request += FormatCommand(command);
  const std::string what = commands.size() == 1
                               ? commands.front().front()
                               : "a pipeline of " + Count(commands.size(), "command", "commands");
  const Deadline deadline = Deadline::After(timeout);
  stats_.commands += commands.size();
  if (Status s = stream_->Write(request, deadline); !s.ok()) {
    return Fail(s.WithContext("sending " + what));
  }

  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  char buffer[16384];
  while (replies.size() < commands.size()) {
    Result<std::optional<RedisReply>> next = reader_->Next();
    if (!next.ok()) return Fail(next.status());
    if (next->has_value()) {
      replies.push_back(std::move(**next));
      continue;
    }
    Result<size_t> n = stream_->Read(buffer, sizeof buffer, deadline);
    if (!n.ok() && n.status().code() == Status::Code::kDeadlineExceeded) {
      std::string got =
          replies.empty() ? "" : " (" + Count(replies.size(), "reply", "replies") + " came)";
      return Fail(Status::DeadlineExceeded("no reply to " + what + " within " +
                                           FormatDuration(timeout) + got));
    }
    if (!n.ok()) return Fail(n.status().WithContext("waiting for the reply to " + what));
    if (Status s = reader_->Feed(std::string_view(buffer, *n)); !s.ok()) return Fail(s);
  }
  ++stats_.exchanges;
  return replies;
}

}  // namespace dynoherd::providers::redis
