#include "app/scheduler.h"

#include <algorithm>
#include <set>

namespace dynoherd::app {

Duration Scheduler::Backoff(int failures, Duration base, Duration interval) {
  Duration wait = std::max(base, Duration{1});
  for (int i = 1; i < failures && wait < interval; ++i)
    wait *= 2;
  return std::min(wait, interval);
}

void Scheduler::SetPolicies(const std::vector<ScheduledPolicy>& policies, TimePoint now) {
  std::set<std::string> names;
  for (const ScheduledPolicy& p : policies) {
    names.insert(p.name);
    auto [it, added] = entries_.try_emplace(p.name);
    Entry& e = it->second;
    if (added || e.removed || p.due_now) {
      // New, back after a removal, or changed: due at once, or as soon as its pass in flight
      // (which works from the old spec) ends.
      if (e.in_flight) {
        e.due_when_finished = true;
      } else {
        e.due = added ? now + p.first_delay : now;
      }
      if (added || e.removed) e.failures = 0;
    } else if (!e.in_flight) {
      e.due = std::min(e.due, now + p.interval);
    }
    e.interval = p.interval;
    e.removed = false;
  }
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (names.contains(it->first)) {
      ++it;
    } else if (it->second.in_flight) {
      it->second.removed = true;
      ++it;
    } else {
      it = entries_.erase(it);
    }
  }
}

std::vector<std::string> Scheduler::TakeDue(TimePoint now, size_t limit) {
  std::vector<std::pair<TimePoint, std::string>> due;
  for (const auto& [name, e] : entries_) {
    if (!e.in_flight && !e.removed && e.due <= now) due.emplace_back(e.due, name);
  }
  std::sort(due.begin(), due.end());
  if (due.size() > limit) due.resize(limit);
  std::vector<std::string> names;
  for (auto& [at, name] : due) {
    entries_[name].in_flight = true;
    names.push_back(std::move(name));
  }
  return names;
}

void Scheduler::Finished(const std::string& name, bool ok, TimePoint now) {
  auto it = entries_.find(name);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  e.in_flight = false;
  if (e.removed) {
    entries_.erase(it);
    return;
  }
  if (ok) {
    e.failures = 0;
    e.due = std::max(e.due + e.interval, now);
  } else {
    ++e.failures;
    e.due = now + Backoff(e.failures, backoff_base_, e.interval);
  }
  if (e.due_when_finished) {
    e.due_when_finished = false;
    e.due = now;
  }
}

std::optional<TimePoint> Scheduler::NextDue() const {
  std::optional<TimePoint> next;
  for (const auto& [name, e] : entries_) {
    if (e.in_flight || e.removed) continue;
    if (!next || e.due < *next) next = e.due;
  }
  return next;
}

std::optional<TimePoint> Scheduler::DueAt(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end() || it->second.in_flight || it->second.removed) return std::nullopt;
  return it->second.due;
}

int Scheduler::Failures(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? 0 : it->second.failures;
}

size_t Scheduler::InFlight() const {
  return static_cast<size_t>(std::count_if(entries_.begin(), entries_.end(),
                                           [](const auto& kv) { return kv.second.in_flight; }));
}

}  // namespace dynoherd::app
