// The load a Sidekiq worker formation carries, for autoscale mode capacity (docs/decisions.md,
// "Capacity mode"), measured between passes from what Sidekiq's processes keep in Redis
// (providers/redis/sidekiq_processes.h). Pure: the reads come in as samples, time as their `at`.
//
// Between two reads t seconds apart:
//   throughput = jobs finished / t          (the change of stat:processed)
//   arrivals   = throughput + queue growth / t  (jobs pushed: run, or still waiting)
//   run time   = mean busy threads / throughput  (Little's law on the threads)
// so arrivals x run time, the model's busy slots, is the threads the formation keeps busy plus
// those the growing backlog would need. Unknown, with the reason, whenever one of these cannot be
// measured honestly: the first read, reads too close together for Sidekiq's 10 s flushes, a
// counter that went back, no job finished (the run time is unknown), or a counter shared with
// processes working other queues.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "model/observation.h"
#include "providers/redis/sidekiq_processes.h"

namespace dynoherd::providers::sources {

// What one read saw of a formation's share of Sidekiq.
struct SidekiqLoadSample {
  TimePoint at{};
  int64_t processed = 0;  // stat:processed: the jobs every process of this Redis finished
  int64_t queued = 0;     // jobs waiting in the formation's queues
  int64_t busy = 0;       // threads of the formation's live processes running a job
  int64_t threads = 0;    // threads of its live processes that still fetch jobs (not quiet)
};

// A process whose last beat is older is taken for dead (Sidekiq beats every 10 s, 5 s before
// version 7, and lets a silent process's record expire after 60 s): its frozen `busy` and its
// threads no longer count.
inline constexpr Duration kSidekiqStaleBeat = std::chrono::seconds(30);
// Sidekiq adds a process's finished jobs to stat:processed once per beat: a rate over less than
// two beats mostly measures where the beats fell.
inline constexpr Duration kSidekiqMinLoadSpan = std::chrono::seconds(20);

// The formation's sample from one read at `now`: its live processes' busy threads and threads,
// with `queued` the size of its queues. stat:processed counts the jobs of every process of the
// Redis (and namespace), so the throughput is the formation's only when every live process works
// the formation's queues and no other: else FailedPrecondition naming one that does not.
// `queues` are the formation's ("*": every queue).
Result<SidekiqLoadSample> FormationSample(const redis::SidekiqProcesses& sidekiq,
                                          const std::vector<std::string>& queues, int64_t queued,
                                          TimePoint now);

class SidekiqLoadMeter {
 public:
  // `window`: the span of the steadier load for scale-downs (window_busy_slots), the formation's
  // latency window; the load itself is over the newest minute (model::kLoadSpan).
  explicit SidekiqLoadMeter(Duration window) : window_(window) {}

  // Records `sample` and measures the load up to it: over the newest minute (from the newest
  // earlier sample at least that old, else the oldest kept) and, when older samples are kept,
  // over the window. Unavailable, with the reason, when the load cannot be told yet.
  Result<model::FormationLoad> Add(const SidekiqLoadSample& sample);

  // Forgets every sample: the next one measures nothing (its throughput was not the formation's).
  void Reset() { samples_.clear(); }

 private:
  // The newest kept sample at least `span` older than the newest, else the oldest.
  size_t BaseFor(Duration span) const;
  // The load between samples_[from] and the newest.
  Result<model::FormationLoad> LoadSince(size_t from) const;

  Duration window_;
  std::deque<SidekiqLoadSample> samples_;  // oldest first; one at least `window_` old is kept
};

}  // namespace dynoherd::providers::sources
