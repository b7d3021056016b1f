#include "app/lease_keeper.h"

#include <algorithm>

namespace dynoherd::app {

Result<std::unique_ptr<LeaseKeeper>> LeaseKeeper::Create(
    std::shared_ptr<providers::redis::RedisLeases> leases, std::string token, LeaseOptions options,
    const Clock& clock, Logger& logger, metrics::LeaseMetrics* metrics) {
  if (!options.safety_margin) options.safety_margin = options.ttl / 3;
  const Duration trusted = options.ttl - *options.safety_margin;
  if (options.ttl <= Duration{0} || options.renew_interval <= Duration{0}) {
    return Status::InvalidArgument("--lease-ttl and --lease-renew must be more than 0");
  }
  if (trusted <= Duration{0}) {
    return Status::InvalidArgument("the lease safety margin (" +
                                   FormatDuration(*options.safety_margin) +
                                   ") must be less than --lease-ttl (" +
                                   FormatDuration(options.ttl) + ")");
  }
  if (options.renew_interval >= trusted) {
    return Status::InvalidArgument(
        "--lease-renew (" + FormatDuration(options.renew_interval) +
        ") must be shorter than the time a lease is trusted, --lease-ttl minus its margin (" +
        FormatDuration(trusted) + "): the leases would lapse between renewals");
  }
  return std::unique_ptr<LeaseKeeper>(
      new LeaseKeeper(std::move(leases), std::move(token), options, clock, logger, metrics));
}

LeaseKeeper::LeaseKeeper(std::shared_ptr<providers::redis::RedisLeases> leases, std::string token,
                         LeaseOptions options, const Clock& clock, Logger& logger,
                         metrics::LeaseMetrics* metrics)
    : leases_(std::move(leases)),
      token_(std::move(token)),
      options_(options),
      clock_(clock),
      logger_(logger),
      metrics_(metrics) {}

LeaseKeeper::~LeaseKeeper() { Stop(); }

void LeaseKeeper::SetPolicies(std::vector<std::string> policies) {
  std::lock_guard lock(mu_);
  std::map<std::string, Lease, std::less<>> next;
  for (std::string& name : policies) {
    auto it = leases_by_policy_.find(name);
    next[name] = it != leases_by_policy_.end() ? it->second : Lease{};
  }
  // A policy dropped by a reload keeps its lease until it expires: another replica may still
  // have it in its set, and the lease ends by itself.
  leases_by_policy_ = std::move(next);
}

void LeaseKeeper::Note(TickOutcome& outcome, const Status& status) {
  if (outcome.error.ok() && !status.ok()) outcome.error = status;
}

size_t LeaseKeeper::HeldCountLocked() const {
  size_t held = 0;
  for (const auto& [name, lease] : leases_by_policy_)
    held += lease.held ? 1 : 0;
  return held;
}

void LeaseKeeper::LoseLocked(const std::string& policy, Lease& lease, const std::string& why,
                             TickOutcome& outcome) {
  if (!lease.held) return;
  lease.held = false;
  ++lease.losses;
  outcome.lost.push_back(policy);
  logger_.Warn("lease lost: no longer acting on the policy", {{"policy", policy}, {"why", why}});
  if (metrics_) {
    metrics_->CountLoss(policy);
    metrics_->SetHeld(policy, false);
  }
}

LeaseKeeper::TickOutcome LeaseKeeper::Tick() {
  TickOutcome outcome;
  Result<std::vector<std::string>> live = leases_->Heartbeat(token_, options_.ttl);
  if (!live.ok()) {
    std::lock_guard lock(mu_);
    health_ = live.status();
    for (auto& [name, lease] : leases_by_policy_)
      LoseLocked(name, lease, "the store is unreachable: " + live.status().message(), outcome);
    if (metrics_) metrics_->SetStoreUp(false);
    outcome.error = live.status();
    return outcome;
  }
  size_t policies = 0;
  {
    std::lock_guard lock(mu_);
    live_replicas_ = std::max<size_t>(1, live->size());
    policies = leases_by_policy_.size();
  }
  Renew(outcome);
  const size_t share =
      options_.fair_share ? (policies + live_replicas() - 1) / live_replicas() : policies;
  GiveBackExcess(share, outcome);
  TakeFree(share, outcome);
  std::lock_guard lock(mu_);
  health_ = outcome.error;
  if (metrics_) {
    metrics_->SetStoreUp(outcome.error.ok());
    for (const auto& [name, lease] : leases_by_policy_)
      metrics_->SetHeld(name, lease.held);
  }
  return outcome;
}

void LeaseKeeper::Renew(TickOutcome& outcome) {
  std::vector<std::string> held;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, lease] : leases_by_policy_) {
      if (lease.held) held.push_back(name);
    }
  }
  for (const std::string& policy : held) {
    const TimePoint sent_at = clock_.Now();
    Result<bool> renewed = leases_->Renew(policy, token_, options_.ttl);
    Note(outcome, renewed.status());
    std::lock_guard lock(mu_);
    auto it = leases_by_policy_.find(policy);
    if (it == leases_by_policy_.end()) continue;
    Lease& lease = it->second;
    if (renewed.ok() && *renewed) {
      lease.trusted_until = sent_at + options_.ttl - safety_margin();
      ++lease.renewals;
      if (metrics_) metrics_->CountRenewal(policy);
    } else {
      LoseLocked(policy, lease,
                 renewed.ok() ? "another replica holds it or it expired"
                              : "cannot renew: " + renewed.status().message(),
                 outcome);
    }
  }
}

