#include "reconciler/policy_status.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace dynoherd::reconciler {

using nlohmann::json;

std::string_view Name(ConditionStatus status) {
  switch (status) {
    case ConditionStatus::kTrue:
      return "True";
    case ConditionStatus::kFalse:
      return "False";
    case ConditionStatus::kUnknown:
      return "Unknown";
  }
  return "Unknown";
}

const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type) {
  return FindByType(conditions, type);
}

std::optional<TimePoint> FormationStatus::LastRestartAt() const {
  std::optional<TimePoint> last;
  for (const auto& r : restarts) {
    if (!last || r.at > *last) last = r.at;
  }
  return last;
}

const FormationStatus* PolicyStatus::FindFormation(std::string_view type) const {
  return FindByType(formations, type);
}

FormationStatus* PolicyStatus::FindFormation(std::string_view type) {
  return FindByType(formations, type);
}

namespace {

json OptionalTime(const std::optional<TimePoint>& t) {
  return t ? json(FormatTimestamp(*t)) : json(nullptr);
}

// Reads fields out of a JSON object, remembering the first error with the field's path.
class Reader {
 public:
  Reader(const json& object, std::string path) : object_(object), path_(std::move(path)) {}

  bool IsObject() {
    if (object_.is_object()) return true;
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
  std::optional<int> OptionalInt(const char* key) {
    const json* v = Get(key, false);
    if (!v || v->is_null()) return std::nullopt;
    return Int(key);
  }
  TimePoint Time(const char* key) {
    const json* v = Get(key, true);
    if (!v) return {};
    std::optional<TimePoint> t =
        v->is_string() ? ParseTimestamp(v->get<std::string>()) : std::nullopt;
    if (!t) return Fail(key, "expected an RFC 3339 timestamp"), TimePoint{};
    return *t;
  }
  std::optional<TimePoint> OptionalTime(const char* key) {
    const json* v = Get(key, false);
    if (!v || v->is_null()) return std::nullopt;
    return Time(key);
  }
  // The object under `key`, or nullptr (and an error) when it is missing or not an object.
  const json* Object(const char* key) {
    const json* v = Get(key, true);
    if (v && !v->is_object()) return Fail(key, "expected an object"), nullptr;
    return v;
  }
  // The array under `key` (empty if absent), or nullptr after an error.
  const json* Array(const char* key) {
    static const json kEmpty = json::array();
    const json* v = Get(key, false);
    if (!v) return &kEmpty;
    if (!v->is_array()) return Fail(key, "expected an array"), nullptr;
    return v;
  }
  std::string Path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  void Fail(const std::string& key, const std::string& what) {
    if (status_.ok()) {
      std::string where = key.empty() ? path_ : Path(key);
      status_ = Status::InvalidArgument((where.empty() ? "" : where + ": ") + what);
    }
  }
  void Merge(const Status& s) {
    if (status_.ok() && !s.ok()) status_ = s;
  }
  const Status& status() const { return status_; }

 private:
  const json* Get(const char* key, bool required) {
    if (!status_.ok() || !object_.is_object()) return nullptr;
    auto it = object_.find(key);
    if (it == object_.end()) {
      if (required) Fail(key, "missing");
      return nullptr;
    }
    return &*it;
  }

  const json& object_;
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

std::string Index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
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
    formations.push_back(
        {{"type", f.type},
         {"event",
          {{"startedAt", OptionalTime(e.started_at)},
           {"depth", e.depth},
           {"lastStepAt", OptionalTime(e.last_step_at)},
           {"capturedBaseline", e.captured_baseline ? json(*e.captured_baseline) : json(nullptr)}}},
         {"restarts", std::move(restarts)},
         {"conditions", std::move(conditions)},
         {"overloadedAt", OptionalTime(f.overloaded_at)}});
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
  const json* formations = top.Array("formations");
  if (!top.status().ok()) return top.status();
  for (size_t i = 0; i < formations->size(); ++i) {
    const std::string path = Index("formations", i);
    Reader fr((*formations)[i], path);
    if (!fr.IsObject()) return fr.status();
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

    if (const json* restarts = fr.Array("restarts")) {
      for (size_t k = 0; k < restarts->size() && fr.status().ok(); ++k) {
        Reader rr((*restarts)[k], Index(fr.Path("restarts"), k));
        if (rr.IsObject()) {
          RestartRecord r;
          r.dyno = rr.String("dyno");
          r.at = rr.Time("at");
          r.action = ParseLaggardAction(rr, rr.String("action"));
          r.reason = rr.String("reason");
          f.restarts.push_back(std::move(r));
        }
        fr.Merge(rr.status());
      }
    }
    if (const json* conditions = fr.Array("conditions")) {
      for (size_t k = 0; k < conditions->size() && fr.status().ok(); ++k) {
        Reader cr((*conditions)[k], Index(fr.Path("conditions"), k));
        if (cr.IsObject()) {
          Condition c;
          c.type = cr.String("type");
          c.status = ParseConditionStatus(cr, cr.String("status"));
          c.reason = cr.String("reason");
          c.message = cr.String("message");
          c.last_transition_time = cr.Time("lastTransitionTime");
          f.conditions.push_back(std::move(c));
        }
        fr.Merge(cr.status());
      }
    }
    if (!fr.status().ok()) return fr.status();
    status.formations.push_back(std::move(f));
  }
  return status;
}

}  // namespace dynoherd::reconciler
