#include "spec/schedule.h"

#include <array>
#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

namespace dynoherd::spec {
namespace {

constexpr std::array<std::string_view, 7> kDayNames = {"sun", "mon", "tue", "wed",
                                                       "thu", "fri", "sat"};
constexpr std::array<std::string_view, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == separator) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

std::string QuotedPart(std::string_view text) {
  // Appended, not `"\"" + std::string(...)`: GCC 12 reports a false -Wrestrict on that at -O3.
  std::string quoted = "\"";
  quoted.append(text);
  quoted += '"';
  return quoted;
}

std::optional<int> ParseInt(std::string_view text) {
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// One cron field: its name for messages, its range, and the names its values may go by.
struct CronField {
  std::string_view name;
  int min = 0;
  int max = 0;
  const std::string_view* names = nullptr;  // names[i] is value names_base + i
  int names_count = 0;
  int names_base = 0;
};

std::optional<int> CronValue(const CronField& field, std::string_view text) {
  for (int i = 0; i < field.names_count; ++i) {
    if (text == field.names[i]) return field.names_base + i;
  }
  return ParseInt(text);
}

// Sets the bits of `field`'s values that `text` selects; `restricted` tells whether it was not `*`.
Status ParseCronField(const CronField& field, std::string_view text, std::vector<bool>& bits,
                      bool& restricted) {
  restricted = text != "*";
  auto fail = [&](std::string_view part, const std::string& why) {
    return Status::InvalidArgument(std::string(field.name) + " " + QuotedPart(part) + ": " + why);
  };
  const std::string range_text =
      "must be " + std::to_string(field.min) + " to " + std::to_string(field.max);
  for (std::string_view item : Split(text, ',')) {
    std::string_view span = item;
    int step = 1;
    const size_t slash = item.find('/');
    if (slash != std::string_view::npos) {
      std::optional<int> parsed = ParseInt(item.substr(slash + 1));
      if (!parsed || *parsed < 1 || *parsed > field.max) {
        return fail(item, "the step after '/' must be 1 to " + std::to_string(field.max));
      }
      step = *parsed;
      span = item.substr(0, slash);
    }
    int first = field.min;
    int last = field.max;
    if (span != "*") {
      const size_t dash = span.find('-');
      std::optional<int> a = CronValue(field, span.substr(0, dash));
      // "a/n" runs from a to the field's end, as in Vixie cron.
      std::optional<int> b = dash != std::string_view::npos
                                 ? CronValue(field, span.substr(dash + 1))
                             : slash != std::string_view::npos ? std::optional<int>(field.max)
                                                               : a;
      if (!a || !b) return fail(item, "not a number" + std::string(field.names ? " or name" : ""));
      if (*a < field.min || *a > field.max || *b < field.min || *b > field.max) {
        return fail(item, range_text);
      }
      if (*a > *b) return fail(item, "a range must go upwards");
      first = *a;
      last = *b;
    }
    for (int v = first; v <= last; v += step)
      bits[static_cast<size_t>(v)] = true;
  }
  return Status::Ok();
}

}  // namespace

bool CronExpression::Matches(const CivilTime& local) const {
  if (!minutes[static_cast<size_t>(local.minute)] || !hours[static_cast<size_t>(local.hour)] ||
      !months[static_cast<size_t>(local.month)]) {
    return false;
  }
  const bool dom = days_of_month[static_cast<size_t>(local.day)];
  const bool dow = weekdays[static_cast<size_t>(local.weekday)];
  if (day_of_month_restricted && weekday_restricted) return dom || dow;
  return dom && dow;
}

Result<CronExpression> ParseCron(std::string_view text) {
  std::vector<std::string_view> fields;
  for (std::string_view part : Split(text, ' ')) {
    if (!part.empty()) fields.push_back(part);
  }
  if (fields.size() != 5) {
    return Status::InvalidArgument(
        "needs 5 fields, minute hour day-of-month month day-of-week (got " +
        std::to_string(fields.size()) + ")");
  }
  const std::array<CronField, 5> kinds = {
      CronField{"minute", 0, 59},
      CronField{"hour", 0, 23},
      CronField{"day-of-month", 1, 31},
      CronField{"month", 1, 12, kMonthNames.data(), 12, 1},
      CronField{"day-of-week", 0, 7, kDayNames.data(), 7, 0},
  };
  std::array<std::vector<bool>, 5> bits;
  std::array<bool, 5> restricted{};
  for (size_t i = 0; i < 5; ++i) {
    bits[i].assign(static_cast<size_t>(kinds[i].max) + 1, false);
    if (Status s = ParseCronField(kinds[i], fields[i], bits[i], restricted[i]); !s.ok()) return s;
  }
  CronExpression cron;
  for (size_t v = 0; v < 60; ++v)
    cron.minutes[v] = bits[0][v];
  for (size_t v = 0; v < 24; ++v)
    cron.hours[v] = bits[1][v];
  for (size_t v = 1; v <= 31; ++v)
    cron.days_of_month[v] = bits[2][v];
  for (size_t v = 1; v <= 12; ++v)
    cron.months[v] = bits[3][v];
  for (size_t v = 0; v < 7; ++v)
    cron.weekdays[v] = bits[4][v];
  cron.weekdays[0] = cron.weekdays[0] || bits[4][7];  // 7 is Sunday too
  cron.day_of_month_restricted = restricted[2];
  cron.weekday_restricted = restricted[4];
  return cron;
}

bool WeeklyWindow::Contains(const CivilTime& local) const {
  const int minute = local.hour * 60 + local.minute;
  const auto today = static_cast<size_t>(local.weekday);
  const size_t yesterday = (today + 6) % 7;
  if (start_minute < end_minute) {
    return days[today] && minute >= start_minute && minute < end_minute;
  }
  return (days[today] && minute >= start_minute) || (days[yesterday] && minute < end_minute);
}

Result<std::bitset<7>> ParseDays(std::string_view text) {
  auto day = [](std::string_view name) -> std::optional<int> {
    for (size_t i = 0; i < kDayNames.size(); ++i) {
      if (name == kDayNames[i]) return static_cast<int>(i);
    }
    return std::nullopt;
  };
  std::bitset<7> days;
  for (std::string_view item : Split(text, ',')) {
    const size_t dash = item.find('-');
    std::optional<int> first = day(item.substr(0, dash));
    std::optional<int> last = dash == std::string_view::npos ? first : day(item.substr(dash + 1));
    if (!first || !last) {
      return Status::InvalidArgument(
          QuotedPart(item) +
          " is not a day or a range of days (mon, tue, wed, thu, fri, sat, sun; "
          "mon-fri; sat,sun)");
    }
    for (int d = *first;; d = (d + 1) % 7) {  // fri-mon wraps over the weekend
      days[static_cast<size_t>(d)] = true;
      if (d == *last) break;
    }
  }
  return days;
}

Status ParseHours(std::string_view text, WeeklyWindow& window) {
  auto minute_of = [](std::string_view hhmm, bool end) -> std::optional<int> {
    if (hhmm.size() != 5 || hhmm[2] != ':') return std::nullopt;
    std::optional<int> h = ParseInt(hhmm.substr(0, 2));
    std::optional<int> m = ParseInt(hhmm.substr(3, 2));
    if (!h || !m || *m > 59) return std::nullopt;
    if (end && *h == 24 && *m == 0) return 1440;
    if (*h > 23) return std::nullopt;
    return *h * 60 + *m;
  };
  const size_t dash = text.find('-');
  std::optional<int> start =
      dash == std::string_view::npos ? std::nullopt : minute_of(text.substr(0, dash), false);
  std::optional<int> end =
      dash == std::string_view::npos ? std::nullopt : minute_of(text.substr(dash + 1), true);
  if (!start || !end) {
    return Status::InvalidArgument(QuotedPart(text) +
                                   " is not a range of hours like 07:30-10:00 (24-hour clock; "
                                   "the end may be 24:00, or earlier than the start to run past "
                                   "midnight)");
  }
  if (*start == *end) {
    return Status::InvalidArgument(QuotedPart(text) +
                                   " is empty: it ends when it starts (00:00-24:00 is all day)");
  }
  window.start_minute = *start;
  window.end_minute = *end;
  return Status::Ok();
}

Result<TimeZone> LoadTimeZone(const std::string& name, const EnvLookup& env) {
  if (name == "UTC") return TimeZone::Utc();
  if (!IsTimeZoneName(name)) {
    return Status::InvalidArgument(QuotedPart(name) +
                                   " is not a time zone name like Europe/Paris or UTC");
  }
  std::string dir = "/usr/share/zoneinfo";
  if (std::optional<std::string> tzdir = env("TZDIR"); tzdir && !tzdir->empty()) dir = *tzdir;
  const std::string path = dir + "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::NotFound("no time zone " + QuotedPart(name) + " in " + dir +
                            " (a name from the tz database like Europe/Paris; is the tzdata "
                            "package installed?)");
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  Result<TimeZone> zone = TimeZone::FromTzif(name, buffer.str());
  if (!zone.ok()) return zone.status().WithContext(path);
  return zone;
}

bool CronWindowOpen(const CronExpression& cron, Duration length, const TimeZone& zone,
                    TimePoint now) {
  // Each minute that may have opened a window still open at `now`, newest first.
  const TimePoint newest = std::chrono::floor<std::chrono::minutes>(now);
  for (TimePoint start = newest; now - start < length; start -= std::chrono::minutes(1)) {
    if (cron.Matches(zone.ToCivil(start))) return true;
  }
  return false;
}

}  // namespace dynoherd::spec
