#include "spec/fields.h"

#include <cmath>
#include <cstdio>
#include <type_traits>

namespace dynoherd::spec {
namespace {

using namespace std::chrono_literals;

template <typename T>
struct MemberTraits;
template <typename S, typename T>
struct MemberTraits<T S::*> {
  using Struct = S;
  using Type = T;
};

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};

template <typename T>
std::optional<FieldValue> ToFieldValue(const T& value) {
  if constexpr (IsOptional<T>::value) {
    if (!value) return std::nullopt;
    return ToFieldValue(*value);
  } else if constexpr (std::is_enum_v<T> || std::is_same_v<T, int> || std::is_same_v<T, uint64_t>) {
    return FieldValue(static_cast<int64_t>(value));
  } else {
    return FieldValue(value);
  }
}

template <typename T>
void Assign(T& target, const FieldValue& value) {
  if constexpr (IsOptional<T>::value) {
    typename T::value_type inner{};
    Assign(inner, value);
    target = std::move(inner);
  } else if constexpr (std::is_enum_v<T> || std::is_same_v<T, int> || std::is_same_v<T, uint64_t>) {
    target = static_cast<T>(std::get<int64_t>(value));
  } else if constexpr (std::is_same_v<T, double>) {
    // Integers are numbers too: `rps: 40` arrives as an int64_t.
    target = std::holds_alternative<int64_t>(value) ? static_cast<double>(std::get<int64_t>(value))
                                                    : std::get<double>(value);
  } else {
    target = std::get<T>(value);
  }
}

// Chains the optional parts of a field onto it; converts to Field.
struct FieldBuilder {
  Field field;

