#include "model/codec.h"

#include <cstdint>
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
    const EventStatus& e = f.event;
    formations.push_back({{"type", f.type},
                          {"event",
                           {{"startedAt", TimeOrNull(e.started_at)},
                            {"depth", e.depth},
                            {"lastStepAt", TimeOrNull(e.last_step_at)},
                            {"capturedBaseline", OrNull(e.captured_baseline)}}},
                          {"restarts", std::move(restarts)},
                          {"conditions", std::move(conditions)},
                          {"overloadedAt", TimeOrNull(f.overloaded_at)}});
  }
  return {{"policy", status.policy},
          {"app", status.app},
          {"updatedAt", FormatTimestamp(status.updated_at)},
          {"formations", std::move(formations)}};
}

Result<PolicyStatus> PolicyStatusFromJson(const json& j) {
  PolicyStatus status;
  Reader top(j, "");
  if (!top.IsObject()) return top.status();
  status.policy = top.String("policy");
  status.app = top.String("app");
  status.updated_at = top.Time("updatedAt");
  top.ForEachObject("formations", [&status](Reader& fr) {
    FormationStatus f = ReadFormationStatus(fr);
    if (fr.status().ok()) status.formations.push_back(std::move(f));
  });
  if (!top.status().ok()) return top.status();
  return status;
}

json ToJson(const QueueLatency& q) {
  return {{"queue", q.queue},
          {"size", q.size},
          {"latencySeconds", OrNull(q.latency_seconds)},
          {"error", q.error}};
}

json ToJson(const PassRecord& r) {
  json formations = json::array();
  for (const auto& f : r.formations) {
    json queues = json::array();
    for (const auto& q : f.queues)
      queues.push_back(ToJson(q));
    formations.push_back({{"type", f.type},
                          {"observedQuantity", OrNull(f.observed_quantity)},
                          {"desiredQuantity", OrNull(f.desired_quantity)},
                          {"baseline", OrNull(f.baseline)},
                          {"baselineKind", f.baseline_kind},
                          {"dynosUp", f.dynos_up},
                          {"dynos", f.dynos},
                          {"statistic", f.statistic},
                          {"latencySeconds", OrNull(f.latency_seconds)},
                          {"latencyUnknownReason", f.latency_unknown_reason},
                          {"queues", std::move(queues)}});
  }
  json actions = json::array();
  for (const auto& a : r.actions) {
    actions.push_back({{"formation", a.formation},
                       {"kind", a.kind},
                       {"summary", a.summary},
                       {"reason", a.reason},
                       {"failed", a.failed},
                       {"error", a.error}});
  }
  return {{"startedAt", FormatTimestamp(r.started_at)},
          {"finishedAt", FormatTimestamp(r.finished_at)},
          {"result", r.ok ? "ok" : "error"},
          {"error", r.error},
          {"observedAt", TimeOrNull(r.observed_at)},
          {"formations", std::move(formations)},
          {"actionsAt", TimeOrNull(r.actions_at)},
          {"actions", std::move(actions)}};
}

Result<PassRecord> PassRecordFromJson(const json& j) {
  PassRecord r;
  Reader fields(j, "");
  if (!fields.IsObject()) return fields.status();
  fields.ReadTime("startedAt", r.started_at);
  fields.ReadTime("finishedAt", r.finished_at);
  std::string result = "ok";
  fields.Read("result", result);
  r.ok = result == "ok";
  fields.Read("error", r.error);
  fields.ReadTime("observedAt", r.observed_at);
  fields.ForEachObject("formations", [&r](Reader& f) {
    FormationRecord out;
    f.Read("type", out.type);
    f.Read("observedQuantity", out.observed_quantity);
    f.Read("desiredQuantity", out.desired_quantity);
    f.Read("baseline", out.baseline);
    f.Read("baselineKind", out.baseline_kind);
    f.Read("dynosUp", out.dynos_up);
    f.Read("dynos", out.dynos);
    f.Read("statistic", out.statistic);
    f.Read("latencySeconds", out.latency_seconds);
    f.Read("latencyUnknownReason", out.latency_unknown_reason);
    f.ForEachObject("queues", [&out](Reader& q) {
      QueueLatency queue;
      q.Read("queue", queue.queue);
      q.Read("size", queue.size);
      q.Read("latencySeconds", queue.latency_seconds);
      q.Read("error", queue.error);
      out.queues.push_back(std::move(queue));
    });
    r.formations.push_back(std::move(out));
  });
  fields.ReadTime("actionsAt", r.actions_at);
  fields.ForEachObject("actions", [&r](Reader& f) {
    ActionRecord out;
    f.Read("formation", out.formation);
    f.Read("kind", out.kind);
    f.Read("summary", out.summary);
    f.Read("reason", out.reason);
    f.Read("failed", out.failed);
    f.Read("error", out.error);
    r.actions.push_back(std::move(out));
  });
  if (!fields.status().ok()) return fields.status();
  return r;
}

}  // namespace dynoherd::model
