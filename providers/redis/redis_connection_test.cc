// RedisConnection against real redis-server processes on 127.0.0.1 (plain, TLS, with passwords and
// ACL users), and against tiny listeners of our own for what a real server will not do on demand:
// never answer, or answer only once a whole pipeline has arrived.
#include "providers/redis/redis_connection.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "tests/support/redis_server.h"

using namespace dynoherd;
using namespace dynoherd::providers::redis;
using namespace dynoherd::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* kPassword = "hunter2-s3cret";

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

struct Client {
  ManualSleeper sleeper;  // records the backoff's waits instead of waiting
  CapturingLogger logger;
  std::unique_ptr<RedisConnection> connection;

  RedisConnection* operator->() { return connection.get(); }
};

// A connection to `url` with the recording sleeper; the Client must outlive it.
void Connect(Client& client, const std::string& url, RedisConnectionOptions options = {}) {
  Result<spec::RedisEndpoint> endpoint = spec::ParseRedisUrl(url);
  REQUIRE_MESSAGE(endpoint.ok(), endpoint.status().message());
  options.sleeper = &client.sleeper;
  options.logger = &client.logger;
  Result<std::unique_ptr<RedisConnection>> connection =
      RedisConnection::Create(*endpoint, std::move(options));
  REQUIRE_MESSAGE(connection.ok(), connection.status().message());
  client.connection = std::move(connection).value();
}

std::string WithCredentials(const std::string& url, const std::string& userinfo) {
  const size_t after_scheme = url.find("://") + 3;
  return url.substr(0, after_scheme) + userinfo + "@" + url.substr(after_scheme);
}

std::unique_ptr<RedisServer> StartServer(RedisServerOptions options = {}) {
  Result<std::unique_ptr<RedisServer>> server = RedisServer::Start(std::move(options));
  REQUIRE_MESSAGE(server.ok(), server.status().message());
  return std::move(server).value();
}

// No password in any error or log line.
void CheckNoSecret(const Status& status, const Client& client, const std::string& secret) {
  CHECK_FALSE(Contains(status.message(), secret));
  for (const CapturingLogger::Entry& entry : client.logger.entries()) {
    CHECK_FALSE(Contains(entry.msg, secret));
    for (const LogField& field : entry.fields)
      CHECK_FALSE(Contains(field.value, secret));
  }
}

// A listening socket on 127.0.0.1 that our code connects to; the test decides what it does.
struct LocalListener {
  int fd = -1;
  int port = 0;

  explicit LocalListener(int backlog = 16) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(fd, backlog) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port = ntohs(address.sin_port);
  }
  ~LocalListener() { ::close(fd); }
  std::string Url() const { return "redis://127.0.0.1:" + std::to_string(port); }
};

// Reads until `enough(received)` or the deadline; false on the deadline or a closed peer.
bool ReceiveUntil(int fd, std::string& received,
                  const std::function<bool(const std::string&)>& enough,
                  std::chrono::steady_clock::time_point deadline) {
  while (!enough(received)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) return false;
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
    char buffer[4096];
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    received.append(buffer, static_cast<size_t>(n));
  }
  return true;
}

size_t CountOf(const std::string& text, std::string_view part) {
  size_t count = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1))
    ++count;
  return count;
}

}  // namespace

TEST_CASE("PING, SET and GET on a real redis-server, values binary-safe") {
  auto server = StartServer();
  Client redis;
  Connect(redis, server->Url());
  Result<RedisReply> pong = redis->Command({"PING"});
  REQUIRE_MESSAGE(pong.ok(), pong.status().message());
  CHECK(*pong == RedisReply::StatusReply("PONG"));

  const std::string value("line1\r\nline2\0end", 16);
  REQUIRE(redis->Command({"SET", "key", value}).ok());
  CHECK(*redis->Command({"GET", "key"}) == RedisReply::String(value));
  CHECK(redis->Command({"GET", "missing"})->is_nil());
  CHECK(*redis->Command({"RPUSH", "list", "a", "b"}) == RedisReply::Integer(2));
  CHECK(*redis->Command({"LRANGE", "list", "0", "-1"}) ==
        RedisReply::Array({RedisReply::String("a"), RedisReply::String("b")}));
  CHECK(redis->stats().connects == 1);
  CHECK(redis->stats().exchanges == 6);
}

