// A fresh directory for a test's files, removed with everything in it when the test ends.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

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

 private:
  std::filesystem::path path_;
};

// The whole file, bytes as they are; "" when it cannot be read.
std::string ReadFile(const std::filesystem::path& path);

}  // namespace dynoherd::testing
