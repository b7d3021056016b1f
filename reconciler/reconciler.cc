#include "reconciler/reconciler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <utility>

namespace dynoherd::reconciler {

// The vocabulary the planner reads and writes (model/).
using namespace dynoherd::model;

namespace {

using std::chrono::duration_cast;
using std::chrono::seconds;

// Time from `from` to `now`, never negative (a timestamp from a skewed clock counts as just now).
Duration Elapsed(TimePoint from, TimePoint now) {
  return now > from ? duration_cast<Duration>(now - from) : Duration(0);
}

// "8m", "1m20s": whole seconds are enough for people.
std::string Ago(Duration d) {
  return FormatDuration(duration_cast<seconds>(d));
}

// A wait, rounded up: "in 0s" would promise what the next pass may not do.
std::string In(Duration d) {
  return FormatDuration(std::chrono::ceil<seconds>(d));
}

std::string Latency(spec::Statistic statistic, double seconds) {
  return std::string(spec::Name(statistic)) + " " + FormatLatency(seconds);
}

// "31.2", "0.75", "1250": three significant digits, no exponent.
std::string Rounded(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, v >= 100 ? "%.0f" : "%.3g", v);
  return buffer;
}

std::string Threshold(Duration d) {
  return FormatLatency(ToSeconds(d));
}

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += separator;
    out += p;
  }
  return out;
}

// Sets `type` in `conditions`, keeping the previous transition time while the status is unchanged.
void SetCondition(std::vector<Condition>& conditions, const std::vector<Condition>& previous,
                  std::string_view type, ConditionStatus status, std::string reason,
                  std::string message, TimePoint now) {
  const Condition* before = FindCondition(previous, type);
  Condition c{std::string(type), status, std::move(reason), std::move(message),
              before && before->status == status ? before->last_transition_time : now};
  if (Condition* existing = FindByType(conditions, type)) {
    *existing = std::move(c);
  } else {
    conditions.push_back(std::move(c));
  }
}

// What the latency-event and baseline rules decided for one formation.
struct ScaleOutcome {
  std::optional<Action> action;
  EventStatus if_applied;                  // the event status once `action` is made
  EventStatus if_not_applied;              // the event status if it is not (paused, or it failed)
  std::string degraded;                    // why the formation cannot be decided, if so
  std::optional<Condition> latency_event;  // type, status, reason, message; time set by the caller
};

// The formation statistic of a formation with latency, as its source read it. A source that
// could not observe leaves it unknown whatever value it returned.
void ReadFormationLatency(const spec::FormationSpec& spec, const FormationLatency* latency,
                          FormationPlan& plan) {
  if (!spec.latency) return;
  plan.statistic = spec.latency->statistic;
  if (!latency) {
    plan.latency_unknown_reason = "latency not observed";
    return;
  }
  plan.latency_error = latency->error;
  plan.latency_seconds = latency->error.empty() ? latency->value : std::nullopt;
  if (plan.latency_seconds) plan.load = latency->load;
  plan.latency_samples = latency->sample_count;
  for (const QueueLatency& queue : latency->queues)
    plan.queued_jobs += queue.size;
  if (!plan.latency_seconds) {
    plan.latency_unknown_reason = !latency->unknown_reason.empty() ? latency->unknown_reason
                                  : !latency->error.empty()        ? latency->error
                                                                   : "no value";
  }
}

class ScalePlanner {
 public:
  // REQUIRES: ReadFormationLatency filled `plan`'s latency.
  ScalePlanner(const spec::FormationSpec& spec, const FormationState& formation,
               const FormationStatus* previous, TimePoint now, FormationPlan& plan)
      : spec_(spec),
        formation_(formation),
        previous_(previous),
        now_(now),
        plan_(plan),
        q_(formation.quantity) {}

  ScaleOutcome Run() {
    ReadBounds();
    if (!spec_.autoscale) {
      PlanWithoutAutoscale();
      return std::move(out_);
    }
    ReadLatency();
    DecideEvent();
    DecideQuantity();
    RecordEvent();
    if (!latency_value_) {
      out_.degraded = "latency unknown (" + plan_.latency_unknown_reason + "): holding " +
                      std::to_string(plan_.desired_quantity.value_or(q_)) +
                      "; no event starts, ends or steps, nothing scales down";
    }
    return std::move(out_);
  }

 private:
  const spec::AutoscaleSpec& autoscale() const { return *spec_.autoscale; }
  bool declared() const { return spec_.quantity.has_value(); }
  bool capacity_mode() const { return autoscale().mode == spec::AutoscaleMode::kCapacity; }

  // The floor and ceiling in force now: the formation's min/max or the open schedule's.
  void ReadBounds() {
    const spec::FormationSpec::Bounds bounds = spec_.BoundsAt(now_);
    plan_.min_quantity = bounds.min;
    plan_.max_quantity = bounds.max;
    if (bounds.schedule) plan_.schedule = bounds.schedule->name;
  }

  // `quantity` within the floor and ceiling in force (the ceiling wins a conflict).
  int Bounded(int quantity) const {
    if (plan_.min_quantity) quantity = std::max(quantity, *plan_.min_quantity);
    if (plan_.max_quantity) quantity = std::min(quantity, *plan_.max_quantity);
    return quantity;
  }

  // "bounds: schedule morning sets min 8": why a quantity was moved into the bounds.
  std::string BoundsReason(int to) const {
    const bool floor = to > q_;
    const std::optional<int>& bound = floor ? plan_.min_quantity : plan_.max_quantity;
    return std::string("bounds: ") +
           (plan_.schedule.empty() ? "the formation's" : "schedule " + plan_.schedule + " sets") +
           (floor ? " min " : " max ") + std::to_string(bound.value_or(to));
  }

  // A declared quantity without autoscale is a plain desired state, corrected both ways; the
  // bounds move it, and hold an undeclared formation inside them.
  void PlanWithoutAutoscale() {
    if (spec_.quantity) {
      const int want = Bounded(*spec_.quantity);
      plan_.baseline_kind = BaselineKind::kDeclared;
      plan_.baseline = *spec_.quantity;
      Desire(want);
      ScaleTo(want, want == *spec_.quantity ? ActionCause::kDrift : ActionCause::kBounds,
              want == *spec_.quantity ? DriftReason(want) : BoundsReason(want));
    } else if (Bounded(q_) != q_) {
      Desire(Bounded(q_));
      ScaleTo(Bounded(q_), ActionCause::kBounds, BoundsReason(Bounded(q_)));
    }
  }

