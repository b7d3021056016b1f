#include "chart/scale.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace dynoherd::chart {
namespace {

using namespace std::chrono_literals;

TimePoint At(const char* rfc3339) {
  return *ParseTimestamp(rfc3339);
}

std::vector<std::string> Labels(const TimeTicks& ticks) {
  std::vector<std::string> labels;
  for (const TimeTick& t : ticks.ticks)
    labels.push_back(t.label);
  return labels;
}

TEST_CASE("A linear scale maps its domain onto its range and inverts back") {
  const Scale y = Scale::Linear(0, 10, 250, 50);  // SVG: larger values higher up
  CHECK(y.Map(0) == doctest::Approx(250));
  CHECK(y.Map(10) == doctest::Approx(50));
  CHECK(y.Map(2.5) == doctest::Approx(200));
  CHECK(y.Map(12) == doctest::Approx(10));  // extrapolates; callers clamp
  for (const double p : {50.0, 77.7, 123.4, 250.0})
    CHECK(y.Map(y.Invert(p)) == doctest::Approx(p));
  CHECK(y.Invert(150) == doctest::Approx(5));
}

TEST_CASE("A log scale gives each decade the same room") {
  const Scale y = Scale::Log(0.01, 10, 300, 0);
  CHECK(y.Map(0.01) == doctest::Approx(300));
  CHECK(y.Map(0.1) == doctest::Approx(200));
  CHECK(y.Map(1) == doctest::Approx(100));
  CHECK(y.Map(10) == doctest::Approx(0));
  CHECK(y.Invert(150) == doctest::Approx(std::sqrt(0.1)));
  CHECK(y.Map(y.Invert(42)) == doctest::Approx(42));
  CHECK(y.Map(0) == 300);  // cannot be drawn: the bottom
  CHECK(y.Map(-1) == 300);
}

TEST_CASE("NiceStep picks 1, 2 or 5 times a power of ten") {
  CHECK(NiceStep(10, 5) == doctest::Approx(2));
  CHECK(NiceStep(1, 5) == doctest::Approx(0.2));
  CHECK(NiceStep(7, 5) == doctest::Approx(1));    // 1.4 is nearer 1 than 2
  CHECK(NiceStep(8, 5) == doctest::Approx(2));    // 1.6 is nearer 2
  CHECK(NiceStep(17, 5) == doctest::Approx(5));   // 3.4 is nearer 5
  CHECK(NiceStep(40, 5) == doctest::Approx(10));  // 8 is nearer 10
  CHECK(NiceStep(1e12, 5) == doctest::Approx(2e11));
  CHECK(NiceStep(0.003, 5) == doctest::Approx(0.0005));
  CHECK(NiceStep(0, 5) == 1);
  CHECK(NiceStep(10, 10) == doctest::Approx(1));  // the target count matters
}

TEST_CASE("LinearTicks widens the domain to whole steps") {
  Ticks t = LinearTicks(0, 9.3, 5);
  CHECK(t.step == doctest::Approx(2));
  CHECK(t.values == std::vector<double>{0, 2, 4, 6, 8, 10});
  CHECK(t.lo == 0);
  CHECK(t.hi == 10);

  t = LinearTicks(-3, 7, 5);
  CHECK(t.values == std::vector<double>{-4, -2, 0, 2, 4, 6, 8});

  t = LinearTicks(0, 0.003, 5);
  REQUIRE(t.values.size() == 7);
  CHECK(t.values[6] == doctest::Approx(0.003));

  t = LinearTicks(0, 1e12, 5);
  CHECK(t.step == doctest::Approx(2e11));
  CHECK(t.hi == doctest::Approx(1e12));
  CHECK(t.values.size() == 6);

  // A bound that is a step multiple up to rounding does not grow an extra tick.
  t = LinearTicks(0, 0.1 + 0.2, 3);
  CHECK(t.hi == doctest::Approx(0.3));
}

TEST_CASE("LinearTicks copes with a single value, reversed and non-finite bounds") {
  Ticks t = LinearTicks(5, 5, 5);
  CHECK(t.lo < 5);
  CHECK(t.hi > 5);
  CHECK(t.step > 0);

  t = LinearTicks(0, 0, 5);
  CHECK(t.lo == 0);
  CHECK(t.hi == 1);

  t = LinearTicks(10, 0, 5);
  CHECK(t.lo == 0);
  CHECK(t.hi == 10);

  t = LinearTicks(0, std::numeric_limits<double>::infinity(), 5);
  CHECK(t.lo == 0);
  CHECK(t.hi == 1);
}

TEST_CASE("Integer ticks never step below 1") {
  const Ticks t = LinearTicks(0, 3, 10, /*integers=*/true);
  CHECK(t.values == std::vector<double>{0, 1, 2, 3});
  CHECK(LinearTicks(4, 4, 5, true).values == std::vector<double>{3, 4, 5});
}

TEST_CASE("LogTicks: decades, with 2x and 5x when there are few") {
  Ticks t = LogTicks(0.05, 0.4, 5);
  REQUIRE(t.values.size() == 7);
  CHECK(t.values[0] == doctest::Approx(0.01));
  CHECK(t.values[2] == doctest::Approx(0.05));
  CHECK(t.values[6] == doctest::Approx(1));

  t = LogTicks(0.012, 3.4, 5);
  REQUIRE(t.values.size() == 4);
  CHECK(t.values[0] == doctest::Approx(0.01));
  CHECK(t.values[3] == doctest::Approx(10));

  t = LogTicks(1e-3, 1e6, 3);  // nine decades, labelled every third
  REQUIRE(t.values.size() == 4);
  CHECK(t.values[1] == doctest::Approx(1));
  CHECK(t.values[3] == doctest::Approx(1e6));

  t = LogTicks(1, 1, 5);
  CHECK(t.lo == doctest::Approx(1));
  CHECK(t.hi == doctest::Approx(10));
}

TEST_CASE("BandScale centres a bar in each equal band") {
  const BandScale bands(4, 0, 400, 0.5);
  CHECK(bands.Step() == doctest::Approx(100));
  CHECK(bands.Width() == doctest::Approx(50));
  CHECK(bands.Start(0) == doctest::Approx(25));
  CHECK(bands.Center(1) == doctest::Approx(150));
  CHECK(bands.Center(3) == doctest::Approx(350));
}

TEST_CASE("TimeTickStep takes the smallest human step that fits") {
  CHECK(TimeTickStep(2min, 8) == 15s);
  CHECK(TimeTickStep(10min, 8) == 2min);
  CHECK(TimeTickStep(1h, 8) == 10min);
  CHECK(TimeTickStep(1h, 4) == 15min);
  CHECK(TimeTickStep(24h, 8) == 3h);
  CHECK(TimeTickStep(24h, 4) == 6h);
  CHECK(TimeTickStep(7 * 24h, 8) == 24h);
  CHECK(TimeTickStep(20 * 24h, 8) == 7 * 24h);
  CHECK(TimeTickStep(400 * 24h, 8) == 24h * 50);
  CHECK(TimeTickStep(0s, 8) == 1s);
}

TEST_CASE("Time ticks across a day boundary label the new day with its date") {
  const TimeTicks t = MakeTimeTicks(At("2026-12-06T22:10:00Z"), At("2026-12-07T02:00:00Z"), 8);
  CHECK(t.step == 30min);
  CHECK(Labels(t) == std::vector<std::string>{"22:30", "23:00", "23:30", "Dec 7", "00:30", "01:00",
                                              "01:30", "02:00"});
  CHECK(t.ticks[3].day_start);
  CHECK(t.ticks[3].at == At("2026-12-07T00:00:00Z"));
  CHECK_FALSE(t.ticks[2].day_start);
  CHECK(t.caption == "2026-12-06 to 2026-12-07, UTC");
}

TEST_CASE("Time ticks in a fixed offset align to that clock") {
  // 20:00Z to 04:00Z is 01:30 to 09:30 in UTC+05:30: ticks on the local whole hours.
  const TimeTicks t =
      MakeTimeTicks(At("2026-12-06T20:00:00Z"), At("2026-12-07T04:00:00Z"), 8, 330min);
  CHECK(t.step == 1h);
  REQUIRE(t.ticks.size() == 8);
  CHECK(t.ticks[0].label == "02:00");
  CHECK(t.ticks[0].at == At("2026-12-06T20:30:00Z"));
  CHECK(t.ticks[7].label == "09:00");
  CHECK(t.caption == "2026-12-07, UTC+05:30");

  // West of UTC the local day changes at 05:00Z.
  const TimeTicks west =
      MakeTimeTicks(At("2026-12-07T03:00:00Z"), At("2026-12-07T07:00:00Z"), 8, -300min);
  CHECK(Labels(west) == std::vector<std::string>{"22:00", "22:30", "23:00", "23:30", "Dec 7",
                                                 "00:30", "01:00", "01:30", "02:00"});
  CHECK(west.ticks[4].at == At("2026-12-07T05:00:00Z"));
  CHECK(west.caption == "2026-12-06 to 2026-12-07, UTC-05:00");
}

TEST_CASE("Short spans get seconds, long ones dates, weeks start on Monday") {
  const TimeTicks seconds =
      MakeTimeTicks(At("2026-12-06T14:00:05Z"), At("2026-12-06T14:02:00Z"), 8);
  CHECK(seconds.step == 15s);
  CHECK(seconds.ticks.front().label == "14:00:15");

  const TimeTicks weeks = MakeTimeTicks(At("2026-12-01T00:00:00Z"), At("2026-12-21T00:00:00Z"), 8);
  CHECK(weeks.step == 7 * 24h);
  CHECK(Labels(weeks) == std::vector<std::string>{"Dec 7", "Dec 14", "Dec 21"});  // Mondays
}

TEST_CASE("Zone names and clock times") {
  CHECK(ZoneName(0min) == "UTC");
  CHECK(ZoneName(120min) == "UTC+02:00");
  CHECK(ZoneName(-210min) == "UTC-03:30");
  CHECK(FormatClock(At("2026-12-06T23:59:30Z"), 0min) == "23:59:30");
  CHECK(FormatClock(At("2026-12-06T23:59:30Z"), 60min) == "00:59:30");
  CHECK(FormatClock(At("1969-12-31T23:00:00Z"), 0min) == "23:00:00");  // before the epoch
}

}  // namespace
}  // namespace dynoherd::chart
