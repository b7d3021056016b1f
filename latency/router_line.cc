#include "latency/router_line.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>

#include "common/ascii.h"
#include "latency/byte_classes.h"
#include "latency/dyno_names.h"

namespace dynoherd::latency {
namespace {

constexpr std::string_view kRouterTag = "heroku[router]:";
constexpr size_t kMaxCodeBytes = 8;
constexpr int kMinYear = 1900;
constexpr int kMaxYear = 2200;

// Bit i set when an odd number of bits at or below i are set: with quote bits, the bytes from an
// opening quote up to (not including) its closing quote.
uint64_t PrefixXor(uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

enum class Key { kNone, kAt, kCode, kDyno, kStatus, kService, kConnect };

constexpr uint64_t Pack(std::string_view s) {
  uint64_t word = 0;
  for (size_t i = 0; i < s.size(); ++i)
    word |= static_cast<uint64_t>(static_cast<uint8_t>(s[i])) << (8 * i);
  return word;
}

// The 8 bytes before `equals` when fewer than 8 bytes of the message precede it: those
// before the start count as spaces.
inline uint64_t WordNearStart(const char* begin, const char* equals, const char* end) {
  constexpr uint64_t kSpaces = 0x2020202020202020ULL;
  const auto size = static_cast<unsigned>(equals - begin);
  if (size == 0) return kSpaces;
  if (end - begin >= 8 && std::endian::native == std::endian::little) {
    uint64_t first;
    std::memcpy(&first, begin, 8);
    const unsigned shift = 8 * (8 - size);
    return (first << shift) | (kSpaces >> (64 - shift));
  }
  char padded[8];
  std::memset(padded, ' ', sizeof padded);
  std::memcpy(padded + 8 - size, begin, size);
  uint64_t word;
  std::memcpy(&word, padded, 8);
  if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
  return word;
}

// The key that ends just before the '=' at `equals`: one of ours when the bytes before it spell
// it and are preceded by a space or the start of the message. One 8-byte load and a few compares
// instead of finding the key's start.
inline Key KeyBefore(const char* begin, const char* equals, const char* end) {
  uint64_t word;
  if (equals - begin >= 8) {
    std::memcpy(&word, equals - 8, 8);
    if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
  } else {
    word = WordNearStart(begin, equals, end);
  }
  static constexpr uint64_t kAt = Pack(" at"), kDyno = Pack(" dyno"), kCode = Pack(" code"),
                            kStatus = Pack(" status"), kService = Pack(" service"),
                            kConnect = Pack(" connect");
  if ((word >> 40) == kAt) return Key::kAt;
  const uint64_t last5 = word >> 24;
  if (last5 == kDyno) return Key::kDyno;
  if (last5 == kCode) return Key::kCode;
  if ((word >> 8) == kStatus) return Key::kStatus;
  if (word == kService) return Key::kService;
  if (word == kConnect) return Key::kConnect;
  return Key::kNone;
}

// The first space in [p, end), or end; 8 bytes at a time (the values read are short, but a call
// to memchr costs more than they do).
inline const char* FindSpace(const char* p, const char* end) {
  if constexpr (std::endian::native == std::endian::little) {
    constexpr uint64_t kSpaces = 0x2020202020202020ULL;
    constexpr uint64_t kOnes = 0x0101010101010101ULL;
    constexpr uint64_t kHighs = 0x8080808080808080ULL;
    while (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      const uint64_t x = word ^ kSpaces;  // zero bytes where the spaces are
      const uint64_t zeros = (x - kOnes) & ~x & kHighs;
      if (zeros != 0) return p + (__builtin_ctzll(zeros) >> 3);
      p += 8;
    }
  }
  while (p < end && *p != ' ')
    ++p;
  return p;
}

// The closing quote of a value whose text starts at `p`, skipping quotes escaped by an odd number
// of backslashes; end when there is none.
const char* FindClosingQuote(const char* p, const char* end) {
  const char* const start = p;
  for (;;) {
    const void* hit = std::memchr(p, '"', static_cast<size_t>(end - p));
    if (hit == nullptr) return end;
    const char* quote = static_cast<const char*>(hit);
    size_t backslashes = 0;
    for (const char* b = quote; b > start && b[-1] == '\\'; --b)
      ++backslashes;
    if (backslashes % 2 == 0) return quote;
    p = quote + 1;
  }
}

// The first 19 bytes of two timestamps ("YYYY-MM-DDTHH:MM:SS") are equal: three loads each.
inline bool SameSecond(const char* a, const char* b) {
  uint64_t a0, a1, b0, b1;
  uint32_t a2, b2;
  std::memcpy(&a0, a, 8);
  std::memcpy(&b0, b, 8);
  std::memcpy(&a1, a + 8, 8);
  std::memcpy(&b1, b + 8, 8);
  std::memcpy(&a2, a + 15, 4);
  std::memcpy(&b2, b + 15, 4);
  return ((a0 ^ b0) | (a1 ^ b1) | (a2 ^ b2)) == 0;
}

inline int TwoDigits(const char* p) {
  return (p[0] - '0') * 10 + (p[1] - '0');
}

// "YYYY-MM-DDTHH:MM:SS" at `p` with `zone` ("Z", "+00:00", "-07:00"), as Unix seconds; nullopt
// for anything else, which then goes to the general ParseTimestamp.
std::optional<int64_t> UnixSeconds(const char* p, std::string_view zone) {
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}) {
    if (!IsAsciiDigit(p[i])) return std::nullopt;
  }
  const int year = TwoDigits(p) * 100 + TwoDigits(p + 2);
  const int month = TwoDigits(p + 5), day = TwoDigits(p + 8);
  const int hour = TwoDigits(p + 11), minute = TwoDigits(p + 14), second = TwoDigits(p + 17);
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
  int64_t offset_seconds = 0;
  if (zone.size() == 1 && (zone[0] == 'Z' || zone[0] == 'z')) {
    // UTC
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && IsAsciiDigit(zone[1]) &&
             IsAsciiDigit(zone[2]) && zone[3] == ':' && IsAsciiDigit(zone[4]) && IsAsciiDigit(zone[5])) {
    offset_seconds = (zone[0] == '-' ? -1 : 1) *
                     (TwoDigits(zone.data() + 1) * 3600 + TwoDigits(zone.data() + 4) * 60);
  } else {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year{year},
                                        std::chrono::month{static_cast<unsigned>(month)},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  const std::chrono::sys_days date{ymd};
  return static_cast<int64_t>(date.time_since_epoch().count()) * 86400 + hour * 3600 + minute * 60 +
         second - offset_seconds;
}

bool ParseStatus(std::string_view text, int& status) {
  if (text.empty()) return true;
  if (text.size() > 3) return false;
  int value = 0;
  for (char c : text) {
    if (!IsAsciiDigit(c)) return false;
    value = value * 10 + (c - '0');
  }
  status = value;
  return true;
}

LineKind Malformed(RouterLine& out, std::string_view problem) {
  out.problem = problem;
  return LineKind::kMalformed;
}

}  // namespace

bool ParseMillis(std::string_view text, std::optional<double>& millis) {
  millis.reset();
  if (text.empty()) return true;
  const char* p = text.data();
  const char* const end = p + text.size();
  uint64_t whole = 0;
  const char* digits = p;
  while (p < end && IsAsciiDigit(*p))
    whole = whole * 10 + static_cast<uint64_t>(*p++ - '0');
  if (p == digits || p - digits > 15) return false;
  double value = static_cast<double>(whole);
  if (p < end && *p == '.') {
    const char* fraction_start = ++p;
    uint64_t fraction = 0;
    while (p < end && IsAsciiDigit(*p)) {
      if (p - fraction_start < 15) fraction = fraction * 10 + static_cast<uint64_t>(*p - '0');
      ++p;
    }
    const auto fraction_digits = static_cast<int>(std::min<ptrdiff_t>(p - fraction_start, 15));
    if (fraction_digits == 0) return false;
    static constexpr double kPow10[16] = {1,   1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                          1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    value += static_cast<double>(fraction) / kPow10[fraction_digits];
  }
  const size_t unit = static_cast<size_t>(end - p);
  if (unit == 1 && p[0] == 's') {
    value *= 1000;
  } else if (unit != 0 && !(unit == 2 && p[0] == 'm' && p[1] == 's')) {
    return false;
  }
  millis = value;
  return true;
}

namespace {

// The fields of one message as they are found; the first occurrence of each key wins.
class MessageFields {
 public:
  explicit MessageFields(RouterLine& out) : out_(out) {}

  // Takes the value after the '=' at `equals` for `key`. False when the line is malformed.
  [[gnu::always_inline]] bool Take(Key key, const char* equals, const char* end) {
    std::string_view value;
    const char* start = equals + 1;
    if (start < end && *start == '"') {
      const char* close = FindClosingQuote(start + 1, end);
      if (close == end) return Fail("unterminated quoted value");
      value = std::string_view(start + 1, static_cast<size_t>(close - start - 1));
    } else {
      value = std::string_view(start, static_cast<size_t>(FindSpace(start, end) - start));
    }
    switch (key) {
      case Key::kAt:
        if (!have_at_) {
          have_at_ = true;
          out_.at_error = value == "error";
        }
        return true;
      case Key::kCode:
        if (have_code_) return true;
        have_code_ = true;
        if (value.size() > kMaxCodeBytes) return Fail("invalid error code");
        out_.code = value;
        return true;
      case Key::kDyno:
        if (have_dyno_) return true;
        have_dyno_ = true;
        if (!value.empty() && !IsValidDynoName(value)) return Fail("invalid dyno name");
        out_.dyno = value;
        return true;
      case Key::kStatus:
        if (have_status_) return true;
        have_status_ = true;
        return ParseStatus(value, out_.status) || Fail("invalid status");
      case Key::kService:
        if (have_service_) return true;
        have_service_ = true;
        return ParseMillis(value, out_.service_ms) || Fail("invalid service time");
      case Key::kConnect:
        if (have_connect_) return true;
        have_connect_ = true;
        return ParseMillis(value, out_.connect_ms) || Fail("invalid connect time");
      case Key::kNone:
        return true;
    }
    return true;
  }

  // Heroku writes these before bytes, protocol and whatever it adds later: once all are known,
  // the rest of the line is not looked at.
  bool Complete() const {
    return have_dyno_ && have_service_ && have_connect_ && have_status_ && have_at_ &&
           (have_code_ || !out_.at_error);
  }

  LineKind Finish(bool inside_quotes) {
    if (inside_quotes) return Malformed(out_, "unterminated quoted value");
    if (!have_at_ && !have_dyno_ && !have_service_) return Malformed(out_, "no router fields");
    return LineKind::kRouter;
  }

 private:
  bool Fail(std::string_view problem) {
    out_.problem = problem;
    return false;
  }

  RouterLine& out_;
  bool have_at_ = false, have_code_ = false, have_dyno_ = false, have_connect_ = false,
       have_service_ = false, have_status_ = false;
};

void ResetFields(RouterLine& out) {
  std::optional<TimePoint> timestamp = out.timestamp;
  out = RouterLine{};
  out.timestamp = timestamp;
}

}  // namespace

namespace detail {

LineKind ParseRouterMessageScalar(std::string_view message, RouterLine& out) {
  ResetFields(out);
  MessageFields fields(out);
  const char* const begin = message.data();
  const char* const end = begin + message.size();
  bool inside_quotes = false;
  for (const char* p = begin; p < end; ++p) {
    const char c = *p;
    if (inside_quotes) {
      if (c == '\\') {
        ++p;  // the escaped byte
      } else if (c == '"') {
        inside_quotes = false;
      }
    } else if (c == '"') {
      inside_quotes = true;
    } else if (c == '=') {
      const Key key = KeyBefore(begin, p, end);
      if (key == Key::kNone) continue;
      if (!fields.Take(key, p, end)) return LineKind::kMalformed;
      if (fields.Complete()) return LineKind::kRouter;
    }
  }
  return fields.Finish(inside_quotes);
}

// The same grammar as the scalar parser, 64 bytes at a time: the quote bits of a block give,
// through a prefix XOR, which bytes are inside quotes; only the '=' outside quotes are looked
// at, and only those after one of our keys cost more than a few instructions. A message with a
// backslash (escaped quotes) goes to the scalar parser. REQUIRES: `out`'s fields are cleared.
LineKind ParseFields(Isa isa, std::string_view message, RouterLine& out) {
  MessageFields fields(out);
  const char* const begin = message.data();
  const char* const end = begin + message.size();
  uint64_t inside_carry = 0;  // all ones when the previous block ended inside quotes
  ByteClasses classes;
  for (const char* segment = begin; segment < end; segment += 64 * kClassifiedBlocks) {
    Classify(isa, begin, segment, end, classes);
    if (classes.backslash) return ParseRouterMessageScalar(message, out);
    for (size_t b = 0; b < classes.blocks; ++b) {
      const char* const block = segment + 64 * b;
      const uint64_t inside = PrefixXor(classes.quotes[b]) ^ inside_carry;
      inside_carry = static_cast<uint64_t>(static_cast<int64_t>(inside) >> 63);
      for (uint64_t equals = classes.equals[b] & ~inside; equals != 0; equals &= equals - 1) {
        const char* at = block + __builtin_ctzll(equals);
        const Key key = KeyBefore(begin, at, end);
        if (key == Key::kNone) continue;
        if (!fields.Take(key, at, end)) return LineKind::kMalformed;
        if (fields.Complete()) return LineKind::kRouter;
      }
    }
  }
  return fields.Finish(inside_carry != 0);
}

LineKind ParseRouterMessageWith(Isa isa, std::string_view message, RouterLine& out) {
  ResetFields(out);
  return ParseFields(isa, message, out);
}

}  // namespace detail

namespace {
// The CPU does not change while the process runs: decided once, then only read.
const detail::Isa kIsa = detail::BestIsa();
}  // namespace

LineKind ParseRouterMessage(std::string_view message, RouterLine& out) {
  return detail::ParseRouterMessageWith(kIsa, message, out);
}

bool RouterLineParser::Timestamp(std::string_view s, TimePoint& out) {
  const char* p = s.data();
  // Nanosecond time points reach from 1677 to 2262; log lines outside a narrower range are
  // garbage, and must not reach arithmetic that would overflow.
  if (s.size() < 4 || !IsAsciiDigit(p[0]) || !IsAsciiDigit(p[1]) || !IsAsciiDigit(p[2]) || !IsAsciiDigit(p[3])) {
    return false;
  }
  const int year = TwoDigits(p) * 100 + TwoDigits(p + 2);
  if (year < kMinYear || year > kMaxYear) return false;
  if (s.size() < 20 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':') {
    return General(s, out);
  }
  size_t i = 19;
  int64_t nanos = 0;
  if (p[i] == '.') {
    ++i;
    const size_t start = i;
    int64_t fraction = 0;
    while (i < s.size() && IsAsciiDigit(p[i])) {
      if (i - start < 9) fraction = fraction * 10 + (p[i] - '0');  // finer than 1 ns: dropped
      ++i;
    }
    const size_t digits = i - start;
    if (digits == 0) return false;
    static constexpr int64_t kScale[10] = {
        1'000'000'000, 100'000'000, 10'000'000, 1'000'000, 100'000, 10'000, 1'000, 100, 10, 1};
    nanos = fraction * kScale[digits < 9 ? digits : 9];
  }
  const std::string_view zone = s.substr(i);
  if (!cached_ || !SameSecond(p, cached_second_) || !SameZone(zone)) {
    const std::optional<int64_t> seconds = UnixSeconds(p, zone);
    if (!seconds) return General(s, out);  // rare spellings ("+0000"), or invalid
    if (zone.size() > sizeof cached_zone_) {
      cached_ = false;
      out = TimePoint(std::chrono::duration_cast<TimePoint::duration>(
          std::chrono::seconds(*seconds) + std::chrono::nanoseconds(nanos)));
      return true;
    }
    std::memcpy(cached_second_, p, sizeof cached_second_);
    std::memcpy(cached_zone_, zone.data(), zone.size());
    cached_zone_size_ = zone.size();
    cached_seconds_ = *seconds;
    cached_ = true;
  }
  // Returned through `out` rather than an optional: GCC builds the optional on the stack and
  // reads it back wider than it wrote it, a store-forwarding stall on every line.
  out = TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::seconds(cached_seconds_) + std::chrono::nanoseconds(nanos)));
  return true;
}

