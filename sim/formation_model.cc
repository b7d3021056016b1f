#include "sim/formation_model.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace dynoherd::sim {
namespace {

// The random streams of one formation (see StreamSeed).
enum StreamId : uint64_t { kArrivals = 0, kRouting = 1, kService = 2, kStreamsPerFormation = 3 };

// Nearest rank: the smallest sample with at least `quantile` of the samples at or below it.
size_t NearestRankIndex(size_t size, double quantile) {
  const double rank = std::ceil(quantile * static_cast<double>(size));
  return std::min(static_cast<size_t>(std::max(1.0, rank)), size) - 1;
}

// Exact nearest-rank percentiles without a full sort: each nth_element partitions the range
// below the previous one, so the whole costs linear time. Reorders `seconds`.
model::LatencyStats StatsOf(std::vector<float>& seconds, int64_t errors) {
  model::LatencyStats stats;
  stats.errors = errors;
  stats.count = static_cast<int64_t>(seconds.size());
  if (seconds.empty()) return stats;
  double sum = 0;
  for (float s : seconds)
    sum += s;
  stats.mean = sum / static_cast<double>(seconds.size());
  stats.max = *std::max_element(seconds.begin(), seconds.end());
  auto end = seconds.end();
  double* targets[] = {&stats.p99, &stats.p95, &stats.p50};
  const double quantiles[] = {0.99, 0.95, 0.50};
  for (int i = 0; i < 3; ++i) {
    auto nth = seconds.begin() +
               static_cast<std::ptrdiff_t>(NearestRankIndex(seconds.size(), quantiles[i]));
    std::nth_element(seconds.begin(), nth, end);
    *targets[i] = *nth;
    end = nth;
  }
  return stats;
}

}  // namespace

FormationModel::FormationModel(const spec::SimFormationSpec& spec, uint64_t seed, int index,
                               const SimOptions& options, Timeline timeline)
    : spec_(spec),
      options_(options),
      timeline_(timeline),
      step_seconds_(ToSeconds(timeline.step)),
      router_timeout_seconds_(ToSeconds(options.router_timeout)),
      retention_steps_(timeline.StepsCeil(options.latency_retention)),
      truth_resolution_seconds_(ToSeconds(options.truth_resolution)),
      updated_at_(timeline.start),
      arrivals_(StreamSeed(seed, kStreamsPerFormation * static_cast<uint64_t>(index) + kArrivals)),
      routing_(StreamSeed(seed, kStreamsPerFormation * static_cast<uint64_t>(index) + kRouting)),
      service_(StreamSeed(seed, kStreamsPerFormation * static_cast<uint64_t>(index) + kService)),
      work_to_next_arrival_(arrivals_.Exponential()) {
  dynos_.resize(static_cast<size_t>(spec.quantity));
  for (size_t i = 0; i < dynos_.size(); ++i) {
    dynos_[i].number = static_cast<int>(i) + 1;
    dynos_[i].updated_at = timeline.start;
    dynos_[i].slot_free_at.assign(static_cast<size_t>(options.concurrency), 0.0);
  }
}

template <typename OnArrival>
void FormationModel::ForEachArrival(int64_t step, double rate, OnArrival&& on_arrival) {
  // A Poisson process of a rate that may change between steps: spend rate x step of unit-rate
  // exponential "work" per step, one arrival each time the work to the next arrival is used up.
  if (!(rate > 0)) return;
  const double budget = rate * step_seconds_;
  const double step_start = timeline_.Seconds(step);
  double used = 0;
  while (used + work_to_next_arrival_ <= budget) {
    used += work_to_next_arrival_;
    on_arrival(step_start + used / rate);
    work_to_next_arrival_ = arrivals_.Exponential();
  }
  work_to_next_arrival_ -= budget - used;
}

double FormationModel::ServiceSeconds(double median_seconds, double slowdown) {
  return median_seconds * std::exp(options_.service_sigma * service_.Normal()) * slowdown;
}

FormationModel::TruthPeriod& FormationModel::PeriodAt(double seconds) {
  const auto index =
      static_cast<size_t>(std::max(0.0, std::floor(seconds / truth_resolution_seconds_)));
  if (index >= truth_.size()) truth_.resize(index + 1);
  return truth_[index];
}

