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

// The key=value message alone, as it arrives inside a logplex frame. Keys are matched exactly,
// once (the first occurrence wins); unknown keys are skipped; quoted values may contain spaces, '='
// and escaped quotes, so a `dyno=` inside a quoted path never counts. Leaves out.timestamp as is.
LineKind ParseRouterMessage(std::string_view message, RouterLine& out);

// A message read from a logplex frame: a router line when it comes from heroku/router, with the
// frame's timestamp; kIgnored for every other source. `out` is overwritten.
LineKind ParseRouterSyslogMessage(const SyslogMessage& message, RouterLine& out);

// "123ms", "1.5ms", "2s" or a bare number of milliseconds. Empty gives nullopt with true; anything
// else (signs, other units, more than 15 integer digits) gives false.
bool ParseMillis(std::string_view text, std::optional<double>& millis);

}  // namespace dynoherd::latency
