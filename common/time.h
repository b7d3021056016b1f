// Time vocabulary and the clock seam. Decisions take `now` as an argument; whatever needs the
// current time gets a Clock, so tests and the simulator drive time by hand and never sleep.
// Waiting goes through the Sleeper beside it (common/sleeper.h).
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dynoherd {

using Duration = std::chrono::milliseconds;
using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  // How long, in real time, until Now() reads `t` (zero or less once it has): what a wait for `t`
  // must last. nullopt when the clock never gets there by itself (a ManualClock moves only when
  // told): wait until woken. The default suits clocks that keep the wall clock's pace.
  virtual std::optional<std::chrono::nanoseconds> RealTimeUntil(TimePoint t) const {
    return t - Now();
  }
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_(start) {}
  TimePoint Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void Advance(std::chrono::nanoseconds d) {
    std::lock_guard lock(mu_);
    now_ += std::chrono::duration_cast<TimePoint::duration>(d);
  }
  void Set(TimePoint t) {
    std::lock_guard lock(mu_);
    now_ = t;
  }
  std::optional<std::chrono::nanoseconds> RealTimeUntil(TimePoint) const override {
    return std::nullopt;
  }

 private:
  mutable std::mutex mu_;
  TimePoint now_;
};

// Parses "500ms", "90s", "5m", "1h", "1m30s", "1.5s". Units are required: a bare number is an error
// whose message names the units. Negative values are errors; the result is whole milliseconds.
Result<Duration> ParseDuration(std::string_view text);

// "500ms", "90s", "5m", "1h30m": the shortest exact form, the inverse of ParseDuration.
std::string FormatDuration(Duration d);

// A latency in seconds for people: "0.4ms", "612ms", "2.41s", "2s".
std::string FormatLatency(double seconds);

// RFC 3339 in UTC with milliseconds ("2026-11-22T13:00:00.123Z") and its inverse, which also accepts
// offsets ("+00:00") and any number of fractional digits, as Heroku and logplex write them.
// Years outside 1900..2200 are refused (nullopt).
std::string FormatTimestamp(TimePoint t);
std::optional<TimePoint> ParseTimestamp(std::string_view text);

inline double ToSeconds(Duration d) { return std::chrono::duration<double>(d).count(); }
inline double ToSeconds(std::chrono::nanoseconds d) {
  return std::chrono::duration<double>(d).count();
}
inline double ToUnixSeconds(TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace dynoherd