  FieldBuilder&& Required() && {
    field.required = true;
    field.default_value.reset();
    return std::move(*this);
  }
  FieldBuilder&& Min(double minimum) && {
    field.minimum = minimum;
    return std::move(*this);
  }
  FieldBuilder&& Above(double minimum) && {
    field.minimum = minimum;
    field.exclusive_minimum = true;
    return std::move(*this);
  }
  FieldBuilder&& Max(double maximum) && {
    field.maximum = maximum;
    return std::move(*this);
  }
  FieldBuilder&& Between(Duration minimum, Duration maximum) && {
    field.min_duration = minimum;
    field.max_duration = maximum;
    return std::move(*this);
  }
  FieldBuilder&& Pattern(std::string regex, std::string hint) && {
    field.pattern = std::move(regex);
    field.pattern_hint = std::move(hint);
    return std::move(*this);
  }
  FieldBuilder&& MaxLength(int length) && {
    field.max_length = length;
    return std::move(*this);
  }
  FieldBuilder&& Items(int minimum, int maximum) && {
    field.min_items = minimum;
    field.max_items = maximum;
    return std::move(*this);
  }
  FieldBuilder&& MaxTotalBytes(size_t bytes) && {
    field.max_total_bytes = bytes;
    return std::move(*this);
  }
  FieldBuilder&& ExpandsEnv() && {
    field.expands_env = true;
    return std::move(*this);
  }
  FieldBuilder&& Secret() && {
    field.secret = true;
    return std::move(*this);
  }
  // For fields whose struct default is a placeholder the loader replaces, or that mean something
  // when absent.
  FieldBuilder&& NoDefault(std::string note) && {
    field.default_value.reset();
    field.default_note = std::move(note);
    return std::move(*this);
  }
  operator Field() && { return std::move(field); }  // NOLINT: the builder's whole point
};

FieldBuilder Named(std::string name, FieldKind kind, std::string description) {
  FieldBuilder b;
  b.field.name = std::move(name);
  b.field.kind = kind;
  b.field.description = std::move(description);
  return b;
}

// A scalar stored into the member M; its default is M of a default-constructed struct.
template <auto M>
FieldBuilder Scalar(std::string name, FieldKind kind, std::string description) {
  using S = typename MemberTraits<decltype(M)>::Struct;
  FieldBuilder b = Named(std::move(name), kind, std::move(description));
  b.field.default_value = ToFieldValue(S{}.*M);
  b.field.store = [](StructRef ref, const FieldValue& value) {
    Assign(std::get<S*>(ref)->*M, value);
  };
  return b;
}

template <auto M, typename E = typename MemberTraits<decltype(M)>::Type>
FieldBuilder Enum(std::string name, std::initializer_list<E> values, std::string description) {
  FieldBuilder b = Scalar<M>(std::move(name), FieldKind::kEnum, std::move(description));
  for (E v : values)
    b.field.enum_values.push_back({std::string(Name(v)), static_cast<int64_t>(v)});
  return b;
}

// A fixed value that selects the document type and stores nothing (apiVersion, kind).
FieldBuilder Constant(std::string name, std::string_view value, std::string description) {
  FieldBuilder b = Named(std::move(name), FieldKind::kEnum, std::move(description));
  b.field.enum_values.push_back({std::string(value), 0});
  b.field.store = [](StructRef, const FieldValue&) {};
  return std::move(b).Required();
}

// A mapping whose fields go into the same struct as its parent's (metadata, spec).
FieldBuilder Section(std::string name, const ObjectType& type, std::string description) {
  FieldBuilder b = Named(std::move(name), FieldKind::kObject, std::move(description));
  b.field.object = &type;
  b.field.enter = [](StructRef ref, std::string_view) { return ref; };
  return std::move(b).Required();
}

// An optional nested struct (std::optional<T> member): present when the mapping is.
template <auto M>
FieldBuilder Nested(std::string name, const ObjectType& type, std::string description) {
  using S = typename MemberTraits<decltype(M)>::Struct;
  FieldBuilder b = Named(std::move(name), FieldKind::kObject, std::move(description));
  b.field.object = &type;
  b.field.enter = [](StructRef ref, std::string_view) -> StructRef {
    auto& member = std::get<S*>(ref)->*M;
    member.emplace();
    return &*member;
  };
  return b;
}

template <auto M>
FieldBuilder List(std::string name, const ObjectType& type, std::string description) {
  using S = typename MemberTraits<decltype(M)>::Struct;
  FieldBuilder b = Named(std::move(name), FieldKind::kList, std::move(description));
  b.field.object = &type;
  b.field.enter = [](StructRef ref, std::string_view) -> StructRef {
    auto& items = std::get<S*>(ref)->*M;
    items.emplace_back();
    return &items.back();
  };
  return b;
}

// A list of strings (std::vector<std::string> member); absent, it stays empty.
template <auto M>
FieldBuilder StringList(std::string name, std::string description) {
  using S = typename MemberTraits<decltype(M)>::Struct;
  FieldBuilder b = Named(std::move(name), FieldKind::kStringList, std::move(description));
  b.field.store = [](StructRef ref, const FieldValue& value) {
    (std::get<S*>(ref)->*M).push_back(std::get<std::string>(value));
  };
  return b;
}

// A mapping from a name to an element; the name is stored in the element's `type`.
template <auto M>
FieldBuilder Map(std::string name, const ObjectType& type, std::string description) {
  using S = typename MemberTraits<decltype(M)>::Struct;
  FieldBuilder b = Named(std::move(name), FieldKind::kMap, std::move(description));
  b.field.object = &type;
  b.field.enter = [](StructRef ref, std::string_view key) -> StructRef {
    auto& items = std::get<S*>(ref)->*M;
    items.emplace_back();
    items.back().type = std::string(key);
    return &items.back();
  };
  return b;
}

// A mapping of strings (std::map<std::string, std::string> member) with keys Kubernetes would take.
template <auto M>
FieldBuilder StringMap(std::string name, std::string description) {
  using S = typename MemberTraits<decltype(M)>::Struct;
  FieldBuilder b = Named(std::move(name), FieldKind::kStringMap, std::move(description));
  b.field.key_problem = QualifiedNameProblem;
  b.field.key_pattern = std::string(QualifiedNamePattern());
  b.field.key_max_length = 253 + 1 + 63;
  b.field.store_entry = [](StructRef ref, const std::string& key, std::string value) {
    (std::get<S*>(ref)->*M)[key] = std::move(value);
  };
  return b;
}

constexpr std::string_view kProcessTypePattern = "^[-A-Za-z0-9_]{1,128}$";
constexpr std::string_view kProcessTypeHint =
    "a Heroku process type: 1 to 128 letters, digits, '_' or '-'";

const ObjectType& MetadataType() {
  static const ObjectType type{
      "Metadata",
      "Identifies the policy.",
      {
          Scalar<&Policy::name>(
              "name", FieldKind::kString,
              "The policy's name in logs, metrics and status; unique across all loaded files.")
              .Required()
              .Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
                       "a lowercase DNS label: a-z, 0-9 and '-', starting and ending with a "
                       "letter or digit")
              .MaxLength(63),
          StringMap<&Policy::labels>(
              "labels",
              "Labels, as tools like Kustomize and Argo CD add them; dynoherd checks them as "
              "Kubernetes does and otherwise ignores them.")
              .Pattern(std::string(LabelValuePattern()),
                       "a label value: empty, or letters, digits, '-', '_' or '.', starting and "
                       "ending with a letter or digit")
              .MaxLength(63),
          StringMap<&Policy::annotations>(
              "annotations",
              "Annotations, as tools like Argo CD and Flux add them; dynoherd checks them as "
              "Kubernetes does and otherwise ignores them. Values are any string.")
              .MaxLength(256 << 10)
              .MaxTotalBytes(256 << 10),
      }};
  return type;
}

