// Heroku Platform API bodies to dynoherd types. Every function tolerates unknown fields and fails
// with a message that says which item and field was wrong, never quoting the body.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/observation.h"
#include "providers/provider.h"

namespace dynoherd::providers::heroku {

// One page of `GET /apps/{app}/formation`: type, quantity, dyno_size.name (or size), updated_at.
Result<std::vector<model::FormationState>> ParseFormationPage(std::string_view body);

// One page of `GET /apps/{app}/dynos`. The formation comes from the dyno's `type`; only when that
// is missing is it derived from the name ("web.3" -> web, Fir's "web-1234abcde-123ab" -> web).
Result<std::vector<model::DynoState>> ParseDynoPage(std::string_view body);

// The `logplex_url` of a `POST /apps/{app}/log-sessions` answer.
Result<std::string> ParseLogplexUrl(std::string_view body);

// `{"remaining": N}` of `GET /account/rate-limits`.
Result<int> ParseRateLimitRemaining(std::string_view body);

// Heroku's error body {"id", "message", "url"}; empty fields when the body is not one.
struct HerokuErrorBody {
  std::string id;
  std::string message;
};
HerokuErrorBody ParseErrorBody(std::string_view body);

// The JSON body of a formation batch update: {"updates":[{"type":"web","quantity":3}]}.
std::string FormationBatchBody(const std::vector<ScaleRequest>& updates);

// The body of a log-session request.
std::string LogSessionBody(std::string_view dyno_name, std::string_view source, int lines,
                           bool tail);

// The formation a dyno name belongs to: "web.3" -> "web", "web-1234abcde-123ab" -> "web".
std::string FormationOfDynoName(std::string_view name);

}  // namespace dynoherd::providers::heroku
