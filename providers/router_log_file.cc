#include "providers/router_log_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <span>

namespace dynoherd::providers {

namespace {

// Big enough to amortise the system call, small enough to stay in the L2 cache.
constexpr size_t kReadBytes = 256 * 1024;

Status ReadInto(int fd, latency::InputFormat format, latency::LatencyWindow& window,
                RouterLogRead& read) {
  latency::RouterLogStream stream({.format = format});
  std::unique_ptr<char[]> buffer(new char[kReadBytes]);
  TimePoint newest{};
  bool any_timestamp = false;
  TimePoint oldest{};
  auto take = [&](std::span<const latency::RouterLine> lines) {
    for (const latency::RouterLine& line : lines) {
      if (line.timestamp) {
        const TimePoint t = *line.timestamp;
        if (!any_timestamp) {
          oldest = newest = t;
          any_timestamp = true;
        } else if (t > newest) {
          newest = t;
        } else if (t < oldest) {
          oldest = t;
        }
      }
      window.Add(line, newest);
    }
  };
  for (;;) {
    const ssize_t n = ::read(fd, buffer.get(), kReadBytes);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Unavailable(std::string("read failed: ") + std::strerror(errno));
    }
    if (n == 0) break;
    take(stream.Feed(std::string_view(buffer.get(), static_cast<size_t>(n))));
  }
  take(stream.Finish());
  read.counts = stream.counts();
  read.format = stream.format();
  if (any_timestamp) {
    read.first_timestamp = oldest;
    read.last_timestamp = newest;
  }
  read.now = newest;
  return Status::Ok();
}

}  // namespace

Result<RouterLogRead> ReadRouterLog(const std::string& path, latency::InputFormat format,
                                    latency::LatencyWindow& window) {
  int fd = STDIN_FILENO;
  if (path != "-") {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::NotFound("cannot open " + path + ": " + std::strerror(errno));
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  RouterLogRead read;
  Status status = ReadInto(fd, format, window, read);
  if (fd != STDIN_FILENO) ::close(fd);
  if (!status.ok()) {
    return status.WithContext(path == "-" ? std::string("standard input") : path);
  }
  return read;
}

}  // namespace dynoherd::providers