const ObjectType& LatencyType() {
  static const ObjectType type{
      "Latency",
      "Where the formation's latency comes from and how it is summarised. Required when "
      "laggards or autoscale is set.",
      {
          Enum<&LatencySpec::source>(
              "source",
              {LatencySourceKind::kRouterLogs, LatencySourceKind::kPrometheus,
               LatencySourceKind::kSidekiq, LatencySourceKind::kSim},
              "router-logs: Heroku router lines (service time per request, per dyno); "
              "prometheus: a PromQL query; sidekiq: Sidekiq's queues read from its Redis (the "
              "formation's latency is its slowest queue's); sim: the embedded simulator "
              "(provider: sim)."),
          Scalar<&LatencySpec::window>("window", FieldKind::kDuration,
                                       "How far back observations count. Not with sidekiq, "
                                       "whose queues are read as they are at each pass.")
              .Between(30s, 1h),
          Enum<&LatencySpec::statistic>(
              "statistic",
              {Statistic::kMean, Statistic::kP50, Statistic::kP95, Statistic::kP99,
               Statistic::kMax},
              "The formation latency autoscale compares with its thresholds. With sidekiq it "
              "is max, the longest wait of a job in the formation's queues, and may be "
              "omitted."),
          Enum<&LatencySpec::via>(
              "via", {RouterLogsVia::kSession, RouterLogsVia::kDrain},
              "router-logs only. session: Heroku log sessions (no setup); drain: an HTTPS log "
              "drain into dynoherd's listener."),
          Scalar<&LatencySpec::url>(
              "url", FieldKind::kString,
              "prometheus (required there): the Prometheus server's base URL, http:// or "
              "https://. sidekiq (required with provider heroku): Sidekiq's Redis, "
              "redis://[user:password@]host[:port][/db] or rediss:// for TLS, as Heroku's "
              "REDIS_URL. ${VAR} is expanded; credentials are never shown.")
              .Pattern(R"(^(?:https?|rediss?)://[^\s/?#]+\S*$)",
                       "an http(s):// URL (prometheus) or a redis:// or rediss:// URL (sidekiq)")
              .ExpandsEnv()
              .Secret()
              .NoDefault(""),
          Scalar<&LatencySpec::query>(
              "query", FieldKind::kString,
              "prometheus only (required there): PromQL giving latency in seconds, either a "
              "vector with one sample per dyno (labelled dynoLabel) or a single sample for the "
              "whole formation. ${VAR} is expanded.")
              .Pattern(R"(^\s*\S[\s\S]*$)", "a non-empty PromQL expression")
              .MaxLength(10000)
              .ExpandsEnv()
              .NoDefault(""),
          Scalar<&LatencySpec::dyno_label>(
              "dynoLabel", FieldKind::kString,
              "prometheus only: the label that holds the dyno name (web.3).")
              .Pattern("^[a-zA-Z_][a-zA-Z0-9_]*$", "a Prometheus label name"),
          StringList<&LatencySpec::queues>(
              "queues",
              "sidekiq only (required there): the Sidekiq queues this formation works, e.g. "
              "[default, mailers]; \"*\" stands for every queue in Sidekiq's `queues` set. "
              "The formation's latency is the highest of theirs.")
              .Pattern(R"(^\S{1,200}$)", "a queue name (no spaces, at most 200 characters) or *")
              .Items(1, 200),
          Scalar<&LatencySpec::key_namespace>(
              "namespace", FieldKind::kString,
              "sidekiq only: the redis-namespace prefix of Sidekiq's keys, without the ':' "
              "(keys are then NAMESPACE:queues and NAMESPACE:queue:NAME).")
              .Pattern(R"(^\S*[^\s:]$)", "a key prefix without spaces or a trailing ':'")
              .MaxLength(200)
              .NoDefault("Absent: no prefix."),
          Scalar<&LatencySpec::tls_verify>(
              "tlsVerify", FieldKind::kBoolean,
              "sidekiq only: check a rediss:// server's certificate and host name. Heroku's "
              "Key-Value Store has a self-signed certificate: set false there, or give "
              "tlsCaFile. Ignored for redis://."),
          Scalar<&LatencySpec::tls_ca_file>(
              "tlsCaFile", FieldKind::kString,
              "sidekiq only: a PEM file of the CAs to trust for rediss://, instead of the "
              "system's; needs tlsVerify true. Ignored for redis://.")
              .Pattern(R"(^\S.*$)", "a file path")
              .MaxLength(4096)
              .NoDefault("Absent: the system's CAs."),
      }};
  return type;
}

