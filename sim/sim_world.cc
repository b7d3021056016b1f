#include "sim/sim_world.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>
#include <utility>

namespace dynoherd::sim {
std::string FactorText(double factor) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "x%g", factor);
  return buf;
}

namespace {

SimEvent MakeEvent(TimePoint at, SimEventKind kind, std::string formation, std::string dyno = "") {
  SimEvent event;
  event.at = at;
  event.kind = kind;
  event.formation = std::move(formation);
  event.dyno = std::move(dyno);
  return event;
}

bool IsPositiveFinite(double v) {
  return std::isfinite(v) && v > 0;
}

// "web.3" -> ("web", 3). Newer Heroku names (web-1234abcde-123ab) never occur in the simulator.
std::optional<std::pair<std::string_view, int>> SplitDynoName(std::string_view name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size()) return std::nullopt;
  int number = 0;
  const char* first = name.data() + dot + 1;
  const char* last = name.data() + name.size();
  auto [ptr, ec] = std::from_chars(first, last, number);
  if (ec != std::errc() || ptr != last || number < 1) return std::nullopt;
  return std::pair{name.substr(0, dot), number};
}

Status CheckOptions(const SimOptions& o) {
  if (o.step <= Duration{0}) return Status::InvalidArgument("sim step must be > 0");
  if (o.concurrency < 1 || o.concurrency > 1000) {
    return Status::InvalidArgument("sim concurrency must be in 1..1000");
  }
  if (!std::isfinite(o.service_sigma) || o.service_sigma < 0 || o.service_sigma > 3) {
    return Status::InvalidArgument("sim service sigma must be in [0, 3]");
  }
  if (o.router_timeout <= Duration{0})
    return Status::InvalidArgument("sim router timeout must be > 0");
  if (o.latency_retention < o.step) {
    return Status::InvalidArgument("sim latency retention must be at least one step");
  }
  if (o.truth_resolution < o.step) {
    return Status::InvalidArgument("sim truth resolution must be at least one step");
  }
  return Status::Ok();
}

Status CheckFormation(const spec::SimFormationSpec& f) {
  const std::string where = "spec.sim.formations." + f.type;
  if (f.type.empty())
    return Status::InvalidArgument("spec.sim.formations: a formation has no type");
  if (f.quantity < 0 || f.quantity > kMaxDynosPerFormation) {
    return Status::InvalidArgument(where + ".quantity: must be in 0.." +
                                   std::to_string(kMaxDynosPerFormation));
  }
  const bool web = f.service_time || f.rps;
  const bool worker = f.job_time || f.jobs_per_second;
  if (web == worker) {
    return Status::InvalidArgument(
        where + ": needs serviceTime and rps (web) or jobTime and jobsPerSecond (worker)");
  }
  if (web) {
    if (!f.service_time || !f.rps)
      return Status::InvalidArgument(where + ": needs both serviceTime and rps");
    if (*f.service_time <= Duration{0})
      return Status::InvalidArgument(where + ".serviceTime: must be > 0");
    if (!std::isfinite(*f.rps) || *f.rps < 0)
      return Status::InvalidArgument(where + ".rps: must be >= 0");
  } else {
    if (!f.job_time || !f.jobs_per_second) {
      return Status::InvalidArgument(where + ": needs both jobTime and jobsPerSecond");
    }
    if (*f.job_time <= Duration{0}) return Status::InvalidArgument(where + ".jobTime: must be > 0");
    if (!std::isfinite(*f.jobs_per_second) || *f.jobs_per_second < 0) {
      return Status::InvalidArgument(where + ".jobsPerSecond: must be >= 0");
    }
  }
  return Status::Ok();
}

