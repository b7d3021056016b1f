// A fresh directory for a test's files, removed with everything in it when the test ends.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dynoherd::testing {

class TempDir {
 public:
  TempDir();  // under $TMPDIR (or /tmp); aborts the test binary if it cannot be created
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Writes `content` to path()/relative, creating parent directories; returns the full path.
  std::string Write(const std::string& relative, std::string_view content) const;

  // Writes `files` (name, content) into path()/relative as the kubelet updates a ConfigMap volume
  // (its atomic writer): a new timestamped directory, a `..data` symlink to it renamed over the
  // old one, which is then removed, and `name -> ..data/name` symlinks. Returns the volume's path.
  std::string UpdateLikeConfigMap(
      const std::string& relative,
      const std::vector<std::pair<std::string, std::string>>& files) const;

 private:
  std::filesystem::path path_;
};

// The whole file, bytes as they are; "" when it cannot be read.
std::string ReadFile(const std::filesystem::path& path);

}  // namespace dynoherd::testing
