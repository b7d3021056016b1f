// A client connection of raw bytes to 127.0.0.1, for tests of what a server does with clients
// that misbehave: a request trickled a line at a time or never finished, too many connections.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace dynoherd::testing {

class RawConnection {
 public:
  explicit RawConnection(int port);  // connects at once; ok() says whether it could
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool ok() const { return fd_ >= 0; }
  // Sends all of `bytes`; false when the connection is gone.
  bool Send(std::string_view bytes);
  // Whether the server has closed (or reset) the connection, waiting at most `wait` to see it.
  // What it sent before is kept in received().
  bool ClosedByServer(std::chrono::milliseconds wait = std::chrono::milliseconds(0));
  const std::string& received() const { return received_; }

 private:
  int fd_ = -1;
  bool closed_ = false;
  std::string received_;
};

}  // namespace dynoherd::testing