  // The formation statistic, read by ReadFormationLatency before the planner runs, and in mode
  // capacity the dynos the observed load needs.
  void ReadLatency() {
    plan_.max_depth = autoscale().max_extra_workers;
    latency_value_ = plan_.latency_seconds;
    if (!capacity_mode() || !latency_value_ || !plan_.load) return;
    const double backlog = BacklogSlots();
    needed_ = DynosFor(plan_.load->BusySlots() + backlog);
    sustained_needed_ = DynosFor(plan_.load->SustainedBusySlots() + backlog);
    plan_.needed_quantity = needed_;
    if (q_ > 0) {
      plan_.utilization = (plan_.load->BusySlots() + backlog) / (q_ * *autoscale().concurrency);
      overloaded_ = SharedQueue() && *plan_.utilization >= 1;
    }
  }

  // Whether the load is work waiting in one queue that every dyno takes from (Sidekiq): then
  // utilization 1 or more is a backlog the formation cannot drain, a trigger before latency. A
  // web formation's router service times include the wait in each dyno's own backlog, so one
  // slow dyno's queue can push it past 1 while its siblings idle: latency stays the trigger there.
  bool SharedQueue() const {
    return spec_.latency && spec_.latency->source == spec::LatencySourceKind::kSidekiq;
  }

  // The slots that would drain the jobs already queued within alertInterval (by the time the
  // next step may come), on top of those the arrivals keep busy: a backlog built before the step
  // otherwise drains only at the margin between the new size and the arrivals, its jobs waiting
  // far past the threshold. 0 for web, whose router service time already includes the wait in a
  // dyno's backlog.
  double BacklogSlots() const {
    const double drain_seconds = ToSeconds(autoscale().alert_interval);
    if (plan_.queued_jobs <= 0 || drain_seconds <= 0) return 0;
    return static_cast<double>(plan_.queued_jobs) * plan_.load->service_seconds / drain_seconds;
  }

  // The dynos that carry `busy_slots` at targetUtilization.
  int DynosFor(double busy_slots) const {
    const double per_dyno = *autoscale().concurrency * spec_.TargetUtilization();
    return static_cast<int>(std::clamp(std::ceil(busy_slots / per_dyno - 1e-9), 1.0, 1e6));
  }

  // "the load needs 9 (31.2/s x 410ms = 12.8 busy of 2 x 75% per dyno)"; sustained: what a
  // scale-down reads, the busier of the newest minute and the window. A backlog adds "+ 0.53 to
  // drain 14 queued jobs in 1m".
  std::string NeededText(bool sustained = false) const {
    const model::FormationLoad& load = *plan_.load;
    const bool window = sustained && load.SustainedBusySlots() > load.BusySlots();
    std::string busy = window ? Rounded(load.SustainedBusySlots()) + " busy over the window"
                              : Rounded(load.arrivals_per_second) + "/s x " +
                                    FormatLatency(load.service_seconds) + " = " +
                                    Rounded(load.BusySlots()) + " busy";
    if (const double backlog = BacklogSlots(); backlog > 0) {
      busy += " + " + Rounded(backlog) + " to drain " + std::to_string(plan_.queued_jobs) +
              " queued jobs in " + FormatDuration(autoscale().alert_interval);
    }
    return "the load needs " + std::to_string(sustained ? *sustained_needed_ : *needed_) + " (" +
           busy + " of " + std::to_string(*autoscale().concurrency) + " x " +
           Rounded(spec_.TargetUtilization() * 100) + "% per dyno)";
  }

  // "utilization 1.2 of the 4 slots there are"
  std::string OverloadText() const {
    return "utilization " + Rounded(*plan_.utilization) + " of the " +
           std::to_string(q_ * *autoscale().concurrency) + " slots there are";
  }

  // The most dynos an event may reach: baseline + maxExtraWorkers, within the ceiling in force.
  int Cap() const {
    const int cap = *baseline_ + autoscale().max_extra_workers;
    return plan_.max_quantity ? std::max(*baseline_, std::min(cap, *plan_.max_quantity)) : cap;
  }

  std::string LatencyNow() const { return Latency(plan_.statistic, *latency_value_); }

  // Event membership. With the status, the event is what it recorded; without it (lost, one-shot
  // run), a declared formation above its baseline is taken to be in an event.
  void DecideEvent() {
    const double high = ToSeconds(autoscale().latency_threshold);
    const double low = ToSeconds(autoscale().restored_threshold);
    if (previous_) {
      was_in_event_ = previous_->event.started_at.has_value();
    } else {
      was_in_event_ = declared() && *spec_.quantity > 0 && q_ > Bounded(*spec_.quantity);
    }
    in_event_ = was_in_event_;
    if (latency_value_) {
      above_ = *latency_value_ > high;
      if (above_ || overloaded_)
        in_event_ = true;
      else if (*latency_value_ <= low)
        in_event_ = false;
    }

    if (declared()) {
      baseline_ = *spec_.quantity;
    } else if (previous_ && previous_->event.captured_baseline) {
      baseline_ = previous_->event.captured_baseline;  // still held: an event resumes with it
    } else if (in_event_) {
      baseline_ = q_;  // captured now, at the start of the event
    }
    // The floor and ceiling in force move the baseline (a schedule's min raises it); the status
    // keeps the captured one, which is restored once the schedule closes.
    captured_baseline_ = baseline_;
    if (baseline_ && (*baseline_ > 0 || declared())) baseline_ = Bounded(*baseline_);
    plan_.baseline = baseline_;
    plan_.baseline_kind = declared()  ? BaselineKind::kDeclared
                          : baseline_ ? BaselineKind::kCaptured
                                      : BaselineKind::kNone;

    // Mode capacity: latency is back, but the load still needs more than the baseline. The event
    // goes on, at the size the load needs, so a surge carried by the extra dynos is not restored.
    if (was_in_event_ && !in_event_ && needed_ && baseline_ && *baseline_ > 0 && q_ > *baseline_ &&
        *sustained_needed_ > *baseline_) {
      in_event_ = true;
      capacity_hold_ = true;
    }
    // Latency is back, but the formation changed less than restoreDelay ago: the event goes on
    // until the delay is over, since the raised size may be all that keeps latency low.
    if (!capacity_hold_ && was_in_event_ && !in_event_ && latency_value_ && baseline_ &&
        *baseline_ > 0 && q_ > *baseline_ && RestoreWait() > Duration(0)) {
      in_event_ = true;
      restore_pending_ = true;
    }
    // One dyno at a time: the event lasts until the last extra dyno is removed.
    if (autoscale().restore_one_at_a_time && was_in_event_ && !in_event_ && latency_value_ &&
        baseline_ && *baseline_ > 0 && q_ > *baseline_ + 1) {
      in_event_ = true;
      restoring_one_ = true;
    }

    if (!in_event_) return;
    if (was_in_event_ && previous_ && previous_->event.started_at) {
      started_at_ = *previous_->event.started_at;
    } else if (was_in_event_) {
      // Status lost mid-event: steps are at least alertInterval apart and the first is made when
      // the event starts, so the event began no later than the last change minus the steps since.
      // Never earlier than the truth: maxDuration may be flagged late, never early.
      plan_.event_start_estimated = true;
      // Mode capacity may have made every step at once.
      const int depth = capacity_mode() ? 1
                                        : std::clamp(q_ - *baseline_, 1,
                                                     std::max(autoscale().max_extra_workers, 1));
      started_at_ =
          formation_.updated_at == TimePoint{}
              ? now_
              : std::min(now_, formation_.updated_at - (depth - 1) * autoscale().alert_interval);
    } else {
      started_at_ = now_;
    }
  }

