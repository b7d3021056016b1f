#include "common/logging.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace dynoherd {

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

Result<LogLevel> ParseLogLevel(std::string_view name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn" || name == "warning") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  return Status::InvalidArgument("unknown log level \"" + std::string(name) +
                                 "\" (expected debug, info, warn or error)");
}

LogField::LogField(std::string k, int64_t v)
    : key(std::move(k)), value(std::to_string(v)), kind(Kind::kNumber) {}

LogField::LogField(std::string k, double v) : key(std::move(k)) {
  if (!std::isfinite(v)) {
    value = std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf");
    return;
  }
  kind = Kind::kNumber;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  std::string s(buf);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  value = s;
}

std::string Redact(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    size_t pos = 0;
    while ((pos = text.find(secret, pos)) != std::string::npos) {
      text.replace(pos, secret.size(), "[REDACTED]");
      pos += 10;
    }
  }
  return text;
}

StreamLogger::StreamLogger(const Clock& clock, LogFormat format, LogLevel min_level, std::FILE* out)
    : clock_(clock), format_(format), min_level_(min_level), out_(out) {}

void StreamLogger::AddSecret(std::string secret) {
  if (secret.empty()) return;
  std::lock_guard lock(mu_);
  secrets_.push_back(std::move(secret));
}

namespace {

bool NeedsQuoting(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      return true;
    }
  }
  return false;
}

void AppendLogfmtValue(std::string& out, std::string_view v) {
  if (!NeedsQuoting(v)) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// A field's value in a JSON line: numbers and booleans as themselves, the rest as strings.
nlohmann::ordered_json JsonValue(const LogField& f) {
  switch (f.kind) {
    case LogField::Kind::kBoolean:
      return f.value == "true";
    case LogField::Kind::kNumber:
      if (f.value.find_first_of(".eE") == std::string::npos) return std::stoll(f.value);
      return std::stod(f.value);
    case LogField::Kind::kString:
      break;
  }
  return f.value;
}

}  // namespace

std::string StreamLogger::Format(LogLevel level, std::string_view msg, const LogFields& fields) const {
  std::string ts = FormatTimestamp(clock_.Now());
  if (format_ == LogFormat::kJson) {
    nlohmann::ordered_json j;
    j["time"] = ts;
    j["level"] = LogLevelName(level);
    j["msg"] = msg;
    for (const auto& f : fields) j[f.key] = JsonValue(f);
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line = "time=" + ts + " level=" + std::string(LogLevelName(level)) + " msg=";
  AppendLogfmtValue(line, msg);
  for (const auto& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    AppendLogfmtValue(line, f.value);
  }
  return line;
}

void StreamLogger::Write(LogLevel level, std::string_view msg, const LogFields& fields) {
  std::string line = Format(level, msg, fields);
  std::lock_guard lock(mu_);
  line = Redact(std::move(line), secrets_);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

std::string CapturingLogger::Entry::Field(std::string_view key) const {
  for (const auto& f : fields) {
    if (f.key == key) return f.value;
  }
  return "";
}

void CapturingLogger::Write(LogLevel level, std::string_view msg, const LogFields& fields) {
  std::lock_guard lock(mu_);
  entries_.push_back({level, std::string(msg), fields});
}

std::vector<CapturingLogger::Entry> CapturingLogger::entries() const {
  std::lock_guard lock(mu_);
  return entries_;
}

bool CapturingLogger::Contains(LogLevel level, std::string_view msg_substring) const {
  std::lock_guard lock(mu_);
  for (const auto& e : entries_) {
    if (e.level == level && e.msg.find(msg_substring) != std::string::npos) return true;
  }
  return false;
}

}  // namespace dynoherd