const ObjectType& LaggardsType() {
  static const ObjectType type{
      "Laggards",
      "Restart (or stop) dynos that answer far slower than their siblings. Absent: no laggard "
      "restarts.",
      {
          Scalar<&LaggardSpec::sigma>(
              "sigma", FieldKind::kNumber,
              "How many standard deviations slower than the others a dyno must be (for mad: "
              "the modified z-score).")
              .Above(0)
              .Max(10),
          Enum<&LaggardSpec::method>(
              "method",
              {LaggardMethod::kLeaveOneOut, LaggardMethod::kPopulation, LaggardMethod::kMad},
              "leave-one-out: each dyno against the mean and deviation of the others; "
              "population: against all dynos including itself (the original slayer's rule, "
              "which cannot flag anything when sigma >= sqrt(n-1)); mad: modified z-score "
              "around the median."),
          Enum<&LaggardSpec::statistic>(
              "statistic", {Statistic::kMean, Statistic::kP50, Statistic::kP95},
              "The per-dyno value compared. p50 (one slow route cannot fake a laggard), mean "
              "(the original), or p95."),
          Scalar<&LaggardSpec::min_ratio>(
              "minRatio", FieldKind::kNumber,
              "A slow dyno's value must also be at least this multiple of the others' mean.")
              .Min(1)
              .Max(100),
          Scalar<&LaggardSpec::min_dynos>("minDynos", FieldKind::kInteger,
                                          "With fewer judged dynos there is no verdict.")
              .Min(2)
              .Max(1000),
          Scalar<&LaggardSpec::min_samples>("minSamples", FieldKind::kInteger,
                                            "Requests a dyno needs in the window to be judged.")
              .Min(1)
              .Max(1000000),
          Scalar<&LaggardSpec::min_latency>("minLatency", FieldKind::kDuration,
                                            "A dyno faster than this is never slow.")
              .Between(0ms, 1min),
          Enum<&LaggardSpec::action>(
              "action", {LaggardAction::kRestart, LaggardAction::kStop},
              "restart: Heroku restarts the dyno now; stop: stop it and let Heroku start a new "
              "one (the original's action)."),
          Enum<&LaggardSpec::select>(
              "select", {LaggardSelect::kWorst, LaggardSelect::kRandom},
              "Which slow dyno goes first: the worst, or one at random (the original)."),
          Scalar<&LaggardSpec::max_per_cycle>("maxPerCycle", FieldKind::kInteger,
                                              "At most this many restarts per reconcile pass.")
              .Min(1)
              .Max(100),
          Scalar<&LaggardSpec::cooldown>("cooldown", FieldKind::kDuration,
                                         "No second restart in this formation within this time.")
              .Between(0ms, 24h),
          Scalar<&LaggardSpec::max_unavailable>(
              "maxUnavailable", FieldKind::kCountOrPercent,
              "No restart while this many dynos of the formation are not up.")
              .Min(1)
              .Max(1000),
          Scalar<&LaggardSpec::startup_grace>(
              "startupGrace", FieldKind::kDuration,
              "Dynos whose state changed less than this ago are neither judged nor counted.")
              .Between(0ms, 1h),
          Scalar<&LaggardSpec::during_event>("duringEvent", FieldKind::kBoolean,
                                             "Restart laggards during a latency event too."),
      }};
  return type;
}

const ObjectType& AutoscaleType() {
  static const ObjectType type{
      "Autoscale",
      "Add dynos during a latency event (one per alertInterval, or as many as the load needs) "
      "and restore the baseline after it. Absent: never scales.",
      {
          Enum<&AutoscaleSpec::mode>(
              "mode", {AutoscaleMode::kStep, AutoscaleMode::kCapacity},
              "step: one more dyno per alertInterval while latency is high (amigo's rule); "
              "capacity: as many as the observed load needs at targetUtilization, in one step, "
              "and fewer only once the load says the smaller formation carries it."),
          Scalar<&AutoscaleSpec::target_utilization>(
              "targetUtilization", FieldKind::kNumber,
              "capacity only: the share of the dynos' capacity the load should use; the rest "
              "absorbs bursts and drains queues. Default 0.75 with latency.source sidekiq (job "
              "run times), 0.85 otherwise (router service times, which include the wait behind "
              "busy threads).")
              .Above(0)
              .Max(1),
          Scalar<&AutoscaleSpec::concurrency>(
              "concurrency", FieldKind::kInteger,
              "capacity only (required there): how many requests (web) or jobs (worker) one "
              "dyno serves at once without slowing them down: Puma's workers for CPU-bound "
              "apps, Sidekiq's concurrency for a worker.")
              .Min(1)
              .Max(1000)
              .NoDefault(""),
          Scalar<&AutoscaleSpec::latency_threshold>(
              "latencyThreshold", FieldKind::kDuration,
              "A latency event starts when the formation latency exceeds this.")
              .Required()
              .Between(1ms, 10min),
          Scalar<&AutoscaleSpec::restored_threshold>(
              "restoredThreshold", FieldKind::kDuration,
              "The event ends when the formation latency is at or below this; at most "
              "latencyThreshold.")
              .Between(1ms, 10min)
              .NoDefault("Default: latencyThreshold."),
          Scalar<&AutoscaleSpec::alert_interval>(
              "alertInterval", FieldKind::kDuration,
              "One more dyno per interval while the event lasts.")
              .Between(10s, 24h),
          Scalar<&AutoscaleSpec::max_extra_workers>(
              "maxExtraWorkers", FieldKind::kInteger,
              "Never more than the baseline plus this many dynos.")
              .Min(0)
              .Max(100),
          Scalar<&AutoscaleSpec::max_duration>(
              "maxDuration", FieldKind::kDuration,
              "An event longer than this is reported as an error (the formation stays scaled).")
              .Between(1min, 168h)
              .NoDefault("Absent: no limit."),
          Scalar<&AutoscaleSpec::restore_delay>(
              "restoreDelay", FieldKind::kDuration,
              "The baseline is restored only once the formation's last change (a step up, or a "
              "change by hand) is at least this old, so dynos are not removed while the load "
              "that needed them may still be there. 0s: restore as soon as latency is back.")
              .Between(0ms, 24h),
      }};
  return type;
}

