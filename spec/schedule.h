// Schedules: time windows, in a time zone, during which a formation has its own floor and
// ceiling (a morning peak starts before its traffic does). A window is either a cron expression
// giving its start times plus a length (`cron` and `for`), or days of the week plus a range of
// wall-clock hours (`days` and `hours`). Parsing checks what the user wrote; evaluating at an
// instant is pure (the zone's rules are read once, when the policy is loaded).
#pragma once

#include <bitset>
#include <optional>
#include <string>
#include <string_view>

#include "common/env.h"
#include "common/status.h"
#include "common/time.h"
#include "common/time_zone.h"

namespace dynoherd::spec {

// A standard five-field cron expression: minute hour day-of-month month day-of-week. Each field is
// `*`, a value, a range `a-b`, a step `*/n`, `a-b/n` or `a/n`, or a comma list of those; months
// and weekdays also by name (jan, mon); weekday 0 and 7 are Sunday. As in Vixie cron, when both
// day fields are restricted a day matches either.
struct CronExpression {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  // 1..31
  std::bitset<13> months;         // 1..12
  std::bitset<7> weekdays;        // 0 = Sunday
  bool day_of_month_restricted = false;
  bool weekday_restricted = false;

  bool Matches(const CivilTime& local) const;
  bool operator==(const CronExpression&) const = default;
};

// Errors name the field and the offending part: `hour "25": must be 0 to 23`.
Result<CronExpression> ParseCron(std::string_view text);

// Days of the week and a range of wall-clock minutes; a range that ends before it starts runs
// past midnight and belongs to the day it starts on ("fri 22:00-06:00" covers Saturday morning).
struct WeeklyWindow {
  std::bitset<7> days;   // 0 = Sunday
  int start_minute = 0;  // minutes after midnight, 0..1439
  int end_minute = 0;    // 1..1440; never equal to start_minute

  bool Contains(const CivilTime& local) const;
  bool operator==(const WeeklyWindow&) const = default;
};

// "mon-fri", "sat,sun", "fri-mon" (wrapping), "mon-wed,fri"; lowercase three-letter names.
Result<std::bitset<7>> ParseDays(std::string_view text);
// "07:30-10:00", "22:00-06:00", "00:00-24:00". Stores the minutes into `window`.
Status ParseHours(std::string_view text, WeeklyWindow& window);

// The zone for `name` ("UTC" without any file; otherwise the file under $TZDIR, by default
// /usr/share/zoneinfo). Errors say what to check (the name, the tzdata package).
Result<TimeZone> LoadTimeZone(const std::string& name, const EnvLookup& env);

// The longest `for` a cron schedule may declare: a window is found by looking back this far.
inline constexpr Duration kMaxCronWindow = std::chrono::hours(24 * 7);

// Whether a window opened by `cron` at most `length` ago, in `zone`'s wall-clock time, is open at
// `now`. Wall-clock minutes skipped by a summer-time switch never open a window; minutes that
// happen twice open it twice (the later one counts).
bool CronWindowOpen(const CronExpression& cron, Duration length, const TimeZone& zone,
                    TimePoint now);

}  // namespace dynoherd::spec