Status CheckSpec(const spec::SimSpec& s) {
  if (!IsPositiveFinite(s.speed)) return Status::InvalidArgument("spec.sim.speed: must be > 0");
  if (s.duration <= Duration{0}) return Status::InvalidArgument("spec.sim.duration: must be > 0");
  if (s.restart_delay < Duration{0})
    return Status::InvalidArgument("spec.sim.restartDelay: must be >= 0");
  if (s.formations.empty())
    return Status::InvalidArgument("spec.sim.formations: declare at least one");
  std::set<std::string> types;
  for (const auto& f : s.formations) {
    if (Status st = CheckFormation(f); !st.ok()) return st;
    if (!types.insert(f.type).second) {
      return Status::InvalidArgument("spec.sim.formations." + f.type + ": declared twice");
    }
  }
  for (size_t i = 0; i < s.incidents.size(); ++i) {
    const auto& incident = s.incidents[i];
    const std::string where = "spec.sim.incidents[" + std::to_string(i) + "]";
    if (incident.at < Duration{0}) return Status::InvalidArgument(where + ".at: must be >= 0");
    if (!IsPositiveFinite(incident.factor))
      return Status::InvalidArgument(where + ".factor: must be > 0");
    if (incident.kind == spec::IncidentKind::kNoisyNeighbor) {
      auto parts = SplitDynoName(incident.dyno);
      if (!parts) {
        return Status::InvalidArgument(where + ".dyno: \"" + incident.dyno +
                                       "\" is not a dyno name like web.3");
      }
      if (!types.contains(std::string(parts->first))) {
        return Status::InvalidArgument(where + ".dyno: no formation \"" +
                                       std::string(parts->first) + "\" in spec.sim.formations");
      }
    } else {
      if (!types.contains(incident.formation)) {
        return Status::InvalidArgument(where + ".formation: no formation \"" + incident.formation +
                                       "\" in spec.sim.formations");
      }
      if (incident.duration && *incident.duration <= Duration{0}) {
        return Status::InvalidArgument(where + ".for: must be > 0");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

std::string_view Name(SimEventKind kind) {
  switch (kind) {
    case SimEventKind::kScale:
      return "scale";
    case SimEventKind::kRestart:
      return "restart";
    case SimEventKind::kStop:
      return "stop";
    case SimEventKind::kDynoUp:
      return "dyno-up";
    case SimEventKind::kNoisyNeighbor:
      return "noisy-neighbor";
    case SimEventKind::kSurgeStart:
      return "surge-start";
    case SimEventKind::kSurgeEnd:
      return "surge-end";
  }
  return "?";
}

Result<std::unique_ptr<SimWorld>> SimWorld::Create(std::string app, const spec::SimSpec& spec,
                                                   const Clock& clock, SimOptions options) {
  if (Status st = CheckOptions(options); !st.ok()) return st;
  if (Status st = CheckSpec(spec); !st.ok()) return st;
  return std::unique_ptr<SimWorld>(new SimWorld(std::move(app), spec, clock, options));
}

SimWorld::SimWorld(std::string app, const spec::SimSpec& spec, const Clock& clock,
                   const SimOptions& options)
    : app_(std::move(app)),
      spec_(spec),
      clock_(clock),
      options_(options),
      timeline_{clock.Now(), options.step},
      restart_delay_steps_(timeline_.StepsCeil(spec.restart_delay)) {
  for (size_t i = 0; i < spec_.formations.size(); ++i) {
    formations_.emplace_back(spec_.formations[i], spec_.seed, static_cast<int>(i), options_,
                             timeline_);
  }
  for (const auto& incident_spec : spec_.incidents) {
    Incident incident;
    incident.spec = incident_spec;
    const std::string type = incident_spec.kind == spec::IncidentKind::kNoisyNeighbor
                                 ? std::string(SplitDynoName(incident_spec.dyno)->first)
                                 : incident_spec.formation;
    for (size_t f = 0; f < formations_.size(); ++f) {
      if (formations_[f].type() == type) incident.formation = f;
    }
    if (incident_spec.kind == spec::IncidentKind::kNoisyNeighbor) {
      incident.dyno_number = SplitDynoName(incident_spec.dyno)->second;
    }
    incident.start_step = timeline_.StepsCeil(incident_spec.at);
    if (incident_spec.duration) {
      incident.end_step = timeline_.StepsCeil(incident_spec.at + *incident_spec.duration);
    }
    incidents_.push_back(std::move(incident));
  }
}

SimWorld::~SimWorld() = default;

Status SimWorld::CheckApp(const std::string& app) const {
  if (app == app_) return Status::Ok();
  return Status::NotFound("app \"" + app + "\" not found: the simulator runs \"" + app_ + "\"");
}

FormationModel* SimWorld::FindFormation(std::string_view type) {
  for (auto& f : formations_) {
    if (f.type() == type) return &f;
  }
  return nullptr;
}

std::vector<std::string> SimWorld::formation_types() const {
  std::vector<std::string> types;
  for (const auto& f : spec_.formations)
    types.push_back(f.type);
  return types;
}

void SimWorld::AddEvent(SimEvent event) {
  events_.push_back(std::move(event));
}

double SimWorld::LoadFactor(size_t formation, int64_t step) const {
  double factor = 1.0;
  for (const Incident& i : incidents_) {
    if (i.spec.kind != spec::IncidentKind::kSurge || i.formation != formation) continue;
    if (step >= i.start_step && (!i.end_step || step < *i.end_step)) factor *= i.spec.factor;
  }
  return factor;
}

void SimWorld::ApplyBoundaryLocked() {
  const TimePoint now = timeline_.At(step_);
  for (Incident& i : incidents_) {
    FormationModel& formation = formations_[i.formation];
    if (!i.started && i.start_step <= step_) {
      i.started = true;
      SimEvent event =
          MakeEvent(timeline_.At(i.start_step), SimEventKind::kSurgeStart, formation.type());
      event.factor = i.spec.factor;
      if (i.spec.kind == spec::IncidentKind::kNoisyNeighbor) {
        event.kind = SimEventKind::kNoisyNeighbor;
        event.dyno = i.spec.dyno;
        if (formation.has_dyno(i.dyno_number)) {
          formation.SetSlowdown(i.dyno_number, i.spec.factor);
          event.message = "noisy neighbour: " + i.spec.dyno + " works " +
                          FactorText(i.spec.factor) + " slower until it restarts";
        } else {
          event.message = "noisy neighbour for " + i.spec.dyno + " ignored: no such dyno now";
        }
      } else {
        event.message = "surge: " + formation.type() + " load " + FactorText(i.spec.factor) +
                        (i.spec.duration ? " for " + FormatDuration(*i.spec.duration) : "");
      }
      AddEvent(std::move(event));
    }
    if (i.started && !i.ended && i.end_step && *i.end_step <= step_) {
      i.ended = true;
      SimEvent event =
          MakeEvent(timeline_.At(*i.end_step), SimEventKind::kSurgeEnd, formation.type());
      event.message = "surge on " + formation.type() + " ended";
      AddEvent(std::move(event));
    }
  }
  for (FormationModel& formation : formations_) {
    for (std::string& name : formation.BringUp(step_)) {
      SimEvent event = MakeEvent(now, SimEventKind::kDynoUp, formation.type(), name);
      event.message = name + " is up";
      AddEvent(std::move(event));
    }
  }
}

void SimWorld::AdvanceLocked() {
  const TimePoint now = clock_.Now();
  ApplyBoundaryLocked();
  while (timeline_.At(step_ + 1) <= now) {
    for (size_t f = 0; f < formations_.size(); ++f)
      formations_[f].Step(step_, LoadFactor(f, step_));
    ++step_;
    ApplyBoundaryLocked();
  }
}

Result<model::AppState> SimWorld::Observe(const std::string& app) {
  std::lock_guard lock(mu_);
  if (Status st = CheckApp(app); !st.ok()) return st;
  AdvanceLocked();
  model::AppState state;
  for (const FormationModel& f : formations_)
    f.AppendState(state);
  return state;
}

Status SimWorld::Scale(const std::string& app,
                       const std::vector<providers::ScaleRequest>& updates) {
  std::lock_guard lock(mu_);
  if (Status st = CheckApp(app); !st.ok()) return st;
  AdvanceLocked();
  std::set<std::string> seen;
  for (const providers::ScaleRequest& u : updates) {
    if (!FindFormation(u.type)) return Status::NotFound("formation \"" + u.type + "\" not found");
    if (u.quantity < 0 || u.quantity > kMaxDynosPerFormation) {
      return Status::InvalidArgument("formation " + u.type + ": quantity " +
                                     std::to_string(u.quantity) + " is outside 0.." +
                                     std::to_string(kMaxDynosPerFormation));
    }
    if (!seen.insert(u.type).second) {
      return Status::InvalidArgument("formation " + u.type + " appears twice in one scale request");
    }
  }
  for (const providers::ScaleRequest& u : updates) {
    FormationModel& formation = *FindFormation(u.type);
    const int before = formation.quantity();
    if (before == u.quantity) continue;
    formation.ScaleTo(u.quantity, step_, restart_delay_steps_);
    SimEvent event = MakeEvent(timeline_.At(step_), SimEventKind::kScale, u.type);
    event.from_quantity = before;
    event.to_quantity = u.quantity;
    event.message = u.type + " scaled from " + std::to_string(before) + " to " +
                    std::to_string(u.quantity) + " dynos";
    AddEvent(std::move(event));
  }
  ApplyBoundaryLocked();  // with restartDelay 0 new dynos are up at once
  return Status::Ok();
}

Status SimWorld::Restart(const std::string& app, const std::string& dyno) {
  return RestartOrStop(app, dyno, /*stop=*/false);
}

Status SimWorld::Stop(const std::string& app, const std::string& dyno) {
  return RestartOrStop(app, dyno, /*stop=*/true);
}

Status SimWorld::RestartOrStop(const std::string& app, const std::string& dyno, bool stop) {
  std::lock_guard lock(mu_);
  if (Status st = CheckApp(app); !st.ok()) return st;
  AdvanceLocked();
  auto parts = SplitDynoName(dyno);
  FormationModel* formation = parts ? FindFormation(parts->first) : nullptr;
  if (!formation || !formation->has_dyno(parts->second)) {
    return Status::NotFound("dyno \"" + dyno + "\" not found");
  }
  formation->Restart(parts->second, step_, restart_delay_steps_, stop);
  SimEvent event =
      MakeEvent(timeline_.At(step_), stop ? SimEventKind::kStop : SimEventKind::kRestart,
                formation->type(), dyno);
  event.message = stop ? dyno + " stopped; the platform boots a replacement" : dyno + " restarted";
  AddEvent(std::move(event));
  ApplyBoundaryLocked();
  return Status::Ok();
}

Result<model::FormationLatency> SimWorld::Latency(const std::string& formation, Duration window,
                                                  spec::Statistic statistic) {
  std::lock_guard lock(mu_);
  if (window <= Duration{0} || window > options_.latency_retention) {
    return Status::InvalidArgument("latency window " + FormatDuration(window) +
                                   " must be > 0 and at most the simulator's retention of " +
                                   FormatDuration(options_.latency_retention));
  }
  FormationModel* model = FindFormation(formation);
  if (!model) return Status::NotFound("formation \"" + formation + "\" not found");
  AdvanceLocked();
  return model->Latency(step_, timeline_.StepsCeil(window), statistic);
}

Result<TruthSummary> SimWorld::Truth(const std::string& formation, TimePoint from, TimePoint to,
                                     std::optional<Duration> threshold) {
  std::lock_guard lock(mu_);
  FormationModel* model = FindFormation(formation);
  if (!model) return Status::NotFound("formation \"" + formation + "\" not found");
  AdvanceLocked();
  const TimePoint begin = std::max(from, timeline_.start);
  const TimePoint end = std::max(begin, std::min(to, timeline_.At(step_)));
  const double from_seconds = ToSeconds(begin - timeline_.start);
  const double to_seconds = ToSeconds(end - timeline_.start);
  std::optional<double> threshold_seconds;
  if (threshold) threshold_seconds = ToSeconds(*threshold);
  return model->Truth(from_seconds, to_seconds, threshold_seconds);
}

Result<TruthSummary> SimWorld::Truth(const std::string& formation,
                                     std::optional<Duration> threshold) {
  return Truth(formation, timeline_.start, TimePoint::max(), threshold);
}

Result<int64_t> SimWorld::JobsWaiting(const std::string& formation) {
  std::lock_guard lock(mu_);
  FormationModel* model = FindFormation(formation);
  if (!model) return Status::NotFound("formation \"" + formation + "\" not found");
  AdvanceLocked();
  return model->jobs_waiting();
}

std::vector<SimEvent> SimWorld::Events(size_t first) {
  std::lock_guard lock(mu_);
  AdvanceLocked();
  if (first >= events_.size()) return {};
  return {events_.begin() + static_cast<std::ptrdiff_t>(first), events_.end()};
}

TimePoint SimWorld::Now() {
  std::lock_guard lock(mu_);
  AdvanceLocked();
  return timeline_.At(step_);
}

bool SimWorld::Finished() {
  return Now() >= end_time();
}

size_t SimWorld::MemoryBytes() {
  std::lock_guard lock(mu_);
  AdvanceLocked();
  size_t bytes = sizeof(*this);
  for (const FormationModel& f : formations_)
    bytes += f.MemoryBytes();
  bytes += events_.capacity() * sizeof(SimEvent);
  return bytes;
}

}  // namespace dynoherd::sim
