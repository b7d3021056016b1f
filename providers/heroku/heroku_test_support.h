// Test harness: a fake Heroku on 127.0.0.1 and a HerokuClient pointed at it, sharing one manual
// clock. The client's sleeper records each wait and moves the clock, so retries take no wall time
// and the fake sees the time pass.
#pragma once

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/logging.h"
#include "common/sleeper.h"
#include "providers/heroku/heroku_client.h"
#include "tests/fake_heroku/fake_heroku.h"

namespace dynoherd::providers::heroku::testing {

using namespace std::chrono_literals;

inline const TimePoint kStart = TimePoint{} + 1795352400s;  // 2026-11-22T13:00:00Z
inline constexpr const char* kToken = "HRKU-0123456789-very-secret-token";

// shop: web x4 + worker x1; big: web x10 (for paging); fir: Fir-style names.
inline constexpr const char* kScenario = R"(
token: HRKU-0123456789-very-secret-token
seed: 3
rateLimit: {remaining: 4000}
apps:
  - name: shop
    restartDelay: 20s
    formations:
      - {type: web, quantity: 4}
      - {type: worker, quantity: 1}
    logs:
      default: {medianMs: 100, count: 30}
      dynos:
        web.2: {laggardFactor: 5, h12: 2}
  - name: big
    formations: [{type: web, quantity: 10}]
  - name: fir
    naming: fir
    formations: [{type: web, quantity: 2}]
)";

inline fake_heroku::Fault F(const char* yaml) {
  Result<fake_heroku::Fault> f = fake_heroku::ParseFault(yaml);
  REQUIRE_MESSAGE(f.ok(), f.status().message());
  return *f;
}

// A port on 127.0.0.1 that nothing listens on (it was free a moment ago).
inline int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

struct Harness {
  ManualClock clock{kStart};
  std::unique_ptr<fake_heroku::FakeHeroku> fake;
  ManualSleeper sleeper{&clock};
  std::unique_ptr<HerokuClient> client;

  explicit Harness(Logger& logger, const std::function<void(HerokuClientOptions&)>& tweak = {},
                   const char* scenario = kScenario) {
    Result<fake_heroku::Scenario> s = fake_heroku::ParseScenario(scenario, "scenario");
    REQUIRE_MESSAGE(s.ok(), s.status().message());
    auto started = fake_heroku::FakeHeroku::Start(*s, clock);
    REQUIRE(started.ok());
    fake = std::move(started).value();
    client = MakeClient(logger, tweak);
  }

  std::unique_ptr<HerokuClient> MakeClient(
      Logger& logger, const std::function<void(HerokuClientOptions&)>& tweak = {}) {
    HerokuClientOptions options;
    options.api_url = fake->base_url();
    options.token = kToken;
    options.jitter_seed = 7;
    if (tweak) tweak(options);
    auto created = HerokuClient::Create(options, clock, &sleeper, logger);
    REQUIRE_MESSAGE(created.ok(), created.status().message());
    return std::move(created).value();
  }

  // Requests the fake got with this method whose path starts with `path_prefix`.
  std::vector<fake_heroku::RecordedRequest> Sent(const std::string& method,
                                                 const std::string& path_prefix = "/") const {
    std::vector<fake_heroku::RecordedRequest> out;
    for (auto& r : fake->Requests()) {
      if (r.method == method && r.path.rfind(path_prefix, 0) == 0) out.push_back(r);
    }
    return out;
  }
};

}  // namespace dynoherd::providers::heroku::testing
