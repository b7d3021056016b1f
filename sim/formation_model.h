// One simulated formation: its dynos, and the queueing model that turns load into latency.
// SimWorld owns one per formation and serialises every call; the model is in its own header so
// tests can reach it. The equations and their reasons are in docs/simulator.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/time.h"
#include "latency/histogram.h"
#include "model/observation.h"
#include "providers/provider.h"
#include "sim/random.h"
#include "spec/policy.h"

namespace dynoherd::sim {

using namespace std::chrono_literals;

// The model's parameters that spec.sim does not set, with their defaults.
struct SimOptions {
  Duration step = 1s;                  // the world moves in whole steps of this much simulated time
  int concurrency = 2;                 // requests (web) or jobs (worker) one dyno works on at once
  double service_sigma = 0.5;          // shape of the lognormal service and job times
  Duration router_timeout = 30s;       // Heroku's H12: the router answers 503 after this
  Duration latency_retention = 10min;  // the longest window Latency() can answer
  Duration truth_resolution = 10s;     // ground-truth time ranges are aligned to this
  std::string dyno_size = "standard-1x";
};

// More dynos than this in one formation is refused, as Heroku refuses past its own limits.
inline constexpr int kMaxDynosPerFormation = 1000;

// Simulated step `i` starts at start + i x step.
struct Timeline {
  TimePoint start{};
  Duration step = 1s;

  TimePoint At(int64_t step_index) const { return start + step * step_index; }
  double Seconds(int64_t step_index) const {
    return ToSeconds(step) * static_cast<double>(step_index);
  }
  int64_t StepsCeil(Duration d) const { return (d.count() + step.count() - 1) / step.count(); }
};

// What really happened to a formation over a time range: the ground truth that `simulate
// --compare` prints. Latencies are in seconds.
struct TruthSummary {
  // web: every request answered in the range, H12 timeouts included at the router timeout
  // (`errors` counts them); worker: every job that left the queue, by its time waiting in it.
  model::LatencyStats latency;
  int64_t slower_than_threshold =
      0;                          // of those, slower than the threshold asked for; 0 without one
  int64_t unserved = 0;           // web: requests that found no dyno up (H14); not in `latency`
  double dyno_seconds = 0;        // dynos that existed, in any state (starting dynos are billed)
  double peak_queue_latency = 0;  // worker: highest queue latency at a step boundary; web: 0

  double dyno_minutes() const { return dyno_seconds / 60.0; }
};

class FormationModel {
 public:
  // `index` is the formation's position in spec.sim.formations; it picks the random streams.
  FormationModel(const spec::SimFormationSpec& spec, uint64_t seed, int index,
                 const SimOptions& options, Timeline timeline);

  const std::string& type() const { return spec_.type; }
  bool is_web() const { return spec_.rps.has_value(); }
  int quantity() const { return static_cast<int>(dynos_.size()); }
  bool has_dyno(int number) const { return number >= 1 && number <= quantity(); }

  // Simulates [step, step + 1) with the declared load multiplied by `load_factor`.
  void Step(int64_t step, double load_factor);
  // Dynos due up at `step` start serving; returns their names, for the event log.
  std::vector<std::string> BringUp(int64_t step);
  // Adds dynos that are `starting` until step + delay_steps, or removes the highest-numbered.
  void ScaleTo(int quantity, int64_t step, int64_t delay_steps);
  // The dyno is `starting` (restart) or `down` (stop) until step + delay_steps, then up on a
  // healthy host. REQUIRES: has_dyno(number).
  void Restart(int number, int64_t step, int64_t delay_steps, bool stop);
  // A noisy neighbour: the dyno's work takes `factor` times longer until it restarts.
  void SetSlowdown(int number, double factor);

