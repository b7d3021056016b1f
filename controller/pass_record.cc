#include "controller/pass_record.h"

namespace dynoherd::controller {

namespace {

using nlohmann::json;

template <typename T>
json OrNull(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json TimeOrNull(const std::optional<TimePoint>& t) {
  return t ? json(FormatTimestamp(*t)) : json(nullptr);
}

FormationRecord RecordOf(const reconciler::FormationPlan& fp,
                         const reconciler::Observation& observation) {
  FormationRecord f;
  f.type = fp.type;
  f.observed_quantity = fp.observed_quantity;
  f.desired_quantity = fp.desired_quantity;
  f.baseline = fp.baseline;
  f.baseline_kind = std::string(reconciler::Name(fp.baseline_kind));
  for (const auto& d : observation.dynos) {
    if (d.type != fp.type) continue;
    ++f.dynos;
    if (d.state == "up") ++f.dynos_up;
  }
  if (observation.latency.count(fp.type)) {
    f.statistic = std::string(spec::Name(fp.statistic));
    f.latency_seconds = fp.latency_seconds;
    f.latency_unknown_reason = fp.latency_unknown_reason;
    if (!f.latency_seconds && f.latency_unknown_reason.empty()) {
      // Formations without autoscale: the planner does not read a formation statistic.
      const auto& latency = observation.latency.at(fp.type);
      f.latency_seconds = latency.value;
      f.latency_unknown_reason = latency.unknown_reason;
    }
  }
  return f;
}

// Reads typed fields with defaults, remembering the first mistyped one.
class Fields {
 public:
  Fields(const json& object, std::string path) : object_(object), path_(std::move(path)) {}

  template <typename T>
  void Get(const char* key, T& out) {
    const json* v = Find(key);
    if (!v) return;
    try {
      out = v->get<T>();
    } catch (const json::exception&) {
      Fail(key, "has the wrong type");
    }
  }
  template <typename T>
  void Get(const char* key, std::optional<T>& out) {
    const json* v = Find(key);
    if (!v) return;
    T value{};
    Get(key, value);
    if (status_.ok()) out = value;
  }
  void Time(const char* key, TimePoint& out) {
    std::optional<TimePoint> t;
    Time(key, t);
    if (t) out = *t;
  }
  void Time(const char* key, std::optional<TimePoint>& out) {
    const json* v = Find(key);
    if (!v) return;
    out = v->is_string() ? ParseTimestamp(v->get<std::string>()) : std::nullopt;
    if (!out) Fail(key, "expected an RFC 3339 timestamp");
  }
  // The array under `key`, or nullptr when absent or mistyped.
  const json* Array(const char* key) {
    const json* v = Find(key);
    if (v && !v->is_array()) {
      Fail(key, "expected an array");
      return nullptr;
    }
    return v;
  }
  std::string Path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  void Merge(const Status& s) {
    if (status_.ok()) status_ = s;
  }
  const Status& status() const { return status_; }

 private:
  const json* Find(const char* key) {
    if (!status_.ok()) return nullptr;
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  void Fail(const char* key, const std::string& what) {
    if (status_.ok()) status_ = Status::InvalidArgument(Path(key) + ": " + what);
  }

  const json& object_;
  std::string path_;
  Status status_;
};

template <typename T, typename ReadOne>
std::vector<T> ReadArray(Fields& fields, const char* key, ReadOne read_one) {
  std::vector<T> out;
  const json* array = fields.Array(key);
  if (!array) return out;
  for (size_t i = 0; i < array->size(); ++i) {
    const std::string path = fields.Path(key) + "[" + std::to_string(i) + "]";
    if (!(*array)[i].is_object()) {
      fields.Merge(Status::InvalidArgument(path + ": expected an object"));
      return out;
    }
    Fields item((*array)[i], path);
    out.push_back(read_one(item));
    fields.Merge(item.status());
  }
  return out;
}

}  // namespace

PassRecord NextPassRecord(const PassRecord* previous, const PassResult& result) {
  PassRecord r;
  if (previous) r = *previous;
  r.started_at = result.started_at;
  r.finished_at = result.finished_at;
  r.ok = result.status.ok();
  r.error = result.status.ok() ? "" : result.status.ToString();
  if (result.plan) {
    r.observed_at = result.observation.observed_at;
    r.formations.clear();
    for (const auto& fp : result.plan->formations)
      r.formations.push_back(RecordOf(fp, result.observation));
    if (result.applied) {
      r.actions_at = result.plan->planned_at;
      r.actions.clear();
      for (const auto& a : result.plan->actions) {
        r.actions.push_back({a.formation, std::string(reconciler::Name(a.kind)), a.Summary(),
                             a.reason, a.failed, a.error});
      }
    }
  }
  return r;
}

json ToJson(const PassRecord& r) {
  json formations = json::array();
  for (const auto& f : r.formations) {
    formations.push_back({{"type", f.type},
                          {"observedQuantity", OrNull(f.observed_quantity)},
                          {"desiredQuantity", OrNull(f.desired_quantity)},
                          {"baseline", OrNull(f.baseline)},
                          {"baselineKind", f.baseline_kind},
                          {"dynosUp", f.dynos_up},
                          {"dynos", f.dynos},
                          {"statistic", f.statistic},
                          {"latencySeconds", OrNull(f.latency_seconds)},
                          {"latencyUnknownReason", f.latency_unknown_reason}});
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
  if (!j.is_object()) return Status::InvalidArgument("expected an object");
  PassRecord r;
  Fields fields(j, "");
  fields.Time("startedAt", r.started_at);
  fields.Time("finishedAt", r.finished_at);
  std::string result = "ok";
  fields.Get("result", result);
  r.ok = result == "ok";
  fields.Get("error", r.error);
  fields.Time("observedAt", r.observed_at);
  r.formations = ReadArray<FormationRecord>(fields, "formations", [](Fields& f) {
    FormationRecord out;
    f.Get("type", out.type);
    f.Get("observedQuantity", out.observed_quantity);
    f.Get("desiredQuantity", out.desired_quantity);
    f.Get("baseline", out.baseline);
    f.Get("baselineKind", out.baseline_kind);
    f.Get("dynosUp", out.dynos_up);
    f.Get("dynos", out.dynos);
    f.Get("statistic", out.statistic);
    f.Get("latencySeconds", out.latency_seconds);
    f.Get("latencyUnknownReason", out.latency_unknown_reason);
    return out;
  });
  fields.Time("actionsAt", r.actions_at);
  r.actions = ReadArray<ActionRecord>(fields, "actions", [](Fields& f) {
    ActionRecord out;
    f.Get("formation", out.formation);
    f.Get("kind", out.kind);
    f.Get("summary", out.summary);
    f.Get("reason", out.reason);
    f.Get("failed", out.failed);
    f.Get("error", out.error);
    return out;
  });
  if (!fields.status().ok()) return fields.status();
  return r;
}

Status SavePass(providers::StateStore& store, const PassResult& result) {
  std::optional<PassRecord> previous;
  if (const json* saved = store.FindLastPass(result.policy)) {
    // A record this version cannot read is reporting data only: start a new one.
    Result<PassRecord> parsed = PassRecordFromJson(*saved);
    if (parsed.ok()) previous = std::move(parsed).value();
  }
  if (result.plan) store.Put(result.plan->status);
  store.PutLastPass(result.policy, ToJson(NextPassRecord(previous ? &*previous : nullptr, result)));
  return store.Write();
}

}  // namespace dynoherd::controller