TEST_CASE("an error reply is a Status naming the server and the command, not its arguments") {
  auto server = StartServer();
  Client redis;
  Connect(redis, server->Url());
  REQUIRE(redis->Command({"SET", "counter", "not a number"}).ok());
  Result<RedisReply> r = redis->Command({"INCR", "counter"});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Status::Code::kFailedPrecondition);
  CHECK(r.status().message() == "redis://127.0.0.1:" + std::to_string(server->port()) +
                                    ": INCR: ERR value is not an integer or out of range");
  Result<RedisReply> wrong_type = redis->Command({"LLEN", "counter"});
  CHECK(Contains(wrong_type.status().message(), ": LLEN: WRONGTYPE"));
  Result<RedisReply> unknown = redis->Command({"NOSUCHCOMMAND", "secret-argument"});
  CHECK(Contains(unknown.status().message(), "NOSUCHCOMMAND: ERR unknown command"));
  // Redis quotes the arguments of an unknown command; that is the server's text, ours adds none.
  CHECK(redis->Command({"PING"}).ok());  // the connection survives error replies
  CHECK(redis->stats().connects == 1);
}

TEST_CASE("a pipeline of 200 commands: every reply in order, error replies in place") {
  auto server = StartServer();
  Client redis;
  Connect(redis, server->Url());
  std::vector<RedisCommand> commands;
  for (int i = 0; i < 200; ++i)
    commands.push_back({"INCR", "counter"});
  commands[100] = {"LPOP", "counter"};  // a string, not a list: an error reply amid the others
  Result<std::vector<RedisReply>> replies = redis->Pipeline(commands);
  REQUIRE_MESSAGE(replies.ok(), replies.status().message());
  REQUIRE(replies->size() == 200);
  CHECK((*replies)[0] == RedisReply::Integer(1));
  CHECK((*replies)[99] == RedisReply::Integer(100));
  CHECK((*replies)[100].ErrorCode() == "WRONGTYPE");
  CHECK((*replies)[199] == RedisReply::Integer(199));
  CHECK(redis->stats().exchanges == 1);
  CHECK(redis->stats().commands == 200);
  // The server's own count: 199 INCR, each executed once.
  Result<RedisReply> stats = redis->Command({"INFO", "commandstats"});
  REQUIRE(stats.ok());
  CHECK(Contains(stats->text, "cmdstat_incr:calls=199,"));
  CHECK(redis->Pipeline({})->empty());
}

TEST_CASE("a pipeline is one round trip: a server that answers only once all 200 commands came") {
  // If the client waited for any reply before sending the rest, this server would never answer
  // and the call would time out.
  LocalListener listener;
  constexpr int kCommands = 200;
  std::string received;
  bool all_arrived = false;
  std::thread server([&] {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    pollfd pfd{listener.fd, POLLIN, 0};
    if (::poll(&pfd, 1, 5000) <= 0) return;
    int client = ::accept(listener.fd, nullptr, nullptr);
    all_arrived = ReceiveUntil(
        client, received,
        [](const std::string& r) { return CountOf(r, "$4\r\nECHO\r\n") == kCommands; }, deadline);
    std::string replies;
    for (int i = 0; i < kCommands; ++i) {
      const std::string value = std::to_string(i);
      // '$', not "$": GCC 12 -O3 reports a false -Wrestrict on "literal" + string.
      replies += '$' + std::to_string(value.size()) + "\r\n" + value + "\r\n";
    }
    if (all_arrived) (void)!::send(client, replies.data(), replies.size(), MSG_NOSIGNAL);
    std::string rest;  // until the client closes
    ReceiveUntil(
        client, rest, [](const std::string&) { return false; }, deadline);
    ::close(client);
  });
  Client redis;
  Connect(redis, listener.Url(), {.io_timeout = 3s});
  std::vector<RedisCommand> commands;
  for (int i = 0; i < kCommands; ++i)
    commands.push_back({"ECHO", std::to_string(i)});
  Result<std::vector<RedisReply>> replies = redis->Pipeline(commands);
  redis.connection.reset();
  server.join();
  CHECK(all_arrived);
  REQUIRE_MESSAGE(replies.ok(), replies.status().message());
  REQUIRE(replies->size() == kCommands);
  CHECK((*replies)[137] == RedisReply::String("137"));
}