  void DecideQuantity() {
    if (!baseline_) {
      // Captured mode outside an event: the size is not ours to set, but for the bounds.
      if (Bounded(q_) != q_) {
        Desire(Bounded(q_));
        ScaleTo(Bounded(q_), ActionCause::kBounds, BoundsReason(Bounded(q_)));
      }
      return;
    }
    const int b = *baseline_;
    const int cap = Cap();
    if (b == 0) {
      if (!declared()) {
        if (in_event_) Note("captured baseline 0: the formation is off on purpose, never scaled");
        return;
      }
      // Declared 0 is maintenance: never scaled up; brought back to 0 unless latency is unknown.
      Desire(latency_value_ ? 0 : q_);
      if (above_) Note("baseline 0 declared: never scaled up");
      if (q_ > 0 && latency_value_) ScaleTo(0, ActionCause::kDrift, DriftReason(0));
      return;
    }
    if (!latency_value_) {
      // Unknown latency never starts, ends or steps an event, nor scales down.
      int hold = declared() ? std::max(q_, b) : q_;
      Desire(hold);
      if (hold != q_) ToBaseline(hold);
      return;
    }
    if (in_event_) {
      if (q_ > cap) {
        Desire(cap);
        ScaleTo(cap, ActionCause::kCeiling, CeilingReason(b, cap));
      } else if (above_ || overloaded_) {
        PlanStep(b, cap);
      } else if (capacity_hold_) {
        PlanCapacityDown(b);
      } else if (restore_pending_) {
        Desire(q_);
        Note(RestorePendingText() + "; last change " + Ago(Elapsed(LastChangeAt(), now_)) + " ago");
      } else if (restoring_one_) {
        Desire(q_ - 1);
        ScaleTo(q_ - 1, ActionCause::kRestored,
                "latency restored: " + LatencyNow() +
                    " <= " + Threshold(autoscale().restored_threshold) + "; one dyno at a time, " +
                    std::to_string(q_ - 1 - b) + " more to the baseline " + std::to_string(b));
      } else if (needed_ && *sustained_needed_ < q_ && q_ > b + 1) {
        // Between the thresholds: fewer dynos may do, but the baseline waits for
        // restoredThreshold.
        PlanCapacityDown(b + 1);
      } else {
        Desire(std::max(q_, b));
        Note(LatencyNow() + " is above restoredThreshold " +
             Threshold(autoscale().restored_threshold) + ": holding " + std::to_string(q_) +
             " until it is at or below");
        if (q_ < b) ToBaseline(b);
      }
      return;
    }
    // Outside an event. A declared formation above its baseline in the hysteresis band is held,
    // with or without the status, so a lost status never changes what happens.
    if (declared() && *latency_value_ > ToSeconds(autoscale().restored_threshold) && q_ > b) {
      const int hold = std::min(q_, cap);
      Desire(hold);
      if (hold != q_) {
        ScaleTo(hold, ActionCause::kCeiling, CeilingReason(b, cap));
      } else {
        Note(LatencyNow() + " is above restoredThreshold " +
             Threshold(autoscale().restored_threshold) + ": holding " + std::to_string(q_) +
             " above the baseline " + std::to_string(b) + " until it is at or below");
      }
      return;
    }
    if (q_ > b && RestoreWait() > Duration(0)) {
      // No event (the status says so), yet the formation changed recently, by hand: the same
      // wait as a restore, so a lost status (which takes this for an event) plans the same.
      const int hold = std::min(q_, cap);
      Desire(hold);
      if (hold != q_) {
        ScaleTo(hold, ActionCause::kCeiling, CeilingReason(b, cap));
      } else {
        Note(std::to_string(q_) + " is above the baseline " + std::to_string(b) +
             ": back to it in " + In(RestoreWait()) + " (restoreDelay " +
             FormatDuration(autoscale().restore_delay) + "; the formation changed " +
             Ago(Elapsed(LastChangeAt(), now_)) + " ago)");
      }
      return;
    }
    Desire(b);
    if (q_ == b) return;
    if (q_ > b && was_in_event_ && previous_ && previous_->event.started_at) {
      ScaleTo(b, ActionCause::kRestored,
              "latency restored: " + LatencyNow() + " <= " +
                  Threshold(autoscale().restored_threshold) + " after " +
                  Ago(Elapsed(*previous_->event.started_at, now_)));
    } else if (q_ > b && declared()) {
      // No recorded event asked for these dynos: not "latency restored", which would tell of an
      // event that may never have been.
      const std::string why = previous_ ? "no latency event asked for it (scaled by hand or by "
                                          "another tool)"
                                        : "no saved status says why (a latency event whose "
                                          "status was lost, or a scale by hand)";
      ScaleTo(b, ActionCause::kUnrecordedScale,
              "back to the baseline " + std::to_string(b) + ": " + std::to_string(q_) +
                  " is above it and " + why + "; " + LatencyNow() + " <= restoredThreshold " +
                  Threshold(autoscale().restored_threshold));
    } else if (!declared()) {
      ScaleTo(b, ActionCause::kRestored,
              "restoring the captured baseline " + std::to_string(b) +
                  " (the latency event ended earlier)");
    } else {
      ToBaseline(b);
    }
  }

