#include "providers/policy_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>

namespace dynoherd::providers {
namespace {

namespace fs = std::filesystem;

// The loader refuses larger files; reading past this only tells that it changed.
constexpr std::streamsize kMaxFileBytes = (4 << 20) + 1;

constexpr uint32_t kDirectoryEvents = IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_CREATE |
                                      IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF |
                                      IN_MOVE_SELF | IN_ONLYDIR;

std::string ReadBounded(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "\x01unreadable";
  std::string content(static_cast<size_t>(kMaxFileBytes), '\0');
  in.read(content.data(), kMaxFileBytes);
  content.resize(static_cast<size_t>(in.gcount()));
  return content;
}

bool IsPolicyFileName(const fs::path& name) {
  const std::string text = name.filename().string();
  const std::string extension = name.extension().string();
  return !text.empty() && text[0] != '.' && (extension == ".yaml" || extension == ".yml");
}

// The files a directory path stands for, as the loader picks them, in name order.
std::vector<fs::path> PolicyFilesIn(const fs::path& directory) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
    if (IsPolicyFileName(it->path()) && it->is_regular_file(ec)) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// What a -f path holds now: its file's bytes, or each policy file's name and bytes.
std::string ContentsOf(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return "\x01missing";
  if (!fs::is_directory(path, ec)) return ReadBounded(path);
  std::string contents;
  for (const fs::path& file : PolicyFilesIn(path)) {
    contents += file.filename().string() + '\0' + ReadBounded(file) + '\0';
  }
  return contents;
}

// The directories whose events can change what `path` holds: its own (a directory path), the
// one holding it, and those of the files it resolves to through symlinks.
std::set<std::string> DirectoriesOf(const std::string& path) {
  std::set<std::string> directories;
  std::error_code ec;
  const fs::path absolute = fs::absolute(path, ec);
  if (ec) return directories;
  std::vector<fs::path> files;
  if (fs::is_directory(absolute, ec)) {
    directories.insert(absolute.string());
    files = PolicyFilesIn(absolute);
  } else {
    directories.insert(absolute.parent_path().string());
    files.push_back(absolute);
  }
  for (const fs::path& file : files) {
    const fs::path resolved = fs::canonical(file, ec);
    if (!ec) directories.insert(resolved.parent_path().string());
  }
  return directories;
}

}  // namespace

Result<std::unique_ptr<PolicyWatcher>> PolicyWatcher::Start(
    std::vector<std::string> paths, PolicyWatcherOptions options,
    std::function<void(const std::string& changed)> on_change) {
  const int inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd < 0) {
    return Status::Unavailable(std::string("cannot watch the policy files: inotify: ") +
                               std::strerror(errno));
  }
  const int stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (stop_fd < 0) {
    close(inotify_fd);
    return Status::Unavailable(std::string("cannot watch the policy files: eventfd: ") +
                               std::strerror(errno));
  }
  std::unique_ptr<PolicyWatcher> watcher(
      new PolicyWatcher(std::move(paths), options, std::move(on_change), inotify_fd, stop_fd));
  watcher->thread_ = std::thread([w = watcher.get()] { w->Loop(); });
  return watcher;
}

PolicyWatcher::PolicyWatcher(std::vector<std::string> paths, PolicyWatcherOptions options,
                             std::function<void(const std::string&)> on_change, int inotify_fd,
                             int stop_fd)
    : paths_(std::move(paths)),
      options_(options),
      on_change_(std::move(on_change)),
      inotify_fd_(inotify_fd),
      stop_fd_(stop_fd) {
  // Watches first, then the contents: a change in between is seen as an event.
  WatchDirectories();
  for (const auto& path : paths_)
    contents_.push_back(ContentsOf(path));
}

PolicyWatcher::~PolicyWatcher() {
  const uint64_t one = 1;
  if (write(stop_fd_, &one, sizeof one) < 0) {
    // Cannot happen with a fresh eventfd; the join below would then wait forever, so say so.
    std::abort();
  }
  if (thread_.joinable()) thread_.join();
  close(inotify_fd_);
  close(stop_fd_);
}

void PolicyWatcher::WatchDirectories() {
  for (int wd : watches_)
    inotify_rm_watch(inotify_fd_, wd);
  watches_.clear();
  std::set<std::string> directories;
  for (const auto& path : paths_) {
    directories.merge(DirectoriesOf(path));
  }
  for (const auto& directory : directories) {
    // A directory that cannot be watched (gone, not permitted) is left to the rescan.
    const int wd = inotify_add_watch(inotify_fd_, directory.c_str(), kDirectoryEvents);
    if (wd >= 0) watches_.push_back(wd);
  }
}

// Reads every pending event; false when there was none.
bool PolicyWatcher::DrainEvents() {
  alignas(inotify_event) char buffer[16 * 1024];
  bool any = false;
  for (;;) {
    const ssize_t n = read(inotify_fd_, buffer, sizeof buffer);
    if (n <= 0) return any;
    any = true;
  }
}

void PolicyWatcher::Compare() {
  WatchDirectories();
  std::string changed;
  for (size_t i = 0; i < paths_.size(); ++i) {
    std::string now = ContentsOf(paths_[i]);
    if (now == contents_[i]) continue;
    contents_[i] = std::move(now);
    changed += (changed.empty() ? "" : ",") + paths_[i];
  }
  if (!changed.empty()) on_change_(changed);
}

void PolicyWatcher::Loop() {
  using Clock = std::chrono::steady_clock;
  pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
  // Events seen and not compared yet: compare after a quiet `debounce`, or at the latest after
  // `rescan` (a file written without pause beside the policies would otherwise starve them).
  std::optional<Clock::time_point> pending_since;
  for (;;) {
    const auto wait = pending_since ? options_.debounce : options_.rescan;
    const int ready = poll(fds, 2, static_cast<int>(wait.count()));
    if (ready < 0) {
      if (errno == EINTR) continue;
      return;  // cannot happen with two valid descriptors; the daemon runs on without watching
    }
    if (fds[0].revents != 0) return;
    if (ready > 0 && DrainEvents()) {
      if (!pending_since) pending_since = Clock::now();
      if (Clock::now() - *pending_since < options_.rescan) continue;
    }
    pending_since.reset();
    Compare();
  }
}

}  // namespace dynoherd::providers
