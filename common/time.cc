#include "common/time.h"

#include "common/ascii.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace dynoherd {
namespace {

constexpr std::string_view kUnitsHint = "units: ms, s, m, h; e.g. 500ms, 90s, 5m, 1m30s";

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  // Appended, not `"\"" + std::string(text)`: GCC 12 at -O3 reports a false -Wrestrict there.
  std::string quoted(1, '"');
  quoted.append(text).push_back('"');
  if (text.empty()) return Status::InvalidArgument(std::string("empty duration (") + std::string(kUnitsHint) + ")");
  if (text.front() == '-') return Status::InvalidArgument("duration must not be negative (got " + quoted + ")");
  double total_ms = 0;
  size_t i = 0;
  int last_rank = 99;  // units must come in decreasing order: h, m, s, ms
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (IsAsciiDigit(text[i]) || text[i] == '.')) ++i;
    if (start == i) {
      return Status::InvalidArgument("invalid duration " + quoted + " (" + std::string(kUnitsHint) + ")");
    }
    double number = 0;
    auto [ptr, ec] = std::from_chars(text.data() + start, text.data() + i, number);
    if (ec != std::errc() || ptr != text.data() + i) {
      return Status::InvalidArgument("invalid number in duration " + quoted);
    }
    size_t unit_start = i;
    while (i < text.size() && !IsAsciiDigit(text[i]) && text[i] != '.') ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    double scale = 0;
    int rank = 0;
    if (unit == "h") { scale = 3'600'000; rank = 4; }
    else if (unit == "m") { scale = 60'000; rank = 3; }
    else if (unit == "s") { scale = 1'000; rank = 2; }
    else if (unit == "ms") { scale = 1; rank = 1; }
    else if (unit.empty()) {
      return Status::InvalidArgument("duration " + quoted + " needs a unit (" + std::string(kUnitsHint) + ")");
    } else {
      return Status::InvalidArgument("unknown unit \"" + std::string(unit) + "\" in duration " + quoted + " (" + std::string(kUnitsHint) + ")");
    }
    if (rank >= last_rank) {
      return Status::InvalidArgument("invalid duration " + quoted + ": units must go from largest to smallest, each once");
    }
    last_rank = rank;
    total_ms += number * scale;
  }
  if (total_ms > 1e15) return Status::InvalidArgument("duration " + quoted + " is too large");
  double rounded = std::round(total_ms);
  if (std::fabs(rounded - total_ms) > 1e-6) {
    return Status::InvalidArgument("duration " + quoted + " is finer than a millisecond");
  }
  return Duration(static_cast<int64_t>(rounded));
}

std::string FormatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) { out = "-"; ms = -ms; }
  if (ms % 1000 != 0 && ms < 60'000) return out + std::to_string(ms) + "ms";
  int64_t h = ms / 3'600'000; ms %= 3'600'000;
  int64_t m = ms / 60'000; ms %= 60'000;
  int64_t s = ms / 1000; ms %= 1000;
  if (h) out += std::to_string(h) + "h";
  if (m) out += std::to_string(m) + "m";
  if (s) out += std::to_string(s) + "s";
  if (ms) out += std::to_string(ms) + "ms";
  return out;
}

std::string FormatLatency(double seconds) {
  char buf[32];
  if (!std::isfinite(seconds)) return "n/a";
  double ms = seconds * 1000.0;
  if (ms < 10.0 && ms != std::round(ms)) {
    std::snprintf(buf, sizeof buf, "%.1fms", ms);
  } else if (ms < 1000.0) {
    std::snprintf(buf, sizeof buf, "%.0fms", ms);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f", seconds);
    std::string s(buf);
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s + "s";
  }
  return buf;
}

std::string FormatTimestamp(TimePoint t) {
  auto ms_total = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  int64_t secs = ms_total / 1000;
  int64_t ms = ms_total % 1000;
  if (ms < 0) { ms += 1000; secs -= 1; }
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

namespace {

bool ReadInt(std::string_view s, size_t& i, size_t digits, int& out) {
  if (i + digits > s.size()) return false;
  int v = 0;
  for (size_t k = 0; k < digits; ++k) {
    char c = s[i + k];
    if (!IsAsciiDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  i += digits;
  out = v;
  return true;
}

bool Expect(std::string_view s, size_t& i, char c) {
  if (i >= s.size() || s[i] != c) return false;
  ++i;
  return true;
}

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

std::optional<TimePoint> ParseTimestamp(std::string_view s) {
  size_t i = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadInt(s, i, 4, year) || !Expect(s, i, '-') || !ReadInt(s, i, 2, month) ||
      !Expect(s, i, '-') || !ReadInt(s, i, 2, day)) {
    return std::nullopt;
  }
  if (i >= s.size() || (s[i] != 'T' && s[i] != 't' && s[i] != ' ')) return std::nullopt;
  ++i;
  if (!ReadInt(s, i, 2, hour) || !Expect(s, i, ':') || !ReadInt(s, i, 2, minute) ||
      !Expect(s, i, ':') || !ReadInt(s, i, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  // A nanosecond time_point spans about 1678..2261; refuse what it cannot hold.
  if (year < 1900 || year > 2200) return std::nullopt;
  int64_t nanos = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int64_t scale = 100'000'000;
    size_t start = i;
    while (i < s.size() && IsAsciiDigit(s[i])) {
      nanos += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return std::nullopt;
  }
  int64_t offset_seconds = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int sign = s[i] == '-' ? -1 : 1;
    ++i;
    int oh, om;
    if (!ReadInt(s, i, 2, oh)) return std::nullopt;
    if (i < s.size() && s[i] == ':') ++i;
    if (!ReadInt(s, i, 2, om)) return std::nullopt;
    offset_seconds = sign * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  // The instant, not only the written year, stays within 1900..2200: an offset may carry a time
  // across the bound, and FormatTimestamp's output of it must read back.
  static const int64_t kFirst = DaysFromCivil(1900, 1, 1) * 86400;
  static const int64_t kLast = DaysFromCivil(2201, 1, 1) * 86400 - 1;
  if (secs < kFirst || secs > kLast) return std::nullopt;
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::seconds(secs) +
                                                                   std::chrono::nanoseconds(nanos)));
}

}  // namespace dynoherd
