#include "app/scheduler.h"

#include <doctest/doctest.h>

using namespace dynoherd;
using namespace dynoherd::app;
using namespace std::chrono_literals;

namespace {

const TimePoint kT0 = TimePoint{} + 1'795'352'400s;

std::vector<std::string> Names(std::initializer_list<const char*> names) {
  return {names.begin(), names.end()};
}

}  // namespace

TEST_CASE("backoff doubles from its base and never exceeds the interval") {
  CHECK(Scheduler::Backoff(1, 5s, 60s) == 5s);
  CHECK(Scheduler::Backoff(2, 5s, 60s) == 10s);
  CHECK(Scheduler::Backoff(3, 5s, 60s) == 20s);
  CHECK(Scheduler::Backoff(4, 5s, 60s) == 40s);
  CHECK(Scheduler::Backoff(5, 5s, 60s) == 60s);
  CHECK(Scheduler::Backoff(1000, 5s, 60s) == 60s);  // no overflow after many failures
  CHECK(Scheduler::Backoff(1, 90s, 30s) == 30s);    // a base above the interval is capped too
}

TEST_CASE("every new policy is due at once; a pass in flight is not handed out again") {
  Scheduler s(5s);
  s.SetPolicies({{"b", 30s}, {"a", 60s}}, kT0);
  CHECK(s.NextDue() == kT0);
  CHECK(s.TakeDue(kT0, 10) == Names({"a", "b"}));
  CHECK(s.InFlight() == 2);
  CHECK(s.TakeDue(kT0 + 1h, 10).empty());
  CHECK_FALSE(s.NextDue().has_value());  // nothing is waiting: every policy is running
}

TEST_CASE("a successful pass is due again one interval after it was due, whatever it took") {
  Scheduler s(5s);
  s.SetPolicies({{"a", 30s}}, kT0);
  REQUIRE(s.TakeDue(kT0 + 2s, 1) == Names({"a"}));  // started late
  s.Finished("a", true, kT0 + 9s);                  // and took 7 s
  CHECK(s.DueAt("a") == kT0 + 30s);                 // the cadence holds
  CHECK(s.TakeDue(kT0 + 29s, 1).empty());
  REQUIRE(s.TakeDue(kT0 + 30s, 1) == Names({"a"}));
  s.Finished("a", true, kT0 + 75s);  // a pass longer than the interval
  CHECK(s.DueAt("a") == kT0 + 75s);  // next one at once, not in the past
}

TEST_CASE(
    "a failing policy backs off exponentially, capped at its interval, without holding others") {
  Scheduler s(5s);
  s.SetPolicies({{"broken", 60s}, {"fine", 60s}}, kT0);
  REQUIRE(s.TakeDue(kT0, 10).size() == 2);
  s.Finished("fine", true, kT0 + 1s);  // due again at kT0 + 60s
  s.Finished("broken", false, kT0 + 1s);
  CHECK(s.DueAt("broken") == kT0 + 6s);
  for (TimePoint retry : {kT0 + 6s, kT0 + 16s, kT0 + 36s}) {
    CAPTURE(ToSeconds(retry - kT0));
    CHECK(s.TakeDue(retry - 1ms, 10).empty());
    REQUIRE(s.TakeDue(retry, 10) == Names({"broken"}));  // "fine" keeps its own time
    s.Finished("broken", false, retry);
  }
  CHECK(s.Failures("broken") == 4);
  CHECK(s.DueAt("broken") == kT0 + 76s);  // 36 s + 40 s
  CHECK(s.DueAt("fine") == kT0 + 60s);

  REQUIRE(s.TakeDue(kT0 + 76s, 10) == Names({"fine", "broken"}));  // the longest overdue first
  s.Finished("broken", false, kT0 + 76s);
  CHECK(s.DueAt("broken") == kT0 + 136s);  // 80 s would pass the interval: capped at 60 s
  REQUIRE(s.TakeDue(kT0 + 136s, 10) == Names({"broken"}));
  s.Finished("broken", true, kT0 + 137s);
  CHECK(s.Failures("broken") == 0);  // one success resets the backoff
  CHECK(s.DueAt("broken") == kT0 + 196s);
}

