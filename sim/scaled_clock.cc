#include "sim/scaled_clock.h"

#include <cmath>
#include <string>

namespace dynoherd::sim {

Result<ScaledClock> ScaledClock::Create(const Clock& wall, TimePoint simulated_start, double speed,
                                        bool whole_seconds) {
  if (!std::isfinite(speed) || speed <= 0) {
    return Status::InvalidArgument("sim speed must be a number > 0 (got " + std::to_string(speed) +
                                   ")");
  }
  return ScaledClock(wall, simulated_start, speed, whole_seconds);
}

TimePoint ScaledClock::Now() const {
  const std::chrono::duration<double> wall_elapsed = wall_.Now() - wall_start_;
  const std::chrono::duration<double> simulated_elapsed = wall_elapsed * speed_;
  const TimePoint now =
      simulated_start_ + std::chrono::round<TimePoint::duration>(simulated_elapsed);
  return whole_seconds_ ? std::chrono::floor<std::chrono::seconds>(now) : now;
}

std::optional<std::chrono::nanoseconds> ScaledClock::RealTimeUntil(TimePoint t) const {
  return WallTimeAt(t) - wall_.Now();
}

TimePoint ScaledClock::WallTimeAt(TimePoint simulated) const {
  if (simulated <= simulated_start_) return wall_start_;
  const std::chrono::duration<double> simulated_elapsed = simulated - simulated_start_;
  const std::chrono::duration<double> wall_elapsed = simulated_elapsed / speed_;
  // Round up so that at the returned wall time Now() has really reached `simulated`.
  return wall_start_ + std::chrono::ceil<TimePoint::duration>(wall_elapsed);
}

}  // namespace dynoherd::sim
