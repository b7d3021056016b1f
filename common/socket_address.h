// The text form of a socket's own address or its peer's ("127.0.0.1" and 40263), as servers
// report a connection's ends (cpp-httplib's Stream::get_remote_ip_and_port and
// get_local_ip_and_port, in the listener and in the fake Platform API).
#pragma once

#include <string>

namespace dynoherd {

struct SocketAddress {
  std::string ip;  // "" when unknown: not an IP socket, or closed
  int port = 0;
};

enum class SocketEnd { kPeer, kLocal };

SocketAddress AddressOf(int fd, SocketEnd end);

}  // namespace dynoherd