  void AppendState(model::AppState& state) const;
  // Web: per-dyno request latencies completed in [now_step - window_steps, now_step) and the
  // statistic over all of them. Worker: the queue latency at now_step (Sidekiq's latency: how long
  // the oldest waiting job has waited) and per-dyno run times of the jobs started in the window.
  model::FormationLatency Latency(int64_t now_step, int64_t window_steps,
                                  spec::Statistic statistic) const;
  // Ground truth over ranges of truth_resolution starting in [from_seconds, to_seconds) after
  // start.
  TruthSummary Truth(double from_seconds, double to_seconds,
                     std::optional<double> threshold_seconds) const;
  double QueueLatencyAt(int64_t step) const;  // 0 for web formations
  // The load of the newest model::kLoadSpan before now_step (at most window_steps): web,
  // requests answered and their mean time; worker, jobs pushed and the mean run time of those
  // started. nullopt when nothing was answered or started.
  std::optional<model::FormationLoad> LoadAt(int64_t now_step, int64_t window_steps) const;
  int64_t jobs_waiting() const { return jobs_waiting_; }
  size_t MemoryBytes() const;

 private:
  enum class Phase { kStarting, kUp, kDown };
  struct Dyno {
    int number = 0;
    Phase phase = Phase::kUp;
    TimePoint updated_at{};
    int64_t up_at_step = 0;            // starting or down: the step at which it is up again
    double slowdown = 1.0;             // noisy neighbour factor; 1 on a healthy host
    std::vector<double> slot_free_at;  // per slot, when its current work ends (seconds after start)
  };
  // One request or job in the recent-latency log, kept small: 8 bytes.
  struct Sample {
    float seconds = 0;
    uint16_t dyno = 0;
    bool error = false;
  };
  struct TruthPeriod {
    latency::LatencyHistogram latency;
    int64_t errors = 0;
    int64_t unserved = 0;
    double dyno_seconds = 0;
    double peak_queue_latency = 0;
  };
  // Jobs that arrived during one step, still waiting; spread evenly over the step.
  struct JobChunk {
    int64_t step = 0;
    int64_t count = 0;
    int64_t taken = 0;
  };

  void StepWeb(int64_t step, double rate);
  void StepWorker(int64_t step, double rate);
  // Calls on_arrival(time) for each arrival of a Poisson process of `rate` per second in the step.
  template <typename OnArrival>
  void ForEachArrival(int64_t step, double rate, OnArrival&& on_arrival);
  double ServiceSeconds(double median_seconds, double slowdown);
  double HeadJobArrival() const;
  std::optional<model::FormationLoad> LoadOver(int64_t now_step, int64_t span) const;
  void Record(double at_seconds, int dyno, double seconds, bool error);
  TruthPeriod& PeriodAt(double seconds);
  std::string DynoName(int number) const { return spec_.type + "." + std::to_string(number); }

  spec::SimFormationSpec spec_;
  SimOptions options_;
  Timeline timeline_;
  double step_seconds_;
  double router_timeout_seconds_;
  int64_t retention_steps_;
  double truth_resolution_seconds_;

  std::vector<Dyno> dynos_;  // dynos_[i] is number i + 1: Heroku names web.1..web.N
  TimePoint updated_at_;

  RandomStream arrivals_;
  RandomStream routing_;
  RandomStream service_;
  double work_to_next_arrival_;  // unit-rate exponential left before the next arrival

  std::deque<JobChunk> queue_;  // worker: jobs waiting, oldest first
  std::deque<std::pair<int64_t, int64_t>> recent_arrivals_;  // worker: (step, jobs pushed)
  int64_t jobs_waiting_ = 0;

  // Recent samples bucketed by step (web: the step the request completes in, up to the router
  // timeout ahead; worker: the step the job starts in), the last latency_retention only.
  std::deque<std::vector<Sample>> recent_;
  int64_t recent_first_step_ = 0;

  std::vector<TruthPeriod> truth_;  // truth_[i] covers [i, i + 1) x truth_resolution
};

}  // namespace dynoherd::sim
