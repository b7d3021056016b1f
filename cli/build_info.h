// What this binary is: the version, the git commit it was built from and the CMake build type,
// fixed at build time (cmake/build_info.cmake) and printed by `dynoherd --version`.
#pragma once

#include <string>
#include <string_view>

namespace dynoherd::cli {

struct BuildInfo {
  std::string_view version;     // the project's version, "0.1.0"
  std::string_view commit;      // 12 hex digits, "-dirty" with uncommitted changes; "unknown"
  std::string_view build_type;  // Release, RelWithDebInfo, Debug, ...
};

const BuildInfo& GetBuildInfo();

// "dynoherd 0.1.0 (commit 0123456789ab, Release)"
inline std::string VersionText() {
  const BuildInfo& info = GetBuildInfo();
  return "dynoherd " + std::string(info.version) + " (commit " + std::string(info.commit) + ", " +
         std::string(info.build_type) + ")";
}

}  // namespace dynoherd::cli
