// The one JSON form of the data dynoherd keeps and shows: the PolicyStatus of the state file and
// of /status, the reports of a pass (model/report.h: `plan`, `reconcile`, /status, `status`), the
// last-pass record of the state file, a condition wherever one is shown. Keys are camelCase,
// timestamps RFC 3339 in UTC, what is unknown or absent is null (never ""), every key is always
// written. Every reader and writer of these shapes goes through here, so they cannot drift apart;
// docs/schemas/ holds their JSON Schemas.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>

#include "common/status.h"
#include "common/time.h"
#include "model/report.h"
#include "model/status.h"

namespace dynoherd::model {

// {type, status, reason, message, lastTransitionTime}
nlohmann::json ToJson(const Condition& condition);

nlohmann::json ToJson(const PolicyStatus& status);
// Unknown keys are ignored; a missing or mistyped field is an error naming its path
// ("formations[1].event.startedAt: expected an RFC 3339 timestamp").
Result<PolicyStatus> PolicyStatusFromJson(const nlohmann::json& json);

// {queue, size, latencySeconds, error}: a Sidekiq queue, in the last-pass record and the pass JSON.
nlohmann::json ToJson(const QueueLatency& queue);

// {requests, mean, p50, p95, p99, max, errors}: a dyno's requests in the window, in seconds; the
// statistics are null without a timed request.
nlohmann::json ToJson(const LatencyStats& stats);
// {dyno, judged, slow, value, score, reference, reason}
nlohmann::json ToJson(const VerdictReport& verdict);
// {statistic, seconds, samples, unknownReason, error}
nlohmann::json ToJson(const FormationLatencyReport& latency);
// {type, observedQuantity, desiredQuantity, baseline: {kind, quantity}, latency, event, laggards,
// notes, conditions, dynos: [{name, state, updatedAt, latency}]}
nlohmann::json ToJson(const FormationReport& formation);
// {kind, cause, formation, from, to, dyno, summary, reason, applied, failed, error}
nlohmann::json ToJson(const ActionReport& action);
// {name, app, result ("ok" | "error"), error, startedAt, finishedAt, durationSeconds, observedAt,
// plannedAt, paused, applied, actions, formations, notes}
nlohmann::json ToJson(const PassReport& pass);
// {at, actions}
nlohmann::json ToJson(const LastActions& actions);

// The state file's record: {lastPass, lastActions}.
nlohmann::json ToJson(const PassRecord& record);
// Unknown keys are ignored, missing optional ones are null; a mistyped one is an error naming its
// path. nullopt for a record of the layout before 0.1.0's output contract (no lastPass), which
// the next pass replaces.
Result<std::optional<PassRecord>> PassRecordFromJson(const nlohmann::json& json);

// null for what is unknown, the timestamp (RFC 3339) or the number otherwise.
nlohmann::json TimeOrNull(const std::optional<TimePoint>& t);
nlohmann::json OrNull(const std::optional<int>& v);
nlohmann::json OrNull(const std::optional<double>& v);
nlohmann::json OrNull(const std::optional<std::string>& v);

}  // namespace dynoherd::model