TEST_CASE("AUTH with the default user's password, and a wrong or missing password") {
  auto server = StartServer({.password = kPassword});
  const std::string where = "redis://127.0.0.1:" + std::to_string(server->port());
  {
    Client redis;
    Connect(redis, WithCredentials(server->Url(), std::string(":") + kPassword));
    CHECK(redis->Command({"PING"}).ok());
  }
  {
    Client redis;
    Connect(redis, WithCredentials(server->Url(), ":not-the-password"));
    Result<RedisReply> r = redis->Command({"PING"});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kUnauthenticated);
    CHECK(r.status().message() == where +
                                      ": authentication failed: WRONGPASS invalid "
                                      "username-password pair or user is disabled.");
    CHECK(redis.sleeper.waits().empty());  // a wrong password is not retried
    CheckNoSecret(r.status(), redis, "not-the-password");
  }
  {
    Client redis;
    Connect(redis, server->Url());
    Result<RedisReply> r = redis->Command({"GET", "k"});
    CHECK(r.status().code() == Status::Code::kUnauthenticated);
    CHECK(Contains(r.status().message(), "GET: NOAUTH Authentication required."));
    CHECK(Contains(r.status().message(), "the server wants a password; the URL has none"));
  }
}

TEST_CASE("AUTH as an ACL user, and SELECT of the URL's database") {
  auto server = StartServer({.acl_user = "dynoherd", .acl_password = kPassword});
  Client alice;
  Connect(alice, WithCredentials(server->Url(), std::string("dynoherd:") + kPassword) + "/3");
  CHECK(*alice->Command({"ACL", "WHOAMI"}) == RedisReply::String("dynoherd"));
  REQUIRE(alice->Command({"SET", "where", "db3"}).ok());
  Client default_db;
  Connect(default_db, server->Url());
  CHECK(default_db->Command({"GET", "where"})->is_nil());
  REQUIRE(default_db->Command({"SELECT", "3"}).ok());
  CHECK(*default_db->Command({"GET", "where"}) == RedisReply::String("db3"));

  Client wrong;
  Connect(wrong, WithCredentials(server->Url(), "dynoherd:nope-" + std::string(kPassword)));
  Status s = wrong->Connect();
  CHECK(s.code() == Status::Code::kUnauthenticated);
  CHECK(Contains(s.message(), "authentication as user \"dynoherd\" failed: WRONGPASS"));
  CheckNoSecret(s, wrong, kPassword);

  Client no_such_db;
  Connect(no_such_db, server->Url() + "/99");
  Status db = no_such_db->Connect();
  CHECK(db.code() == Status::Code::kInvalidArgument);
  CHECK(Contains(db.message(), ": database 99: ERR DB index is out of range"));
}

TEST_CASE("an old Heroku URL's dummy user: AUTH falls back to the password alone") {
  // redis://h:PASSWORD@host: Redis 6+ has no ACL user "h" and answers WRONGPASS to AUTH h PASSWORD.
  auto server = StartServer({.password = kPassword});
  Client redis;
  Connect(redis, WithCredentials(server->Url(), std::string("h:") + kPassword));
  Result<RedisReply> whoami = redis->Command({"ACL", "WHOAMI"});
  REQUIRE_MESSAGE(whoami.ok(), whoami.status().message());
  CHECK(*whoami == RedisReply::String("default"));
  CHECK(redis.logger.Contains(LogLevel::kInfo, "redis refused the URL's user"));
  // Remembered: a reconnect sends the form that worked, in one round trip.
  redis->Close();
  const uint64_t exchanges = redis->stats().exchanges;
  REQUIRE(redis->Command({"PING"}).ok());
  CHECK(redis->stats().exchanges == exchanges + 2);  // the handshake's AUTH, then PING
  CheckNoSecret(Status::Ok(), redis, kPassword);

  Client wrong;
  Connect(wrong, WithCredentials(server->Url(), "h:not-the-password"));
  Status s = wrong->Connect();
  CHECK(s.code() == Status::Code::kUnauthenticated);
  CHECK(s.message() == "redis://127.0.0.1:" + std::to_string(server->port()) +
                           ": authentication as user \"h\" failed: WRONGPASS invalid "
                           "username-password pair or user is disabled.; with the password "
                           "alone: WRONGPASS invalid username-password pair or user is disabled.");
  CHECK(wrong.sleeper.waits().empty());
  CheckNoSecret(s, wrong, "not-the-password");
}

