// A real redis-server (Debian's) as a child process on 127.0.0.1, for the Redis tests and the
// Sidekiq benchmark: plain TCP, or TLS only with a CA and a server certificate generated for the
// run (the `openssl` command) in a temporary directory. Start returns once the server answers PING;
// the destructor kills it.
//
//   auto redis = RedisServer::Start({.password = "s3cret"});
//   REQUIRE(redis.ok());
//   ... connect to (*redis)->Url() ...
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace dynoherd::testing {

struct RedisServerOptions {
  // TLS only: --port 0 --tls-port <port>, clients not asked for certificates.
  bool tls = false;
  // The server certificate's subjectAltName entries; a test of host name verification gives names
  // that do not match 127.0.0.1.
  std::vector<std::string> certificate_names = {"IP:127.0.0.1", "DNS:localhost"};
  std::string password = {};  // requirepass: the default user's password
  std::string acl_user = {};  // with acl_password: an ACL user allowed every command and key
  std::string acl_password = {};
};

class RedisServer {
 public:
  // Fails with FailedPrecondition when redis-server (or openssl, for TLS) is not installed.
  static Result<std::unique_ptr<RedisServer>> Start(RedisServerOptions options = {});
  ~RedisServer() = default;  // the Subprocess kills and reaps the server

  int port() const { return port_; }  // the TLS port with tls, else the plain one
  // redis://127.0.0.1:<port> or rediss://127.0.0.1:<port>, without credentials.
  std::string Url() const;
  // The PEM file of the CA that signed the server's certificate (tls only).
  std::string ca_file() const { return (dir_->path() / "ca.crt").string(); }

  // Shuts the server down (SIGTERM) and waits for it to exit; connections to port() are then
  // refused.
  Status Stop();
  // Stop (when running) and start again on the same port, with the same certificate and users.
  Status Restart();

 private:
  RedisServer(RedisServerOptions options, std::unique_ptr<TempDir> dir)
      : options_(std::move(options)), dir_(std::move(dir)) {}
  Status GenerateCertificates() const;
  Status Launch();
  Status WaitUntilAnswersPing() const;
  std::vector<std::string> Arguments() const;

  RedisServerOptions options_;
  std::unique_ptr<TempDir> dir_;
  std::string binary_;
  int port_ = 0;
  std::optional<Subprocess> process_;
};

// The absolute path of `program` found on $PATH (then /usr/sbin, /usr/bin), or "".
std::string FindProgram(const std::string& program);

}  // namespace dynoherd::testing
