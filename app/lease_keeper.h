// Which policies this replica may act on, when several share a Redis (`--store redis://...`).
// A policy is acted on only while this replica holds its lease (providers/redis/redis_lease.h):
// each Tick sends a heartbeat (counting the live replicas), renews the leases held, gives back
// those above a fair share, and takes free ones up to it. `reconcile` asks for every policy.
//
// A lease is trusted until `ttl - safety_margin` after its last renewal was *sent*, on a monotonic
// clock: the server may have started the TTL later, never earlier. Fence() is asked right before
// every write to the platform (app/fenced_provider.h) and every status write carries the token
// (providers/redis/redis_state_store.h). A renewal that fails or is refused drops the lease at
// once: the replica stops acting on that policy and tries to take it again at the next Tick.
//
// Thread-safe: Tick runs on the keeper's thread (or a test's), the rest on pass and listener
// threads. Redis calls are made without the keeper's lock.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/logging.h"
#include "common/status.h"
#include "common/time.h"
#include "metrics/lease_metrics.h"
#include "providers/redis/redis_lease.h"

namespace dynoherd::app {

using namespace std::chrono_literals;

// The steady clock read as a TimePoint (its epoch is arbitrary: compare its readings with each
// other only), for lease deadlines that a wall clock stepped by NTP or by hand must not move.
class MonotonicClock final : public Clock {
 public:
  TimePoint Now() const override {
    return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
        std::chrono::steady_clock::now().time_since_epoch()));
  }
};

struct LeaseOptions {
  Duration ttl = 15s;            // --lease-ttl
  Duration renew_interval = 5s;  // --lease-renew: how often Tick runs
  // Trust a lease only until ttl - safety_margin after its renewal was sent: room for a write in
  // flight and for the two clocks' drift. Default ttl / 3.
  std::optional<Duration> safety_margin{};
  bool fair_share = true;  // false: try for every policy (the one-shot reconcile)
};

// A policy's lease as this replica last saw it, for /status and tests.
struct LeaseView {
  std::string policy;
  bool held = false;   // by this replica, and still trusted (Fence is OK)
  std::string holder;  // the holder's token when known ("" unknown or none)
  uint64_t renewals = 0;
  uint64_t losses = 0;
};

class LeaseKeeper {
 public:
  // Rejects options that cannot keep a lease (a margin not below the TTL, a renewal no sooner
  // than the trusted span). `token` names this replica (unique per process). `clock` must be
  // monotonic (MonotonicClock; a ManualClock in tests). `metrics` may be null.
  static Result<std::unique_ptr<LeaseKeeper>> Create(
      std::shared_ptr<providers::redis::RedisLeases> leases, std::string token,
      LeaseOptions options, const Clock& clock, Logger& logger, metrics::LeaseMetrics* metrics);
  ~LeaseKeeper();

  void SetPolicies(std::vector<std::string> policies);

  struct TickOutcome {
    std::vector<std::string> acquired;
    std::vector<std::string> lost;  // lost, refused or given back
    Status error;                   // the first Redis failure of the tick
  };
  TickOutcome Tick();

  // Runs Tick every renew_interval on a thread of its own; `after_tick` is told each round's
  // outcome (without the keeper's lock). Stop (or the destructor) ends it.
  void Start(std::function<void(const TickOutcome&)> after_tick);
  void Stop();
  // Gives back every lease held (DEL if still ours) and leaves the live replicas.
  void ReleaseAll();

  // OK when this replica holds the policy's lease and may write now; FailedPrecondition
  // otherwise, saying why.
  Status Fence(std::string_view policy) const;
  bool Holds(std::string_view policy) const { return Fence(policy).ok(); }
  // The token to fence a status write with; nullopt unless Holds.
  std::optional<std::string> TokenFor(std::string_view policy) const;
  // A pass of the policy is in progress: its lease is not given back to rebalance meanwhile.
  void BeginPass(const std::string& policy);
  void EndPass(const std::string& policy);

  std::vector<LeaseView> Views() const;
  std::vector<std::string> Held() const;  // trusted now, sorted
  // OK when the last Tick reached Redis; its error otherwise.
  Status Health() const;
  size_t live_replicas() const;
  const std::string& token() const { return token_; }
  const LeaseOptions& options() const { return options_; }
  Duration safety_margin() const { return *options_.safety_margin; }

 private:
  struct Lease {
    bool held = false;
    TimePoint trusted_until{};  // sent_at + ttl - margin
    std::string holder;
    uint64_t renewals = 0;
    uint64_t losses = 0;
    int passes = 0;  // in progress
  };

  LeaseKeeper(std::shared_ptr<providers::redis::RedisLeases> leases, std::string token,
              LeaseOptions options, const Clock& clock, Logger& logger, metrics::LeaseMetrics* metrics);
  void Renew(TickOutcome& outcome);
  void GiveBackExcess(size_t share, TickOutcome& outcome);
  void TakeFree(size_t share, TickOutcome& outcome);
  void LoseLocked(const std::string& policy, Lease& lease, const std::string& why,
                  TickOutcome& outcome);
  void Note(TickOutcome& outcome, const Status& status);
  size_t HeldCountLocked() const;

  const std::shared_ptr<providers::redis::RedisLeases> leases_;
  const std::string token_;
  const LeaseOptions options_;
  const Clock& clock_;
  Logger& logger_;
  metrics::LeaseMetrics* const metrics_;

  mutable std::mutex mu_;
  std::map<std::string, Lease, std::less<>> leases_by_policy_;
  size_t live_replicas_ = 1;
  Status health_;

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace dynoherd::app