bool RouterLineParser::General(std::string_view s, TimePoint& out) {
  const std::optional<TimePoint> parsed = ParseTimestamp(s);
  if (!parsed) return false;
  out = *parsed;
  return true;
}

bool RouterLineParser::SameZone(std::string_view zone) const {
  if (zone.size() != cached_zone_size_) return false;
  if (zone.size() == 6) {  // "+00:00": two fixed-size loads instead of a call
    uint32_t a, b;
    uint16_t c, d;
    std::memcpy(&a, zone.data(), 4);
    std::memcpy(&b, cached_zone_, 4);
    std::memcpy(&c, zone.data() + 4, 2);
    std::memcpy(&d, cached_zone_ + 4, 2);
    return a == b && c == d;
  }
  return zone == std::string_view(cached_zone_, cached_zone_size_);
}

LineKind RouterLineParser::ParseSyslog(const SyslogMessage& message, RouterLine& out) {
  out = RouterLine{};
  if (!IsRouterMessage(message)) return LineKind::kIgnored;
  TimePoint timestamp;
  if (!Timestamp(message.timestamp, timestamp)) return Malformed(out, "invalid timestamp");
  out.timestamp = timestamp;
  return detail::ParseFields(kIsa, message.message, out);
}

LineKind RouterLineParser::ParseLine(std::string_view line, RouterLine& out) {
  out = RouterLine{};
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
    line.remove_suffix(1);
  if (line.empty()) return LineKind::kIgnored;

  const char first = line.front();
  if (first >= '0' && first <= '9') {
    // "<timestamp> <source>[<process>]: <message>"
    // Heroku's timestamps are 32 bytes ("2026-11-22T13:00:00.123456+00:00"): look there first.
    const size_t space = line.size() > 32 && line[32] == ' ' ? size_t{32} : line.find(' ');
    if (space == std::string_view::npos) return LineKind::kIgnored;
    std::string_view rest = line.substr(space + 1);
    if (rest.size() < kRouterTag.size() ||
        std::memcmp(rest.data(), kRouterTag.data(), kRouterTag.size()) != 0) {
      return LineKind::kIgnored;
    }
    TimePoint timestamp;
    if (!Timestamp(line.substr(0, space), timestamp)) return Malformed(out, "invalid timestamp");
    out.timestamp = timestamp;
    rest.remove_prefix(kRouterTag.size());
    return detail::ParseFields(kIsa, rest, out);
  }
  if (first == '<') {
    SyslogMessage syslog;
    if (!ParseSyslogMessage(line, syslog)) return LineKind::kIgnored;
    return ParseSyslog(syslog, out);
  }
  if (line.starts_with("at=")) return detail::ParseFields(kIsa, line, out);
  return LineKind::kIgnored;
}

LineKind ParseRouterLogLine(std::string_view line, RouterLine& out) {
  return RouterLineParser().ParseLine(line, out);
}

LineKind ParseRouterSyslogMessage(const SyslogMessage& message, RouterLine& out) {
  return RouterLineParser().ParseSyslog(message, out);
}

}  // namespace dynoherd::latency
