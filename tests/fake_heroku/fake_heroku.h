// A fake Heroku Platform API (and logplex) on 127.0.0.1, for tests over real HTTP. It checks the
// headers and token as Heroku does, serves formations and dynos with 206 paging, applies scale,
// restart and stop to its state, charges a rate-limit pool, injects the scenario's faults, serves
// log sessions of generated router lines, and records every request it gets.
//
// Used in-process by tests (FakeHeroku::Start) and as a process (build/fake-heroku, see README.md),
// where the same recordings are served at GET /__admin/requests.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "tests/fake_heroku/scenario.h"

namespace dynoherd::fake_heroku {

struct RecordedRequest {
  int64_t seq = 0;  // 1, 2, ... in arrival order
  std::string method;
  std::string path;                                          // without the query
  std::string query;                                         // without the '?'
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string body;
  int status = 0;       // what the fake answered; 0 = dropped without an answer
  int remote_port = 0;  // the client's port: equal ports = one kept-alive connection
  TimePoint at{};       // on the fake's clock

  std::optional<std::string> Header(std::string_view name) const;  // case-insensitive
  bool IsLogplex() const { return path.rfind("/logplex/", 0) == 0; }
  // A call that counts against the account's budget: not logplex, not /account/rate-limits.
  bool IsBudgetedApiCall() const { return !IsLogplex() && path != "/account/rate-limits"; }
};

struct DynoView {
  std::string id;
  std::string name;
  std::string type;
  std::string state;
  TimePoint updated_at{};
};

class FakeHeroku {
 public:
  // Binds 127.0.0.1:`port` (0 = any free port) and serves on its own threads until Stop() or
  // destruction. `clock` drives timestamps, restart delays and the rate-limit refill; it must
  // outlive the fake. Slow faults wait real time (they exist to trip real timeouts).
  static Result<std::unique_ptr<FakeHeroku>> Start(Scenario scenario, const Clock& clock,
                                                   int port = 0);
  ~FakeHeroku();
  FakeHeroku(const FakeHeroku&) = delete;
  FakeHeroku& operator=(const FakeHeroku&) = delete;

  int port() const;
  std::string base_url() const;  // "http://127.0.0.1:PORT"
  const std::string& token() const;

  std::vector<RecordedRequest> Requests() const;  // everything except /__admin routes
  std::vector<RecordedRequest> BudgetedApiCalls() const;
  void ClearRequests();

  void AddFault(Fault fault);
  void ClearFaults();
  int RateLimitRemaining() const;
  void SetRateLimitRemaining(int remaining);

  std::optional<int> FormationQuantity(const std::string& app, const std::string& type) const;
  std::vector<DynoView> Dynos(const std::string& app) const;

  // Serves the /__admin routes (off by default in-process; the process turns them on) and lets
  // POST /__admin/clock/advance move `manual_clock` when one is given.
  void EnableAdminRoutes(ManualClock* manual_clock);

  // Stops serving: waiting slow answers and open log streams end at once. Idempotent.
  void Stop();

  class Impl;

 private:
  explicit FakeHeroku(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dynoherd::fake_heroku
