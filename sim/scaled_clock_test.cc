#include "sim/scaled_clock.h"

#include <doctest/doctest.h>

#include <limits>

using namespace dynoherd;
using namespace dynoherd::sim;
using namespace std::chrono_literals;

TEST_CASE("simulated time runs `speed` times faster than the wall clock") {
  ManualClock wall(TimePoint{} + 1000h);
  const TimePoint sim_start = *ParseTimestamp("2026-01-01T00:00:00Z");
  auto clock = ScaledClock::Create(wall, sim_start, 30);
  REQUIRE(clock.ok());
  CHECK(clock->Now() == sim_start);
  wall.Advance(2s);
  CHECK(clock->Now() == sim_start + 60s);
  wall.Advance(100ms);
  CHECK(clock->Now() == sim_start + 63s);

  auto slow = ScaledClock::Create(wall, sim_start, 0.5);
  REQUIRE(slow.ok());
  wall.Advance(10s);
  CHECK(slow->Now() == sim_start + 5s);
}

TEST_CASE("WallTimeAt says when the simulated clock reaches a time") {
  ManualClock wall(TimePoint{} + 1000h);
  const TimePoint wall_start = wall.Now();
  const TimePoint sim_start = *ParseTimestamp("2026-01-01T00:00:00Z");
  auto clock = ScaledClock::Create(wall, sim_start, 30);
  REQUIRE(clock.ok());
  CHECK(clock->WallTimeAt(sim_start + 60s) == wall_start + 2s);
  CHECK(clock->WallTimeAt(sim_start - 5s) == wall_start);
  // Awkward ratios: at the answer, Now() has reached the target, and not a microsecond earlier.
  auto odd = ScaledClock::Create(wall, sim_start, 7.3);
  REQUIRE(odd.ok());
  for (auto target : {sim_start + 1s, sim_start + 61s, sim_start + 1h + 7ms}) {
    const TimePoint at = odd->WallTimeAt(target);
    wall.Set(at);
    CHECK(odd->Now() >= target);
    wall.Set(at - 1us);
    CHECK(odd->Now() < target);
  }
}

TEST_CASE("a wait for a simulated time lasts the real time until the wall clock gets there") {
  ManualClock wall(TimePoint{} + 1000h);
  const TimePoint sim_start = wall.Now() + 1h;
  auto clock = ScaledClock::Create(wall, sim_start, 30);
  REQUIRE(clock.ok());
  CHECK(clock->RealTimeUntil(sim_start + 30s) == std::chrono::nanoseconds(1s));
  wall.Advance(500ms);  // 15 s simulated
  CHECK(clock->RealTimeUntil(sim_start + 30s) == std::chrono::nanoseconds(500ms));
}

TEST_CASE("the simulated clock of run reads whole seconds") {
  const TimePoint sim_start = *ParseTimestamp("2026-01-01T00:00:00Z");
  ManualClock wall(sim_start + 90s + 999ms);
  auto clock = ScaledClock::Create(wall, sim_start + 90s + 999ms, 1, /*whole_seconds=*/true);
  REQUIRE(clock.ok());
  CHECK(clock->Now() == sim_start + 90s);
  wall.Advance(1ms);
  CHECK(clock->Now() == sim_start + 91s);
}

TEST_CASE("ScaledClock refuses a speed that is not a positive number") {
  ManualClock wall(TimePoint{});
  for (double speed : {0.0, -1.0, std::numeric_limits<double>::infinity(),
                       std::numeric_limits<double>::quiet_NaN()}) {
    auto clock = ScaledClock::Create(wall, TimePoint{}, speed);
    REQUIRE_FALSE(clock.ok());
    CHECK(clock.status().message().find("speed") != std::string::npos);
  }
}
