#include "providers/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/crash_point.h"

namespace dynoherd::providers {

std::string ErrnoText() { return std::strerror(errno); }

namespace {

namespace fs = std::filesystem;

// Writes all of `data`, resuming after signals and short writes.
bool WriteAll(int fd, std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view content, mode_t mode,
                           std::string_view what) {
  const std::string name = "the " + std::string(what) + " " + path;
  fs::path parent = fs::path(path).parent_path();
  const std::string directory = parent.empty() ? "." : parent.string();
  std::string temp_name(1, '.');  // appended: GCC 12 -O3 misreads "." + string as overlapping
  temp_name.append(fs::path(path).filename().string()).append(".XXXXXX");
  std::string temp = (fs::path(directory) / temp_name).string();
  int fd = ::mkstemp(temp.data());  // mode 0600 until fchmod
  if (fd < 0) return Status::Unavailable("cannot write " + name + ": " + ErrnoText());
  auto fail = [&](const std::string& step) {
    const std::string error = ErrnoText();
    if (fd >= 0) ::close(fd);
    ::unlink(temp.c_str());
    return Status::Unavailable("cannot write " + name + " (" + step + "): " + error);
  };
  if (!WriteAll(fd, content)) return fail("write");
  if (::fchmod(fd, mode) != 0) return fail("chmod");
  if (::fsync(fd) != 0) return fail("fsync");
  if (::close(fd) != 0) {
    fd = -1;
    return fail("close");
  }
  fd = -1;
  CrashPoint(kCrashBeforeRename);
  if (::rename(temp.c_str(), path.c_str()) != 0) return fail("rename");
  // The rename is durable only once the directory entry is on disk.
  int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    return Status::Unavailable("cannot sync the directory " + directory + ": " + ErrnoText());
  }
  const bool synced = ::fsync(dir_fd) == 0;
  const std::string error = synced ? "" : ErrnoText();
  ::close(dir_fd);
  if (!synced) return Status::Unavailable("cannot sync the directory " + directory + ": " + error);
  CrashPoint(kCrashAfterRename);
  return Status::Ok();
}

}  // namespace dynoherd::providers
