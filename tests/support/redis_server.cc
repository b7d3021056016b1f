#include "tests/support/redis_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace dynoherd::testing {
namespace {

using namespace std::chrono_literals;

// A port nobody listens on right now. Another process may take it before redis-server does;
// Start then tries another.
Result<int> FreeLocalPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Internal("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  if (port == 0) return Status::Internal("no free port on 127.0.0.1");
  return port;
}

// A blocking socket to 127.0.0.1:port whose reads and writes give up after a second.
int ConnectLocal(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval timeout{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Any reply to PING, +PONG or -NOAUTH, shows the server is serving.
bool IsReply(const char* bytes, int n) {
  return n > 0 && (bytes[0] == '+' || bytes[0] == '-');
}

bool PlainPing(int port) {
  int fd = ConnectLocal(port);
  if (fd < 0) return false;
  char reply[64];
  bool ok = ::send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6 &&
            IsReply(reply, static_cast<int>(::recv(fd, reply, sizeof reply, 0)));
  ::close(fd);
  return ok;
}

bool TlsPing(int port, const std::string& ca_file) {
  int fd = ConnectLocal(port);
  if (fd < 0) return false;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  char reply[64];
  bool ok = SSL_connect(ssl) == 1 && SSL_write(ssl, "PING\r\n", 6) == 6 &&
            IsReply(reply, SSL_read(ssl, reply, sizeof reply));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  return ok;
}

Status RunOpenssl(const std::string& openssl, std::vector<std::string> args,
                  const std::string& dir) {
  ProcessResult r = RunProcess(
      openssl,
      {.args = std::move(args), .working_dir = dir, .timeout = std::chrono::milliseconds(30'000)});
  if (r.exit_code != 0) return Status::Internal("openssl failed: " + r.err);
  return Status::Ok();
}

}  // namespace

std::string FindProgram(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(std::string(path != nullptr ? path : "") + ":/usr/sbin:/usr/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    std::filesystem::path candidate = std::filesystem::path(dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

Result<std::unique_ptr<RedisServer>> RedisServer::Start(RedisServerOptions options) {
  std::unique_ptr<RedisServer> server(
      new RedisServer(std::move(options), std::make_unique<TempDir>()));
  server->binary_ = FindProgram("redis-server");
  if (server->binary_.empty()) {
    return Status::FailedPrecondition(
        "redis-server is not installed (apt-get install redis-server)");
  }
  if (server->options_.tls) {
    if (Status s = server->GenerateCertificates(); !s.ok()) return s;
  }
  Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {  // another process may take the free port first
    Result<int> port = FreeLocalPort();
    if (!port.ok()) return port.status();
    server->port_ = *port;
    last = server->Launch();
    if (last.ok()) return server;
  }
  return last;
}

std::string RedisServer::Url() const {
  return std::string(options_.tls ? "rediss" : "redis") + "://127.0.0.1:" + std::to_string(port_);
}

Status RedisServer::GenerateCertificates() const {
  const std::string openssl = FindProgram("openssl");
  if (openssl.empty())
    return Status::FailedPrecondition("openssl is not installed (apt-get install openssl)");
  const std::string dir = dir_->path().string();
  std::string alt_names = "subjectAltName=";
  for (size_t i = 0; i < options_.certificate_names.size(); ++i)
    alt_names += (i > 0 ? "," : "") + options_.certificate_names[i];
  dir_->Write("server.ext",
              alt_names + "\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
  const std::vector<std::string> ec_key = {"-newkey", "ec", "-pkeyopt",
                                           "ec_paramgen_curve:prime256v1", "-nodes"};
  std::vector<std::string> ca = {"req", "-x509", "-new"};
  ca.insert(ca.end(), ec_key.begin(), ec_key.end());
  ca.insert(ca.end(),
            {"-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=dynoherd test CA",
             "-config", "/dev/null", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
             "keyUsage=critical,keyCertSign,cRLSign"});
  if (Status s = RunOpenssl(openssl, ca, dir); !s.ok()) return s;
  std::vector<std::string> request = {"req", "-new"};
  request.insert(request.end(), ec_key.begin(), ec_key.end());
  request.insert(request.end(), {"-keyout", "server.key", "-out", "server.csr", "-subj",
                                 "/CN=dynoherd test redis", "-config", "/dev/null"});
  if (Status s = RunOpenssl(openssl, request, dir); !s.ok()) return s;
  return RunOpenssl(
      openssl,
      {"x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
       "-out", "server.crt", "-days", "2", "-extfile", "server.ext"},
      dir);
}

std::vector<std::string> RedisServer::Arguments() const {
  const std::string port = std::to_string(port_);
  std::vector<std::string> args = {
      "--bind", "127.0.0.1",           "--save",    "", "--appendonly", "no",
      "--dir",  dir_->path().string(), "--logfile", "", "--daemonize",  "no"};
  if (options_.tls) {
    const std::string dir = dir_->path().string();
    args.insert(args.end(), {"--port", "0", "--tls-port", port, "--tls-cert-file",
                             dir + "/server.crt", "--tls-key-file", dir + "/server.key",
                             "--tls-ca-cert-file", dir + "/ca.crt", "--tls-auth-clients", "no"});
  } else {
    args.insert(args.end(), {"--port", port});
  }
  if (!options_.password.empty()) args.insert(args.end(), {"--requirepass", options_.password});
  if (!options_.acl_user.empty()) {
    args.insert(args.end(), {"--user", options_.acl_user, "on", ">" + options_.acl_password, "~*",
                             "&*", "+@all"});
  }
  return args;
}

Status RedisServer::Launch() {
  Result<Subprocess> process = Subprocess::Start(binary_, {.args = Arguments()});
  if (!process.ok()) return process.status();
  process_.emplace(std::move(process).value());
  if (!process_->WaitForOutput("Ready to accept connections", 10s)) {
    Status failed =
        Status::Unavailable("redis-server did not start: " + process_->out() + process_->err());
    process_.reset();
    return failed;
  }
  return WaitUntilAnswersPing();
}

Status RedisServer::WaitUntilAnswersPing() const {
  // It says it is ready once it listens; a PING proves it. Bounded, with a short poll between.
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (options_.tls ? TlsPing(port_, ca_file()) : PlainPing(port_)) return Status::Ok();
    ::poll(nullptr, 0, 10);
  }
  return Status::Unavailable("redis-server on port " + std::to_string(port_) +
                             " does not answer PING");
}

Status RedisServer::Stop() {
  if (!process_) return Status::Ok();
  (void)process_->Signal(SIGTERM);
  ProcessResult result = process_->Wait(10s);
  process_.reset();
  if (result.timed_out) return Status::DeadlineExceeded("redis-server did not stop within 10s");
  return Status::Ok();
}

Status RedisServer::Restart() {
  if (Status s = Stop(); !s.ok()) return s;
  return Launch();
}

}  // namespace dynoherd::testing
