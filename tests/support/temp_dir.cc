#include "tests/support/temp_dir.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace dynoherd::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/dynoherd-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::Write(const std::string& relative, std::string_view content) const {
  std::filesystem::path file = path_ / relative;
  std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  return file.string();
}

std::string TempDir::UpdateLikeConfigMap(
    const std::string& relative,
    const std::vector<std::pair<std::string, std::string>>& files) const {
  namespace fs = std::filesystem;
  static int generation = 0;
  const fs::path volume = path_ / relative;
  fs::create_directories(volume);
  const std::string timestamped = "..2026_12_06_13_00_00." + std::to_string(++generation);
  for (const auto& [name, content] : files)
    Write((fs::path(relative) / timestamped / name).string(), content);
  std::error_code ec;
  const fs::path old = fs::read_symlink(volume / "..data", ec);
  fs::create_symlink(timestamped, volume / "..data_tmp");
  fs::rename(volume / "..data_tmp", volume / "..data");
  if (!ec) fs::remove_all(volume / old);
  for (const auto& [name, content] : files) {
    if (!fs::is_symlink(volume / name))
      fs::create_symlink(fs::path("..data") / name, volume / name);
  }
  return volume.string();
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace dynoherd::testing
