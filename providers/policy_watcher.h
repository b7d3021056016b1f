// Tells when the policy files behind some `-f` paths change on disk, so `dynoherd run` reloads
// them as it does on SIGHUP. Made for a Kubernetes ConfigMap volume as much as for a file edited
// in place: the kubelet's atomic writer never edits `policy.yaml` (a symlink to
// `..data/policy.yaml`); it writes a new timestamped directory and renames a new `..data` symlink
// over the old one.
//
// Why inotify on directories, and what backs it up:
// - A watch on a file follows its inode, which a rename (the atomic writer, most editors) leaves
//   behind; a watch on the directory sees the rename. Each path's directory is watched, and the
//   directory of what it resolves to (a symlink elsewhere), again after every change since the
//   atomic writer's target directory is new each time.
// - After a burst of events settles (`debounce`) the files' contents are compared with the last
//   ones: a change is reported once; a touch, an editor's swap file or the state file written
//   beside the policies is not. Events that never settle are compared every `rescan`.
// - Every `rescan` the contents are compared even without an event: inotify sees nothing on
//   network file systems, and a directory that did not exist at start cannot be watched.
//
//   auto watcher = PolicyWatcher::Start(paths, {}, [&](const std::string& changed) {...});
//   // on_change runs on the watcher's thread; the watcher stops when destroyed.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace dynoherd::providers {

struct PolicyWatcherOptions {
  std::chrono::milliseconds debounce{300};  // quiet time after the last event before comparing
  std::chrono::milliseconds rescan{10000};  // compare at least this often, events or not
};

class PolicyWatcher {
 public:
  // `paths` as given to -f: files and directories (their *.yaml and *.yml files, not hidden
  // ones). `on_change` gets the paths whose contents changed, comma-separated.
  static Result<std::unique_ptr<PolicyWatcher>> Start(
      std::vector<std::string> paths, PolicyWatcherOptions options,
      std::function<void(const std::string& changed)> on_change);
  ~PolicyWatcher();
  PolicyWatcher(const PolicyWatcher&) = delete;
  PolicyWatcher& operator=(const PolicyWatcher&) = delete;

 private:
  PolicyWatcher(std::vector<std::string> paths, PolicyWatcherOptions options,
                std::function<void(const std::string&)> on_change, int inotify_fd, int stop_fd);
  void Loop();
  void WatchDirectories();
  void Compare();
  bool DrainEvents();

  const std::vector<std::string> paths_;
  const PolicyWatcherOptions options_;
  const std::function<void(const std::string&)> on_change_;
  const int inotify_fd_;
  const int stop_fd_;
  std::vector<int> watches_;
  std::vector<std::string> contents_;  // per path, as last compared
  std::thread thread_;
};

}  // namespace dynoherd::providers
