#include "model/status_validation.h"

namespace dynoherd::model {

namespace {

// The ranges of spec/fields.cc that saved values stand in for.
constexpr int kMaxQuantity = 1000;        // formation quantity
constexpr int kMaxExtraWorkers = 100;     // autoscale.maxExtraWorkers
constexpr int kMaxObservedQuantity = 100000;  // what the Heroku reader accepts
constexpr size_t kMaxDynoName = 128;

class Checker {
 public:
  Checker(const spec::FormationSpec& formation, TimePoint now) : formation_(formation), now_(now) {}

  void Event(const EventStatus& e) {
    if (e.captured_baseline) {
      Range("event.capturedBaseline", *e.captured_baseline, 0, kMaxQuantity);
      if (formation_.quantity) {
        Add("event.capturedBaseline: " + std::to_string(*e.captured_baseline) +
            " is for formations without a declared quantity, and this one declares " +
            std::to_string(*formation_.quantity));
      } else if (!formation_.autoscale) {
        Add("event.capturedBaseline: " + std::to_string(*e.captured_baseline) +
            " is for formations with autoscale, and this one has none");
      }
    }
    Range("event.depth", e.depth, 0, kMaxExtraWorkers);
    if (e.depth > 0 && !e.started_at) Add("event.depth: " + std::to_string(e.depth) + " outside an event");
    if (e.started_at && !formation_.autoscale) {
      Add("event.startedAt: an event in progress, and this formation has no autoscale");
    }
    NotFuture("event.startedAt", e.started_at);
    NotFuture("event.lastStepAt", e.last_step_at);
    if (e.started_at && e.last_step_at && *e.last_step_at < *e.started_at) {
      Add("event.lastStepAt: " + FormatTimestamp(*e.last_step_at) + " is before the event started (" +
          FormatTimestamp(*e.started_at) + ")");
    }
  }

  void Restarts(const std::vector<RestartRecord>& restarts) {
    if (restarts.size() > kMaxRestartHistory) {
      Add("restarts: " + std::to_string(restarts.size()) + " entries, at most " +
          std::to_string(kMaxRestartHistory) + " are kept");
    }
    for (size_t i = 0; i < restarts.size(); ++i) {
      const std::string where = "restarts[" + std::to_string(i) + "]";
      DynoName(where + ".dyno", restarts[i].dyno);
      NotFuture(where + ".at", restarts[i].at);
    }
  }

  void Intents(const std::vector<WriteIntent>& intents) {
    if (intents.size() > kMaxIntents) {
      Add("intents: " + std::to_string(intents.size()) + " entries, at most " +
          std::to_string(kMaxIntents));
    }
    for (size_t i = 0; i < intents.size(); ++i) {
      const WriteIntent& w = intents[i];
      const std::string where = "intents[" + std::to_string(i) + "]";
      if (w.id.empty()) Add(where + ".id: empty");
      NotFuture(where + ".at", w.at);
      if (w.kind == WriteKind::kScale) {
        Range(where + ".from", w.from_quantity, 0, kMaxObservedQuantity);
        Range(where + ".to", w.to_quantity, 0, kMaxQuantity + kMaxExtraWorkers);
        if (w.from_quantity == w.to_quantity) Add(where + ": a scale from " + std::to_string(w.from_quantity) + " to itself");
      } else {
        DynoName(where + ".dyno", w.dyno);
        NotFuture(where + ".dynoUpdatedAt", w.dyno_updated_at);
      }
    }
  }

  std::vector<std::string> Take() && { return std::move(problems_); }

 private:
  void Add(std::string problem) { problems_.push_back(std::move(problem)); }

  void Range(const std::string& field, int value, int low, int high) {
    if (value < low || value > high) {
      Add(field + ": " + std::to_string(value) + " is not in " + std::to_string(low) + ".." +
          std::to_string(high));
    }
  }

  void NotFuture(const std::string& field, const std::optional<TimePoint>& t) {
    if (t && *t > now_ + kClockSkewAllowance) {
      Add(field + ": " + FormatTimestamp(*t) + " is in the future (now " + FormatTimestamp(now_) +
          ")");
    }
  }

  void DynoName(const std::string& field, const std::string& name) {
    if (name.empty() || name.size() > kMaxDynoName) {
      Add(field + ": a dyno name must have 1 to " + std::to_string(kMaxDynoName) + " characters");
    }
  }

  const spec::FormationSpec& formation_;
  const TimePoint now_;
  std::vector<std::string> problems_;
};

}  // namespace

std::vector<std::string> ValidateFormationStatus(const FormationStatus& status,
                                                 const spec::FormationSpec& formation,
                                                 TimePoint now) {
  Checker check(formation, now);
  check.Event(status.event);
  check.Restarts(status.restarts);
  check.Intents(status.intents);
  return std::move(check).Take();
}

}  // namespace dynoherd::model