const ObjectType& ScheduleType() {
  static const ObjectType type{
      "Schedule",
      "A time window with its own floor and ceiling for the formation: cron and for, or days "
      "and hours, in a time zone.",
      {
          Scalar<&ScheduleSpec::name>("name", FieldKind::kString,
                                      "Shown in plans, status and metrics.")
              .Pattern("^[-A-Za-z0-9_ .:]{1,63}$",
                       "1 to 63 letters, digits, spaces or any of - _ . :")
              .NoDefault("Absent: schedules[N]."),
          Scalar<&ScheduleSpec::cron>(
              "cron", FieldKind::kString,
              "When the window opens, as cron's five fields (minute hour day-of-month month "
              "day-of-week), in the time zone; needs for.")
              .Pattern(R"(^\s*\S+(\s+\S+){4}\s*$)", "five cron fields like \"30 7 * * 1-5\"")
              .NoDefault(""),
          Scalar<&ScheduleSpec::duration>("for", FieldKind::kDuration,
                                          "cron only: how long the window stays open.")
              .Between(1min, kMaxCronWindow)
              .NoDefault(""),
          Scalar<&ScheduleSpec::days>("days", FieldKind::kString,
                                      "The days the window opens on, with hours: mon-fri, "
                                      "sat,sun, fri-mon.")
              .Pattern("^(sun|mon|tue|wed|thu|fri|sat)(-(sun|mon|tue|wed|thu|fri|sat))?(,(sun|mon|"
                       "tue|wed|thu|fri|sat)(-(sun|mon|tue|wed|thu|fri|sat))?)*$",
                       "days like mon-fri or sat,sun (three-letter lowercase names)")
              .NoDefault(""),
          Scalar<&ScheduleSpec::hours>(
              "hours", FieldKind::kString,
              "The wall-clock hours of the window on those days, with days: 07:30-10:00; an end "
              "before the start runs past midnight, 00:00-24:00 is all day.")
              .Pattern("^([01][0-9]|2[0-3]):[0-5][0-9]-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$",
                       "a range of hours like 07:30-10:00")
              .NoDefault(""),
          Scalar<&ScheduleSpec::timezone>(
              "timezone", FieldKind::kString,
              "The tz database zone the window's times are in (Europe/Paris), read from "
              "/usr/share/zoneinfo (or $TZDIR); summer time is followed.")
              .Pattern(R"(^[A-Za-z0-9_+.-]+(/[A-Za-z0-9_+.-]+)*$)",
                       "a time zone name like Europe/Paris or UTC"),
          Scalar<&ScheduleSpec::min>("min", FieldKind::kInteger, "While open: never fewer dynos.")
              .Min(0)
              .Max(1000)
              .NoDefault("Absent: the formation's min."),
          Scalar<&ScheduleSpec::max>("max", FieldKind::kInteger, "While open: never more dynos.")
              .Min(0)
              .Max(1000)
              .NoDefault("Absent: the formation's max."),
      }};
  return type;
}

const ObjectType& FormationType() {
  static const ObjectType type{
      "Formation",
      "One process type of the app and what dynoherd does for it.",
      {
          Scalar<&FormationSpec::type>("type", FieldKind::kString,
                                       "The Heroku process type (web, worker, ...); unique "
                                       "within the policy.")
              .Required()
              .Pattern(std::string(kProcessTypePattern), std::string(kProcessTypeHint)),
          Scalar<&FormationSpec::quantity>(
              "quantity", FieldKind::kInteger,
              "The declared baseline number of dynos, restored after a latency event.")
              .Min(0)
              .Max(1000)
              .NoDefault(
                  "Absent: the quantity seen when a latency event starts is recorded and restored "
                  "after it."),
          Scalar<&FormationSpec::min>(
              "min", FieldKind::kInteger,
              "Never fewer dynos: the floor, above the baseline when it is higher.")
              .Min(0)
              .Max(1000)
              .NoDefault("Absent: no floor but the baseline."),
          Scalar<&FormationSpec::max>(
              "max", FieldKind::kInteger,
              "Never more dynos: the ceiling, even when baseline + maxExtraWorkers is higher.")
              .Min(0)
              .Max(1000)
              .NoDefault("Absent: baseline + maxExtraWorkers with autoscale, else none."),
          List<&FormationSpec::schedules>(
              "schedules", ScheduleType(),
              "Time windows with their own min and max (a known morning peak); the first open "
              "one applies.")
              .Items(0, 20),
          Nested<&FormationSpec::latency>("latency", LatencyType(), LatencyType().description),
          Nested<&FormationSpec::laggards>("laggards", LaggardsType(), LaggardsType().description),
          Nested<&FormationSpec::autoscale>("autoscale", AutoscaleType(),
                                            AutoscaleType().description),
      }};
  return type;
}

