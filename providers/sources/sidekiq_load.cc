#include "providers/sources/sidekiq_load.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "providers/redis/sidekiq.h"
#include "spec/fields.h"

namespace dynoherd::providers::sources {
namespace {

// The queues of `process` that are not the formation's, "" when it works only the formation's.
std::string OtherQueues(const redis::SidekiqProcess& process, const std::set<std::string>& mine) {
  std::string others;
  for (const std::string& queue : process.queues) {
    if (mine.count(queue) == 0) others += (others.empty() ? "" : ", ") + queue;
  }
  return others;
}

std::string WholeSeconds(Duration d) {
  return FormatDuration(std::chrono::round<std::chrono::seconds>(d));
}

}  // namespace

Result<SidekiqLoadSample> FormationSample(const redis::SidekiqProcesses& sidekiq,
                                          const std::vector<std::string>& queues, int64_t queued,
                                          TimePoint now) {
  const bool every_queue =
      std::find(queues.begin(), queues.end(), redis::kAllSidekiqQueues) != queues.end();
  const std::set<std::string> mine(queues.begin(), queues.end());
  SidekiqLoadSample sample{.at = now, .processed = sidekiq.processed, .queued = queued};
  for (const redis::SidekiqProcess& process : sidekiq.processes) {
    if (now - process.beat > kSidekiqStaleBeat) continue;  // dead: no beat, no flush
    if (!every_queue) {
      if (std::string others = OtherQueues(process, mine); !others.empty()) {
        return Status::FailedPrecondition(
            "stat:processed counts the jobs of every Sidekiq process on this Redis, and process "
            "\"" +
            process.identity + "\" also works " + others +
            ": this formation's throughput cannot be told apart");
      }
    }
    sample.busy += process.busy;
    if (!process.quiet) sample.threads += process.concurrency;
  }
  return sample;
}

Result<model::FormationLoad> SidekiqLoadMeter::Add(const SidekiqLoadSample& sample) {
  if (!samples_.empty()) {
    const SidekiqLoadSample& last = samples_.back();
    if (sample.at <= last.at) {
      samples_.clear();  // the clock went back: no span can be trusted
    } else if (sample.processed < last.processed) {
      const std::string from = std::to_string(last.processed);
      samples_.clear();
      samples_.push_back(sample);
      return Status::Unavailable("stat:processed went back from " + from + " to " +
                                 std::to_string(sample.processed) +
                                 " (reset, or another Redis): measuring again from this read");
    }
  }
  samples_.push_back(sample);
  // Keep one sample at least a window old, the base of the window's load.
  while (samples_.size() > 2 && sample.at - samples_[1].at >= window_)
    samples_.pop_front();

  const size_t minute = BaseFor(model::kLoadSpan);
  if (minute + 1 == samples_.size()) {
    return Status::Unavailable("the load is the change between two reads at least " +
                               WholeSeconds(kSidekiqMinLoadSpan) + " apart: this is the first");
  }
  Result<model::FormationLoad> load = LoadSince(minute);
  if (!load.ok()) return load;
  const size_t window = BaseFor(window_);
  if (window < minute) {
    if (Result<model::FormationLoad> whole = LoadSince(window); whole.ok()) {
      load->window_busy_slots = whole->BusySlots();
    }
  }
  return load;
}

size_t SidekiqLoadMeter::BaseFor(Duration span) const {
  const TimePoint newest = samples_.back().at;
  for (size_t i = samples_.size() - 1; i-- > 0;) {
    if (newest - samples_[i].at >= span) return i;
  }
  return 0;
}

Result<model::FormationLoad> SidekiqLoadMeter::LoadSince(size_t from) const {
  const SidekiqLoadSample& base = samples_[from];
  const SidekiqLoadSample& now = samples_.back();
  const auto span = std::chrono::duration_cast<Duration>(now.at - base.at);
  if (span < kSidekiqMinLoadSpan) {
    return Status::Unavailable("the reads are " + WholeSeconds(span) + " apart; the load needs " +
                               WholeSeconds(kSidekiqMinLoadSpan) +
                               " at least (Sidekiq flushes its counters every 10s)");
  }
  const double seconds = ToSeconds(span);
  const auto finished = static_cast<double>(now.processed - base.processed);
  const auto growth = static_cast<double>(now.queued - base.queued);
  double busy = 0;
  for (size_t i = from; i < samples_.size(); ++i)
    busy += static_cast<double>(samples_[i].busy);
  busy /= static_cast<double>(samples_.size() - from);

  // Jobs leaving the queues faster than they finish were deleted or moved: none arrived.
  const double arrivals = std::max(0.0, (finished + growth) / seconds);
  if (finished == 0) {
    if (busy == 0 && arrivals == 0) return model::FormationLoad{0, 0, std::nullopt};  // idle
    // "0 of 0 threads": no live process works these queues.
    return Status::Unavailable("no job finished in the last " + WholeSeconds(span) + " while " +
                               spec::FormatNumber(std::round(busy * 10) / 10) + " of " +
                               std::to_string(now.threads) + " threads were busy on average and " +
                               std::to_string(now.queued) +
                               " jobs waited: a job's run time cannot be measured yet");
  }
  return model::FormationLoad{arrivals, busy / (finished / seconds), std::nullopt};
}

}  // namespace dynoherd::providers::sources
