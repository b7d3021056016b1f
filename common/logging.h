// Structured logs: logfmt (default) or JSON lines on stderr. Components receive a Logger&;
// tests pass a CapturingLogger and assert on what was logged.
#pragma once

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace dynoherd {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

std::string_view LogLevelName(LogLevel level);              // "debug", "info", "warn", "error"
Result<LogLevel> ParseLogLevel(std::string_view name);

// One key=value of a log line. Keys are camelCase (docs/operations.md, "Logs"). The value is kept
// as text, with its kind, so JSON lines write numbers as numbers and booleans as booleans.
struct LogField {
  enum class Kind { kString, kNumber, kBoolean };

  LogField(std::string k, std::string v) : key(std::move(k)), value(std::move(v)) {}
  LogField(std::string k, std::string_view v) : key(std::move(k)), value(v) {}
  LogField(std::string k, const char* v) : key(std::move(k)), value(v) {}
  LogField(std::string k, int64_t v);
  LogField(std::string k, int v) : LogField(std::move(k), static_cast<int64_t>(v)) {}
  // Up to 3 decimals, trailing zeros trimmed. NaN and infinities stay text ("NaN", "+Inf"):
  // JSON has no number for them.
  LogField(std::string k, double v);
  LogField(std::string k, bool v)
      : key(std::move(k)), value(v ? "true" : "false"), kind(Kind::kBoolean) {}

  std::string key;
  std::string value;
  Kind kind = Kind::kString;
};
using LogFields = std::vector<LogField>;

class Logger {
 public:
  virtual ~Logger() = default;
  virtual void Write(LogLevel level, std::string_view msg, const LogFields& fields) = 0;
  virtual bool Enabled(LogLevel level) const = 0;

  void Debug(std::string_view msg, const LogFields& fields = {}) { Log(LogLevel::kDebug, msg, fields); }
  void Info(std::string_view msg, const LogFields& fields = {}) { Log(LogLevel::kInfo, msg, fields); }
  void Warn(std::string_view msg, const LogFields& fields = {}) { Log(LogLevel::kWarn, msg, fields); }
  void Error(std::string_view msg, const LogFields& fields = {}) { Log(LogLevel::kError, msg, fields); }
  void Log(LogLevel level, std::string_view msg, const LogFields& fields) {
    if (Enabled(level)) Write(level, msg, fields);
  }
};

enum class LogFormat { kLogfmt, kJson };

// Writes one line per entry to a FILE* (stderr by default). Thread-safe. Every registered secret
// is replaced by "[REDACTED]" in the whole line before it is written: a last line of defence.
class StreamLogger final : public Logger {
 public:
  StreamLogger(const Clock& clock, LogFormat format, LogLevel min_level, std::FILE* out = stderr);

  void Write(LogLevel level, std::string_view msg, const LogFields& fields) override;
  bool Enabled(LogLevel level) const override { return level >= min_level_; }
  void AddSecret(std::string secret);

  // The formatted line without the trailing newline; exposed for tests.
  std::string Format(LogLevel level, std::string_view msg, const LogFields& fields) const;

 private:
  const Clock& clock_;
  LogFormat format_;
  LogLevel min_level_;
  std::FILE* out_;
  mutable std::mutex mu_;
  std::vector<std::string> secrets_;
};

// Keeps every entry; for tests.
class CapturingLogger final : public Logger {
 public:
  struct Entry {
    LogLevel level;
    std::string msg;
    LogFields fields;
    std::string Field(std::string_view key) const;  // "" when absent
  };
  void Write(LogLevel level, std::string_view msg, const LogFields& fields) override;
  bool Enabled(LogLevel) const override { return true; }
  std::vector<Entry> entries() const;
  bool Contains(LogLevel level, std::string_view msg_substring) const;

 private:
  mutable std::mutex mu_;
  std::vector<Entry> entries_;
};

class NullLogger final : public Logger {
 public:
  void Write(LogLevel, std::string_view, const LogFields&) override {}
  bool Enabled(LogLevel) const override { return false; }
};

// Replaces every occurrence of each secret in `text` with "[REDACTED]". Empty secrets are ignored.
std::string Redact(std::string text, const std::vector<std::string>& secrets);

}  // namespace dynoherd
