// Time zones from the tz database's compiled files (TZif, RFC 8536), because GCC 12's libstdc++
// has no std::chrono::tzdb. Pure: a TimeZone is parsed from bytes the caller read (spec/ reads
// /usr/share/zoneinfo when it loads a policy), and converting an instant to wall-clock time does
// no I/O, so schedules are evaluated in the planner from `now` alone.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace dynoherd {

// A wall-clock reading: what a clock on the wall in some zone shows.
struct CivilTime {
  int year = 1970;
  int month = 1;    // 1..12
  int day = 1;      // 1..31
  int hour = 0;     // 0..23
  int minute = 0;   // 0..59
  int second = 0;   // 0..59
  int weekday = 4;  // 0 = Sunday .. 6 = Saturday (1970-01-01 was a Thursday)

  bool operator==(const CivilTime&) const = default;
};

// Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard Hinnant's algorithms).
int64_t DaysFromCivil(int year, int month, int day);
CivilTime CivilFromUnixSeconds(int64_t seconds);

// The rule of a POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3"), which a TZif file's footer
// carries for instants after its last transition.
struct PosixTimeZoneRule {
  struct Date {
    enum class Kind { kJulianNoLeap, kZeroBasedDay, kMonthWeekDay } kind = Kind::kMonthWeekDay;
    int day = 0;          // Jn: 1..365; n: 0..365; Mm.w.d: the weekday d (0 = Sunday)
    int month = 0;        // Mm.w.d only
    int week = 0;         // Mm.w.d only: 1..5, 5 = the last
    int32_t time = 7200;  // seconds after local midnight (may be negative or past 24h)

    bool operator==(const Date&) const = default;
  };
  int32_t std_offset = 0;  // seconds east of UTC
  std::optional<int32_t> dst_offset;
  Date dst_start, dst_end;  // meaningful when dst_offset

  // The offset in effect at `unix_seconds`.
  int32_t OffsetAt(int64_t unix_seconds) const;
  bool operator==(const PosixTimeZoneRule&) const = default;
};

// Parses the POSIX TZ string of a TZif footer, with RFC 8536's extensions (hours up to 167).
Result<PosixTimeZoneRule> ParsePosixTimeZone(std::string_view text);

class TimeZone {
 public:
  // Coordinated Universal Time; needs no tz database.
  static TimeZone Utc();
  // A TZif file's content (versions 1 to 4). `name` is what people wrote ("Europe/Paris").
  // Files with leap seconds ("right/...") are refused: their times are not POSIX times.
  static Result<TimeZone> FromTzif(std::string name, std::string_view bytes);

  const std::string& name() const { return name_; }
  // Seconds east of UTC in effect at `t`.
  std::chrono::seconds OffsetAt(TimePoint t) const;
  CivilTime ToCivil(TimePoint t) const;

  bool operator==(const TimeZone&) const = default;

 private:
  std::string name_;
  std::vector<int64_t> transitions_;       // UTC seconds, ascending
  std::vector<int32_t> offsets_;           // offsets_[i] is in effect from transitions_[i] on
  int32_t initial_offset_ = 0;             // before the first transition
  std::optional<PosixTimeZoneRule> rule_;  // after the last transition
};

// Whether `name` can name a zone file: letters, digits, '_', '-', '+' in '/'-separated parts, no
// part "." or "..", at most 255 characters. It keeps a policy from reading files outside the
// zone directory.
bool IsTimeZoneName(std::string_view name);

}  // namespace dynoherd
