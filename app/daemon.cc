#include "app/daemon.h"

#include <algorithm>
#include <exception>

#include "app/pass_record.h"

namespace dynoherd::app {

namespace {

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

}  // namespace

Daemon::Daemon(DaemonOptions options, const Clock& clock, DaemonHooks hooks, Logger& logger,
               metrics::Metrics* metrics, providers::StateStore* store)
    : options_(options),
      clock_(clock),
      hooks_(std::move(hooks)),
      logger_(logger),
      metrics_(metrics),
      store_(store),
      scheduler_(options.backoff_base) {}

Daemon::~Daemon() {
  pool_.reset();  // join the threads before the members their tasks use go away
}

Duration Daemon::FirstDelay(const spec::Policy& policy) const {
  return options_.first_pass_after_interval ? policy.interval : Duration{0};
}

std::shared_ptr<std::mt19937_64> Daemon::NewRng(const spec::Policy& policy) const {
  if (hooks_.seed) return std::make_shared<std::mt19937_64>(hooks_.seed(policy));
  std::random_device device;
  return std::make_shared<std::mt19937_64>((uint64_t{device()} << 32) | device());
}

Result<std::map<std::string, Daemon::Entry>> Daemon::BuildEntries(
    std::vector<spec::Policy> policies) {
  std::map<std::string, Entry> entries;
  for (auto& policy : policies) {
    Result<std::shared_ptr<PolicyRuntime>> runtime = hooks_.build_runtime(policy);
    if (!runtime.ok()) return runtime.status().WithContext("policy " + policy.name);
    std::string name = policy.name;
    Entry entry;
    entry.rng = NewRng(policy);
    entry.policy = std::make_shared<const spec::Policy>(std::move(policy));
    entry.runtime = std::move(runtime).value();
    entries.emplace(std::move(name), std::move(entry));
  }
  return entries;
}

Status Daemon::Start(std::vector<spec::Policy> policies) {
  if (policies.empty()) return Status::InvalidArgument("no policies to run");
  size_t count = policies.size();
  Result<std::map<std::string, Entry>> entries = BuildEntries(std::move(policies));
  if (!entries.ok()) return entries.status();
  std::lock_guard lock(mu_);
  entries_ = std::move(entries).value();
  std::vector<ScheduledPolicy> schedule;
  for (auto& [name, entry] : entries_) {
    schedule.push_back({name, entry.policy->interval, true, FirstDelay(*entry.policy)});
    if (store_) {
      if (const auto* saved = store_->Find(name)) statuses_[name] = *saved;
      entry.record = StoredRecord(name);
    }
  }
  scheduler_.SetPolicies(schedule, clock_.Now());
  pool_ = std::make_unique<WorkerPool>(
      std::clamp<size_t>(count, 1, std::max<size_t>(1, options_.max_concurrent_passes)));
  started_ = true;
  return Status::Ok();
}

void Daemon::RequestStop(std::string reason) {
  {
    std::lock_guard lock(mu_);
    if (stop_requested_) {
      hurry_ = true;
    } else {
      stop_requested_ = true;
      stop_reason_ = std::move(reason);
    }
    woken_ = true;
  }
  cv_.notify_all();
}

void Daemon::RequestReload() {
  {
    std::lock_guard lock(mu_);
    reload_requested_ = true;
    woken_ = true;
  }
  cv_.notify_all();
}

void Daemon::PassSoon(const std::string& name) {
  {
    std::lock_guard lock(mu_);
    if (!started_ || !entries_.contains(name)) return;
    std::vector<ScheduledPolicy> schedule;
    for (const auto& [other, entry] : entries_)
      schedule.push_back({other, entry.policy->interval, other == name, Duration{0}});
    scheduler_.SetPolicies(schedule, clock_.Now());
    woken_ = true;
  }
  cv_.notify_all();
}

void Daemon::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

RunOutcome Daemon::Run() {
  std::unique_lock lock(mu_);
  while (!stop_requested_) {
    if (reload_requested_) {
      reload_requested_ = false;
      lock.unlock();
      Reload();
      lock.lock();
      continue;
    }
    woken_ = false;
    std::optional<TimePoint> wake;
    if (hooks_.tick) {
      std::vector<std::string> names;
      for (const auto& [name, entry] : entries_)
        names.push_back(name);
      lock.unlock();
      TickResult tick = hooks_.tick(clock_.Now(), names);
      lock.lock();
      if (tick.stop && !stop_requested_) {
        stop_requested_ = true;
        stop_reason_ = tick.stop_reason;
      }
      if (stop_requested_) break;
      wake = tick.next;
    }
    StartDueLocked(clock_.Now());
    // With every thread busy, the next due time means nothing until a pass ends (which wakes us).
    std::optional<TimePoint> due =
        in_flight_.size() < pool_->size() ? scheduler_.NextDue() : std::nullopt;
    if (due && (!wake || *due < *wake)) wake = due;
    WaitLocked(lock, wake);
  }

  stopping_ = true;
  std::vector<std::string> running(in_flight_.begin(), in_flight_.end());
  LogFields fields{{"reason", stop_reason_}};
  if (!running.empty()) fields.push_back({"passesInProgress", JoinNames(running)});
  logger_.Info("stopping", fields);
  lock.unlock();
  if (hooks_.interrupt_passes) hooks_.interrupt_passes();
  lock.lock();
  cv_.wait_for(lock, options_.shutdown_grace, [this] { return in_flight_.empty() || hurry_; });

  RunOutcome outcome;
  outcome.stop_reason = stop_reason_;
  outcome.abandoned.assign(in_flight_.begin(), in_flight_.end());
  if (!outcome.abandoned.empty()) {
    // Their statuses keep the last completed pass; the next process observes the world afresh.
    logger_.Warn("abandoning passes still in progress",
                 {{"policies", JoinNames(outcome.abandoned)}});
  }
  if (store_) {
    if (Status s = store_->Write(); !s.ok()) {
      logger_.Error("saving the status failed",
                    {{"state", store_->where()}, {"error", s.message()}});
    }
  }
  closed_ = true;
  return outcome;
}

void Daemon::WaitLocked(std::unique_lock<std::mutex>& lock, std::optional<TimePoint> due) {
  auto woken = [this] { return woken_ || stop_requested_ || reload_requested_; };
  if (!due) {
    cv_.wait(lock, woken);
    return;
  }
  std::optional<std::chrono::nanoseconds> delay = clock_.RealTimeUntil(*due);
  if (!delay) {
    cv_.wait(lock, woken);
  } else if (delay->count() > 0) {
    cv_.wait_for(lock, *delay, woken);
  }
}

void Daemon::StartDueLocked(TimePoint now) {
  size_t threads = pool_->size();
  size_t busy = in_flight_.size();
  if (busy >= threads) return;
  for (const std::string& name : scheduler_.TakeDue(now, threads - busy)) {
    if (!ActsOnLocked(name)) {
      scheduler_.Finished(name, true, now);  // another replica's now; looked at again next time
      continue;
    }
    const Entry& entry = entries_.at(name);
    Task task{entry.policy, entry.runtime, entry.rng, std::nullopt};
    if (auto it = statuses_.find(name); it != statuses_.end()) task.previous = it->second;
    in_flight_.insert(name);
    pool_->Submit([this, task = std::move(task)] { RunPass(task); });
  }
}

void Daemon::RunPass(const Task& task) {
  PassResult result;
  try {
    result = hooks_.pass(*task.policy, *task.runtime, task.previous ? &*task.previous : nullptr,
                         *task.rng, [this](const model::PolicyStatus& status) {
                           return SaveFirst(status);
                         });
  } catch (const std::exception& e) {
    // A bug, not the world: report it as this policy's failure and keep the others running.
    result = PassResult{};
    result.policy = task.policy->name;
    result.app = task.policy->app;
    result.status = Status::Internal(std::string("pass threw: ") + e.what());
    result.started_at = result.finished_at = clock_.Now();
    logger_.Error("pass failed", {{"policy", result.policy}, {"error", result.status.message()}});
  }
  bool recorded = false;
  {
    std::lock_guard lock(mu_);
    in_flight_.erase(in_flight_.find(task.policy->name));
    if (!closed_) {
      RecordLocked(task, result);
      recorded = true;
    }
    woken_ = true;
  }
  cv_.notify_all();
  if (recorded && hooks_.on_pass) hooks_.on_pass(result);
}

Status Daemon::SaveFirst(const model::PolicyStatus& status) {
  std::lock_guard lock(mu_);
  if (!store_) return Status::Ok();
  return store_->Save(status);
}

std::optional<model::PassRecord> Daemon::StoredRecord(const std::string& name) const {
  if (!store_) return std::nullopt;
  Result<std::optional<model::PassRecord>> stored = StoredPassRecord(*store_, name);
  // An unreadable record is reporting data only: the next pass replaces it.
  return stored.ok() ? *stored : std::nullopt;
}

void Daemon::RecordLocked(const Task& task, const PassResult& result) {
  const std::string& name = task.policy->name;
  const TimePoint now = clock_.Now();
  scheduler_.Finished(name, result.status.ok(), now);
  auto it = entries_.find(name);
  std::optional<model::PassRecord> previous =
      it != entries_.end() ? it->second.record : StoredRecord(name);
  model::PassRecord record =
      NextPassRecord(previous ? &*previous : nullptr, result, task.policy.get());
  // Saved even when an action failed (RecordActionFailure took it back out of the status) or
  // the pass failed: the last-pass record says so, for `dynoherd status`.
  if (result.plan) statuses_[name] = result.plan->status;
  if (store_) {
    if (Status s = SavePass(*store_, result, record); !s.ok()) {
      logger_.Error("saving the status failed",
                    {{"policy", name}, {"state", store_->where()}, {"error", s.message()}});
    }
  }
  if (it == entries_.end()) {
    // Removed by a reload while this pass ran: the pass exported its series again.
    if (metrics_) metrics_->RetainFormations(name, {});
    return;
  }
  it->second.last_pass = std::make_shared<const PassResult>(result);
  it->second.record = std::move(record);
  AddSample(it->second.history, SamplePass(*task.policy, result));
  passed_once_.insert(name);
  // Logged once the pass is recorded (/readyz and /status show it from here on).
  if (std::optional<TimePoint> due = scheduler_.DueAt(name)) {
    std::string in = FormatDuration(std::chrono::ceil<std::chrono::seconds>(*due - now));
    if (result.status.ok()) {
      logger_.Debug("next pass scheduled", {{"policy", name}, {"in", in}});
    } else {
      logger_.Info("retrying after a backoff",
                   {{"policy", name}, {"failures", scheduler_.Failures(name)}, {"retryIn", in}});
    }
  }
}

void Daemon::RejectReload(const Status& status) {
  if (metrics_) metrics_->CountSpecReloadError();  // counted before it is told, for scrapers
  logger_.Error("reload rejected; the previous policies keep running",
                {{"error", status.message()}});
}

void Daemon::Reload() {
  logger_.Info("reloading policies");
  if (!hooks_.load_policies) {
    RejectReload(Status::FailedPrecondition("this daemon cannot reload its policies"));
    return;
  }
  Result<std::vector<spec::Policy>> loaded = hooks_.load_policies();
  if (!loaded.ok()) return RejectReload(loaded.status());
  if (loaded->empty()) return RejectReload(Status::InvalidArgument("no policies to run"));
  Result<std::map<std::string, Entry>> built = BuildEntries(std::move(loaded).value());
  if (!built.ok()) return RejectReload(built.status());

  std::lock_guard lock(mu_);
  std::map<std::string, Entry> next = std::move(built).value();
  std::vector<ScheduledPolicy> schedule;
  std::vector<std::string> added, changed, removed;
  for (auto& [name, entry] : next) {
    auto old = entries_.find(name);
    bool is_new = old == entries_.end();
    bool is_changed = !is_new && !(*old->second.policy == *entry.policy);
    if (is_new) {
      added.push_back(name);
      if (store_ && !statuses_.contains(name)) {
        if (const auto* saved = store_->Find(name)) statuses_[name] = *saved;
      }
      entry.record = StoredRecord(name);
    } else {
      if (is_changed) changed.push_back(name);
      // The policy's history goes on: keep its last pass and its random stream.
      entry.last_pass = old->second.last_pass;
      entry.record = old->second.record;
      entry.history = old->second.history;
      if (!is_changed) entry.rng = old->second.rng;
    }
    schedule.push_back({name, entry.policy->interval, is_changed, FirstDelay(*entry.policy)});
  }
  for (const auto& [name, entry] : entries_) {
    if (next.contains(name)) continue;
    removed.push_back(name);
    passed_once_.erase(name);
    if (metrics_) metrics_->RetainFormations(name, {});
  }
  entries_ = std::move(next);
  scheduler_.SetPolicies(schedule, clock_.Now());
  pool_->GrowTo(
      std::clamp<size_t>(entries_.size(), 1, std::max<size_t>(1, options_.max_concurrent_passes)));
  logger_.Info("policies reloaded", {{"policies", static_cast<int64_t>(entries_.size())},
                                     {"added", JoinNames(added)},
                                     {"changed", JoinNames(changed)},
                                     {"removed", JoinNames(removed)}});
}

Readiness Daemon::Ready() const {
  std::lock_guard lock(mu_);
  if (!started_) return {false, "policies not loaded yet"};
  if (stopping_ || stop_requested_) return {false, "shutting down"};
  std::vector<std::string> waiting;
  for (const auto& [name, entry] : entries_) {
    if (!passed_once_.contains(name) && ActsOnLocked(name)) waiting.push_back(name);
  }
  if (!waiting.empty()) return {false, "waiting for the first pass of " + JoinNames(waiting)};
  return {true, std::to_string(entries_.size()) + (entries_.size() == 1 ? " policy" : " policies") +
                    " reconciled"};
}

std::vector<PolicySnapshot> Daemon::Snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<PolicySnapshot> out;
  for (const auto& [name, entry] : entries_) {
    PolicySnapshot s;
    s.policy = entry.policy;
    s.last_pass = entry.last_pass;
    s.record = entry.record;
    s.history.assign(entry.history.begin(), entry.history.end());
    if (auto it = statuses_.find(name); it != statuses_.end()) s.status = it->second;
    s.consecutive_failures = scheduler_.Failures(name);
    s.pass_in_progress = in_flight_.contains(name);
    s.next_pass_at = scheduler_.DueAt(name);
    out.push_back(std::move(s));
  }
  return out;
}

bool Daemon::HasPolicy(const std::string& name) const {
  std::lock_guard lock(mu_);
  return entries_.contains(name);
}

std::vector<std::string> Daemon::PolicyNames() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, entry] : entries_)
    names.push_back(name);
  return names;
}

}  // namespace dynoherd::app
