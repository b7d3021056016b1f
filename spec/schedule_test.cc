#include "spec/schedule.h"

#include <doctest/doctest.h>

#include <map>

#include "spec/policy.h"

namespace dynoherd::spec {
namespace {

using namespace std::chrono_literals;

EnvLookup NoEnv() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

// An instant given as UTC wall-clock time.
TimePoint Utc(int year, int month, int day, int hour, int minute) {
  return TimePoint{} +
         std::chrono::seconds(DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60);
}

CivilTime Local(int weekday, int hour, int minute) {
  CivilTime c;
  c.weekday = weekday;
  c.hour = hour;
  c.minute = minute;
  return c;
}

TEST_CASE("cron: values, ranges, steps, lists and names") {
  Result<CronExpression> cron = ParseCron("30 7 * * 1-5");
  REQUIRE(cron.ok());
  CHECK(cron->minutes.count() == 1);
  CHECK(cron->minutes[30]);
  CHECK(cron->hours[7]);
  CHECK(cron->weekdays.to_string() == "0111110");  // bit 0 (Sunday) is rightmost

  cron = ParseCron("*/15 8-18/2 1,15 jan-mar sun,sat");
  REQUIRE(cron.ok());
  CHECK(cron->minutes.count() == 4);
  CHECK(cron->hours.count() == 6);  // 8 10 12 14 16 18
  CHECK(cron->days_of_month.count() == 2);
  CHECK(cron->months.count() == 3);
  CHECK(cron->weekdays.count() == 2);

  cron = ParseCron("0 0 * * 7");  // 7 is Sunday too
  REQUIRE(cron.ok());
  CHECK(cron->weekdays[0]);

  cron = ParseCron("5/20 * * * *");  // a/n runs to the end of the field
  REQUIRE(cron.ok());
  CHECK(cron->minutes.count() == 3);  // 5 25 45
}

TEST_CASE("cron: errors name the field and the part") {
  const std::map<std::string, std::string> cases = {
      {"30 7 * *", "needs 5 fields, minute hour day-of-month month day-of-week (got 4)"},
      {"30 25 * * *", "hour \"25\": must be 0 to 23"},
      {"60 7 * * *", "minute \"60\": must be 0 to 59"},
      {"0 7 0 * *", "day-of-month \"0\": must be 1 to 31"},
      {"0 7 * foo *", "month \"foo\": not a number or name"},
      {"0 7 * * 5-1", "day-of-week \"5-1\": a range must go upwards"},
      {"*/0 7 * * *", "minute \"*/0\": the step after '/' must be 1 to 59"},
      {"0 7 * * mon-", "day-of-week \"mon-\": not a number or name"},
  };
  for (const auto& c : cases) {
    INFO(c.first);  // INFO cannot take a structured binding on Clang 14
    Result<CronExpression> cron = ParseCron(c.first);
    REQUIRE(!cron.ok());
    CHECK(cron.status().message() == c.second);
  }
}

TEST_CASE("cron: day of month or day of week, as in Vixie cron") {
  Result<CronExpression> both = ParseCron("0 9 1 * mon");  // the 1st, and every Monday
  REQUIRE(both.ok());
  CivilTime c = Local(1, 9, 0);
  c.day = 20;
  CHECK(both->Matches(c));  // a Monday, not the 1st
  c.weekday = 3;
  c.day = 1;
  CHECK(both->Matches(c));  // the 1st, a Wednesday
  c.day = 2;
  CHECK_FALSE(both->Matches(c));
  Result<CronExpression> dom_only = ParseCron("0 9 1 * *");
  REQUIRE(dom_only.ok());
  CHECK_FALSE(dom_only->Matches(c));
}

TEST_CASE("days and hours: weekdays, weekends, windows past midnight") {
  Result<std::bitset<7>> days = ParseDays("mon-fri");
  REQUIRE(days.ok());
  CHECK(days->to_string() == "0111110");
  days = ParseDays("fri-mon");
  REQUIRE(days.ok());
  CHECK(days->to_string() == "1100011");
  days = ParseDays("mon-wed,fri");
  REQUIRE(days.ok());
  CHECK(days->count() == 4);
  CHECK(!ParseDays("monday").ok());
  CHECK(!ParseDays("mon,,fri").ok());

  WeeklyWindow morning;
  morning.days = *ParseDays("mon-fri");
  REQUIRE(ParseHours("07:30-10:00", morning).ok());
  CHECK_FALSE(morning.Contains(Local(1, 7, 29)));
  CHECK(morning.Contains(Local(1, 7, 30)));
  CHECK(morning.Contains(Local(1, 9, 59)));
  CHECK_FALSE(morning.Contains(Local(1, 10, 0)));
  CHECK_FALSE(morning.Contains(Local(6, 8, 0)));  // Saturday

  WeeklyWindow night;  // Friday night runs into Saturday morning, not Monday's
  night.days = *ParseDays("fri");
  REQUIRE(ParseHours("22:00-06:00", night).ok());
  CHECK(night.Contains(Local(5, 23, 0)));
  CHECK(night.Contains(Local(6, 5, 59)));
  CHECK_FALSE(night.Contains(Local(6, 6, 0)));
  CHECK_FALSE(night.Contains(Local(5, 5, 0)));  // Friday morning belongs to Thursday's night

  WeeklyWindow all_day;
  all_day.days = *ParseDays("sun");
  REQUIRE(ParseHours("00:00-24:00", all_day).ok());
  CHECK(all_day.Contains(Local(0, 0, 0)));
  CHECK(all_day.Contains(Local(0, 23, 59)));
  CHECK_FALSE(all_day.Contains(Local(1, 0, 0)));

  WeeklyWindow bad;
  CHECK(!ParseHours("7:30-10:00", bad).ok());
  CHECK(!ParseHours("07:30", bad).ok());
  CHECK(!ParseHours("24:00-10:00", bad).ok());
  CHECK(!ParseHours("07:60-10:00", bad).ok());
  Status empty = ParseHours("10:00-10:00", bad);
  REQUIRE(!empty.ok());
  CHECK(empty.message().find("is empty") != std::string::npos);
}

TEST_CASE("a Paris morning window follows summer time") {
  Result<TimeZone> paris = LoadTimeZone("Europe/Paris", NoEnv());
  REQUIRE_MESSAGE(paris.ok(), paris.status().ToString());
  ScheduleSpec schedule;
  schedule.weekly = WeeklyWindow{};
  schedule.weekly->days = *ParseDays("mon-fri");
  REQUIRE(ParseHours("07:30-10:00", *schedule.weekly).ok());
  schedule.zone = *paris;
  // Monday 2026-01-05, winter (UTC+1): 07:30 in Paris is 06:30 UTC.
  CHECK_FALSE(schedule.OpenAt(Utc(2026, 1, 5, 6, 29)));
  CHECK(schedule.OpenAt(Utc(2026, 1, 5, 6, 30)));
  CHECK(schedule.OpenAt(Utc(2026, 1, 5, 8, 59)));
  CHECK_FALSE(schedule.OpenAt(Utc(2026, 1, 5, 9, 0)));
  // Monday 2026-07-06, summer (UTC+2): 07:30 in Paris is 05:30 UTC.
  CHECK(schedule.OpenAt(Utc(2026, 7, 6, 5, 30)));
  CHECK_FALSE(schedule.OpenAt(Utc(2026, 7, 6, 8, 0)));
  // Saturday.
  CHECK_FALSE(schedule.OpenAt(Utc(2026, 7, 4, 6, 0)));
}

TEST_CASE("cron windows: open for `for` after each start, in the zone's wall-clock time") {
  Result<TimeZone> new_york = LoadTimeZone("America/New_York", NoEnv());
  REQUIRE(new_york.ok());
  const CronExpression cron = *ParseCron("30 7 * * 1-5");
  // Monday 2026-01-05 07:30 EST is 12:30 UTC; open for 2h30m.
  CHECK_FALSE(CronWindowOpen(cron, 150min, *new_york, Utc(2026, 1, 5, 12, 29)));
  CHECK(CronWindowOpen(cron, 150min, *new_york, Utc(2026, 1, 5, 12, 30)));
  CHECK(CronWindowOpen(cron, 150min, *new_york, Utc(2026, 1, 5, 14, 59)));
  CHECK_FALSE(CronWindowOpen(cron, 150min, *new_york, Utc(2026, 1, 5, 15, 0)));
  // A Friday start keeps the window open into Saturday when it is long enough.
  CHECK(CronWindowOpen(cron, 24h, *new_york, Utc(2026, 1, 10, 11, 0)));
  CHECK_FALSE(CronWindowOpen(cron, 24h, *new_york, Utc(2026, 1, 11, 13, 0)));
  // 02:30 does not happen in New York on 2026-03-08 (clocks jump from 02:00 to 03:00).
  const CronExpression skipped = *ParseCron("30 2 * * *");
  CHECK_FALSE(CronWindowOpen(skipped, 30min, *new_york, Utc(2026, 3, 8, 7, 40)));
  CHECK(CronWindowOpen(skipped, 30min, *new_york, Utc(2026, 3, 9, 6, 40)));  // EDT now
}

TEST_CASE("time zones: UTC needs no file, names are checked, TZDIR is followed") {
  Result<TimeZone> utc = LoadTimeZone(
      "UTC", [](const std::string&) { return std::optional<std::string>("/nonexistent"); });
  REQUIRE(utc.ok());
  CHECK(utc->name() == "UTC");
  Result<TimeZone> missing = LoadTimeZone("Mars/Olympus", NoEnv());
  REQUIRE(!missing.ok());
  CHECK(missing.status().message() ==
        "no time zone \"Mars/Olympus\" in /usr/share/zoneinfo (a name from the tz database like "
        "Europe/Paris; is the tzdata package installed?)");
  Result<TimeZone> traversal = LoadTimeZone("../../etc/passwd", NoEnv());
  REQUIRE(!traversal.ok());
  CHECK(traversal.status().message().find("not a time zone name") != std::string::npos);
  Result<TimeZone> elsewhere = LoadTimeZone("Europe/Paris", [](const std::string& name) {
    return name == "TZDIR" ? std::optional<std::string>("/nonexistent") : std::nullopt;
  });
  REQUIRE(!elsewhere.ok());
  CHECK(elsewhere.status().message().find("in /nonexistent") != std::string::npos);
  // A file that is not a zone says which file.
  Result<TimeZone> not_tzif = LoadTimeZone("zone1970.tab", NoEnv());
  REQUIRE(!not_tzif.ok());
  CHECK(not_tzif.status().message().find("/usr/share/zoneinfo/zone1970.tab") != std::string::npos);
}

TEST_CASE("bounds: the first open schedule's min and max, the formation's otherwise") {
  FormationSpec formation;
  formation.min = 2;
  formation.max = 12;
  ScheduleSpec morning;
  morning.name = "morning";
  morning.weekly = WeeklyWindow{*ParseDays("mon-fri"), 7 * 60, 10 * 60};
  morning.min = 8;
  ScheduleSpec weekdays;
  weekdays.name = "weekdays";
  weekdays.weekly = WeeklyWindow{*ParseDays("mon-fri"), 0, 1440};
  weekdays.min = 4;
  weekdays.max = 20;
  formation.schedules = {morning, weekdays};

  const auto at_8 = formation.BoundsAt(Utc(2026, 1, 5, 8, 0));
  REQUIRE(at_8.schedule != nullptr);
  CHECK(at_8.schedule->name == "morning");
  CHECK(at_8.min == 8);
  CHECK(at_8.max == 12);  // the morning schedule sets no max: the formation's
  const auto at_12 = formation.BoundsAt(Utc(2026, 1, 5, 12, 0));
  REQUIRE(at_12.schedule != nullptr);
  CHECK(at_12.schedule->name == "weekdays");
  CHECK(at_12.min == 4);
  CHECK(at_12.max == 20);
  const auto sunday = formation.BoundsAt(Utc(2026, 1, 4, 12, 0));
  CHECK(sunday.schedule == nullptr);
  CHECK(sunday.min == 2);
  CHECK(sunday.max == 12);
}

}  // namespace
}  // namespace dynoherd::spec
