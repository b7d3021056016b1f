// The world of the crash and fault suites (tests/e2e_crash_test.cc, tests/e2e_fault_test.cc):
// build/fake-heroku serving the app "shop" (2 workers, 5 web dynos whose router logs show web.3
// five times slower than the others), a Prometheus answered in this process whose queue latency
// the test sets, a state file, and the policy shop-worker over them. Its worker formation declares
// no quantity, so a latency event captures 2 as its baseline.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/fake_heroku_process.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace dynoherd::testing {

inline constexpr const char* kShopToken = "HRKU-e2e-crash-0000-secret";

// One queue latency for the formation, in seconds, that the test sets (Prometheus's answer).
class FakePrometheus {
 public:
  FakePrometheus();
  ~FakePrometheus();
  FakePrometheus(const FakePrometheus&) = delete;
  FakePrometheus& operator=(const FakePrometheus&) = delete;

  void Set(double seconds) { seconds_ = seconds; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  std::atomic<double> seconds_{10.0};
  int port_ = 0;
  std::thread serving_;
};

struct ShopWorld {
  // `laggards`: the policy also judges the web dynos on the fake's router logs (web.3 is one).
  // Queue latency starts at 10 s: above the 5 s threshold, an event.
  explicit ShopWorld(bool laggards = false);

  // dynoherd's arguments with the policy and the state file, and the fake's URL and token.
  ProcessOptions Options(std::vector<std::string> args) const;
  ProcessResult Run(std::vector<std::string> args) const;
  // Polls the fake's formation until it is `quantity`, for at most `timeout`.
  bool WaitQuantity(int quantity, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // The saved status of the worker formation; null when there is none.
  nlohmann::json SavedFormation() const;
  // The quantities of every PATCH the fake received, in order.
  std::vector<int> PatchedQuantities();
  // The paths of every DELETE the fake received (restarts), in order.
  std::vector<std::string> Deleted();

  TempDir dir;
  FakePrometheus prometheus;
  std::unique_ptr<FakeHerokuProcess> fake;
  std::string state;
  std::string policy;
};

bool Contains(const std::string& haystack, const std::string& needle);

}  // namespace dynoherd::testing