void LeaseKeeper::GiveBackExcess(size_t share, TickOutcome& outcome) {
  std::vector<std::string> excess;
  {
    std::lock_guard lock(mu_);
    size_t held = HeldCountLocked();
    for (auto it = leases_by_policy_.rbegin(); it != leases_by_policy_.rend() && held > share;
         ++it) {
      Lease& lease = it->second;
      if (!lease.held || lease.passes > 0) continue;  // never under a pass in progress
      lease.held = false;  // untrusted before the DEL: no write may start from here on
      --held;
      excess.push_back(it->first);
      outcome.lost.push_back(it->first);
      if (metrics_) metrics_->SetHeld(it->first, false);
    }
  }
  for (const std::string& policy : excess) {
    logger_.Info("lease given back: more than a fair share",
                 {{"policy", policy}, {"share", static_cast<int64_t>(share)}});
    Note(outcome, leases_->Release(policy, token_).status());
  }
}

void LeaseKeeper::TakeFree(size_t share, TickOutcome& outcome) {
  std::vector<std::string> candidates;
  size_t held = 0;
  {
    std::lock_guard lock(mu_);
    held = HeldCountLocked();
    for (const auto& [name, lease] : leases_by_policy_) {
      if (!lease.held) candidates.push_back(name);
    }
  }
  // Replicas start their search at different policies, so they rarely race for the same one.
  if (!candidates.empty()) {
    std::rotate(candidates.begin(),
                candidates.begin() + std::hash<std::string>{}(token_) % candidates.size(),
                candidates.end());
  }
  for (const std::string& policy : candidates) {
    bool taken = false;
    std::optional<std::string> holder;
    if (held < share) {
      const TimePoint sent_at = clock_.Now();
      Result<bool> acquired = leases_->Acquire(policy, token_, options_.ttl);
      Note(outcome, acquired.status());
      if (acquired.ok() && *acquired) {
        taken = true;
        ++held;
        std::lock_guard lock(mu_);
        auto it = leases_by_policy_.find(policy);
        if (it == leases_by_policy_.end()) continue;
        it->second.held = true;
        it->second.trusted_until = sent_at + options_.ttl - safety_margin();
        it->second.holder = token_;
      }
    }
    if (taken) {
      outcome.acquired.push_back(policy);
      logger_.Info("lease taken: acting on the policy", {{"policy", policy}});
      if (metrics_) metrics_->SetHeld(policy, true);
      continue;
    }
    Result<std::optional<std::string>> current = leases_->Holder(policy);
    Note(outcome, current.status());
    std::lock_guard lock(mu_);
    auto it = leases_by_policy_.find(policy);
    if (it != leases_by_policy_.end()) it->second.holder = current.ok() && *current ? **current : "";
  }
}