const ObjectType& SimFormationType() {
  static const ObjectType type{
      "SimFormation",
      "A simulated formation: a web formation has serviceTime and rps, a worker formation "
      "jobTime and jobsPerSecond.",
      {
          Scalar<&SimFormationSpec::quantity>("quantity", FieldKind::kInteger,
                                              "Dynos at the start of the simulation.")
              .Min(0)
              .Max(100),
          Scalar<&SimFormationSpec::service_time>(
              "serviceTime", FieldKind::kDuration,
              "web: median request service time on a quiet dyno.")
              .Between(1ms, 60s)
              .NoDefault(""),
          Scalar<&SimFormationSpec::rps>("rps", FieldKind::kNumber,
                                         "web: requests per second to the whole formation.")
              .Above(0)
              .Max(100000)
              .NoDefault(""),
          Scalar<&SimFormationSpec::job_time>("jobTime", FieldKind::kDuration,
                                              "worker: median job run time.")
              .Between(1ms, 1h)
              .NoDefault(""),
          Scalar<&SimFormationSpec::jobs_per_second>(
              "jobsPerSecond", FieldKind::kNumber, "worker: jobs arriving in the queue per second.")
              .Above(0)
              .Max(10000)
              .NoDefault(""),
      }};
  return type;
}

const ObjectType& SimIncidentType() {
  static const ObjectType type{
      "SimIncident",
      "Something that happens to the simulated world at a given time.",
      {
          Scalar<&SimIncidentSpec::at>("at", FieldKind::kDuration,
                                       "Simulated time since the start; before the end of the "
                                       "simulation.")
              .Required()
              .Between(0ms, 24h),
          Enum<&SimIncidentSpec::kind>(
              "kind", {IncidentKind::kNoisyNeighbor, IncidentKind::kSurge},
              "noisy-neighbor: one dyno slows down by factor until it restarts (needs dyno); "
              "surge: a formation's load grows by factor (needs formation, optional for).")
              .Required(),
          Scalar<&SimIncidentSpec::dyno>(
              "dyno", FieldKind::kString,
              "noisy-neighbor only: the dyno, as TYPE.N with N at most the formation's quantity.")
              .Pattern(R"(^[-A-Za-z0-9_]{1,128}\.[1-9][0-9]{0,5}$)", "a dyno name like web.3")
              .NoDefault(""),
          Scalar<&SimIncidentSpec::formation>(
              "formation", FieldKind::kString,
              "surge only: the simulated formation whose load grows.")
              .Pattern(std::string(kProcessTypePattern), std::string(kProcessTypeHint))
              .NoDefault(""),
          Scalar<&SimIncidentSpec::factor>(
              "factor", FieldKind::kNumber,
              "Slowdown (noisy-neighbor, at least 1) or load multiplier (surge).")
              .Required()
              .Above(0)
              .Max(100),
          Scalar<&SimIncidentSpec::duration>("for", FieldKind::kDuration,
                                             "surge only: how long it lasts.")
              .Between(1s, 24h)
              .NoDefault("Absent: until the end of the simulation."),
      }};
  return type;
}

const ObjectType& SimType() {
  static const ObjectType type{
      "Sim",
      "The embedded simulator's world; required with provider: sim and allowed only there.",
      {
          Scalar<&SimSpec::seed>("seed", FieldKind::kInteger,
                                 "Seed of the simulation's randomness: the same seed gives the "
                                 "same run.")
              .Min(0)
              .Max(9007199254740991.0),
          Scalar<&SimSpec::speed>("speed", FieldKind::kNumber,
                                  "Simulated seconds per wall-clock second in `dynoherd run`.")
              .Above(0)
              .Max(10000),
          Scalar<&SimSpec::duration>(
              "duration", FieldKind::kDuration,
              "Simulated time, after which `dynoherd run` ends with a summary.")
              .Between(1min, 24h),
          Scalar<&SimSpec::restart_delay>("restartDelay", FieldKind::kDuration,
                                          "A restarted or new dyno is `starting` this long.")
              .Between(0ms, 10min),
          Map<&SimSpec::formations>(
              "formations", SimFormationType(),
              "The simulated formations by process type; every formation of the policy needs one.")
              .Required()
              .Pattern(std::string(kProcessTypePattern), std::string(kProcessTypeHint))
              .Items(1, 50),
          List<&SimSpec::incidents>("incidents", SimIncidentType(),
                                    "Incidents in the simulated world, in any order.")
              .Items(0, 100),
      }};
  return type;
}