void FormationModel::Record(double at_seconds, int dyno, double seconds, bool error) {
  const auto step = static_cast<int64_t>(std::floor(at_seconds / step_seconds_));
  if (step < recent_first_step_) return;  // cannot happen: samples are never recorded in the past
  const auto index = static_cast<size_t>(step - recent_first_step_);
  if (index >= recent_.size()) recent_.resize(index + 1);
  recent_[index].push_back({static_cast<float>(seconds), static_cast<uint16_t>(dyno), error});
}

void FormationModel::Step(int64_t step, double load_factor) {
  if (is_web()) {
    StepWeb(step, *spec_.rps * load_factor);
  } else {
    StepWorker(step, spec_.jobs_per_second.value_or(0) * load_factor);
  }
  PeriodAt(timeline_.Seconds(step)).dyno_seconds +=
      step_seconds_ * static_cast<double>(dynos_.size());
  // Keep the buckets of the last retention_steps completed steps (and any ahead of them).
  const int64_t keep_from = step + 1 - retention_steps_;
  while (!recent_.empty() && recent_first_step_ < keep_from) {
    recent_.pop_front();
    ++recent_first_step_;
  }
  if (recent_.empty()) recent_first_step_ = std::max(recent_first_step_, keep_from);
  while (!recent_arrivals_.empty() && recent_arrivals_.front().first < keep_from) {
    recent_arrivals_.pop_front();
  }
}

std::optional<model::FormationLoad> FormationModel::LoadAt(int64_t now_step,
                                                           int64_t window_steps) const {
  std::optional<model::FormationLoad> load =
      LoadOver(now_step, std::min(window_steps, timeline_.StepsCeil(model::kLoadSpan)));
  if (load && window_steps > timeline_.StepsCeil(model::kLoadSpan)) {
    if (std::optional<model::FormationLoad> whole = LoadOver(now_step, window_steps)) {
      load->window_busy_slots = whole->BusySlots();
    }
  }
  return load;
}

std::optional<model::FormationLoad> FormationModel::LoadOver(int64_t now_step, int64_t span) const {
  const int64_t from = std::max(now_step - span, recent_first_step_);
  int64_t count = 0;
  double busy_seconds = 0;
  for (int64_t step = from; step < now_step; ++step) {
    const auto index = static_cast<size_t>(step - recent_first_step_);
    if (index >= recent_.size()) break;
    for (const Sample& sample : recent_[index]) {
      ++count;
      busy_seconds += sample.seconds;
    }
  }
  if (count == 0) return std::nullopt;
  const double span_seconds = timeline_.Seconds(now_step - from);  // less at the very start
  model::FormationLoad load{static_cast<double>(count) / span_seconds,
                            busy_seconds / static_cast<double>(count), std::nullopt};
  if (!is_web()) {
    // What Sidekiq's queues tell: jobs pushed per second, whatever the workers kept up with.
    int64_t arrived = 0;
    for (const auto& [step, n] : recent_arrivals_) {
      if (step >= from && step < now_step) arrived += n;
    }
    load.arrivals_per_second = static_cast<double>(arrived) / span_seconds;
  }
  return load;
}

void FormationModel::StepWeb(int64_t step, double rate) {
  std::vector<Dyno*> up;
  for (Dyno& d : dynos_) {
    if (d.phase == Phase::kUp) up.push_back(&d);
  }
  const double median = ToSeconds(*spec_.service_time);
  ForEachArrival(step, rate, [&](double arrival) {
    // Always draw both numbers, served or not, so the streams stay aligned across runs.
    const double pick = routing_.Uniform();
    const double base_service = ServiceSeconds(median, 1.0);
    if (up.empty()) {
      ++PeriodAt(arrival).unserved;
      return;
    }
    // Heroku's router picks a dyno at random; the dyno queues what its slots cannot take yet.
    const size_t which =
        std::min(up.size() - 1, static_cast<size_t>(pick * static_cast<double>(up.size())));
    Dyno& dyno = *up[which];
    auto slot = std::min_element(dyno.slot_free_at.begin(), dyno.slot_free_at.end());
    const double start = std::max(arrival, *slot);
    double latency = 0;
    bool timed_out = false;
    if (start - arrival >= router_timeout_seconds_) {
      // Still queued when the router gives up: the client is gone and the dyno never works on it.
      latency = router_timeout_seconds_;
      timed_out = true;
    } else {
      *slot = start + base_service * dyno.slowdown;
      latency = *slot - arrival;
      if (latency >= router_timeout_seconds_) {  // H12, but the dyno finishes the work
        latency = router_timeout_seconds_;
        timed_out = true;
      }
    }
    const double completed = arrival + latency;
    Record(completed, dyno.number, latency, timed_out);
    TruthPeriod& period = PeriodAt(completed);
    period.latency.Record(latency);
    if (timed_out) ++period.errors;
  });
}

