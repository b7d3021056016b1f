// The embedded simulator: a Heroku app whose formations serve simulated traffic, for `provider:
// sim`. It is the providers::Provider the passes act on, the latency source of
// `latency.source: sim`, and the keeper of the ground truth that `run` and `simulate --compare`
// report. Deterministic for a seed; the model is described in docs/simulator.md.
//
// Time is the injected Clock: whenever the world is asked anything it first catches up with
// clock.Now() in whole steps (SimOptions::step), so `simulate` drives a ManualClock as fast as the
// CPU allows and `run` uses a ScaledClock. Every public method is thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "model/observation.h"
#include "providers/provider.h"
#include "sim/formation_model.h"
#include "spec/policy.h"

namespace dynoherd::sim {

enum class SimEventKind {
  kScale,          // a formation's quantity changed (Provider::Scale)
  kRestart,        // a dyno was restarted (Provider::Restart)
  kStop,           // a dyno was stopped (Provider::Stop); the platform boots a replacement
  kDynoUp,         // a new, restarted or replaced dyno finished starting
  kNoisyNeighbor,  // an incident slowed a dyno down
  kSurgeStart,     // an incident multiplied a formation's load
  kSurgeEnd,
};
std::string_view Name(SimEventKind kind);  // "scale", "restart", "stop", "dyno-up", ...

// "x2.5": a slowdown or load factor as the events, the narrator and the summary show it.
std::string FactorText(double factor);

// One thing the platform did or suffered, at simulated time `at`.
struct SimEvent {
  TimePoint at{};
  SimEventKind kind = SimEventKind::kScale;
  std::string formation;
  std::string dyno;       // restart, stop, dyno-up, noisy-neighbor
  int from_quantity = 0;  // scale
  int to_quantity = 0;    // scale
  double factor = 1.0;    // noisy-neighbor, surge-start
  std::string message;    // one line for people, e.g. "web scaled from 6 to 8 dynos"
};

class SimWorld final : public providers::Provider {
 public:
  // Checks `spec` and `options` (messages name the spec.sim field) and builds the world as it is
  // at clock.Now(): every declared dyno up, no incident yet. `app` is the only app it knows.
  // `clock` must outlive the world.
  static Result<std::unique_ptr<SimWorld>> Create(std::string app, const spec::SimSpec& spec,
                                                  const Clock& clock, SimOptions options = {});
  ~SimWorld() override;

  // Provider. Dynos are named type.N; states are up, starting (new or restarted, for
  // restartDelay) and down (stopped, until its replacement is up after restartDelay).
  // Unknown app, formation or dyno: NotFound. Scale is all-or-nothing: a bad entry
  // (unknown type, quantity outside 0..kMaxDynosPerFormation, a type twice) changes nothing.
  Result<model::AppState> Observe(const std::string& app) override;
  Status Scale(const std::string& app,
               const std::vector<providers::ScaleRequest>& updates) override;
  Status Restart(const std::string& app, const std::string& dyno) override;
  Status Stop(const std::string& app, const std::string& dyno) override;

  // The latency source: what router logs (web) or Sidekiq (worker) would report for the window
  // ending now; see FormationModel::Latency. InvalidArgument when the window is not in
  // (0, latency_retention]; NotFound for an unknown formation.
  Result<model::FormationLatency> Latency(const std::string& formation, Duration window,
                                          spec::Statistic statistic);

  // Ground truth of a formation over [from, to), clamped to what has been simulated, in
  // truth_resolution ranges. `threshold` fills slower_than_threshold.
  Result<TruthSummary> Truth(const std::string& formation, TimePoint from, TimePoint to,
                             std::optional<Duration> threshold = std::nullopt);
  // Ground truth over the whole simulation so far.
  Result<TruthSummary> Truth(const std::string& formation,
                             std::optional<Duration> threshold = std::nullopt);
  // Worker: jobs waiting in the queue now, which Truth has not counted yet; 0 for web.
  // NotFound for an unknown formation.
  Result<int64_t> JobsWaiting(const std::string& formation);

  // What the platform did, oldest first, from index `first` on (to print only what is new).
  std::vector<SimEvent> Events(size_t first = 0);

  TimePoint Now();  // the world's time, after catching up with the clock
  bool Finished();  // Now() has reached end_time()
  TimePoint start_time() const { return timeline_.start; }
  TimePoint end_time() const { return timeline_.start + spec_.duration; }
  const spec::SimSpec& spec() const { return spec_; }
  std::vector<std::string> formation_types() const;
  size_t MemoryBytes();  // the model's heap use, for the memory test and the benchmark

 private:
  struct Incident {
    spec::SimIncidentSpec spec;
    size_t formation = 0;
    int dyno_number = 0;  // noisy-neighbor
    int64_t start_step = 0;
    std::optional<int64_t> end_step;  // surge with `for`
    bool started = false;
    bool ended = false;
  };

  SimWorld(std::string app, const spec::SimSpec& spec, const Clock& clock,
           const SimOptions& options);

  Status CheckApp(const std::string& app) const;
  FormationModel* FindFormation(std::string_view type);
  void AdvanceLocked();
  void ApplyBoundaryLocked();
  double LoadFactor(size_t formation, int64_t step) const;
  Status RestartOrStop(const std::string& app, const std::string& dyno, bool stop);
  void AddEvent(SimEvent event);

  const std::string app_;
  const spec::SimSpec spec_;
  const Clock& clock_;
  const SimOptions options_;
  const Timeline timeline_;
  const int64_t restart_delay_steps_;

  mutable std::mutex mu_;
  int64_t step_ = 0;  // steps simulated; the world's time is timeline_.At(step_)
  std::vector<FormationModel> formations_;
  std::vector<Incident> incidents_;
  std::vector<SimEvent> events_;
};

}  // namespace dynoherd::sim