const ObjectType& PolicySpecType() {
  static const ObjectType type{
      "Spec",
      "What dynoherd manages and how.",
      {
          Scalar<&Policy::app>("app", FieldKind::kString,
                               "The Heroku app name or id. ${VAR} is expanded from the "
                               "environment, e.g. ${HEROKU_APP_NAME}.")
              .Required()
              .Pattern("^(?:[a-z][a-z0-9-]{1,28}[a-z0-9]|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
                       "[0-9a-f]{4}-[0-9a-f]{12})$",
                       "a Heroku app name (3 to 30 characters: a-z, 0-9 and '-', starting "
                       "with a letter) or an app id (UUID)")
              .ExpandsEnv(),
          Enum<&Policy::provider>("provider", {ProviderKind::kHeroku, ProviderKind::kSim},
                                  "heroku: the Heroku Platform API; sim: the embedded "
                                  "simulator described by spec.sim."),
          Scalar<&Policy::paused>("paused", FieldKind::kBoolean,
                                  "true: observe, plan and report, never act."),
          Scalar<&Policy::interval>("interval", FieldKind::kDuration, "Period of `dynoherd run`.")
              .Between(10s, 24h),
          List<&Policy::formations>(
              "formations", FormationType(),
              "The formations (process types) dynoherd manages, each type once.")
              .Required()
              .Items(1, 50),
          Nested<&Policy::sim>("sim", SimType(), SimType().description),
      }};
  return type;
}

}  // namespace

std::string_view Field::EnumName(int64_t value) const {
  for (const auto& e : enum_values) {
    if (e.value == value) return e.name;
  }
  return {};
}

const Field* ObjectType::Find(std::string_view field_name) const {
  for (const auto& f : fields) {
    if (f.name == field_name) return &f;
  }
  return nullptr;
}

std::vector<std::string> ObjectType::FieldNames() const {
  std::vector<std::string> names;
  for (const auto& f : fields)
    names.push_back(f.name);
  return names;
}

const ObjectType& FormationPolicyType() {
  static const ObjectType type{
      "FormationPolicy",
      "A dynoherd FormationPolicy: which formations of a Heroku app dynoherd manages, how it "
      "finds laggard dynos and when it adds dynos during latency events.",
      {
          Constant("apiVersion", kApiVersion, "The version of this format."),
          Constant("kind", kKind, "The type of this document."),
          Section("metadata", MetadataType(), MetadataType().description),
          Section("spec", PolicySpecType(), PolicySpecType().description),
      }};
  return type;
}

std::vector<const ObjectType*> AllObjectTypes() {
  std::vector<const ObjectType*> types;
  std::vector<const ObjectType*> pending = {&FormationPolicyType()};
  while (!pending.empty()) {
    const ObjectType* type = pending.front();
    pending.erase(pending.begin());
    bool seen = false;
    for (const auto* t : types)
      seen = seen || t == type;
    if (seen) continue;
    types.push_back(type);
    for (const auto& f : type->fields) {
      if (f.object) pending.push_back(f.object);
    }
  }
  return types;
}

std::string_view DurationPattern() {
  // One optional group per unit, largest first, as ParseDuration requires; the lookahead forbids
  // "".
  static const std::string pattern = [] {
    const std::string number = R"((?:[0-9]+\.?[0-9]*|\.[0-9]+))";
    std::string p = "^(?=[0-9.])";
    for (const char* unit : {"h", "m", "s", "ms"})
      p += "(?:" + number + unit + ")?";
    return p + "$";
  }();
  return pattern;
}

