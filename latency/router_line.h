// Heroku router log lines: "<timestamp> heroku[router]: at=info method=GET path=\"/\" ...
// dyno=web.3 connect=0ms service=123ms status=200 bytes=975". The parser reads only the fields
// dynoherd uses, never allocates, never throws, and classifies every line; see docs/latency.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/time.h"
#include "latency/logplex.h"

namespace dynoherd::latency {

enum class LineKind : uint8_t {
  kRouter,     // a router line, fields in RouterLine
  kIgnored,    // not a router line: app output, platform messages, blank lines
  kMalformed,  // claims to be a router line but cannot be read; RouterLine::problem says why
};

// The fields of one router line. Views point into the parsed text: they live as long as it does.
struct RouterLine {
  std::optional<TimePoint> timestamp;  // absent for a bare message without a header
  bool at_error = false;               // at=error: the router failed the request (code says how)
  std::string_view code;               // "H12"; empty when the line carries none
  std::string_view dyno;               // empty when the router named none (H10, H11, ...)
  std::optional<double> connect_ms;    // absent when missing or empty ("connect=")
  std::optional<double> service_ms;    // absent when missing or empty ("service=")
  int status = 0;                      // HTTP status; 0 when missing or empty
  std::string_view problem;            // kMalformed only: what is wrong, static text
};

// One line as `heroku logs` and log sessions print it ("<RFC 3339> heroku[router]: <message>"),
// an RFC 5424 syslog line ("<158>1 <timestamp> host heroku router - <message>"), or a bare router
// message ("at=info ..."). A trailing "\r" or "\n" is ignored. `out` is overwritten.
LineKind ParseRouterLogLine(std::string_view line, RouterLine& out);

// The key=value message alone, as it arrives inside a logplex frame. Leaves out.timestamp as is.
// The grammar, for Heroku's lines and hostile ones alike:
//  - A byte is inside quotes when an odd number of quotes come before it; inside quotes, a
//    backslash escapes the next byte. So a `dyno=` inside a quoted path never counts.
//  - A key is the run of non-space bytes before an '=' outside quotes. Only at, code, dyno,
//    connect, service and status are read; the first occurrence of each wins; others are skipped.
//  - A value is the quoted text after '="' up to the closing quote, or else the bytes up to the
//    next space. Empty values are allowed and mean "none".
LineKind ParseRouterMessage(std::string_view message, RouterLine& out);

namespace detail {
// The byte-at-a-time reference for ParseRouterMessage, and the vectorised parser with a given
// instruction set: they give the same answers; exposed for the differential tests and the fuzzer.
LineKind ParseRouterMessageScalar(std::string_view message, RouterLine& out);
enum class Isa;
LineKind ParseRouterMessageWith(Isa isa, std::string_view message, RouterLine& out);
}  // namespace detail

// A message read from a logplex frame: a router line when it comes from heroku/router, with the
// frame's timestamp; kIgnored for every other source. `out` is overwritten.
LineKind ParseRouterSyslogMessage(const SyslogMessage& message, RouterLine& out);

// The same two, for a stream of lines: remembers the last timestamp's date and time to the second,
// which consecutive lines nearly always share, so most lines only have their fraction read.
// Not thread-safe; one per stream.
class RouterLineParser {
 public:
  LineKind ParseLine(std::string_view line, RouterLine& out);
  LineKind ParseSyslog(const SyslogMessage& message, RouterLine& out);

 private:
  bool Timestamp(std::string_view text, TimePoint& out);
  static bool General(std::string_view text, TimePoint& out);
  bool SameZone(std::string_view zone) const;

  bool cached_ = false;
  char cached_second_[19] = {};  // "YYYY-MM-DDTHH:MM:SS"
  char cached_zone_[8] = {};     // "Z", "+00:00"
  size_t cached_zone_size_ = 0;
  int64_t cached_seconds_ = 0;  // Unix seconds of the two
};

// "123ms", "1.5ms", "2s" or a bare number of milliseconds. Empty gives nullopt with true; anything
// else (signs, other units, more than 15 integer digits) gives false.
bool ParseMillis(std::string_view text, std::optional<double>& millis);

}  // namespace dynoherd::latency
