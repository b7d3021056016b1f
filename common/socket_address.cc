#include "common/socket_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace dynoherd {

SocketAddress AddressOf(int fd, SocketEnd end) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  auto* a = reinterpret_cast<sockaddr*>(&addr);
  const int got = end == SocketEnd::kPeer ? ::getpeername(fd, a, &len) : ::getsockname(fd, a, &len);
  if (got != 0) return {};
  char host[INET6_ADDRSTRLEN] = {0};
  SocketAddress out;
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    out.port = ntohs(in->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    out.port = ntohs(in6->sin6_port);
  }
  out.ip = host;
  return out;
}

}  // namespace dynoherd