namespace {

bool IsAlphanumeric(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// A DNS-1123 label: a-z, 0-9 and '-', starting and ending with a letter or digit.
bool IsDnsLabel(std::string_view label) {
  if (label.empty() || !IsAlphanumeric(label.front()) || !IsAlphanumeric(label.back())) {
    return false;
  }
  for (char c : label) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

std::string DnsSubdomainProblem(std::string_view prefix) {
  if (prefix.size() > 253) {
    return "the prefix must be at most 253 characters (got " + std::to_string(prefix.size()) + ")";
  }
  for (size_t start = 0;;) {
    size_t dot = prefix.find('.', start);
    if (!IsDnsLabel(prefix.substr(start, dot - start))) {
      return "the prefix must be a DNS subdomain: lowercase labels of a-z, 0-9 and '-', each "
             "starting and ending with a letter or digit, joined by '.'";
    }
    if (dot == std::string_view::npos) return "";
    start = dot + 1;
  }
}

}  // namespace

std::string QualifiedNameProblem(std::string_view key) {
  std::string_view name = key;
  if (size_t slash = key.find('/'); slash != std::string_view::npos) {
    if (std::string problem = DnsSubdomainProblem(key.substr(0, slash)); !problem.empty()) {
      return problem;
    }
    name = key.substr(slash + 1);
  }
  if (name.empty()) return "the name must not be empty";
  if (name.size() > 63) {
    return "the name must be at most 63 characters (got " + std::to_string(name.size()) + ")";
  }
  for (char c : name) {
    if (!IsAlphanumeric(c) && c != '-' && c != '_' && c != '.') {
      return "the name may hold only letters, digits, '-', '_' and '.'" +
             std::string(c == '/' ? " (one '/' after a prefix)" : "");
    }
  }
  if (!IsAlphanumeric(name.front()) || !IsAlphanumeric(name.back())) {
    return "the name must start and end with a letter or digit";
  }
  return "";
}

std::string_view QualifiedNamePattern() {
  // The lookaheads bound the prefix to 253 characters and the name to 63.
  return "^(?:(?=[^/]{1,253}/)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
         "(?:\\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*/)?"
         "(?=[^/]{1,63}$)[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$";
}

std::string_view LabelValuePattern() {
  return "^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?$";
}

std::string FormatNumber(double value) {
  char buf[40];
  if (value == std::floor(value) && std::fabs(value) < 1e16) {
    std::snprintf(buf, sizeof buf, "%.0f", value);
  } else {
    std::snprintf(buf, sizeof buf, "%g", value);
  }
  return buf;
}

std::string_view PercentPattern() {
  return "^([1-9][0-9]?|100)%$";
}

std::string Field::Constraints() const {
  std::string text;
  auto number = FormatNumber;
  switch (kind) {
    case FieldKind::kInteger:
    case FieldKind::kNumber:
      if (minimum && maximum) {
        text = exclusive_minimum ? "Above " + number(*minimum) + ", at most " + number(*maximum)
                                 : "Between " + number(*minimum) + " and " + number(*maximum);
      } else if (minimum) {
        text = (exclusive_minimum ? "Above " : "At least ") + number(*minimum);
      }
      break;
    case FieldKind::kDuration:
      if (min_duration && max_duration) {
        text = "Between " + FormatDuration(*min_duration) + " and " + FormatDuration(*max_duration);
      }
      break;
    case FieldKind::kCountOrPercent:
      text = "A count between " + number(minimum.value_or(0)) + " and " +
             number(maximum.value_or(0)) +
             " or a percentage between 1% and 100% of the formation's dynos, rounded up";
      break;
    case FieldKind::kString:
      if (!pattern_hint.empty()) {
        text = "Must be " + pattern_hint;
        if (max_length > 0) text += ", at most " + std::to_string(max_length) + " characters";
      }
      break;
    case FieldKind::kStringMap:
      text =
          "Keys: an optional DNS subdomain prefix and '/', then a name of at most 63 "
          "characters: letters, digits, '-', '_' or '.', starting and ending with a letter or "
          "digit";
      if (!pattern_hint.empty()) text += "; values: " + pattern_hint;
      if (max_length > 0 && max_total_bytes == 0) {
        text += ", at most " + std::to_string(max_length) + " characters";
      }
      if (max_total_bytes > 0) {
        text += "; at most " + std::to_string(max_total_bytes / 1024) +
                " KiB of keys and values together";
      }
      break;
    case FieldKind::kList:
    case FieldKind::kStringList:
    case FieldKind::kMap:
      if (max_items > 0) {
        text = std::to_string(min_items) + " to " + std::to_string(max_items) + " entries";
      }
      if (kind == FieldKind::kMap && !pattern_hint.empty()) text += "; keys: " + pattern_hint;
      if (kind == FieldKind::kStringList && !pattern_hint.empty()) {
        text += "; each " + pattern_hint;
      }
      break;
    default:
      break;
  }
  return text.empty() ? text : text + ".";
}

std::string Field::FullDescription() const {
  std::string text = description;
  for (const std::string& part : {Constraints(), default_note}) {
    if (!part.empty()) text += (text.empty() ? "" : " ") + part;
  }
  return text;
}

std::string FormatFieldValue(const Field& field, const FieldValue& value) {
  if (field.kind == FieldKind::kEnum) return std::string(field.EnumName(std::get<int64_t>(value)));
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return std::to_string(v);
        } else if constexpr (std::is_same_v<T, double>) {
          return FormatNumber(v);
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, Duration>) {
          return FormatDuration(v);
        } else {
          return v.ToString();
        }
      },
      value);
}

}  // namespace dynoherd::spec
