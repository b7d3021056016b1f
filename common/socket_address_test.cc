#include "common/socket_address.h"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace dynoherd;

namespace {

// A socket descriptor closed at the end of the scope.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

TEST_CASE("AddressOf: both ends of a TCP connection on 127.0.0.1; nothing for other sockets") {
  Fd server{::socket(AF_INET, SOCK_STREAM, 0)};
  REQUIRE(server.fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(server.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(server.fd, 1) == 0);
  const SocketAddress listening = AddressOf(server.fd, SocketEnd::kLocal);
  CHECK(listening.ip == "127.0.0.1");
  REQUIRE(listening.port > 0);

  Fd client{::socket(AF_INET, SOCK_STREAM, 0)};
  addr.sin_port = htons(static_cast<uint16_t>(listening.port));
  REQUIRE(::connect(client.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  Fd accepted{::accept(server.fd, nullptr, nullptr)};
  REQUIRE(accepted.fd >= 0);
  const SocketAddress peer = AddressOf(accepted.fd, SocketEnd::kPeer);
  CHECK(peer.ip == "127.0.0.1");
  CHECK(peer.port == AddressOf(client.fd, SocketEnd::kLocal).port);
  CHECK(AddressOf(accepted.fd, SocketEnd::kLocal).port == listening.port);

  int pair[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
  Fd left{pair[0]}, right{pair[1]};
  const SocketAddress local = AddressOf(left.fd, SocketEnd::kPeer);
  CHECK(local.ip.empty());
  CHECK(local.port == 0);
  CHECK(AddressOf(-1, SocketEnd::kLocal).ip.empty());
}
