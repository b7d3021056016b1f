// The `dynoherd run` loop: every policy reconciled each `interval`, several policies at once on a
// small pool, a failing policy backing off without holding the others (app/scheduler.h),
// its status saved after each pass, specs reloaded on request (SIGHUP), and a clean stop (SIGTERM).
//
// The loop never sleeps blindly: it computes the next due time and waits on a condition variable
// until then or until something happens (a pass ended, a stop or a reload was asked). How long
// "until then" lasts in real time is the clock's business (Clock::RealTimeUntil), so the same loop
// runs on the system clock, on a clock faster than the wall's, and in tests on a ManualClock that
// moves only by hand.
//
//   Daemon daemon(options, clock, hooks, logger, &metrics, &store);
//   if (Status s = daemon.Start(policies); !s.ok()) ...;
//   // another thread: daemon.RequestStop("SIGTERM") or daemon.RequestReload()
//   RunOutcome outcome = daemon.Run();  // returns once stopped
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "app/listener.h"
#include "app/pass.h"
#include "app/pass_history.h"
#include "app/scheduler.h"
#include "app/worker_pool.h"
#include "common/logging.h"
#include "common/status.h"
#include "common/time.h"
#include "metrics/metrics.h"
#include "model/report.h"
#include "providers/state_store.h"
#include "spec/policy.h"

namespace dynoherd::app {

struct DaemonOptions {
  size_t max_concurrent_passes = 4;  // the pool has min(this, policies) threads, at least 1
  Duration backoff_base = 5s;        // first retry after a failed pass; doubles, capped at interval
  // Delay each new policy's first pass by one interval of its own. For worlds that start with the
  // run and have no history: a first look at an app with no traffic yet would only say "unknown".
  bool first_pass_after_interval = false;
  // After a stop, how long (real time) passes in progress may take to finish before the daemon
  // gives up on them. A second stop request gives up at once.
  std::chrono::milliseconds shutdown_grace{8000};
};

// One turn of the loop as seen by a tick hook (e.g. a narrator of the world, which also ends the
// run when the world is over).
struct TickResult {
  bool stop = false;              // stop the daemon
  std::string stop_reason;        // logged
  std::optional<TimePoint> next;  // when the hook wants the next turn; nullopt: no wish
};

// What the daemon calls; everything but `pass` and `build_runtime` may be empty.
struct DaemonHooks {
  // One pass (PassRunner::Run in the binary; a fake in tests). Called on a pool thread, never
  // twice at once for the same policy.
  // `save_first` saves a status durably before a write is sent (PassOptions::save_first).
  std::function<PassResult(const spec::Policy& policy, PolicyRuntime& runtime,
                           const model::PolicyStatus* previous, std::mt19937_64& rng,
                           const SaveStatus& save_first)>
      pass;
  // The runtime of a policy (RuntimeFactory::Build), at Start and on every accepted reload.
  std::function<Result<std::shared_ptr<PolicyRuntime>>(const spec::Policy&)> build_runtime;
  // Loads the policies again for a reload (the same -f paths, checked as at start). Empty:
  // reloads are refused.
  std::function<Result<std::vector<spec::Policy>>()> load_policies;
  // Cuts short the waits inside passes in progress once a stop is asked
  // (RuntimeFactory::Shutdown).
  std::function<void()> interrupt_passes;
  // Called on the loop thread at every turn, without the daemon's lock, with the current policy
  // names.
  std::function<TickResult(TimePoint now, const std::vector<std::string>& policies)> tick;
  // Called on the pool thread after each pass was recorded, without the daemon's lock.
  std::function<void(const PassResult&)> on_pass;
  // The seed of a policy's random numbers (laggards with select: random), at Start and when a
  // reload changes the policy. Empty: a fresh seed per process, as a real formation wants.
  std::function<uint64_t(const spec::Policy&)> seed;
  // Whether this process acts on the policy now (replicas sharing a store: it holds the lease).
  // A due policy it does not act on is skipped until its next interval, and /readyz does not wait
  // for its first pass. Called with the daemon's lock held. Empty: every policy.
  std::function<bool(const std::string& policy)> acts_on;
};

struct RunOutcome {
  std::string stop_reason;
  // Passes still running when the shutdown grace ended. Their threads still use the daemon, so
  // the process must exit (std::_Exit) without destroying it.
  std::vector<std::string> abandoned;
};

// What the daemon knows about one policy now, for /status.
struct PolicySnapshot {
  std::shared_ptr<const spec::Policy> policy;
  std::shared_ptr<const PassResult> last_pass;  // null before the first pass of this process
  std::optional<model::PassRecord> record;      // what /status shows; from the state file at start
  std::optional<model::PolicyStatus> status;
  int consecutive_failures = 0;
  bool pass_in_progress = false;
  std::optional<TimePoint> next_pass_at;  // nullopt while a pass is in progress
  std::vector<PassSample> history;        // the recent passes, oldest first (for the `/` page)
};

class Daemon {
 public:
  // `metrics` and `store` may be null (then nothing is exported or saved). Everything referenced
  // must outlive the daemon. With a ManualClock the loop waits until woken: move the clock, then
  // call Wake.
  Daemon(DaemonOptions options, const Clock& clock, DaemonHooks hooks, Logger& logger,
         metrics::Metrics* metrics, providers::StateStore* store);
  ~Daemon();

