#include "common/time_zone.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace dynoherd {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

bool IsLeapYear(int64_t year) {
  return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

int DaysInMonth(int64_t year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[static_cast<size_t>(month - 1)];
}

// Reads the POSIX TZ grammar left to right; every Read* consumes what it accepts.
class PosixReader {
 public:
  explicit PosixReader(std::string_view text) : text_(text) {}

  bool AtEnd() const { return pos_ == text_.size(); }
  bool Peek(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  bool Take(char c) {
    if (!Peek(c)) return false;
    ++pos_;
    return true;
  }

  // An abbreviation: three or more letters, or <...> of letters, digits, '+' and '-'.
  bool ReadName() {
    if (Take('<')) {
      const size_t start = pos_;
      while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) ||
                                     text_[pos_] == '+' || text_[pos_] == '-')) {
        ++pos_;
      }
      return pos_ - start >= 3 && Take('>');
    }
    const size_t start = pos_;
    while (pos_ < text_.size() && std::isalpha(static_cast<unsigned char>(text_[pos_])))
      ++pos_;
    return pos_ - start >= 3;
  }

  // [+-]hh[:mm[:ss]] in seconds, hours at most `max_hours`.
  std::optional<int32_t> ReadClock(int max_hours) {
    int sign = 1;
    if (Take('-')) {
      sign = -1;
    } else {
      Take('+');
    }
    std::optional<int> hours = ReadNumber(0, max_hours);
    if (!hours) return std::nullopt;
    int32_t seconds = *hours * 3600;
    for (int scale : {60, 1}) {
      if (!Take(':')) break;
      std::optional<int> part = ReadNumber(0, 59);
      if (!part) return std::nullopt;
      seconds += *part * scale;
    }
    return sign * seconds;
  }

  std::optional<int> ReadNumber(int min, int max) {
    const size_t start = pos_;
    int64_t value = 0;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      value = value * 10 + (text_[pos_] - '0');
      if (value > max) return std::nullopt;
      ++pos_;
    }
    if (pos_ == start || value < min) return std::nullopt;
    return static_cast<int>(value);
  }

  std::optional<PosixTimeZoneRule::Date> ReadDate() {
    using Kind = PosixTimeZoneRule::Date::Kind;
    PosixTimeZoneRule::Date date;
    if (Take('J')) {
      date.kind = Kind::kJulianNoLeap;
      std::optional<int> day = ReadNumber(1, 365);
      if (!day) return std::nullopt;
      date.day = *day;
    } else if (Take('M')) {
      date.kind = Kind::kMonthWeekDay;
      std::optional<int> month = ReadNumber(1, 12);
      if (!month || !Take('.')) return std::nullopt;
      std::optional<int> week = ReadNumber(1, 5);
      if (!week || !Take('.')) return std::nullopt;
      std::optional<int> weekday = ReadNumber(0, 6);
      if (!weekday) return std::nullopt;
      date.month = *month;
      date.week = *week;
      date.day = *weekday;
    } else {
      date.kind = Kind::kZeroBasedDay;
      std::optional<int> day = ReadNumber(0, 365);
      if (!day) return std::nullopt;
      date.day = *day;
    }
    if (Take('/')) {
      std::optional<int32_t> time = ReadClock(167);
      if (!time) return std::nullopt;
      date.time = *time;
    }
    return date;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

// Days since the epoch of the local midnight starting `date` in `year`.
int64_t DayOf(const PosixTimeZoneRule::Date& date, int64_t year) {
  using Kind = PosixTimeZoneRule::Date::Kind;
  const int64_t jan1 = DaysFromCivil(static_cast<int>(year), 1, 1);
  switch (date.kind) {
    case Kind::kJulianNoLeap:  // Feb 29 is never counted: J60 is March 1 every year
      return jan1 + date.day - 1 + (IsLeapYear(year) && date.day >= 60 ? 1 : 0);
    case Kind::kZeroBasedDay:
      return jan1 + date.day;
    case Kind::kMonthWeekDay: {
      const int64_t first = DaysFromCivil(static_cast<int>(year), date.month, 1);
      const int64_t first_weekday = ((first + 4) % 7 + 7) % 7;
      int64_t day = (date.day - first_weekday + 7) % 7 + 7 * (date.week - 1);
      while (day >= DaysInMonth(year, date.month))
        day -= 7;
      return first + day;
    }
  }
  return jan1;
}

uint32_t ReadBig32(std::string_view bytes, size_t at) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i)
    value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
  return value;
}

