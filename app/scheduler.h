// When each policy of `dynoherd run` is due for its next pass. Pure bookkeeping over time points:
// no threads, no clock of its own, so the daemon's timing is tested with plain TimePoints.
//
// A successful pass makes the policy due `interval` after the time it was due (the cadence does
// not drift with start delays and pass durations; a pass longer than its interval is followed at
// once by the next). A failed pass makes it due after an exponential backoff,
// backoff_base x 2^(failures - 1), capped at the interval: a broken policy is retried sooner
// than its interval at first, never later, and never holds the others (Kubernetes' requeue with
// backoff).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/time.h"

namespace dynoherd::app {

struct ScheduledPolicy {
  std::string name;
  Duration interval{60000};
  bool due_now = false;     // e.g. its spec changed on reload: reconcile it promptly
  Duration first_delay{0};  // a new policy's first pass is due this long after it is added
};

class Scheduler {
 public:
  explicit Scheduler(Duration backoff_base) : backoff_base_(backoff_base) {}

  // Replaces the set of policies. New names are due at now + first_delay, kept ones with
  // `due_now` at `now`; the others keep their due time, brought forward to now + interval if the
  // interval shrank. A removed policy whose pass is still running is forgotten when that pass
  // finishes; if it comes back meanwhile it stays in flight, so one policy never has two passes at
  // once.
  void SetPolicies(const std::vector<ScheduledPolicy>& policies, TimePoint now);

  // Up to `limit` policies due at `now` and not in flight, the longest overdue first (ties by
  // name); they are marked in flight.
  std::vector<std::string> TakeDue(TimePoint now, size_t limit);

  // The pass of `name` ended at `now`. Unknown names are ignored.
  void Finished(const std::string& name, bool ok, TimePoint now);

  // The earliest due time among policies not in flight; nullopt when there is none.
  std::optional<TimePoint> NextDue() const;

  std::optional<TimePoint> DueAt(const std::string& name) const;  // nullopt: unknown or in flight
  int Failures(const std::string& name) const;                    // consecutive failed passes
  size_t InFlight() const;

  // The wait after `failures` consecutive failures (>= 1).
  static Duration Backoff(int failures, Duration base, Duration interval);

 private:
  struct Entry {
    Duration interval{0};
    TimePoint due{};  // while in flight: when the running pass was due
    int failures = 0;
    bool in_flight = false;
    bool removed = false;  // no longer in the set; kept only until its pass in flight ends
    bool due_when_finished = false;  // made due while in flight: due again as soon as it ends
  };

  Duration backoff_base_;
  std::map<std::string, Entry> entries_;
};

}  // namespace dynoherd::app