  // In an event, latency above the threshold: the first step at once, then one per alertInterval.
  // Mode capacity with a known load steps to what the load needs, in one go.
  void PlanStep(int b, int cap) {
    const int max_extra = autoscale().max_extra_workers;
    const int depth = std::max(0, q_ - b);
    if (q_ >= cap) {
      Desire(std::max(q_, b));
      Note("at the ceiling: " + CeilingText(b, cap));
      if (q_ < b) ToBaseline(b);
      return;
    }
    const Duration since = Elapsed(LastChangeAt(), now_);
    if (depth > 0 && since < autoscale().alert_interval) {
      Desire(q_);
      Note("next step in " + In(autoscale().alert_interval - since) + " (alertInterval " +
           FormatDuration(autoscale().alert_interval) + ")");
      return;
    }
    if (needed_) {
      PlanCapacityStep(b, cap, depth, since);
      return;
    }
    const int to = std::max(b, q_) + 1;
    Desire(to);
    stepped_ = true;
    ScaleTo(to, ActionCause::kLatencyEvent,
            "latency event: " + LatencyNow() + " > " + Threshold(autoscale().latency_threshold) +
                " (step " + std::to_string(depth + 1) + " of " + std::to_string(max_extra) + ")" +
                (capacity_mode() ? "; load unknown, one dyno at a time" : ""));
  }

  // Mode capacity, latency above the threshold: up to what the load needs. When the formation
  // already has that many, latency is left a full window to follow (its window still holds
  // requests from before the last step); still high after that, the estimate is wrong and one
  // more dyno is added, as mode step would.
  void PlanCapacityStep(int b, int cap, int depth, Duration since) {
    const std::string why =
        above_ ? "latency event: " + LatencyNow() + " > " + Threshold(autoscale().latency_threshold)
               : "overload: " + OverloadText() + ", " + LatencyNow() +
                     " <= " + Threshold(autoscale().latency_threshold);
    if (*needed_ > q_) {
      const int to = std::min(std::max(*needed_, std::max(b, q_) + 1), cap);
      Desire(to);
      stepped_ = true;
      ScaleTo(
          to, ActionCause::kLatencyEvent,
          why + "; " + NeededText() + (to < *needed_ ? ", capped at " + CeilingText(b, cap) : ""));
      return;
    }
    const Duration settle = std::max(autoscale().alert_interval, spec_.latency->window);
    if (depth > 0 && since < settle) {
      Desire(q_);
      Note(NeededText() + ", no more than the " + std::to_string(q_) + " there are: waiting " +
           In(settle - since) + " for latency to follow before one more step");
      return;
    }
    const int to = std::max(b, q_) + 1;
    Desire(to);
    stepped_ = true;
    ScaleTo(to, ActionCause::kLatencyEvent,
            why + "; " + NeededText() + " but latency says more: one more dyno");
  }

  // Mode capacity, latency not above latencyThreshold and the load needing fewer dynos than
  // there are: down to what it needs, never below `floor`, once the formation has been stable
  // restoreDelay (the stabilisation window).
  void PlanCapacityDown(int floor) {
    const int to = std::clamp(*sustained_needed_, floor, q_);
    Desire(q_);
    if (to == q_) {
      Note(NeededText(true) + ": holding " + std::to_string(q_));
      return;
    }
    if (RestoreWait() > Duration(0)) {
      Note(NeededText(true) + ": down to " + std::to_string(to) + " in " + In(RestoreWait()) +
           " (restoreDelay " + FormatDuration(autoscale().restore_delay) + ")");
      return;
    }
    Desire(to);
    ScaleTo(to, ActionCause::kCapacity,
            "capacity: " + NeededText(true) + "; " + LatencyNow() + " <= latencyThreshold " +
                Threshold(autoscale().latency_threshold));
  }

  EventStatus EventAfter(int quantity, bool stepped) const {
    EventStatus e;
    if (in_event_) {
      e.started_at = started_at_;
      e.depth = baseline_ ? std::max(0, quantity - *baseline_) : 0;
      if (stepped) {
        e.last_step_at = now_;
      } else if (was_in_event_ && previous_) {
        e.last_step_at = previous_->event.last_step_at;
      }
    }
    // A captured baseline is kept through the event, and after it until the formation is back.
    if (!declared() && baseline_ && (in_event_ || (*baseline_ > 0 && quantity != *baseline_))) {
      e.captured_baseline = captured_baseline_;
    }
    return e;
  }

  void RecordEvent() {
    out_.if_applied = EventAfter(out_.action ? out_.action->to_quantity : q_, stepped_);
    out_.if_not_applied = EventAfter(q_, false);
    plan_.in_event = in_event_;
    if (in_event_) plan_.event_started_at = started_at_;

    Condition c;
    c.type = std::string(kLatencyEvent);
    if (!in_event_) {
      if (!latency_value_) {
        c.status = ConditionStatus::kUnknown;
        c.reason = "LatencyUnknown";
        c.message = plan_.latency_unknown_reason;
      } else {
        c.status = ConditionStatus::kFalse;
        c.reason = was_in_event_ ? "Restored" : "LatencyNormal";
        c.message = LatencyNow() +
                    (was_in_event_ ? " <= restoredThreshold " : " <= latencyThreshold ") +
                    Threshold(was_in_event_ ? autoscale().restored_threshold
                                            : autoscale().latency_threshold);
      }
      out_.latency_event = std::move(c);
      return;
    }
    const Duration lasted = Elapsed(started_at_, now_);
    std::string where;
    if (!latency_value_) {
      where = "latency unknown (" + plan_.latency_unknown_reason + "), the event continues";
    } else if (above_) {
      where = LatencyNow() + " > latencyThreshold " + Threshold(autoscale().latency_threshold);
    } else if (overloaded_) {
      where = "the load is more than the formation carries: " + OverloadText();
    } else if (capacity_hold_) {
      where = LatencyNow() + " <= restoredThreshold " + Threshold(autoscale().restored_threshold) +
              ", and " + NeededText(true);
    } else if (restore_pending_) {
      where = RestorePendingText();
    } else if (restoring_one_) {
      where = LatencyNow() + " <= restoredThreshold " + Threshold(autoscale().restored_threshold) +
              ": back to the baseline one dyno at a time";
    } else {
      where = LatencyNow() + " > restoredThreshold " + Threshold(autoscale().restored_threshold);
    }
    // The depth is not in the message: it depends on whether the step is made (paused, failed);
    // FormationPlan::event_depth and the status carry it.
    c.status = ConditionStatus::kTrue;
    if (autoscale().max_duration && lasted > *autoscale().max_duration) {
      plan_.event_exceeded_max_duration = true;
      const Condition* before =
          previous_ ? FindCondition(previous_->conditions, kLatencyEvent) : nullptr;
      plan_.event_newly_exceeded_max_duration = !before ||
                                                before->status != ConditionStatus::kTrue ||
                                                before->reason != "ExceededMaxDuration";
      c.reason = "ExceededMaxDuration";
      c.message = "the latency event has lasted " + Ago(lasted) + ", over maxDuration " +
                  FormatDuration(*autoscale().max_duration) + ": " + where;
    } else if (restore_pending_ || restoring_one_) {
      c.reason = "RestorePending";
      c.message = where;
    } else if (capacity_hold_) {
      c.reason = "LoadHigh";
      c.message = where;
    } else if (!above_ && overloaded_) {
      c.reason = "Overloaded";
      c.message = where;
    } else {
      c.reason = "LatencyHigh";
      c.message = where + " for " + Ago(lasted);
    }
    out_.latency_event = std::move(c);
  }