double FormationModel::HeadJobArrival() const {
  const JobChunk& head = queue_.front();
  const double spread = (static_cast<double>(head.taken) + 0.5) / static_cast<double>(head.count);
  return timeline_.Seconds(head.step) + spread * step_seconds_;
}

void FormationModel::StepWorker(int64_t step, double rate) {
  int64_t arrived = 0;
  ForEachArrival(step, rate, [&](double) { ++arrived; });
  if (arrived > 0) {
    queue_.push_back({step, arrived, 0});
    jobs_waiting_ += arrived;
  }
  recent_arrivals_.push_back({step, arrived});
  struct Slot {
    Dyno* dyno;
    double* free_at;
  };
  std::vector<Slot> slots;
  for (Dyno& d : dynos_) {
    if (d.phase != Phase::kUp) continue;
    for (double& free_at : d.slot_free_at)
      slots.push_back({&d, &free_at});
  }
  // Like Sidekiq's fetch: whichever slot frees first takes the oldest waiting job.
  const double step_end = timeline_.Seconds(step + 1);
  const double median = ToSeconds(spec_.job_time.value_or(Duration{0}));
  while (jobs_waiting_ > 0 && !slots.empty()) {
    auto slot = std::min_element(slots.begin(), slots.end(), [](const Slot& a, const Slot& b) {
      return *a.free_at < *b.free_at;
    });
    const double arrival = HeadJobArrival();
    const double start = std::max(arrival, *slot->free_at);
    if (start >= step_end) break;
    const double run = ServiceSeconds(median, slot->dyno->slowdown);
    *slot->free_at = start + run;
    Record(timeline_.Seconds(step), slot->dyno->number, run, false);
    PeriodAt(start).latency.Record(start - arrival);
    JobChunk& head = queue_.front();
    if (++head.taken == head.count) queue_.pop_front();
    --jobs_waiting_;
  }
  TruthPeriod& period = PeriodAt(timeline_.Seconds(step));
  period.peak_queue_latency = std::max(period.peak_queue_latency, QueueLatencyAt(step + 1));
}

double FormationModel::QueueLatencyAt(int64_t step) const {
  if (jobs_waiting_ == 0) return 0;
  return std::max(0.0, timeline_.Seconds(step) - HeadJobArrival());
}

std::vector<std::string> FormationModel::BringUp(int64_t step) {
  std::vector<std::string> names;
  for (Dyno& d : dynos_) {
    if (d.phase == Phase::kUp || d.up_at_step > step) continue;
    d.phase = Phase::kUp;
    d.updated_at = timeline_.At(d.up_at_step);
    d.slot_free_at.assign(static_cast<size_t>(options_.concurrency),
                          timeline_.Seconds(d.up_at_step));
    names.push_back(DynoName(d.number));
  }
  return names;
}

void FormationModel::ScaleTo(int quantity, int64_t step, int64_t delay_steps) {
  const int before = this->quantity();
  if (quantity == before) return;
  if (quantity < before) {
    dynos_.resize(static_cast<size_t>(quantity));
  } else {
    for (int number = before + 1; number <= quantity; ++number) {
      Dyno d;
      d.number = number;
      d.phase = Phase::kStarting;
      d.updated_at = timeline_.At(step);
      d.up_at_step = step + delay_steps;
      d.slot_free_at.assign(static_cast<size_t>(options_.concurrency), 0.0);
      dynos_.push_back(std::move(d));
    }
  }
  updated_at_ = timeline_.At(step);
}

void FormationModel::Restart(int number, int64_t step, int64_t delay_steps, bool stop) {
  Dyno& d = dynos_[static_cast<size_t>(number - 1)];
  d.phase = stop ? Phase::kDown : Phase::kStarting;
  d.updated_at = timeline_.At(step);
  d.up_at_step = step + delay_steps;
  d.slowdown = 1.0;  // the platform boots it on another host
}

