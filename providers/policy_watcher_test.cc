#include "providers/policy_watcher.h"

#include <doctest/doctest.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "tests/support/temp_dir.h"

namespace dynoherd::providers {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

// Collects the watcher's reports; every wait is bounded.
class Reports {
 public:
  std::function<void(const std::string&)> Callback() {
    return [this](const std::string& changed) {
      std::lock_guard lock(mu_);
      seen_.push_back(changed);
      cv_.notify_all();
    };
  }
  // The report number `n` (from 1), or "" when it did not come in time.
  std::string Wait(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, 20s, [&] { return seen_.size() >= n; });
    return seen_.size() >= n ? seen_[n - 1] : "";
  }
  size_t count() {
    std::lock_guard lock(mu_);
    return seen_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> seen_;
};

const PolicyWatcherOptions kFast{.debounce = 20ms, .rescan = 60s};

TEST_CASE("a policy file edited in place is reported once the writes settle") {
  TempDir dir;
  const std::string policy = dir.Write("shop.yaml", "a: 1\n");
  Reports reports;
  auto watcher = PolicyWatcher::Start({policy}, kFast, reports.Callback());
  REQUIRE(watcher.ok());
  dir.Write("shop.yaml", "a: 2\n");
  CHECK(reports.Wait(1) == policy);
  dir.Write("shop.yaml", "a: 3\n");
  CHECK(reports.Wait(2) == policy);
}

TEST_CASE("a ConfigMap volume swapped through ..data is reported, named by file or directory") {
  TempDir dir;
  const std::string volume = dir.UpdateLikeConfigMap("policies", {{"shop.yaml", "a: 1\n"}});
  const std::string file = volume + "/shop.yaml";
  Reports by_file, by_directory;
  auto file_watcher = PolicyWatcher::Start({file}, kFast, by_file.Callback());
  auto directory_watcher = PolicyWatcher::Start({volume}, kFast, by_directory.Callback());
  REQUIRE(file_watcher.ok());
  REQUIRE(directory_watcher.ok());

  dir.UpdateLikeConfigMap("policies", {{"shop.yaml", "a: 2\n"}});
  CHECK(by_file.Wait(1) == file);
  CHECK(by_directory.Wait(1) == volume);
  // The first swap removed the directory the file resolved to: the watches followed.
  dir.UpdateLikeConfigMap("policies", {{"shop.yaml", "a: 3\n"}});
  CHECK(by_file.Wait(2) == file);
  CHECK(by_directory.Wait(2) == volume);
}

TEST_CASE("writes beside the policies that do not change them are not reported") {
  TempDir dir;
  const std::string a = dir.Write("policies/a.yaml", "a: 1\n");
  const std::string other = dir.Write("b.yaml", "b: 1\n");
  const std::string policies = dir.path().string() + "/policies";
  Reports reports;
  auto watcher = PolicyWatcher::Start({policies, other}, kFast, reports.Callback());
  REQUIRE(watcher.ok());
  dir.Write("policies/state.json", "{}");  // not a policy file
  dir.Write("policies/.a.yaml.swp", "x");  // hidden, as the loader skips it
  std::filesystem::last_write_time(a, std::filesystem::file_time_type::clock::now());  // a touch
  std::filesystem::remove(other);
  // Had any of the writes above counted, `policies` would be named before or with `other`.
  CHECK(reports.Wait(1) == other);

  dir.Write("policies/c.yml", "c: 1\n");  // a new policy file in a watched directory
  CHECK(reports.Wait(2) == policies);
}

TEST_CASE("a file written without pause beside the policies does not hold a change back") {
  TempDir dir;
  const std::string policy = dir.Write("shop.yaml", "a: 1\n");
  Reports reports;
  auto watcher =
      PolicyWatcher::Start({policy}, {.debounce = 50ms, .rescan = 300ms}, reports.Callback());
  REQUIRE(watcher.ok());
  dir.Write("shop.yaml", "a: 2\n");
  // Events keep coming faster than the debounce, until the change is reported (bounded).
  for (int i = 0; i < 2'000'000 && reports.count() == 0; ++i)
    dir.Write("busy.log", std::to_string(i));
  CHECK(reports.Wait(1) == policy);
}

TEST_CASE("a directory that cannot be watched at start is still read every rescan") {
  TempDir dir;
  const std::string later = dir.path().string() + "/later/shop.yaml";
  Reports reports;
  auto watcher =
      PolicyWatcher::Start({later}, {.debounce = 20ms, .rescan = 50ms}, reports.Callback());
  REQUIRE(watcher.ok());
  dir.Write("later/shop.yaml", "a: 1\n");
  CHECK(reports.Wait(1) == later);
}

}  // namespace
}  // namespace dynoherd::providers