  // The formation's last change of size: its updated_at (a scale moves it), or a later step the
  // status recorded. Steps are paced from it, and the restore waits restoreDelay after it.
  TimePoint LastChangeAt() const {
    TimePoint at = formation_.updated_at;
    if (previous_ && previous_->event.last_step_at) {
      at = std::max(at, *previous_->event.last_step_at);
    }
    return at;
  }

  // How much longer a scale-down to the baseline must wait; 0 when it may happen now. One dyno at
  // a time, a removal after the first waits alertInterval.
  Duration RestoreWait() const {
    const Duration since = Elapsed(LastChangeAt(), now_);
    const Duration delay =
        RemovedSinceLastStep() ? autoscale().alert_interval : autoscale().restore_delay;
    return since < delay ? delay - since : Duration(0);
  }

  // One dyno at a time: the formation changed after the event's last step up, so by a removal.
  bool RemovedSinceLastStep() const {
    return autoscale().restore_one_at_a_time && previous_ && previous_->event.last_step_at &&
           formation_.updated_at > *previous_->event.last_step_at;
  }

  // "p50 225ms <= restoredThreshold 300ms; restoring in 1m40s (restoreDelay 5m)"
  std::string RestorePendingText() const {
    return LatencyNow() + " <= restoredThreshold " + Threshold(autoscale().restored_threshold) +
           "; restoring in " + In(RestoreWait()) + " (restoreDelay " +
           FormatDuration(autoscale().restore_delay) + ")";
  }

  void Desire(int quantity) { plan_.desired_quantity = quantity; }
  void Note(std::string note) { plan_.notes.push_back(std::move(note)); }

  void ScaleTo(int to, ActionCause cause, std::string reason) {
    if (to == q_) return;
    Action a;
    a.kind = ActionKind::kScale;
    a.cause = cause;
    a.formation = spec_.type;
    a.from_quantity = q_;
    a.to_quantity = to;
    a.reason = std::move(reason);
    out_.action = std::move(a);
  }

  // Back to the baseline `b`: the declared one (drift), or the one the bounds in force move it to.
  void ToBaseline(int b) {
    if (declared() && b != *spec_.quantity) {
      ScaleTo(b, ActionCause::kBounds, BoundsReason(b));
    } else {
      ScaleTo(b, ActionCause::kDrift, DriftReason(b));
    }
  }

  std::string DriftReason(int baseline) const {
    if (baseline == 0) {
      // Legal and declarative, but the one drift that takes a whole formation down: said loudly.
      return "drift: the spec declares quantity 0, which stops every " + spec_.type +
             " dyno (omit quantity to leave the running size alone)";
    }
    return "drift: the spec declares " + std::to_string(baseline);
  }
  std::string CeilingReason(int b, int cap) const {
    return "ceiling: at most " + CeilingText(b, cap);
  }
  // "8 = baseline 6 + maxExtraWorkers 2", or "7 (max 7)" when the ceiling in force is lower.
  std::string CeilingText(int b, int cap) const {
    if (cap < b + autoscale().max_extra_workers) {
      return std::to_string(cap) + " (" +
             (plan_.schedule.empty() ? "max " : "schedule " + plan_.schedule + " sets max ") +
             std::to_string(cap) + ")";
    }
    return std::to_string(cap) + " = baseline " + std::to_string(b) + " + maxExtraWorkers " +
           std::to_string(autoscale().max_extra_workers);
  }

  const spec::FormationSpec& spec_;
  const FormationState& formation_;
  const FormationStatus* previous_;
  const TimePoint now_;
  FormationPlan& plan_;
  const int q_;

  std::optional<double> latency_value_;
  bool above_ = false;       // latency known and above latencyThreshold
  bool overloaded_ = false;  // mode capacity: the load and backlog need every slot there is
  bool was_in_event_ = false;
  bool in_event_ = false;
  bool restore_pending_ = false;  // latency is back, restoreDelay is not over: the event goes on
  bool restoring_one_ = false;    // restore_one_at_a_time: one dyno off now, the event goes on
  std::optional<int> baseline_;   // within the bounds in force
  std::optional<int> captured_baseline_;  // as recorded, before the bounds
  std::optional<int> needed_;             // mode capacity: dynos the load needs; nullopt: unknown
  std::optional<int> sustained_needed_;   // the same from the sustained load, for scale-downs
  bool capacity_hold_ = false;  // latency is back, the load still needs more than the baseline
  TimePoint started_at_{};
  bool stepped_ = false;
  ScaleOutcome out_;
};

std::vector<const DynoState*> DynosOf(const Observation& observation, const std::string& type) {
  std::vector<const DynoState*> out;
  for (const auto& d : observation.dynos) {
    if (d.type == type) out.push_back(&d);
  }
  return out;
}

