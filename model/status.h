// What the reconciler carries from one pass to the next, per policy: latency-event bookkeeping,
// restart history and conditions. Saved after each pass (providers/state_store.h, in the form of
// model/codec.h) and handed back to the next one. Losing it is survivable: with a declared baseline
// the plan is derived from the world alone (docs/decisions.md, "When the status is lost").
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "spec/policy.h"

namespace dynoherd::model {

enum class ConditionStatus { kTrue, kFalse, kUnknown };
std::string_view Name(ConditionStatus status);  // "True", "False", "Unknown"

// Condition types, spelt as Kubernetes would.
inline constexpr std::string_view kReady = "Ready";  // at the desired quantity, dynos up
inline constexpr std::string_view kLatencyEvent = "LatencyEvent";  // only with autoscale
inline constexpr std::string_view kDegraded = "Degraded";          // cannot decide or act
inline constexpr std::string_view kPaused = "Paused";

struct Condition {
  std::string type;
  ConditionStatus status = ConditionStatus::kUnknown;
  std::string reason;                // CamelCase, for programs: "ExceededMaxDuration"
  std::string message;               // for people, with numbers
  TimePoint last_transition_time{};  // when `status` last changed; kept while it does not

  bool operator==(const Condition&) const = default;
};

const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type);

// The element of `items` (formations, conditions) whose `type` is `type`, or nullptr.
template <typename Items>
auto* FindByType(Items& items, std::string_view type) {
  decltype(&*items.begin()) found = nullptr;
  for (auto& item : items) {
    if (item.type == type) return &item;
  }
  return found;
}

struct RestartRecord {
  std::string dyno;
  TimePoint at{};
  spec::LaggardAction action = spec::LaggardAction::kRestart;
  std::string reason;

  bool operator==(const RestartRecord&) const = default;
};

// Latency-event bookkeeping of one formation.
struct EventStatus {
  std::optional<TimePoint> started_at;    // set while an event is in progress
  int depth = 0;                          // dynos over the baseline once this pass's step is made
  std::optional<TimePoint> last_step_at;  // the latest step up of the current event
  // Captured mode only: the quantity recorded when the event started. Kept after the event until
  // the formation is back at it, so a failed or paused restore is retried, and an event that starts
  // again before that reuses it instead of capturing the raised quantity.
  std::optional<int> captured_baseline;

  bool operator==(const EventStatus&) const = default;
};

inline constexpr size_t kMaxRestartHistory = 20;  // per formation, newest kept

// A write to the platform that a pass recorded before sending it (write-ahead), so that a crash
// or a lost answer cannot lose what the write depended on. The status it is saved with holds the
// write's effect as if it succeeded (a captured baseline, the step, the restart in the history),
// so the next pass, observing the formation, restores a baseline or keeps a cooldown whether or not
// the write took effect. Reconcile builds each status afresh: an intent lasts until the next pass.
// docs/operations.md, "Crash points and guarantees".
enum class WriteKind { kScale, kRestart, kStop };
std::string_view Name(WriteKind kind);  // "scale", "restart", "stop"

enum class IntentState {
  kPending,  // saved before the write was sent; no answer recorded (the process died meanwhile)
  kUnknown,  // sent, and no answer came (timeout, connection lost): it may have taken effect
};
std::string_view Name(IntentState state);  // "pending", "unknown"

struct WriteIntent {
  std::string id;  // unique within the policy: the planning time and the action's place in it
  IntentState state = IntentState::kPending;
  TimePoint at{};  // when the pass planned it
  WriteKind kind = WriteKind::kScale;
  std::string cause;  // the action's cause ("latency-event", "laggard", ...)
  // kScale: the quantity observed when planned and the one asked for (absolute).
  int from_quantity = 0;
  int to_quantity = 0;
  // kRestart, kStop: the dyno, and its updated_at as observed when planned. The platform moves
  // updated_at when it restarts or stops a dyno, so an unchanged one shows the write did not happen.
  std::string dyno;
  TimePoint dyno_updated_at{};
  std::string reason;  // the action's reason, kept for the restart history

  bool operator==(const WriteIntent&) const = default;
};
inline constexpr size_t kMaxIntents = 100;  // per formation: one pass plans at most 101 actions

struct FormationStatus {
  std::string type;
  EventStatus event;
  std::vector<RestartRecord> restarts;  // oldest first, at most kMaxRestartHistory
  std::vector<Condition> conditions;
  // The last pass that found most of the formation's dynos above latencyThreshold: their windows
  // hold that slowdown for one more window, and laggards are not judged on them meanwhile.
  std::optional<TimePoint> overloaded_at;
  // Writes whose outcome the next observation must decide (see WriteIntent).
  std::vector<WriteIntent> intents;

  std::optional<TimePoint> LastRestartAt() const;
  bool operator==(const FormationStatus&) const = default;
};

struct PolicyStatus {
  std::string policy;                       // metadata.name
  std::string app;                          // a status recorded for another app is ignored
  TimePoint updated_at{};                   // the pass that produced it
  std::vector<FormationStatus> formations;  // in spec order

  const FormationStatus* FindFormation(std::string_view type) const;
  FormationStatus* FindFormation(std::string_view type);
  bool operator==(const PolicyStatus&) const = default;
};

}  // namespace dynoherd::model
