#include "providers/atomic_file.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace dynoherd;
using namespace dynoherd::providers;
namespace fs = std::filesystem;

namespace {

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Dir {
  Dir() {
    std::string pattern = (fs::temp_directory_path() / "dynoherd-atomic-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~Dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

}  // namespace

TEST_CASE(
    "WriteFileAtomically replaces the file whole, with the mode asked, leaving nothing else") {
  Dir dir;
  const fs::path file = dir.path / "dynoherd.prom";
  REQUIRE(WriteFileAtomically(file.string(), "a 1\n", 0644, "metrics file").ok());
  REQUIRE(WriteFileAtomically(file.string(), "a 2\n", 0644, "metrics file").ok());
  CHECK(ReadFile(file) == "a 2\n");
  CHECK(fs::status(file).permissions() == (fs::perms::owner_read | fs::perms::owner_write |
                                           fs::perms::group_read | fs::perms::others_read));
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path))
    ++entries;
  CHECK(entries == 1);
}

TEST_CASE("WriteFileAtomically: a missing directory is an error naming the file") {
  Dir dir;
  const std::string file = (dir.path / "missing" / "dynoherd.prom").string();
  Status s = WriteFileAtomically(file, "a 1\n", 0644, "metrics file");
  CHECK(s.message() == "cannot write the metrics file " + file + ": No such file or directory");
}