TEST_CASE("at most `limit` passes are handed out, the longest overdue first") {
  Scheduler s(5s);
  s.SetPolicies({{"a", 10s}, {"b", 20s}, {"c", 30s}}, kT0);
  REQUIRE(s.TakeDue(kT0, 3).size() == 3);
  s.Finished("a", true, kT0);  // due kT0 + 10s
  s.Finished("b", true, kT0);  // due kT0 + 20s
  s.Finished("c", true, kT0);  // due kT0 + 30s
  CHECK(s.TakeDue(kT0 + 40s, 1) == Names({"a"}));
  CHECK(s.TakeDue(kT0 + 40s, 1) == Names({"b"}));
  CHECK(s.NextDue() == kT0 + 30s);
  CHECK(s.TakeDue(kT0 + 40s, 0).empty());
}

TEST_CASE("a reload keeps the schedule of unchanged policies and makes changed and new ones due") {
  Scheduler s(5s);
  s.SetPolicies({{"kept", 60s}, {"changed", 60s}, {"gone", 60s}, {"shrunk", 60s}}, kT0);
  REQUIRE(s.TakeDue(kT0, 10).size() == 4);
  for (const char* name : {"kept", "changed", "gone", "shrunk"})
    s.Finished(name, true, kT0 + 1s);

  s.SetPolicies({{"kept", 60s}, {"changed", 60s, true}, {"shrunk", 20s}, {"new", 60s}}, kT0 + 10s);
  CHECK(s.DueAt("kept") == kT0 + 60s);
  CHECK(s.DueAt("changed") == kT0 + 10s);
  CHECK(s.DueAt("shrunk") == kT0 + 30s);  // now + the new interval, sooner than kT0 + 60s
  CHECK(s.DueAt("new") == kT0 + 10s);
  CHECK_FALSE(s.DueAt("gone").has_value());
  CHECK(s.TakeDue(kT0 + 10s, 10) == Names({"changed", "new"}));
}

TEST_CASE("a policy removed and added back while its pass runs never gets two passes at once") {
  Scheduler s(5s);
  s.SetPolicies({{"a", 60s}, {"b", 60s}}, kT0);
  REQUIRE(s.TakeDue(kT0, 10).size() == 2);

  s.SetPolicies({{"b", 60s}}, kT0 + 1s);  // "a" removed while running
  CHECK(s.InFlight() == 2);
  s.SetPolicies({{"a", 60s}, {"b", 60s}}, kT0 + 2s);  // and back
  CHECK(s.TakeDue(kT0 + 2s, 10).empty());             // its old pass is still running
  s.Finished("a", true, kT0 + 3s);
  CHECK(s.DueAt("a") == kT0 + 3s);  // then due at once, with the new spec

  s.SetPolicies({{"a", 60s}}, kT0 + 4s);  // "b" removed while running: forgotten when it ends
  s.Finished("b", false, kT0 + 5s);
  CHECK_FALSE(s.DueAt("b").has_value());
  CHECK(s.Failures("b") == 0);
  CHECK(s.InFlight() == 0);
}

TEST_CASE("a policy changed while its pass runs is due again as soon as that pass ends") {
  Scheduler s(5s);
  s.SetPolicies({{"a", 60s}}, kT0);
  REQUIRE(s.TakeDue(kT0, 1).size() == 1);
  s.SetPolicies({{"a", 60s, true}}, kT0 + 1s);
  s.Finished("a", true, kT0 + 2s);
  CHECK(s.DueAt("a") == kT0 + 2s);
}

TEST_CASE("a new policy's first pass can wait a delay of its own; a changed one does not") {
  Scheduler s(5s);
  s.SetPolicies({{"a", 30s, true, 30s}, {"b", 60s, true, 60s}}, kT0);
  CHECK(s.DueAt("a") == kT0 + 30s);
  CHECK(s.DueAt("b") == kT0 + 60s);
  CHECK(s.TakeDue(kT0 + 29s, 10).empty());
  s.SetPolicies({{"a", 30s, true, 30s}, {"b", 60s, false, 60s}, {"c", 10s, true, 10s}}, kT0 + 1s);
  CHECK(s.DueAt("a") == kT0 + 1s);   // changed: at once
  CHECK(s.DueAt("b") == kT0 + 60s);  // kept
  CHECK(s.DueAt("c") == kT0 + 11s);  // new: after its delay
}