  // Builds every policy's runtime and the pool. Fails (and nothing runs) when a runtime cannot
  // be built, e.g. a heroku policy without a token.
  Status Start(std::vector<spec::Policy> policies);

  // The loop. REQUIRES: Start succeeded. Returns after a stop: passes in progress finished (or
  // were abandoned after the grace) and the statuses written.
  RunOutcome Run();

  // Thread-safe; may be called before Run.
  void RequestStop(std::string reason);
  void RequestReload();
  void Wake();  // look at the clock again (tests, after moving a ManualClock)
  // Makes the policy due now (this replica just took its lease). Unknown names are ignored.
  void PassSoon(const std::string& name);

  Readiness Ready() const;
  std::vector<PolicySnapshot> Snapshot() const;
  bool HasPolicy(const std::string& name) const;
  std::vector<std::string> PolicyNames() const;
  TimePoint Now() const { return clock_.Now(); }

 private:
  struct Entry {
    std::shared_ptr<const spec::Policy> policy;
    std::shared_ptr<PolicyRuntime> runtime;
    std::shared_ptr<std::mt19937_64> rng;
    std::shared_ptr<const PassResult> last_pass;
    std::optional<model::PassRecord> record;
    std::deque<PassSample> history;
  };
  struct Task {
    std::shared_ptr<const spec::Policy> policy;
    std::shared_ptr<PolicyRuntime> runtime;
    std::shared_ptr<std::mt19937_64> rng;
    std::optional<model::PolicyStatus> previous;
  };

  std::shared_ptr<std::mt19937_64> NewRng(const spec::Policy& policy) const;
  Duration FirstDelay(const spec::Policy& policy) const;
  bool ActsOnLocked(const std::string& name) const { return !hooks_.acts_on || hooks_.acts_on(name); }
  Result<std::map<std::string, Entry>> BuildEntries(std::vector<spec::Policy> policies);
  // The last-pass record the state file holds for `name`; nullopt without one it can read.
  std::optional<model::PassRecord> StoredRecord(const std::string& name) const;
  void Reload();
  void RejectReload(const Status& status);
  void StartDueLocked(TimePoint now);
  void RunPass(const Task& task);
  // The write-ahead save of a pass (PassOptions::save_first), under the daemon's lock like every
  // other use of the store.
  Status SaveFirst(const model::PolicyStatus& status);
  void RecordLocked(const Task& task, const PassResult& result);
  void WaitLocked(std::unique_lock<std::mutex>& lock, std::optional<TimePoint> due);

  const DaemonOptions options_;
  const Clock& clock_;
  const DaemonHooks hooks_;
  Logger& logger_;
  metrics::Metrics* const metrics_;
  providers::StateStore* const store_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
  bool woken_ = false;
  bool stop_requested_ = false;
  bool hurry_ = false;     // a second stop request: abandon passes in progress now
  bool stopping_ = false;  // the loop has ended; /readyz says so
  bool closed_ = false;    // Run returned: late passes are not recorded
  bool reload_requested_ = false;
  std::string stop_reason_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, model::PolicyStatus> statuses_;  // last saved, per policy
  std::set<std::string> passed_once_;
  std::multiset<std::string> in_flight_;
  Scheduler scheduler_;
  std::unique_ptr<WorkerPool> pool_;  // last member: destroyed (joined) first
};

}  // namespace dynoherd::app