void LeaseKeeper::Start(std::function<void(const TickOutcome&)> after_tick) {
  thread_ = std::thread([this, after_tick = std::move(after_tick)] {
    std::unique_lock lock(loop_mu_);
    while (!stop_) {
      lock.unlock();
      const TickOutcome outcome = Tick();
      if (after_tick) after_tick(outcome);
      lock.lock();
      // Real time: the leases live on the server's clock, whatever clock the passes use.
      loop_cv_.wait_for(lock, options_.renew_interval, [this] { return stop_; });
    }
  });
}

void LeaseKeeper::Stop() {
  {
    std::lock_guard lock(loop_mu_);
    stop_ = true;
  }
  loop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LeaseKeeper::ReleaseAll() {
  std::vector<std::string> held;
  {
    std::lock_guard lock(mu_);
    for (auto& [name, lease] : leases_by_policy_) {
      if (!lease.held) continue;
      lease.held = false;
      held.push_back(name);
      if (metrics_) metrics_->SetHeld(name, false);
    }
  }
  for (const std::string& policy : held) {
    if (Status s = leases_->Release(policy, token_).status(); !s.ok()) {
      logger_.Warn("cannot give the lease back; it expires by itself",
                   {{"policy", policy}, {"error", s.message()}});
    }
  }
  (void)leases_->Leave(token_);
}

Status LeaseKeeper::Fence(std::string_view policy) const {
  std::lock_guard lock(mu_);
  auto it = leases_by_policy_.find(policy);
  if (it == leases_by_policy_.end() || !it->second.held) {
    return Status::FailedPrecondition("this dynoherd does not hold the lease of policy " +
                                      std::string(policy));
  }
  if (clock_.Now() >= it->second.trusted_until) {
    return Status::FailedPrecondition("the lease of policy " + std::string(policy) +
                                      " was not renewed in time (within --lease-ttl minus its "
                                      "safety margin): it may have passed to another replica");
  }
  return Status::Ok();
}

std::optional<std::string> LeaseKeeper::TokenFor(std::string_view policy) const {
  if (!Holds(policy)) return std::nullopt;
  return token_;
}

void LeaseKeeper::BeginPass(const std::string& policy) {
  std::lock_guard lock(mu_);
  if (auto it = leases_by_policy_.find(policy); it != leases_by_policy_.end()) ++it->second.passes;
}

void LeaseKeeper::EndPass(const std::string& policy) {
  std::lock_guard lock(mu_);
  if (auto it = leases_by_policy_.find(policy); it != leases_by_policy_.end()) {
    it->second.passes = std::max(0, it->second.passes - 1);
  }
}

std::vector<LeaseView> LeaseKeeper::Views() const {
  const TimePoint now = clock_.Now();
  std::lock_guard lock(mu_);
  std::vector<LeaseView> out;
  for (const auto& [name, lease] : leases_by_policy_) {
    const bool trusted = lease.held && now < lease.trusted_until;
    out.push_back({name, trusted, lease.held ? token_ : lease.holder, lease.renewals,
                   lease.losses});
  }
  return out;
}

std::vector<std::string> LeaseKeeper::Held() const {
  std::vector<std::string> out;
  for (const LeaseView& view : Views()) {
    if (view.held) out.push_back(view.policy);
  }
  return out;
}

Status LeaseKeeper::Health() const {
  std::lock_guard lock(mu_);
  return health_;
}

size_t LeaseKeeper::live_replicas() const {
  std::lock_guard lock(mu_);
  return live_replicas_;
}

}  // namespace dynoherd::app