void FormationModel::SetSlowdown(int number, double factor) {
  dynos_[static_cast<size_t>(number - 1)].slowdown = factor;
}

void FormationModel::AppendState(model::AppState& state) const {
  state.formations.push_back({spec_.type, quantity(), options_.dyno_size, updated_at_});
  for (const Dyno& d : dynos_) {
    const char* phase = d.phase == Phase::kUp         ? "up"
                        : d.phase == Phase::kStarting ? "starting"
                                                      : "down";
    state.dynos.push_back({DynoName(d.number), spec_.type, phase, d.updated_at});
  }
}

model::FormationLatency FormationModel::Latency(int64_t now_step, int64_t window_steps,
                                                spec::Statistic statistic) const {
  std::map<int, std::vector<float>> per_dyno;
  std::map<int, int64_t> errors;
  for (const Dyno& d : dynos_)
    per_dyno[d.number];  // every dyno that exists, even without samples
  const int64_t from = std::max(now_step - window_steps, recent_first_step_);
  const auto first = static_cast<size_t>(from - recent_first_step_);
  const auto last =
      std::min(recent_.size(), static_cast<size_t>(std::max(from, now_step) - recent_first_step_));
  size_t total = 0;
  for (size_t i = first; i < last; ++i)
    total += recent_[i].size();
  std::vector<float> all;
  all.reserve(total);
  for (size_t i = first; i < last; ++i) {
    for (const Sample& s : recent_[i]) {
      per_dyno[s.dyno].push_back(s.seconds);
      if (s.error) ++errors[s.dyno];
      all.push_back(s.seconds);
    }
  }
  model::FormationLatency latency;
  for (auto& [number, seconds] : per_dyno) {
    latency.per_dyno[DynoName(number)] = StatsOf(seconds, errors[number]);
  }
  const std::string window = FormatDuration(timeline_.step * window_steps);
  latency.load = LoadAt(now_step, window_steps);
  if (!is_web()) {
    latency.value = QueueLatencyAt(now_step);
    latency.sample_count = static_cast<int64_t>(all.size()) + jobs_waiting_;
    return latency;
  }
  latency.sample_count = static_cast<int64_t>(all.size());
  if (all.empty()) {
    latency.unknown_reason = "no requests in the last " + window;
    return latency;
  }
  latency.value = StatsOf(all, 0).Get(statistic);
  return latency;
}

TruthSummary FormationModel::Truth(double from_seconds, double to_seconds,
                                   std::optional<double> threshold_seconds) const {
  TruthSummary summary;
  latency::LatencyHistogram merged;
  for (size_t i = 0; i < truth_.size(); ++i) {
    const double period_start = truth_resolution_seconds_ * static_cast<double>(i);
    if (period_start < from_seconds || period_start >= to_seconds) continue;
    const TruthPeriod& p = truth_[i];
    merged.Merge(p.latency);
    summary.latency.errors += p.errors;
    summary.unserved += p.unserved;
    summary.dyno_seconds += p.dyno_seconds;
    summary.peak_queue_latency = std::max(summary.peak_queue_latency, p.peak_queue_latency);
  }
  summary.latency.count = static_cast<int64_t>(merged.count());
  summary.latency.mean = merged.Mean();
  summary.latency.p50 = merged.Quantile(0.50);
  summary.latency.p95 = merged.Quantile(0.95);
  summary.latency.p99 = merged.Quantile(0.99);
  summary.latency.max = merged.max();
  if (threshold_seconds) {
    summary.slower_than_threshold = static_cast<int64_t>(merged.CountAbove(*threshold_seconds));
  }
  return summary;
}

size_t FormationModel::MemoryBytes() const {
  size_t bytes = sizeof(*this);
  for (const Dyno& d : dynos_)
    bytes += sizeof(Dyno) + d.slot_free_at.capacity() * sizeof(double);
  for (const auto& bucket : recent_)
    bytes += sizeof(bucket) + bucket.capacity() * sizeof(Sample);
  for (const TruthPeriod& p : truth_)
    bytes += sizeof(TruthPeriod) + p.latency.MemoryBytes();
  bytes += queue_.size() * sizeof(JobChunk);
  bytes += recent_arrivals_.size() * sizeof(recent_arrivals_.front());
  return bytes;
}

}  // namespace dynoherd::sim
