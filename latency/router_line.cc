#include "latency/router_line.h"

#include <cstring>

#include "latency/dyno_names.h"

namespace dynoherd::latency {
namespace {

constexpr std::string_view kRouterTag = "heroku[router]:";
constexpr size_t kMaxCodeBytes = 8;

// The first `c` in [p, end), or end. memchr is vectorised, which matters: the scan over
// request ids, hosts and paths is most of the work.
inline const char* Find(const char* p, const char* end, char c) {
  const void* hit = std::memchr(p, c, static_cast<size_t>(end - p));
  return hit ? static_cast<const char*>(hit) : end;
}

// The closing quote of a value opened just before `p`, skipping quotes escaped by an odd number
// of backslashes; end when there is none.
const char* FindClosingQuote(const char* p, const char* end) {
  const char* start = p;
  for (;;) {
    const char* q = Find(p, end, '"');
    if (q == end) return end;
    size_t backslashes = 0;
    for (const char* b = q; b > start && b[-1] == '\\'; --b)
      ++backslashes;
    if (backslashes % 2 == 0) return q;
    p = q + 1;
  }
}

inline bool Equals(const char* key, size_t size, std::string_view name) {
  return size == name.size() && std::memcmp(key, name.data(), size) == 0;
}

bool ParseStatus(std::string_view text, int& status) {
  if (text.empty()) return true;
  if (text.size() > 3) return false;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
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
  size_t i = 0;
  uint64_t whole = 0;
  size_t digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (++digits > 15) return false;
    whole = whole * 10 + static_cast<uint64_t>(text[i] - '0');
    ++i;
  }
  if (digits == 0) return false;
  double value = static_cast<double>(whole);
  if (i < text.size() && text[i] == '.') {
    ++i;
    double scale = 0.1;
    size_t fraction_digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      value += (text[i] - '0') * scale;
      scale *= 0.1;
      ++fraction_digits;
      ++i;
    }
    if (fraction_digits == 0) return false;
  }
  std::string_view unit = text.substr(i);
  if (unit == "s") {
    value *= 1000;
  } else if (!unit.empty() && unit != "ms") {
    return false;
  }
  millis = value;
  return true;
}

LineKind ParseRouterMessage(std::string_view message, RouterLine& out) {
  const char* p = message.data();
  const char* const end = p + message.size();
  bool have_at = false, have_code = false, have_dyno = false, have_connect = false,
       have_service = false, have_status = false;
  while (p < end) {
    if (*p == ' ' || *p == '\t') {
      ++p;
      continue;
    }
    // Key: up to '=' or a blank. Keys are short, a byte loop beats a call here.
    const char* key = p;
    while (p < end && *p != '=' && *p != ' ' && *p != '\t')
      ++p;
    if (p == end || *p != '=') continue;  // a bare word: not ours, skip it
    const size_t key_size = static_cast<size_t>(p - key);
    ++p;
    std::string_view value;
    if (p < end && *p == '"') {
      const char* close = FindClosingQuote(p + 1, end);
      if (close == end) return Malformed(out, "unterminated quoted value");
      value = std::string_view(p + 1, static_cast<size_t>(close - p - 1));
      p = close + 1;
    } else {
      const char* value_end = Find(p, end, ' ');
      value = std::string_view(p, static_cast<size_t>(value_end - p));
      p = value_end;
    }
    switch (key_size) {
      case 2:
        if (!have_at && Equals(key, key_size, "at")) {
          have_at = true;
          out.at_error = value == "error";
        }
        break;
      case 4:
        if (!have_dyno && Equals(key, key_size, "dyno")) {
          have_dyno = true;
          if (!value.empty() && !IsValidDynoName(value)) return Malformed(out, "invalid dyno name");
          out.dyno = value;
        } else if (!have_code && Equals(key, key_size, "code")) {
          have_code = true;
          if (value.size() > kMaxCodeBytes) return Malformed(out, "invalid error code");
          out.code = value;
        }
        break;
      case 6:
        if (!have_status && Equals(key, key_size, "status")) {
          have_status = true;
          if (!ParseStatus(value, out.status)) return Malformed(out, "invalid status");
        }
        break;
      case 7:
        if (!have_service && Equals(key, key_size, "service")) {
          have_service = true;
          if (!ParseMillis(value, out.service_ms)) return Malformed(out, "invalid service time");
        } else if (!have_connect && Equals(key, key_size, "connect")) {
          have_connect = true;
          if (!ParseMillis(value, out.connect_ms)) return Malformed(out, "invalid connect time");
        }
        break;
      default:
        break;
    }
    // Heroku writes these fields before bytes, protocol and whatever it adds later: stop once
    // everything used is known instead of tokenising the rest.
    if (have_dyno && have_service && have_connect && have_status && have_at &&
        (have_code || !out.at_error)) {
      break;
    }
  }
  if (!have_at && !have_dyno && !have_service) return Malformed(out, "no router fields");
  return LineKind::kRouter;
}

LineKind ParseRouterSyslogMessage(const SyslogMessage& message, RouterLine& out) {
  out = RouterLine{};
  if (!IsRouterMessage(message)) return LineKind::kIgnored;
  out.timestamp = ParseTimestamp(message.timestamp);
  if (!out.timestamp) return Malformed(out, "invalid timestamp");
  return ParseRouterMessage(message.message, out);
}

LineKind ParseRouterLogLine(std::string_view line, RouterLine& out) {
  out = RouterLine{};
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
    line.remove_suffix(1);
  if (line.empty()) return LineKind::kIgnored;

  const char first = line.front();
  if (first >= '0' && first <= '9') {
    // "<timestamp> <source>[<process>]: <message>"
    const size_t space = line.find(' ');
    if (space == std::string_view::npos) return LineKind::kIgnored;
    std::string_view rest = line.substr(space + 1);
    if (rest.substr(0, kRouterTag.size()) != kRouterTag) return LineKind::kIgnored;
    out.timestamp = ParseTimestamp(line.substr(0, space));
    if (!out.timestamp) return Malformed(out, "invalid timestamp");
    rest.remove_prefix(kRouterTag.size());
    return ParseRouterMessage(rest, out);
  }
  if (first == '<') {
    SyslogMessage syslog;
    if (!ParseSyslogMessage(line, syslog)) return LineKind::kIgnored;
    return ParseRouterSyslogMessage(syslog, out);
  }
  if (line.starts_with("at=")) return ParseRouterMessage(line, out);
  return LineKind::kIgnored;
}

}  // namespace dynoherd::latency