int64_t ReadBig64(std::string_view bytes, size_t at) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i)
    value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
  return static_cast<int64_t>(value);
}

constexpr size_t kHeaderBytes = 44;

struct TzifCounts {
  uint32_t isut = 0, isstd = 0, leap = 0, time = 0, type = 0, chars = 0;

  size_t DataBytes(size_t time_bytes) const {
    return size_t{time} * time_bytes + time + size_t{type} * 6 + chars +
           size_t{leap} * (time_bytes + 4) + isstd + isut;
  }
};

Result<TzifCounts> ReadHeader(std::string_view bytes, size_t at, char* version) {
  if (bytes.size() < at + kHeaderBytes || bytes.substr(at, 4) != "TZif") {
    return Status::InvalidArgument("not a TZif file (no \"TZif\" header)");
  }
  *version = bytes[at + 4];
  TzifCounts c;
  c.isut = ReadBig32(bytes, at + 20);
  c.isstd = ReadBig32(bytes, at + 24);
  c.leap = ReadBig32(bytes, at + 28);
  c.time = ReadBig32(bytes, at + 32);
  c.type = ReadBig32(bytes, at + 36);
  c.chars = ReadBig32(bytes, at + 40);
  if (c.type == 0 || c.type > 256 || c.chars == 0 || c.time > 100000 || c.leap > 100000 ||
      (c.isut != 0 && c.isut != c.type) || (c.isstd != 0 && c.isstd != c.type)) {
    return Status::InvalidArgument("TZif header has impossible counts");
  }
  if (c.leap != 0) {
    return Status::InvalidArgument(
        "TZif file with leap seconds (a \"right/\" zone): use the zone without \"right/\"");
  }
  if (bytes.size() - at - kHeaderBytes < c.DataBytes(4)) {
    return Status::InvalidArgument("TZif file is truncated");
  }
  return c;
}

}  // namespace

int64_t DaysFromCivil(int year, int month, int day) {
  const int64_t y = static_cast<int64_t>(year) - (month <= 2 ? 1 : 0);
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t mp = (month + 9) % 12;
  const int64_t doy = (153 * mp + 2) / 5 + day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilTime CivilFromUnixSeconds(int64_t seconds) {
  const int64_t days = FloorDiv(seconds, 86400);
  const int64_t in_day = seconds - days * 86400;
  const int64_t z = days + 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  CivilTime c;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = static_cast<int>(yoe + era * 400 + (c.month <= 2 ? 1 : 0));
  c.hour = static_cast<int>(in_day / 3600);
  c.minute = static_cast<int>(in_day / 60 % 60);
  c.second = static_cast<int>(in_day % 60);
  c.weekday = static_cast<int>(((days + 4) % 7 + 7) % 7);
  return c;
}

int32_t PosixTimeZoneRule::OffsetAt(int64_t unix_seconds) const {
  if (!dst_offset) return std_offset;
  // The transitions of the neighbouring years too: a rule's local times can cross New Year.
  const int64_t year = CivilFromUnixSeconds(unix_seconds).year;
  int64_t latest = INT64_MIN;
  int32_t offset = std_offset;
  for (int64_t y = year - 1; y <= year + 1; ++y) {
    const int64_t start = DayOf(dst_start, y) * 86400 + dst_start.time - std_offset;
    const int64_t end = DayOf(dst_end, y) * 86400 + dst_end.time - *dst_offset;
    for (auto [at, after] : {std::pair{start, *dst_offset}, std::pair{end, std_offset}}) {
      if (at <= unix_seconds && at >= latest) {
        latest = at;
        offset = after;
      }
    }
  }
  return offset;
}

Result<PosixTimeZoneRule> ParsePosixTimeZone(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("bad POSIX TZ string \"" + std::string(text) + "\"");
  };
  PosixReader r(text);
  PosixTimeZoneRule rule;
  if (!r.ReadName()) return bad();
  std::optional<int32_t> std_offset = r.ReadClock(24);
  if (!std_offset) return bad();
  rule.std_offset = -*std_offset;  // POSIX counts west of Greenwich
  if (r.AtEnd()) return rule;
  if (!r.ReadName()) return bad();
  rule.dst_offset = rule.std_offset + 3600;
  if (!r.Peek(',')) {
    std::optional<int32_t> dst_offset = r.ReadClock(24);
    if (!dst_offset) return bad();
    rule.dst_offset = -*dst_offset;
  }
  // TZif footers always carry the rule; POSIX leaves its absence to the implementation.
  if (!r.Take(',')) return bad();
  std::optional<PosixTimeZoneRule::Date> start = r.ReadDate();
  if (!start || !r.Take(',')) return bad();
  std::optional<PosixTimeZoneRule::Date> end = r.ReadDate();
  if (!end || !r.AtEnd()) return bad();
  rule.dst_start = *start;
  rule.dst_end = *end;
  return rule;
}

