// The fault suite (docs/operations.md, "Platform API faults"): each fault build/fake-heroku can
// inject, on the request of each step of a pass (observe, scale, restart), against one
// `dynoherd reconcile`: its exit status, the log line that says what happened and at what level,
// the Degraded condition it leaves, and, after a second pass without the fault, zero double
// actions (the formation never beyond its one step, no dyno restarted by two requests that both
// took effect). --timeout 1s keeps hangs and slow bodies short; the suite still takes about 16 s:
// 60 passes of the real binary, a third of them waiting out a timeout or a Retry-After.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/shop_world.h"

namespace dynoherd::testing {
namespace {

using json = nlohmann::json;

// The request a fault applies to: the first read of a pass, the scale-up of its latency event,
// the restart of its laggard.
struct Target {
  const char* name;
  const char* match;
};
constexpr Target kObserve = {"observe", "method: GET, path: /apps/shop/formation"};
constexpr Target kScale = {"scale", "method: PATCH, path: /apps/shop/formation"};
constexpr Target kRestart = {"restart", "method: DELETE, path: /apps/shop/dynos/web.3"};

struct FaultCase {
  const char* name;
  const char* fault;       // the fault's fields (fake_heroku/README.md), without its target
  int exit_code;           // of the pass with the fault
  const char* log_line;    // a line it must log, level included
  const char* degraded;    // the reason of Degraded=True on the target's formation; "" = not set
  size_t restarts_sent;    // DELETE requests over both passes
};

// Lines every case may have: retries are warnings.
constexpr const char* kRetrying = "level=warn msg=\"heroku api call failed; retrying\"";

void RunCase(const Target& target, const FaultCase& c) {
  const std::string step = target.name;
  const std::string fault = c.name;
  CAPTURE(step);
  CAPTURE(fault);
  ShopWorld w(/*laggards=*/true);
  REQUIRE(w.fake->AddFault(std::string("{") + c.fault + ", " + target.match + "}").ok());
  ProcessResult faulted = w.Run({"reconcile", "--timeout", "1s"});
  INFO(faulted.out, faulted.err);
  CHECK(faulted.exit_code == c.exit_code);
  CHECK(Contains(faulted.err, c.log_line));
  CHECK(Contains(faulted.err, "level=error") == (c.exit_code == 1 && Contains(c.log_line, "level=error")));
  const std::string formation = target.name == kRestart.name ? "web" : "worker";
  std::string degraded;
  json saved = json::parse(ReadFile(w.state), nullptr, false);
  if (!saved.is_discarded() && saved["policies"].contains("shop-worker")) {
    for (const json& f : saved["policies"]["shop-worker"]["formations"]) {
      if (f["type"] != formation) continue;
      for (const json& cond : f["conditions"]) {
        if (cond["type"] == "Degraded" && cond["status"] == "True") degraded = cond["reason"];
      }
    }
  }
  CHECK(degraded == c.degraded);

  // The next pass, the fault gone and the event still on: nothing done twice.
  REQUIRE(w.fake->RemoveFaults().ok());
  ProcessResult next = w.Run({"reconcile", "--timeout", "1s"});
  INFO(next.err);
  CHECK(next.exit_code == 0);
  CHECK(w.fake->Quantity("shop", "worker") == 3);
  for (int quantity : w.PatchedQuantities())
    CHECK(quantity == 3);  // absolute and never beyond the one step, however often it was sent
  CHECK(w.Deleted().size() == c.restarts_sent);
}

}  // namespace

TEST_CASE("Platform API faults while observing: reads are retried, a bad answer fails the pass") {
  const std::vector<FaultCase> cases = {
      {"429, Retry-After 1", "status: 429, retryAfter: '1'", 0, kRetrying, "", 1},
      {"429, Retry-After 120", "status: 429, retryAfter: '120'", 1,
       "level=warn msg=\"pass failed: rate limited\"", "", 1},
      {"503", "status: 503", 0, kRetrying, "", 1},
      {"reset before applied", "kind: drop", 0, kRetrying, "", 1},
      {"reset after applied", "kind: drop-after", 0, kRetrying, "", 1},
      {"hang", "kind: slow, delay: 3s", 0, kRetrying, "", 1},
      {"slow body", "kind: slow-body, delay: 3s", 0, kRetrying, "", 1},
      {"truncated body", "kind: truncate", 0, kRetrying, "", 1},
      {"garbage JSON", "kind: malformed-json", 1, "level=error msg=\"pass failed\"", "", 1},
      {"wrong JSON shape", "kind: wrong-shape", 1, "level=error msg=\"pass failed\"", "", 1},
  };
  for (const FaultCase& c : cases)
    RunCase(kObserve, c);
}

TEST_CASE("Platform API faults while scaling: absolute quantities are retried, never overshoot") {
  constexpr const char* kScaled = "level=info msg=\"scaled formation\"";
  const std::vector<FaultCase> cases = {
      {"429, Retry-After 1", "status: 429, retryAfter: '1'", 0, kRetrying, "", 1},
      {"429, Retry-After 120", "status: 429, retryAfter: '120'", 1,
       "level=error msg=\"scaling failed\"", "ActionFailed", 1},
      {"503", "status: 503", 0, kRetrying, "", 1},
      // On a kept-alive connection that dies before answering, libcurl itself sends the request
      // once more on a new one (allowed for absolute quantities, never for restarts).
      {"reset before applied", "kind: drop", 0, kScaled, "", 1},
      {"reset after applied", "kind: drop-after", 0, kScaled, "", 1},
      {"hang", "kind: slow, delay: 3s", 0, kRetrying, "", 1},
      {"slow body", "kind: slow-body, delay: 3s", 0, kRetrying, "", 1},
      {"truncated body", "kind: truncate", 0, kRetrying, "", 1},
      // A success status with a body dynoherd does not read.
      {"garbage JSON", "kind: malformed-json", 0, kScaled, "", 1},
      {"wrong JSON shape", "kind: wrong-shape", 0, kScaled, "", 1},
  };
  for (const FaultCase& c : cases)
    RunCase(kScale, c);
}

TEST_CASE("Platform API faults while restarting: never sent twice; no answer is unknown") {
  constexpr const char* kFailed = "level=error msg=\"restarting laggard dyno failed\"";
  constexpr const char* kUnknown = "level=warn msg=\"restarting laggard dyno: outcome unknown\"";
  constexpr const char* kRestarted = "level=warn msg=\"restarting laggard dyno\"";
  const std::vector<FaultCase> cases = {
      // Answered with an error: not applied, so the next pass restarts the laggard.
      {"429, Retry-After 1", "status: 429, retryAfter: '1'", 1, kFailed, "ActionFailed", 2},
      {"429, Retry-After 120", "status: 429, retryAfter: '120'", 1, kFailed, "ActionFailed", 2},
      {"503", "status: 503", 1, kFailed, "ActionFailed", 2},
      // Sent and not (fully) answered: perhaps applied, so never sent again (its cooldown runs).
      {"reset before applied", "kind: drop", 3, kUnknown, "OutcomeUnknown", 1},
      {"reset after applied", "kind: drop-after", 3, kUnknown, "OutcomeUnknown", 1},
      {"hang", "kind: slow, delay: 3s", 3, kUnknown, "OutcomeUnknown", 1},
      {"slow body", "kind: slow-body, delay: 3s", 3, kUnknown, "OutcomeUnknown", 1},
      {"truncated body", "kind: truncate", 3, kUnknown, "OutcomeUnknown", 1},
      // A success status with a body dynoherd does not read.
      {"garbage JSON", "kind: malformed-json", 0, kRestarted, "", 1},
      {"wrong JSON shape", "kind: wrong-shape", 0, kRestarted, "", 1},
  };
  for (const FaultCase& c : cases)
    RunCase(kRestart, c);
}

}  // namespace dynoherd::testing