// Candidates for the detector: the formation's dynos in observation order, then any dyno the
// latency window knows but the app no longer lists (never judged: its samples describe a dyno that
// is gone or renamed, and there is nothing to restart).
std::vector<LaggardCandidate> BuildCandidates(const spec::FormationSpec& spec,
                                              const std::vector<const DynoState*>& dynos,
                                              const FormationLatency* latency, TimePoint now) {
  const spec::LaggardSpec& laggards = *spec.laggards;
  const Duration window = spec.latency ? spec.latency->window : Duration(0);
  std::vector<LaggardCandidate> out;
  std::set<std::string> listed;
  for (const DynoState* d : dynos) {
    listed.insert(d->name);
    LaggardCandidate c;
    c.dyno = d->name;
    if (latency) {
      auto it = latency->per_dyno.find(d->name);
      if (it != latency->per_dyno.end()) c.stats = it->second;
    }
    const Duration up_for = Elapsed(d->updated_at, now);
    if (d->state != "up") {
      c.ineligible_reason = "state " + d->state;
    } else if (up_for < laggards.startup_grace) {
      c.ineligible_reason =
          "up for " + Ago(up_for) + ", startupGrace is " + FormatDuration(laggards.startup_grace);
    } else if (up_for < window) {
      c.ineligible_reason = "up for " + Ago(up_for) + ": the " + FormatDuration(window) +
                            " window still holds requests from before its last restart";
    }
    out.push_back(std::move(c));
  }
  if (latency) {
    for (const auto& [name, stats] : latency->per_dyno) {
      if (listed.count(name)) continue;
      LaggardCandidate c;
      c.dyno = name;
      c.stats = stats;
      c.ineligible_reason = "not in the app's dyno list (gone or renamed since the window began)";
      out.push_back(std::move(c));
    }
  }
  return out;
}

// A formation-wide slowdown: most of the formation's dynos (those up with minSamples requests in
// the window) above latencyThreshold on their own. Whichever of them queued most is a symptom, not
// a laggard. A minority above it is not one: a single noisy neighbour can push the formation's
// p95 over the threshold by itself, and that dyno must still be judged.
struct Overload {
  int above = 0;    // dynos whose own statistic is above latencyThreshold
  int counted = 0;  // dynos up with minSamples requests
  bool whole_formation() const { return 2 * above > counted; }
};

std::optional<Overload> MeasureOverload(const spec::FormationSpec& spec,
                                        const std::vector<const DynoState*>& dynos,
                                        const FormationLatency* latency) {
  if (!spec.laggards || !spec.autoscale || !spec.latency || !latency) return std::nullopt;
  const double threshold = ToSeconds(spec.autoscale->latency_threshold);
  Overload o;
  for (const DynoState* d : dynos) {
    auto it = latency->per_dyno.find(d->name);
    if (d->state != "up" || it == latency->per_dyno.end() ||
        it->second.count < spec.laggards->min_samples) {
      continue;
    }
    ++o.counted;
    o.above += it->second.Get(spec.latency->statistic) > threshold;
  }
  return o;
}

// Why the detector's comparison cannot be trusted in this pass, or "" when it can: the dynos'
// windows mix two regimes (docs/decisions.md, "When the comparison is not trusted").
std::string WhyNoVerdict(const spec::FormationSpec& spec, const FormationState& formation,
                         const std::optional<Overload>& overload, const FormationStatus* previous,
                         TimePoint now) {
  const Duration window = spec.latency ? spec.latency->window : Duration(0);
  const std::string threshold =
      spec.autoscale ? Threshold(spec.autoscale->latency_threshold) : std::string();
  if (overload && overload->whole_formation()) {
    return std::to_string(overload->above) + " of " + std::to_string(overload->counted) +
           " dynos have " + std::string(spec::Name(spec.latency->statistic)) +
           " above latencyThreshold " + threshold +
           ": the whole formation is slow, which is not a laggard";
  }
  // The load per dyno changed with the size: every window mixes the old load with the new.
  const Duration since_change = Elapsed(formation.updated_at, now);
  if (since_change < window) {
    return "the formation changed " + Ago(since_change) + " ago; laggards are judged once the " +
           FormatDuration(window) + " window holds only the new size";
  }
  // The windows still hold the slowdown, and the dyno that queued most drains last.
  if (previous && previous->overloaded_at && Elapsed(*previous->overloaded_at, now) < window) {
    return "the whole formation was slow " + Ago(Elapsed(*previous->overloaded_at, now)) +
           " ago (most dynos above latencyThreshold " + threshold +
           "); laggards are judged once the " + FormatDuration(window) +
           " window no longer holds it";
  }
  return "";
}

// Takes back the detector's verdicts, as it does itself when too few dynos are judged.
void WithholdVerdicts(LaggardReport& report, const std::string& reason) {
  report.decided = false;
  report.no_verdict_reason = reason;
  report.slow.clear();
  for (LaggardVerdict& v : report.verdicts) {
    if (!v.judged) continue;
    v.slow = false;
    v.score.reset();
    v.reference = 0;
    v.reason = "no verdict: " + reason;
  }
}