TEST_CASE("a Redis before 6 refuses AUTH with a user (ERR): the password alone is sent next") {
  LocalListener listener;
  std::string received;
  std::thread server([&] {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    pollfd pfd{listener.fd, POLLIN, 0};
    if (::poll(&pfd, 1, 5000) <= 0) return;
    int client = ::accept(listener.fd, nullptr, nullptr);
    // As Redis 5 answers: AUTH takes one argument.
    const std::string with_user = "*3\r\n$4\r\nAUTH\r\n$1\r\nh\r\n$5\r\ns3cr7\r\n";
    const std::string alone = "*2\r\n$4\r\nAUTH\r\n$5\r\ns3cr7\r\n";
    const std::string ping = "*1\r\n$4\r\nPING\r\n";
    auto answer = [&](const std::string& expected, const std::string& reply) {
      received.clear();
      if (!ReceiveUntil(
              client, received, [&](const std::string& r) { return r.size() >= expected.size(); },
              deadline)) {
        return false;
      }
      (void)!::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
      return received == expected;
    };
    if (answer(with_user, "-ERR wrong number of arguments for 'auth' command\r\n") &&
        answer(alone, "+OK\r\n")) {
      answer(ping, "+PONG\r\n");
    }
    ::close(client);
  });
  Client redis;
  Connect(redis, "redis://h:s3cr7@127.0.0.1:" + std::to_string(listener.port), {.io_timeout = 3s});
  Result<RedisReply> pong = redis->Command({"PING"});
  redis.connection.reset();
  server.join();
  REQUIRE_MESSAGE(pong.ok(), pong.status().message());
  CHECK(*pong == RedisReply::StatusReply("PONG"));
}

TEST_CASE("on_request is told each command and pipeline, and whether it succeeded") {
  auto server = StartServer();
  std::vector<bool> told;
  Client redis;
  Connect(redis, server->Url(), {.on_request = [&told](bool ok) { told.push_back(ok); }});
  REQUIRE(redis->Command({"PING"}).ok());
  REQUIRE(redis->Pipeline({{"PING"}, {"PING"}}).ok());
  REQUIRE(server->Stop().ok());
  CHECK_FALSE(redis->Command({"PING"}).ok());
  CHECK(told == std::vector<bool>{true, true, false});
}

TEST_CASE("connection refused: retried with capped exponential backoff, then a clear error") {
  LocalListener taken;  // a port no server listens on once closed
  const int port = taken.port;
  ::close(taken.fd);
  taken.fd = -1;
  Client redis;
  Connect(redis, "redis://:" + std::string(kPassword) + "@127.0.0.1:" + std::to_string(port),
          {.reconnect = {.attempts = 5, .initial_backoff = 100ms, .max_backoff = 300ms}});
  Status s = redis->Connect();
  CHECK(s.code() == Status::Code::kUnavailable);
  CHECK(s.message() == "redis://127.0.0.1:" + std::to_string(port) + ": connection refused");
  CHECK(redis.sleeper.waits() == std::vector<Duration>{100ms, 200ms, 300ms, 300ms});
  CHECK(redis.logger.Contains(LogLevel::kWarn, "redis connect failed; retrying"));
  CheckNoSecret(s, redis, kPassword);
  // A call starts its attempts afresh.
  CHECK_FALSE(redis->Command({"PING"}).ok());
  CHECK(redis.sleeper.waits().size() == 8);
}

