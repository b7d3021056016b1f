#include "common/time.h"

#include <doctest/doctest.h>

using namespace dynoherd;
using namespace std::chrono_literals;

TEST_CASE("ParseDuration accepts every documented form") {
  CHECK(ParseDuration("500ms").value() == 500ms);
  CHECK(ParseDuration("90s").value() == 90s);
  CHECK(ParseDuration("5m").value() == 5min);
  CHECK(ParseDuration("1h").value() == 1h);
  CHECK(ParseDuration("1m30s").value() == 90s);
  CHECK(ParseDuration("1h2m3s4ms").value() == 1h + 2min + 3s + 4ms);
  CHECK(ParseDuration("1.5s").value() == 1500ms);
  CHECK(ParseDuration("0s").value() == 0ms);
}

TEST_CASE("ParseDuration rejects bare numbers and names the units") {
  auto r = ParseDuration("90");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "duration \"90\" needs a unit (units: ms, s, m, h; e.g. 500ms, 90s, 5m, 1m30s)");
  CHECK_FALSE(ParseDuration("").ok());
  CHECK_FALSE(ParseDuration("-5s").ok());
  CHECK_FALSE(ParseDuration("5x").ok());
  CHECK(ParseDuration("5x").status().message().find("unknown unit \"x\"") != std::string::npos);
  CHECK_FALSE(ParseDuration("30s1m").ok());  // out of order
  CHECK_FALSE(ParseDuration("1s1s").ok());   // repeated
  CHECK_FALSE(ParseDuration("0.5ms").ok());  // finer than a millisecond
  CHECK_FALSE(ParseDuration("s").ok());
  CHECK_FALSE(ParseDuration("1..5s").ok());
}

TEST_CASE("FormatDuration is the inverse of ParseDuration") {
  for (const char* text : {"500ms", "90s", "5m", "1h", "1m30s", "1h30m", "2s", "1m0s500ms"}) {
    Duration d = ParseDuration(text).value();
    CHECK(ParseDuration(FormatDuration(d)).value() == d);
  }
  CHECK(FormatDuration(90s) == "1m30s");
  CHECK(FormatDuration(500ms) == "500ms");
  CHECK(FormatDuration(2min) == "2m");
  CHECK(FormatDuration(0ms) == "0s");
}

TEST_CASE("FormatLatency reads like the plan output") {
  CHECK(FormatLatency(0.612) == "612ms");
  CHECK(FormatLatency(2.41) == "2.41s");
  CHECK(FormatLatency(2.0) == "2s");
  CHECK(FormatLatency(0.0004) == "0.4ms");
  CHECK(FormatLatency(0.140) == "140ms");
}

TEST_CASE("timestamps round-trip and accept Heroku's offsets") {
  auto t = ParseTimestamp("2026-11-22T13:00:00.123456+00:00");
  REQUIRE(t);
  CHECK(FormatTimestamp(*t) == "2026-11-22T13:00:00.123Z");
  auto z = ParseTimestamp("2026-11-22T13:00:00Z");
  REQUIRE(z);
  CHECK(*t - *z == std::chrono::microseconds(123456));
  auto offset = ParseTimestamp("2026-11-22T14:00:00+01:00");
  REQUIRE(offset);
  CHECK(*offset == *z);
  CHECK(ToUnixSeconds(*z) == doctest::Approx(1795352400.0));
  CHECK_FALSE(ParseTimestamp("2026-11-22 garbage"));
  CHECK_FALSE(ParseTimestamp("2026-13-22T00:00:00Z"));
  CHECK_FALSE(ParseTimestamp(""));
  CHECK_FALSE(ParseTimestamp("0112-01-01T00:00:00Z"));  // would overflow nanoseconds (fuzzing found it)
  CHECK_FALSE(ParseTimestamp("9999-12-31T23:59:59Z"));
  // The bound is on the instant: an offset must not carry it out of range, or the timestamp
  // written for it would not read back.
  CHECK_FALSE(ParseTimestamp("1900-01-01T00:00:00+01:00"));
  CHECK(ParseTimestamp("1900-01-01T00:00:00-01:00"));
  CHECK(ParseTimestamp(FormatTimestamp(*ParseTimestamp("2200-12-31T22:00:00-01:00"))));
  CHECK_FALSE(ParseTimestamp("2200-12-31T23:30:00-01:00"));
}

TEST_CASE("ManualClock moves only when told") {
  ManualClock clock(TimePoint{} + 100s);
  CHECK(clock.Now() == TimePoint{} + 100s);
  clock.Advance(10s);
  CHECK(clock.Now() == TimePoint{} + 110s);
}

TEST_CASE("RealTimeUntil: the wall clock's pace by default; never for a ManualClock") {
  struct FixedClock final : Clock {
    TimePoint Now() const override { return TimePoint{} + 1000h; }
  } fixed;
  CHECK(fixed.RealTimeUntil(TimePoint{} + 1000h + 30s) == std::chrono::nanoseconds(30s));
  CHECK(fixed.RealTimeUntil(TimePoint{} + 999h) < std::chrono::nanoseconds::zero());
  ManualClock manual(TimePoint{});
  CHECK_FALSE(manual.RealTimeUntil(TimePoint{} + 1s).has_value());
}