// Applies the operational limits to the detector's slow dynos and picks which to act on.
std::vector<Action> PlanLaggards(const spec::FormationSpec& spec, const FormationState& formation,
                                 const std::vector<const DynoState*>& dynos,
                                 const FormationLatency* latency, const FormationStatus* previous,
                                 const std::optional<Overload>& overload, bool scaling,
                                 TimePoint now, std::mt19937_64& rng, FormationPlan& plan) {
  std::vector<Action> out;
  const spec::LaggardSpec& laggards = *spec.laggards;
  const std::vector<LaggardCandidate> candidates = BuildCandidates(spec, dynos, latency, now);
  LaggardReport report = DetectLaggards(laggards, candidates);
  if (std::string why = WhyNoVerdict(spec, formation, overload, previous, now); !why.empty()) {
    WithholdVerdicts(report, why);
  }
  plan.laggards_decided = report.decided;
  plan.laggards_no_verdict_reason = report.no_verdict_reason;
  plan.verdicts = report.verdicts;
  if (!report.decided) {
    plan.notes.push_back("laggards: no verdict: " + report.no_verdict_reason);
    return out;
  }
  if (report.slow.empty()) return out;

  std::vector<std::string> blocks;
  if (scaling) blocks.push_back("the formation is being scaled; laggards wait for the next pass");
  if (plan.in_event && !laggards.during_event) {
    blocks.push_back("a latency event is in progress (duringEvent is false)");
  }
  // Cooldown since the last restart in this formation. Without a status the latest state change of
  // any of its dynos stands in for it: a restart is one, so the cooldown is never cut short.
  std::optional<TimePoint> last_restart;
  std::string last_restart_what = "last restart";
  if (previous) {
    last_restart = previous->LastRestartAt();
  } else {
    for (const DynoState* d : dynos) {
      if (!last_restart || d->updated_at > *last_restart) last_restart = d->updated_at;
    }
    last_restart_what = "no status; last dyno state change";
  }
  if (last_restart && Elapsed(*last_restart, now) < laggards.cooldown) {
    blocks.push_back("cooldown: " + last_restart_what + " " + Ago(Elapsed(*last_restart, now)) +
                     " ago, cooldown is " + FormatDuration(laggards.cooldown));
  }
  // Dynos not up, and dynos the formation should have but the app does not list, are unavailable.
  int unavailable = 0;
  for (const DynoState* d : dynos)
    unavailable += d->state != "up";
  unavailable += std::max(0, formation.quantity - static_cast<int>(dynos.size()));
  const int allowed = laggards.max_unavailable.Resolve(formation.quantity);
  if (unavailable >= allowed) {
    blocks.push_back(std::to_string(unavailable) + " of " + std::to_string(formation.quantity) +
                     " dynos unavailable, already the most maxUnavailable " +
                     laggards.max_unavailable.ToString() + " allows (" + std::to_string(allowed) +
                     ")");
  }
  if (!blocks.empty()) {
    plan.notes.push_back("laggards " + Join(report.slow, ", ") + " not " +
                         std::string(spec::Name(laggards.action)) + "ed: " + Join(blocks, "; "));
    return out;
  }

  std::vector<std::string> chosen = report.slow;  // worst first
  if (laggards.select == spec::LaggardSelect::kRandom) {
    // Fisher-Yates with the caller's generator; mt19937_64 is specified exactly, so a seed gives
    // the same pick everywhere (std::uniform_int_distribution would not).
    for (size_t i = chosen.size(); i > 1; --i) {
      std::swap(chosen[i - 1], chosen[rng() % i]);
    }
  }
  const size_t budget =
      static_cast<size_t>(std::max(0, std::min(laggards.max_per_cycle, allowed - unavailable)));
  if (chosen.size() > budget) {
    std::vector<std::string> waiting(chosen.begin() + static_cast<std::ptrdiff_t>(budget),
                                     chosen.end());
    plan.notes.push_back("laggards " + Join(waiting, ", ") + " wait: maxPerCycle " +
                         std::to_string(laggards.max_per_cycle) + ", maxUnavailable " +
                         laggards.max_unavailable.ToString());
    chosen.resize(budget);
  }
  for (const auto& name : chosen) {
    auto it = std::find_if(report.verdicts.begin(), report.verdicts.end(),
                           [&](const LaggardVerdict& v) { return v.dyno == name; });
    Action a;
    a.kind =
        laggards.action == spec::LaggardAction::kStop ? ActionKind::kStop : ActionKind::kRestart;
    a.cause = ActionCause::kLaggard;
    a.formation = spec.type;
    a.dyno = name;
    a.reason = "laggard: " + it->reason;
    out.push_back(std::move(a));
  }
  return out;
}

void SetReady(FormationPlan& plan, const std::vector<const DynoState*>& dynos,
              const std::vector<Condition>& previous, TimePoint now) {
  const int q = *plan.observed_quantity;
  if (plan.desired_quantity && *plan.desired_quantity != q) {
    SetCondition(
        plan.conditions, previous, kReady, ConditionStatus::kFalse, "Scaling",
        "observed " + std::to_string(q) + ", desired " + std::to_string(*plan.desired_quantity),
        now);
    return;
  }
  std::vector<std::string> down;
  for (const DynoState* d : dynos) {
    if (d->state != "up") down.push_back(d->name + " " + d->state);
  }
  const int up = static_cast<int>(dynos.size() - down.size());
  if (!down.empty() || up < q) {
    if (down.size() > 3) {
      down.resize(3);
      down.push_back("...");
    }
    SetCondition(plan.conditions, previous, kReady, ConditionStatus::kFalse, "DynosUnavailable",
                 std::to_string(up) + " of " + std::to_string(q) + " dynos up" +
                     (down.empty() ? "" : " (" + Join(down, ", ") + ")"),
                 now);
    return;
  }
  SetCondition(plan.conditions, previous, kReady, ConditionStatus::kTrue, "AsDesired",
               std::to_string(up) + " of " + std::to_string(q) + " dynos up", now);
}

void SetDegraded(std::vector<Condition>& conditions, const std::vector<Condition>& previous,
                 std::string reason, const std::vector<std::string>& problems, TimePoint now) {
  if (problems.empty()) {
    SetCondition(conditions, previous, kDegraded, ConditionStatus::kFalse, "AsExpected", "", now);
  } else {
    SetCondition(conditions, previous, kDegraded, ConditionStatus::kTrue, std::move(reason),
                 Join(problems, "; "), now);
  }
}

void SetPaused(std::vector<Condition>& conditions, const std::vector<Condition>& previous,
               bool paused, TimePoint now) {
  if (paused) {
    SetCondition(conditions, previous, kPaused, ConditionStatus::kTrue, "PausedBySpec",
                 "spec.paused is true: actions are planned, not applied", now);
  } else {
    SetCondition(conditions, previous, kPaused, ConditionStatus::kFalse, "Active", "", now);
  }
}

// What one formation contributes to the plan.
struct FormationOutcome {
  FormationPlan plan;
  FormationStatus status;
  std::optional<Action> scale;
  std::vector<Action> dyno_actions;
};

// The formation is not in the app: nothing can be scaled or restarted, and what the status recorded
// (event, captured baseline, restarts) is kept as it was for when it comes back.
void PlanMissingFormation(const spec::Policy& policy, const spec::FormationSpec& spec,
                          const FormationStatus* before, TimePoint now, FormationOutcome& out) {
  if (before) {
    out.status.event = before->event;
    out.status.overloaded_at = before->overloaded_at;
  }
  out.plan.undo.event_if_not_scaled = out.status.event;
  const auto& previous = out.plan.undo.previous_conditions;
  auto& conditions = out.plan.conditions;
  const std::string missing = "formation " + spec.type + " not found in app " + policy.app +
                              " (is it in the release's Procfile?)";
  SetCondition(conditions, previous, kReady, ConditionStatus::kFalse, "FormationMissing", missing,
               now);
  if (spec.autoscale) {
    SetCondition(conditions, previous, kLatencyEvent,
                 out.status.event.started_at ? ConditionStatus::kTrue : ConditionStatus::kUnknown,
                 "FormationMissing", missing, now);
  }
  SetDegraded(conditions, previous, "FormationMissing", {missing}, now);
  SetPaused(conditions, previous, policy.paused, now);
}