TEST_CASE("an unknown host fails at once, without the password") {
  Client redis;
  Connect(redis, "redis://:" + std::string(kPassword) + "@no-such-host.invalid:6379");
  Result<RedisReply> r = redis->Command({"PING"});
  CHECK(r.status().code() == Status::Code::kNotFound);
  CHECK(r.status().message() == "redis://no-such-host.invalid:6379: unknown host");
  CHECK(redis.sleeper.waits().empty());
  CheckNoSecret(r.status(), redis, kPassword);
}

TEST_CASE("a server that accepts and never answers: the read times out") {
  LocalListener silent;  // the kernel completes the connection; nobody ever reads or answers
  Client redis;
  Connect(redis, silent.Url(), {.io_timeout = 50ms});
  const auto start = std::chrono::steady_clock::now();
  Result<RedisReply> r = redis->Command({"PING"});
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  CHECK(r.status().code() == Status::Code::kDeadlineExceeded);
  CHECK(r.status().message() == silent.Url() + ": no reply to PING within 50ms");
  CHECK_FALSE(redis->connected());  // whatever arrives late must not answer the next command

  Client with_password;  // the same during the connect's AUTH
  Connect(with_password, WithCredentials(silent.Url(), std::string(":") + kPassword),
          {.connect_timeout = 50ms, .reconnect = {.attempts = 2}});
  Status s = with_password->Connect();
  CHECK(s.code() == Status::Code::kDeadlineExceeded);
  CHECK(Contains(s.message(), "no reply to AUTH within 50ms"));
  CHECK(with_password.sleeper.waits().size() == 1);  // a timeout is worth another attempt
  CheckNoSecret(s, with_password, kPassword);
}

