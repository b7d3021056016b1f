// The clock of `dynoherd run` on the simulator: simulated time runs `speed` times faster than the
// wall clock it is built on, so a 30-minute scenario plays in a minute. The wall clock is injected:
// tests drive it with a ManualClock and never sleep.
#pragma once

#include "common/status.h"
#include "common/time.h"

namespace dynoherd::providers::sim {

class ScaledClock final : public Clock {
 public:
  // Simulated time = simulated_start + (wall.Now() - wall start) x speed, where the wall start is
  // wall.Now() at creation. `wall` must outlive the clock. Fails unless speed is finite and > 0.
  static Result<ScaledClock> Create(const Clock& wall, TimePoint simulated_start, double speed);

  TimePoint Now() const override;
  // The wall time at which Now() reaches `simulated` (at once if it already has), for the run
  // loop to know how long to wait before its next pass.
  TimePoint WallTimeAt(TimePoint simulated) const;
  double speed() const { return speed_; }

 private:
  ScaledClock(const Clock& wall, TimePoint simulated_start, double speed)
      : wall_(wall), wall_start_(wall.Now()), simulated_start_(simulated_start), speed_(speed) {}

  const Clock& wall_;
  TimePoint wall_start_;
  TimePoint simulated_start_;
  double speed_;
};

}  // namespace dynoherd::providers::sim
