#include "model/codec.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>

namespace dynoherd::model {

using nlohmann::json;

json TimeOrNull(const std::optional<TimePoint>& t) {
  return t ? json(FormatTimestamp(*t)) : json(nullptr);
}

json OrNull(const std::optional<int>& v) {
  return v ? json(*v) : json(nullptr);
}

json OrNull(const std::optional<double>& v) {
  return v ? json(*v) : json(nullptr);
}

json OrNull(const std::optional<std::string>& v) {
  return v ? json(*v) : json(nullptr);
}

namespace {

// Reads the fields of one JSON object, remembering the first error with the field's path. Three
// kinds of field: required (missing is an error), optional (absent or null is nullopt) and with a
// default (absent or null leaves the value alone). After an error it reads nothing more.
class Reader {
 public:
  Reader(const json& value, std::string path) : value_(value), path_(std::move(path)) {}

  bool IsObject() {
    if (value_.is_object()) return true;
    Fail("", "expected an object");
    return false;
  }

  std::string String(const char* key) {
    const json* v = Get(key, true);
    if (!v) return {};
    if (!v->is_string()) return Fail(key, "expected a string"), std::string();
    return v->get<std::string>();
  }
  int Int(const char* key) {
    const json* v = Get(key, true);
    if (!v) return 0;
    if (!v->is_number_integer() || v->get<int64_t>() < INT32_MIN || v->get<int64_t>() > INT32_MAX) {
      return Fail(key, "expected an integer"), 0;
    }
    return v->get<int>();
  }
  TimePoint Time(const char* key) {
    const json* v = Get(key, true);
    if (!v) return {};
    std::optional<TimePoint> t = ParseTime(*v);
    if (!t) return Fail(key, "expected an RFC 3339 timestamp"), TimePoint{};
    return *t;
  }
  // The object under `key`, or nullptr (and an error) when it is missing or not an object.
  const json* Object(const char* key) {
    const json* v = Get(key, true);
    if (v && !v->is_object()) return Fail(key, "expected an object"), nullptr;
    return v;
  }

  std::optional<int> OptionalInt(const char* key) {
    if (!Get(key, false)) return std::nullopt;
    return Int(key);
  }
  std::optional<TimePoint> OptionalTime(const char* key) {
    if (!Get(key, false)) return std::nullopt;
    return Time(key);
  }

  template <typename T>
  void Read(const char* key, T& out) {
    const json* v = Get(key, false);
    if (!v) return;
    try {
      out = v->get<T>();
    } catch (const json::exception&) {
      Fail(key, "has the wrong type");
    }
  }
  template <typename T>
  void Read(const char* key, std::optional<T>& out) {
    if (!Get(key, false)) return;
    T value{};
    Read(key, value);
    if (status_.ok()) out = value;
  }
  void ReadTime(const char* key, TimePoint& out) {
    if (std::optional<TimePoint> t = OptionalTime(key)) out = *t;
  }
  void ReadTime(const char* key, std::optional<TimePoint>& out) {
    if (std::optional<TimePoint> t = OptionalTime(key)) out = *t;
  }

  // Hands a reader of the object under `key` to `read` when it is there and not null.
  template <typename ReadOne>
  void WithObject(const char* key, ReadOne read) {
    const json* v = Get(key, false);
    if (!v) return;
    if (!v->is_object()) return Fail(key, "expected an object");
    Reader inner(*v, Path(key));
    read(inner);
    Merge(inner.status());
  }

  // Hands a reader of each object in the array under `key` (absent or null: none) to `read_one`;
  // stops at the first error.
  template <typename ReadOne>
  void ForEachObject(const char* key, ReadOne read_one) {
    const json* array = Get(key, false);
    if (!array) return;
    if (!array->is_array()) return Fail(key, "expected an array");
    for (size_t i = 0; i < array->size() && status_.ok(); ++i) {
      Reader item((*array)[i], Path(key) + "[" + std::to_string(i) + "]");
      if (item.IsObject()) read_one(item);
      Merge(item.status());
    }
  }

  std::string Path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  void Fail(const std::string& key, const std::string& what) {
    if (!status_.ok()) return;
    const std::string where = key.empty() ? path_ : Path(key);
    status_ = Status::InvalidArgument((where.empty() ? "" : where + ": ") + what);
  }
  void Merge(const Status& s) {
    if (status_.ok() && !s.ok()) status_ = s;
  }
  const Status& status() const { return status_; }

