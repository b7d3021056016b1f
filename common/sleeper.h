// The waiting half of the time seam (the Clock in common/time.h is the other): retry backoffs and
// reconnect delays wait through a Sleeper, so a shutdown cuts every wait short and tests, with a
// ManualSleeper, take no wall time.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <vector>

#include "common/time.h"

namespace dynoherd {

class Sleeper {
 public:
  virtual ~Sleeper() = default;
  // Waits `d` of real time. Returns false when interrupted, before or during the wait.
  virtual bool Sleep(Duration d) = 0;
  // Ends the waits in progress and makes every later one return false at once. Thread-safe;
  // there is no undoing it (a process interrupts its waits when it stops).
  virtual void Interrupt() = 0;
};

// Waits on a condition variable that Interrupt() signals.
class SystemSleeper final : public Sleeper {
 public:
  bool Sleep(Duration d) override;
  void Interrupt() override;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool interrupted_ = false;
};

// For tests: a wait returns at once, after moving `clock` (if any) by its length so the code under
// test sees the time pass; once interrupted, at once without moving it. Every wait asked for is
// recorded. Thread-safe.
class ManualSleeper final : public Sleeper {
 public:
  explicit ManualSleeper(ManualClock* clock = nullptr) : clock_(clock) {}

  bool Sleep(Duration d) override;
  void Interrupt() override;

  std::vector<Duration> waits() const;  // every wait asked for, interrupted ones included
  // Blocks until code on another thread has waited `n` times, or `timeout` (real time) passed;
  // returns the waits so far.
  std::vector<Duration> WaitForWaits(size_t n, std::chrono::milliseconds timeout) const;

 private:
  ManualClock* clock_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<Duration> waits_;
  bool interrupted_ = false;
};

}  // namespace dynoherd