TimeZone TimeZone::Utc() {
  TimeZone zone;
  zone.name_ = "UTC";
  return zone;
}

Result<TimeZone> TimeZone::FromTzif(std::string name, std::string_view bytes) {
  auto fail = [&](const Status& s) { return s.WithContext("time zone " + name); };
  char version = 0;
  Result<TzifCounts> counts = ReadHeader(bytes, 0, &version);
  if (!counts.ok()) return fail(counts.status());
  size_t at = kHeaderBytes;
  size_t time_bytes = 4;
  if (version != '\0') {
    // Version 2 and later repeat the data with 64-bit times after the version 1 block.
    at += counts->DataBytes(4);
    counts = ReadHeader(bytes, at, &version);
    if (!counts.ok()) return fail(counts.status());
    at += kHeaderBytes;
    time_bytes = 8;
    if (bytes.size() - at < counts->DataBytes(8)) {
      return fail(Status::InvalidArgument("TZif file is truncated"));
    }
  }
  const TzifCounts& c = *counts;
  TimeZone zone;
  zone.name_ = name;
  const size_t types_at = at + size_t{c.time} * time_bytes;
  const size_t infos_at = types_at + c.time;
  std::vector<int32_t> type_offsets;
  for (uint32_t i = 0; i < c.type; ++i) {
    const auto offset = static_cast<int32_t>(ReadBig32(bytes, infos_at + 6 * size_t{i}));
    if (offset < -26 * 3600 || offset > 26 * 3600) {
      return fail(Status::InvalidArgument("TZif offset out of range"));
    }
    type_offsets.push_back(offset);
  }
  zone.initial_offset_ = type_offsets[0];
  for (uint32_t i = 0; i < c.time; ++i) {
    const int64_t when = time_bytes == 8
                             ? ReadBig64(bytes, at + 8 * size_t{i})
                             : static_cast<int32_t>(ReadBig32(bytes, at + 4 * size_t{i}));
    const auto type = static_cast<unsigned char>(bytes[types_at + i]);
    if (type >= c.type || (!zone.transitions_.empty() && when <= zone.transitions_.back())) {
      return fail(Status::InvalidArgument("TZif transitions are out of order or untyped"));
    }
    zone.transitions_.push_back(when);
    zone.offsets_.push_back(type_offsets[type]);
  }
  if (time_bytes == 8) {
    std::string_view footer = bytes.substr(at + c.DataBytes(8));
    if (footer.size() < 2 || footer.front() != '\n') {
      return fail(Status::InvalidArgument("TZif footer is missing"));
    }
    footer.remove_prefix(1);
    const size_t newline = footer.find('\n');
    if (newline == std::string_view::npos) {
      return fail(Status::InvalidArgument("TZif footer is not terminated"));
    }
    if (newline > 0) {
      Result<PosixTimeZoneRule> rule = ParsePosixTimeZone(footer.substr(0, newline));
      if (!rule.ok()) return fail(rule.status());
      zone.rule_ = *rule;
    }
  }
  return zone;
}

std::chrono::seconds TimeZone::OffsetAt(TimePoint t) const {
  const int64_t s = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  if (transitions_.empty() || s < transitions_.front()) {
    if (transitions_.empty() && rule_) return std::chrono::seconds(rule_->OffsetAt(s));
    return std::chrono::seconds(initial_offset_);
  }
  if (s >= transitions_.back() && rule_) return std::chrono::seconds(rule_->OffsetAt(s));
  const auto after = std::upper_bound(transitions_.begin(), transitions_.end(), s);
  return std::chrono::seconds(offsets_[static_cast<size_t>(after - transitions_.begin()) - 1]);
}

CivilTime TimeZone::ToCivil(TimePoint t) const {
  const int64_t s = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  return CivilFromUnixSeconds(s + OffsetAt(t).count());
}

bool IsTimeZoneName(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  size_t part_start = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '/') {
      const std::string_view part = name.substr(part_start, i - part_start);
      if (part.empty() || part == "." || part == "..") return false;
      part_start = i + 1;
      continue;
    }
    const char c = name[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '+' &&
        c != '.') {
      return false;
    }
  }
  return true;
}

}  // namespace dynoherd