TEST_CASE("a connect that never completes times out") {
  // With a backlog of 0 and one connection already waiting to be accepted, Linux drops further
  // SYNs: the next connect hangs until its timeout.
  LocalListener full(0);
  int waiting = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(full.port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(waiting, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  Client redis;
  Connect(redis, full.Url(), {.connect_timeout = 100ms, .reconnect = {.attempts = 1}});
  Status s = redis->Connect();
  ::close(waiting);
  CHECK(s.code() == Status::Code::kDeadlineExceeded);
  CHECK(s.message() == full.Url() + ": connect timed out after 100ms");
}

TEST_CASE("TLS verified against the CA the test generated, with a password") {
  auto server = StartServer({.tls = true, .password = kPassword});
  Client redis;
  Connect(redis, WithCredentials(server->Url(), std::string(":") + kPassword),
          {.tls_ca_file = server->ca_file()});
  Result<RedisReply> pong = redis->Command({"PING"});
  REQUIRE_MESSAGE(pong.ok(), pong.status().message());
  CHECK(*pong == RedisReply::StatusReply("PONG"));
  std::vector<RedisCommand> commands;
  for (int i = 0; i < 200; ++i)
    commands.push_back({"INCR", "n"});
  Result<std::vector<RedisReply>> replies = redis->Pipeline(commands);
  REQUIRE(replies.ok());
  CHECK(replies->back() == RedisReply::Integer(200));
  CHECK(redis->stats().connects == 1);
}

TEST_CASE("TLS 1.3 session tickets waiting unread do not make an idle connection look closed") {
  auto server = StartServer({.tls = true});
  Client redis;
  Connect(redis, server->Url(), {.tls_ca_file = server->ca_file()});
  REQUIRE(redis->Connect().ok());  // no AUTH: nothing has read what came after the handshake
  // The server sends its tickets once it has our last handshake message, which was queued before
  // another client's first PING; by the reply to that client's second PING they have been sent.
  Client other;
  Connect(other, server->Url(), {.tls_ca_file = server->ca_file()});
  REQUIRE(other->Command({"PING"}).ok());
  REQUIRE(other->Command({"PING"}).ok());
  CHECK(redis->Command({"PING"}).ok());
  CHECK(redis->stats().connects == 1);
}

TEST_CASE("TLS verification fails without the CA, or for a certificate of another host") {
  auto server = StartServer({.tls = true});
  {
    Client redis;
    Connect(redis, server->Url());  // the system's CA store does not know the test's CA
    Status s = redis->Connect();
    CHECK(s.code() == Status::Code::kFailedPrecondition);
    CHECK(Contains(s.message(), server->Url() + ": TLS certificate verification failed: "));
    CHECK(Contains(s.message(), "turn TLS verification off"));
    CHECK(redis.sleeper.waits().empty());
  }
  {
    Client redis;  // tls_verify=false, as for Heroku's self-signed certificates
    Connect(redis, server->Url(), {.tls_verify = false});
    CHECK(redis->Command({"PING"}).ok());
  }
  auto elsewhere = StartServer({.tls = true, .certificate_names = {"DNS:redis.invalid"}});
  {
    Client redis;
    Connect(redis, elsewhere->Url(), {.tls_ca_file = elsewhere->ca_file()});
    Status s = redis->Connect();
    CHECK(s.code() == Status::Code::kFailedPrecondition);
    CHECK(Contains(s.message(), "verification failed: IP address mismatch"));
  }
}

TEST_CASE("TLS settings are checked before connecting; TLS to a plain port fails clearly") {
  Result<spec::RedisEndpoint> tls_endpoint = spec::ParseRedisUrl("rediss://127.0.0.1:1");
  auto contradiction =
      RedisConnection::Create(*tls_endpoint, {.tls_verify = false, .tls_ca_file = "/ca.pem"});
  CHECK(contradiction.status().code() == Status::Code::kInvalidArgument);
  CHECK(Contains(contradiction.status().message(), "TLS verification is off"));
  auto missing = RedisConnection::Create(*tls_endpoint, {.tls_ca_file = "/no/such/ca.pem"});
  CHECK(missing.status().code() == Status::Code::kInvalidArgument);
  CHECK(Contains(missing.status().message(), "TLS CA file /no/such/ca.pem: cannot be read"));

  auto plain = StartServer();
  Client redis;
  Connect(redis, "rediss://127.0.0.1:" + std::to_string(plain->port()),
          {.connect_timeout = 100ms, .tls_verify = false, .reconnect = {.attempts = 1}});
  // Redis takes the TLS hello for the start of an inline command and waits for its end.
  Status s = redis->Connect();
  CHECK(s.code() == Status::Code::kDeadlineExceeded);
  CHECK(Contains(s.message(),
                 ": TLS handshake timed out after 100ms (is this port plain redis://?)"));
}

TEST_CASE("after the server restarts, the next call reconnects; while it is down, calls fail") {
  auto server = StartServer({.password = kPassword});
  Client redis;
  Connect(redis, WithCredentials(server->Url(), std::string(":") + kPassword) + "/2",
          {.reconnect = {.attempts = 3}});
  REQUIRE(redis->Command({"SET", "k", "v"}).ok());

  REQUIRE(server->Restart().ok());
  // The idle connection is found closed before the command goes out, so nothing is lost or
  // sent twice; the new connection logs in and selects database 2 again.
  Result<RedisReply> after = redis->Command({"CLIENT", "INFO"});
  REQUIRE_MESSAGE(after.ok(), after.status().message());
  CHECK(Contains(after->text, " db=2 "));
  CHECK(redis->stats().connects == 2);
  CHECK(redis.sleeper.waits().empty());
  CHECK(redis.logger.Contains(LogLevel::kInfo, "redis connection closed by the server"));

  REQUIRE(server->Stop().ok());
  Result<RedisReply> down = redis->Command({"PING"});
  CHECK(down.status().code() == Status::Code::kUnavailable);
  CHECK(Contains(down.status().message(), "connection refused"));
  CHECK(redis.sleeper.waits() == std::vector<Duration>{100ms, 200ms});

  REQUIRE(server->Restart().ok());
  CHECK(redis->Command({"PING"}).ok());
  CHECK(redis->stats().connects == 3);
  CheckNoSecret(down.status(), redis, kPassword);
}