 private:
  static std::optional<TimePoint> ParseTime(const json& v) {
    return v.is_string() ? ParseTimestamp(v.get<std::string>()) : std::nullopt;
  }
  // The value under `key`; nullptr after an earlier error, when absent (an error if `required`),
  // or when null and not required.
  const json* Get(const char* key, bool required) {
    if (!status_.ok() || !value_.is_object()) return nullptr;
    auto it = value_.find(key);
    if (it == value_.end()) {
      if (required) Fail(key, "missing");
      return nullptr;
    }
    if (!required && it->is_null()) return nullptr;
    return &*it;
  }

  const json& value_;
  std::string path_;
  Status status_;
};

ConditionStatus ParseConditionStatus(Reader& r, const std::string& text) {
  for (auto s : {ConditionStatus::kTrue, ConditionStatus::kFalse, ConditionStatus::kUnknown}) {
    if (text == Name(s)) return s;
  }
  r.Fail("status", "expected True, False or Unknown");
  return ConditionStatus::kUnknown;
}

spec::LaggardAction ParseLaggardAction(Reader& r, const std::string& text) {
  for (auto a : {spec::LaggardAction::kRestart, spec::LaggardAction::kStop}) {
    if (text == spec::Name(a)) return a;
  }
  r.Fail("action", "expected restart or stop");
  return spec::LaggardAction::kRestart;
}

template <typename Enum>
Enum ParseName(Reader& r, const char* key, std::initializer_list<Enum> values, const char* expected) {
  const std::string text = r.String(key);
  for (Enum v : values) {
    if (text == Name(v)) return v;
  }
  r.Fail(key, expected);
  return *values.begin();
}

WriteIntent ReadIntent(Reader& r) {
  WriteIntent w;
  w.id = r.String("id");
  w.state = ParseName(r, "state", {IntentState::kPending, IntentState::kUnknown},
                      "expected pending or unknown");
  w.at = r.Time("at");
  w.kind = ParseName(r, "kind", {WriteKind::kScale, WriteKind::kRestart, WriteKind::kStop},
                     "expected scale, restart or stop");
  w.cause = r.String("cause");
  if (w.kind == WriteKind::kScale) {
    w.from_quantity = r.Int("from");
    w.to_quantity = r.Int("to");
  } else {
    w.dyno = r.String("dyno");
    w.dyno_updated_at = r.Time("dynoUpdatedAt");
  }
  w.reason = r.String("reason");
  return w;
}

json ToJson(const WriteIntent& w) {
  const bool scale = w.kind == WriteKind::kScale;
  return {{"id", w.id},
          {"state", Name(w.state)},
          {"at", FormatTimestamp(w.at)},
          {"kind", Name(w.kind)},
          {"cause", w.cause},
          {"from", scale ? json(w.from_quantity) : json(nullptr)},
          {"to", scale ? json(w.to_quantity) : json(nullptr)},
          {"dyno", scale ? json(nullptr) : json(w.dyno)},
          {"dynoUpdatedAt", scale ? json(nullptr) : json(FormatTimestamp(w.dyno_updated_at))},
          {"reason", w.reason}};
}

Condition ReadCondition(Reader& r) {
  Condition c;
  c.type = r.String("type");
  c.status = ParseConditionStatus(r, r.String("status"));
  c.reason = r.String("reason");
  c.message = r.String("message");
  c.last_transition_time = r.Time("lastTransitionTime");
  return c;
}

FormationStatus ReadFormationStatus(Reader& fr) {
  FormationStatus f;
  f.type = fr.String("type");
  const json* event_json = fr.Object("event");
  static const json kNoEvent;
  Reader event_reader(event_json ? *event_json : kNoEvent, fr.Path("event"));
  if (event_json) {
    f.event.started_at = event_reader.OptionalTime("startedAt");
    f.event.depth = event_reader.Int("depth");
    f.event.last_step_at = event_reader.OptionalTime("lastStepAt");
    f.event.captured_baseline = event_reader.OptionalInt("capturedBaseline");
  }
  fr.Merge(event_reader.status());
  f.overloaded_at = fr.OptionalTime("overloadedAt");  // absent in files of older versions
  fr.ForEachObject("restarts", [&f](Reader& rr) {
    RestartRecord r;
    r.dyno = rr.String("dyno");
    r.at = rr.Time("at");
    r.action = ParseLaggardAction(rr, rr.String("action"));
    r.reason = rr.String("reason");
    f.restarts.push_back(std::move(r));
  });
  fr.ForEachObject("conditions", [&f](Reader& cr) { f.conditions.push_back(ReadCondition(cr)); });
  // Absent in files of state version 1, which had no intents.
  fr.ForEachObject("intents", [&f](Reader& ir) { f.intents.push_back(ReadIntent(ir)); });
  return f;
}

}  // namespace

json ToJson(const Condition& c) {
  return {{"type", c.type},
          {"status", Name(c.status)},
          {"reason", c.reason},
          {"message", c.message},
          {"lastTransitionTime", FormatTimestamp(c.last_transition_time)}};
}

json ToJson(const PolicyStatus& status) {
  json formations = json::array();
  for (const auto& f : status.formations) {
    json restarts = json::array();
    for (const auto& r : f.restarts) {
      restarts.push_back({{"dyno", r.dyno},
                          {"at", FormatTimestamp(r.at)},
                          {"action", spec::Name(r.action)},
                          {"reason", r.reason}});
    }
    json conditions = json::array();
    for (const auto& c : f.conditions)
      conditions.push_back(ToJson(c));
    json intents = json::array();
    for (const auto& w : f.intents)
      intents.push_back(ToJson(w));
    const EventStatus& e = f.event;
    formations.push_back({{"type", f.type},
                          {"event",
                           {{"startedAt", TimeOrNull(e.started_at)},
                            {"depth", e.depth},
                            {"lastStepAt", TimeOrNull(e.last_step_at)},
                            {"capturedBaseline", OrNull(e.captured_baseline)}}},
                          {"restarts", std::move(restarts)},
                          {"conditions", std::move(conditions)},
                          {"overloadedAt", TimeOrNull(f.overloaded_at)},
                          {"intents", std::move(intents)}});
  }
  return {{"name", status.policy},
          {"app", status.app},
          {"updatedAt", FormatTimestamp(status.updated_at)},
          {"formations", std::move(formations)}};
}

Result<PolicyStatus> PolicyStatusFromJson(const json& j) {
  PolicyStatus status;
  Reader top(j, "");
  if (!top.IsObject()) return top.status();
  // "policy" before 0.1.0's output contract named it "name".
  status.policy = top.String(j.is_object() && j.contains("name") ? "name" : "policy");
  status.app = top.String("app");
  status.updated_at = top.Time("updatedAt");
  top.ForEachObject("formations", [&status](Reader& fr) {
    FormationStatus f = ReadFormationStatus(fr);
    if (fr.status().ok()) status.formations.push_back(std::move(f));
  });
  if (!top.status().ok()) return top.status();
  return status;
}

json ToJson(const LatencyStats& s) {
  // No timed request, no statistic: null, not 0.
  auto seconds = [&s](double v) { return s.count > 0 ? json(v) : json(nullptr); };
  return {{"requests", s.count},   {"mean", seconds(s.mean)}, {"p50", seconds(s.p50)},
          {"p95", seconds(s.p95)}, {"p99", seconds(s.p99)},   {"max", seconds(s.max)},
          {"errors", s.errors}};
}

json ToJson(const VerdictReport& v) {
  return {{"dyno", v.dyno},       {"judged", v.judged},       {"slow", v.slow},
          {"value", v.value},     {"score", OrNull(v.score)}, {"reference", v.reference},
          {"reason", v.reason}};
}

json ToJson(const QueueLatency& q) {
  return {{"queue", q.queue},
          {"size", q.size},
          {"latencySeconds", OrNull(q.latency_seconds)},
          {"error", q.error.empty() ? json(nullptr) : json(q.error)}};
}

json ToJson(const FormationLatencyReport& l) {
  json queues = json::array();
  for (const auto& q : l.queues)
    queues.push_back(ToJson(q));
  return {{"statistic", l.statistic},
          {"seconds", OrNull(l.seconds)},
          {"samples", l.samples},
          {"unknownReason", OrNull(l.unknown_reason)},
          {"error", OrNull(l.error)},
          {"queues", std::move(queues)}};
}

namespace {

json ToJson(const EventReport& e) {
  return {{"inEvent", e.in_event},
          {"startedAt", TimeOrNull(e.started_at)},
          {"startEstimated", e.start_estimated},
          {"depth", e.depth},
          {"maxDepth", e.max_depth},
          {"exceededMaxDuration", e.exceeded_max_duration}};
}

json ToJson(const CapacityReport& c) {
  return {{"targetUtilization", c.target_utilization},
          {"arrivalsPerSecond", OrNull(c.arrivals_per_second)},
          {"serviceSeconds", OrNull(c.service_seconds)},
          {"queuedJobs", c.queued_jobs},
          {"neededQuantity", OrNull(c.needed_quantity)},
          {"utilization", OrNull(c.utilization)}};
}

json ToJson(const BoundsReport& b) {
  return {{"min", OrNull(b.min)}, {"max", OrNull(b.max)}, {"schedule", OrNull(b.schedule)}};
}

json ToJson(const LaggardsReport& l) {
  json verdicts = json::array();
  for (const auto& v : l.verdicts)
    verdicts.push_back(ToJson(v));
  return {{"decided", l.decided},
          {"noVerdictReason", OrNull(l.no_verdict_reason)},
          {"verdicts", std::move(verdicts)}};
}

json ToJson(const DynoReport& d) {
  return {{"name", d.name},
          {"state", d.state},
          {"updatedAt", TimeOrNull(d.updated_at)},
          {"latency", d.latency ? ToJson(*d.latency) : json(nullptr)}};
}

template <typename T>
json OrNullJson(const std::optional<T>& v) {
  return v ? ToJson(*v) : json(nullptr);
}

template <typename T>
json ArrayOf(const std::vector<T>& items) {
  json out = json::array();
  for (const auto& item : items)
    out.push_back(ToJson(item));
  return out;
}

LatencyStats ReadLatencyStats(Reader& r) {
  LatencyStats s;
  r.Read("requests", s.count);
  r.Read("mean", s.mean);
  r.Read("p50", s.p50);
  r.Read("p95", s.p95);
  r.Read("p99", s.p99);
  r.Read("max", s.max);
  r.Read("errors", s.errors);
  return s;
}

VerdictReport ReadVerdict(Reader& r) {
  VerdictReport v;
  r.Read("dyno", v.dyno);
  r.Read("judged", v.judged);
  r.Read("slow", v.slow);
  r.Read("value", v.value);
  r.Read("score", v.score);
  r.Read("reference", v.reference);
  r.Read("reason", v.reason);
  return v;
}

FormationReport ReadFormationReport(Reader& r) {
  FormationReport f;
  r.Read("type", f.type);
  r.Read("observedQuantity", f.observed_quantity);
  r.Read("desiredQuantity", f.desired_quantity);
  r.WithObject("baseline", [&f](Reader& b) {
    b.Read("kind", f.baseline_kind);
    b.Read("quantity", f.baseline);
  });
  r.WithObject("latency", [&f](Reader& l) {
    FormationLatencyReport& latency = f.latency.emplace();
    l.Read("statistic", latency.statistic);
    l.Read("seconds", latency.seconds);
    l.Read("samples", latency.samples);
    l.Read("unknownReason", latency.unknown_reason);
    l.Read("error", latency.error);
    l.ForEachObject("queues", [&latency](Reader& q) {
      QueueLatency queue;
      q.Read("queue", queue.queue);
      q.Read("size", queue.size);
      q.Read("latencySeconds", queue.latency_seconds);
      std::optional<std::string> error;
      q.Read("error", error);
      queue.error = error.value_or("");
      latency.queues.push_back(std::move(queue));
    });
  });
  r.WithObject("event", [&f](Reader& e) {
    EventReport& event = f.event.emplace();
    e.Read("inEvent", event.in_event);
    e.ReadTime("startedAt", event.started_at);
    e.Read("startEstimated", event.start_estimated);
    e.Read("depth", event.depth);
    e.Read("maxDepth", event.max_depth);
    e.Read("exceededMaxDuration", event.exceeded_max_duration);
  });
  r.WithObject("capacity", [&f](Reader& c) {
    CapacityReport& capacity = f.capacity.emplace();
    c.Read("targetUtilization", capacity.target_utilization);
    c.Read("arrivalsPerSecond", capacity.arrivals_per_second);
    c.Read("serviceSeconds", capacity.service_seconds);
    c.Read("queuedJobs", capacity.queued_jobs);
    c.Read("neededQuantity", capacity.needed_quantity);
    c.Read("utilization", capacity.utilization);
  });
  r.WithObject("bounds", [&f](Reader& b) {
    b.Read("min", f.bounds.min);
    b.Read("max", f.bounds.max);
    b.Read("schedule", f.bounds.schedule);
  });
  r.WithObject("laggards", [&f](Reader& l) {
    LaggardsReport& laggards = f.laggards.emplace();
    l.Read("decided", laggards.decided);
    l.Read("noVerdictReason", laggards.no_verdict_reason);
    l.ForEachObject("verdicts",
                    [&laggards](Reader& v) { laggards.verdicts.push_back(ReadVerdict(v)); });
  });
  r.Read("notes", f.notes);
  r.ForEachObject("conditions", [&f](Reader& c) { f.conditions.push_back(ReadCondition(c)); });
  r.ForEachObject("dynos", [&f](Reader& d) {
    DynoReport dyno;
    d.Read("name", dyno.name);
    d.Read("state", dyno.state);
    d.ReadTime("updatedAt", dyno.updated_at);
    d.WithObject("latency", [&dyno](Reader& l) { dyno.latency = ReadLatencyStats(l); });
    f.dynos.push_back(std::move(dyno));
  });
  return f;
}

ActionReport ReadAction(Reader& r) {
  ActionReport a;
  r.Read("kind", a.kind);
  r.Read("cause", a.cause);
  r.Read("formation", a.formation);
  r.Read("from", a.from);
  r.Read("to", a.to);
  r.Read("dyno", a.dyno);
  r.Read("summary", a.summary);
  r.Read("reason", a.reason);
  r.Read("applied", a.applied);
  r.Read("failed", a.failed);
  r.Read("outcomeUnknown", a.outcome_unknown);
  r.Read("error", a.error);
  return a;
}

PassReport ReadPassReport(Reader& r) {
  PassReport p;
  r.Read("name", p.name);
  r.Read("app", p.app);
  std::string result = "ok";
  r.Read("result", result);
  p.ok = result == "ok";
  r.Read("error", p.error);
  r.ReadTime("startedAt", p.started_at);
  r.ReadTime("finishedAt", p.finished_at);
  r.ReadTime("observedAt", p.observed_at);
  r.ReadTime("plannedAt", p.planned_at);
  r.Read("paused", p.paused);
  r.Read("applied", p.applied);
  r.ForEachObject("actions", [&p](Reader& a) { p.actions.push_back(ReadAction(a)); });
  r.ForEachObject("formations",
                  [&p](Reader& f) { p.formations.push_back(ReadFormationReport(f)); });
  r.Read("notes", p.notes);
  return p;
}

}  // namespace

json ToJson(const FormationReport& f) {
  return {{"type", f.type},
          {"observedQuantity", OrNull(f.observed_quantity)},
          {"desiredQuantity", OrNull(f.desired_quantity)},
          {"baseline", {{"kind", f.baseline_kind}, {"quantity", OrNull(f.baseline)}}},
          {"latency", OrNullJson(f.latency)},
          {"event", OrNullJson(f.event)},
          {"capacity", OrNullJson(f.capacity)},
          {"bounds", ToJson(f.bounds)},
          {"laggards", OrNullJson(f.laggards)},
          {"notes", f.notes},
          {"conditions", ArrayOf(f.conditions)},
          {"dynos", ArrayOf(f.dynos)}};
}

json ToJson(const ActionReport& a) {
  return {{"kind", a.kind},
          {"cause", a.cause},
          {"formation", a.formation},
          {"from", OrNull(a.from)},
          {"to", OrNull(a.to)},
          {"dyno", OrNull(a.dyno)},
          {"summary", a.summary},
          {"reason", a.reason},
          {"applied", a.applied},
          {"failed", a.failed},
          {"outcomeUnknown", a.outcome_unknown},
          {"error", OrNull(a.error)}};
}

json ToJson(const PassReport& p) {
  return {{"name", p.name},
          {"app", p.app},
          {"result", p.ok ? "ok" : "error"},
          {"error", OrNull(p.error)},
          {"startedAt", FormatTimestamp(p.started_at)},
          {"finishedAt", FormatTimestamp(p.finished_at)},
          {"durationSeconds", std::max(0.0, ToSeconds(p.finished_at - p.started_at))},
          {"observedAt", TimeOrNull(p.observed_at)},
          {"plannedAt", TimeOrNull(p.planned_at)},
          {"paused", p.paused},
          {"applied", p.applied},
          {"actions", ArrayOf(p.actions)},
          {"formations", ArrayOf(p.formations)},
          {"notes", p.notes}};
}

json ToJson(const LastActions& a) {
  return {{"at", FormatTimestamp(a.at)}, {"actions", ArrayOf(a.actions)}};
}

json ToJson(const PassRecord& r) {
  return {{"lastPass", ToJson(r.last_pass)}, {"lastActions", OrNullJson(r.last_actions)}};
}

Result<std::optional<PassRecord>> PassRecordFromJson(const json& j) {
  Reader top(j, "");
  if (!top.IsObject()) return top.status();
  if (!j.contains("lastPass")) return std::optional<PassRecord>();  // the layout before 0.1.0
  PassRecord record;
  top.WithObject("lastPass", [&record](Reader& p) { record.last_pass = ReadPassReport(p); });
  top.WithObject("lastActions", [&record](Reader& a) {
    LastActions& last = record.last_actions.emplace();
    a.ReadTime("at", last.at);
    a.ForEachObject("actions", [&last](Reader& action) { last.actions.push_back(ReadAction(action)); });
  });
  if (!top.status().ok()) return top.status();
  return std::optional<PassRecord>(std::move(record));
}

}  // namespace dynoherd::model
