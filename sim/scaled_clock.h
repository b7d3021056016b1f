// The clock of `dynoherd run` on the simulator: simulated time runs `speed` times faster than the
// wall clock it is built on, so a 30-minute scenario plays in a minute. The wall clock is injected:
// tests drive it with a ManualClock and never sleep.
#pragma once

#include "common/status.h"
#include "common/time.h"

namespace dynoherd::sim {

class ScaledClock final : public Clock {
 public:
  // Simulated time = simulated_start + (wall.Now() - wall start) x speed, where the wall start is
  // wall.Now() at creation. `wall` must outlive the clock. Fails unless speed is finite and > 0.
  //
  // With `whole_seconds`, Now() is rounded down to a whole second, the simulator's step: `run`
  // reads simulated time so, so that a pass due at 15m30s observes and plans at exactly 15m30s
  // whatever the wall clock's jitter (a few milliseconds are seconds at speed 300), and the same
  // scenario makes the same decisions.
  static Result<ScaledClock> Create(const Clock& wall, TimePoint simulated_start, double speed,
                                    bool whole_seconds = false);

  TimePoint Now() const override;
  // Real time until WallTimeAt(t), for the run loop to know how long to wait for its next turn.
  std::optional<std::chrono::nanoseconds> RealTimeUntil(TimePoint t) const override;
  // The wall time at which Now() reaches `simulated` (at once if it already has).
  TimePoint WallTimeAt(TimePoint simulated) const;
  double speed() const { return speed_; }

 private:
  ScaledClock(const Clock& wall, TimePoint simulated_start, double speed, bool whole_seconds)
      : wall_(wall),
        wall_start_(wall.Now()),
        simulated_start_(simulated_start),
        speed_(speed),
        whole_seconds_(whole_seconds) {}

  const Clock& wall_;
  TimePoint wall_start_;
  TimePoint simulated_start_;
  double speed_;
  bool whole_seconds_;
};

}  // namespace dynoherd::sim