FormationOutcome PlanFormation(const spec::Policy& policy, const spec::FormationSpec& spec,
                               const Observation& observation, const FormationStatus* before,
                               bool apply, TimePoint now, std::mt19937_64& rng) {
  FormationOutcome out;
  FormationPlan& fp = out.plan;
  fp.type = spec.type;
  out.status.type = spec.type;
  if (before) {
    fp.undo.previous_conditions = before->conditions;
    out.status.restarts = before->restarts;
  }
  const std::vector<Condition>& previous = fp.undo.previous_conditions;

  const FormationState* formation = observation.FindFormation(spec.type);
  if (!formation) {
    PlanMissingFormation(policy, spec, before, now, out);
    out.status.conditions = fp.conditions;
    return out;
  }
  fp.observed_quantity = formation->quantity;
  const FormationLatency* latency = nullptr;
  if (auto it = observation.latency.find(spec.type); it != observation.latency.end()) {
    latency = &it->second;
  }

  ReadFormationLatency(spec, latency, fp);
  ScaleOutcome scale = ScalePlanner(spec, *formation, before, now, fp).Run();
  out.scale = std::move(scale.action);
  out.status.event = apply ? scale.if_applied : scale.if_not_applied;
  fp.undo.event_if_not_scaled = scale.if_not_applied;
  fp.event_depth = out.status.event.depth;

  const std::vector<const DynoState*> dynos = DynosOf(observation, spec.type);
  const std::optional<Overload> overload = MeasureOverload(spec, dynos, latency);
  if (overload && overload->whole_formation()) {
    out.status.overloaded_at = now;
  } else if (before) {
    out.status.overloaded_at = before->overloaded_at;
  }
  if (spec.laggards) {
    out.dyno_actions = PlanLaggards(spec, *formation, dynos, latency, before, overload,
                                    out.scale.has_value(), now, rng, fp);
  }
  if (apply) {
    auto& restarts = out.status.restarts;
    for (const Action& a : out.dyno_actions) {
      restarts.push_back({a.dyno, now, spec.laggards->action, a.reason});
    }
    if (restarts.size() > kMaxRestartHistory) {
      restarts.erase(restarts.begin(),
                     restarts.end() - static_cast<std::ptrdiff_t>(kMaxRestartHistory));
    }
  }

  SetReady(fp, dynos, previous, now);
  if (scale.latency_event) {
    const Condition& c = *scale.latency_event;
    SetCondition(fp.conditions, previous, kLatencyEvent, c.status, c.reason, c.message, now);
  }
  std::vector<std::string> problems;
  if (!scale.degraded.empty()) {
    problems.push_back(scale.degraded);
  } else if (!fp.latency_error.empty() && spec.laggards) {
    problems.push_back("latency unknown (" + fp.latency_error + "): no laggard verdict");
  } else if (!latency && spec.laggards) {
    problems.push_back("latency not observed: no laggard verdict");
  }
  // A source that could not observe is a failure to fix; too little data is not.
  SetDegraded(fp.conditions, previous,
              fp.latency_error.empty() ? "LatencyUnknown" : "LatencySourceFailed", problems, now);
  SetPaused(fp.conditions, previous, policy.paused, now);
  out.status.conditions = fp.conditions;
  return out;
}

}  // namespace

Plan Reconcile(const spec::Policy& policy, const Observation& observation,
               const PolicyStatus* previous, TimePoint now, std::mt19937_64& rng) {
  Plan plan;
  plan.policy = policy.name;
  plan.app = policy.app;
  plan.planned_at = now;
  plan.apply = !policy.paused;
  if (previous && previous->app != policy.app) {
    plan.notes.push_back("the saved status is for app " + previous->app + ", not " + policy.app +
                         ": ignored");
    previous = nullptr;
  }
  plan.status.policy = policy.name;
  plan.status.app = policy.app;
  plan.status.updated_at = now;

  std::vector<Action> dyno_actions;
  for (const spec::FormationSpec& spec : policy.formations) {
    const FormationStatus* before = previous ? previous->FindFormation(spec.type) : nullptr;
    FormationOutcome f = PlanFormation(policy, spec, observation, before, plan.apply, now, rng);
    if (f.scale) plan.actions.push_back(std::move(*f.scale));  // scales first: one batch
    for (auto& a : f.dyno_actions)
      dyno_actions.push_back(std::move(a));
    plan.formations.push_back(std::move(f.plan));
    plan.status.formations.push_back(std::move(f.status));
  }
  for (auto& a : dyno_actions)
    plan.actions.push_back(std::move(a));
  return plan;
}

namespace {

// Turns the formation's Degraded true with `reason`, `what` appended to what the plan said.
void DegradeAfterApply(Plan& plan, FormationPlan& fp, FormationStatus& status,
                       const std::string& reason, const std::string& what) {
  const Condition* planned = FindCondition(fp.conditions, kDegraded);
  std::string message = what;
  if (planned && planned->status == ConditionStatus::kTrue && !planned->message.empty()) {
    message = planned->message + "; " + what;
  }
  SetCondition(fp.conditions, fp.undo.previous_conditions, kDegraded, ConditionStatus::kTrue,
               reason, std::move(message), plan.planned_at);
  status.conditions = fp.conditions;
}

}  // namespace

void RecordActionFailure(Plan& plan, size_t action_index, const Status& error) {
  if (action_index >= plan.actions.size()) return;
  Action& action = plan.actions[action_index];
  action.failed = true;
  action.error = error.ToString();
  FormationPlan* fp = plan.FindFormation(action.formation);
  FormationStatus* status = plan.status.FindFormation(action.formation);
  if (!fp || !status) return;

  if (action.kind == ActionKind::kScale) {
    status->event = fp->undo.event_if_not_scaled;
    fp->event_depth = status->event.depth;
  } else {
    std::erase_if(status->restarts, [&](const RestartRecord& r) {
      return r.dyno == action.dyno && r.at == plan.planned_at;
    });
  }
  DegradeAfterApply(plan, *fp, *status, "ActionFailed",
                    action.Summary() + " failed: " + action.error);
}

void RecordActionUnknown(Plan& plan, size_t action_index, const Status& error) {
  if (action_index >= plan.actions.size()) return;
  Action& action = plan.actions[action_index];
  action.outcome_unknown = true;
  action.error = error.ToString();
  FormationPlan* fp = plan.FindFormation(action.formation);
  FormationStatus* status = plan.status.FindFormation(action.formation);
  if (!fp || !status) return;
  // The effect stays in the status: the write may have happened.
  DegradeAfterApply(plan, *fp, *status, "OutcomeUnknown",
                    action.Summary() + ": outcome unknown (" + action.error +
                        "); the next pass observes whether it took effect");
}

}  // namespace dynoherd::reconciler
