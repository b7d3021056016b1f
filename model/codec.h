// The one JSON form of the data dynoherd keeps and shows: the PolicyStatus of the state file and
// of /status, the last-pass record of `dynoherd status`, a condition wherever one is shown. Keys
// are camelCase, timestamps RFC 3339 in UTC, what is unknown is null. Every reader and writer of
// these shapes goes through here, so they cannot drift apart.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>

#include "common/status.h"
#include "common/time.h"
#include "model/pass_record.h"
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

nlohmann::json ToJson(const PassRecord& record);
// Unknown keys are ignored, missing ones take their defaults; a mistyped one is an error naming it.
Result<PassRecord> PassRecordFromJson(const nlohmann::json& json);

// null for what is unknown, the timestamp (RFC 3339) or the number otherwise.
nlohmann::json TimeOrNull(const std::optional<TimePoint>& t);
nlohmann::json OrNull(const std::optional<int>& v);
nlohmann::json OrNull(const std::optional<double>& v);

}  // namespace dynoherd::model
